"""Log lines as JSON (``LOG_FORMAT=json``): one object per line, with python-json-logger.

    {"time": "2026-11-29T11:49:45.123+00:00", "level": "INFO", "logger": "ms_token",
     "message": "ms_token verification issuer=billing ...", "request_id": "...",
     "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7", "pid": 4711,
     "issuer": "billing", "jti": "...", "outcome": "accepted", "code": "-", "caller": "billing"}

``request_id``, ``trace_id`` and ``span_id`` are null outside a request (or a trace); the
verification line's fields (its ``extra`` ``ms_token`` dict) are keys of their own. Other
``extra`` values are kept; a Django request object on a record is not (it is no data).

Imported by gunicorn's master (``gunicorn_conf``): nothing here imports Django.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("plain", "json")
# The record's attributes each line carries, and their names in the line.
FIELDS = {
    "asctime": "time",
    "levelname": "level",
    "name": "logger",
    "message": "message",
    "request_id": "request_id",
    "trace_id": "trace_id",
    "span_id": "span_id",
    "process": "pid",
}
# Extras Django puts on its records that are objects, not data.
NOT_DATA = ("request", "server_time")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [rid=%(request_id)s] %(message)s"


class JSONFormatter(JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("rename_fields", {key: value for key, value in FIELDS.items() if key != value})
        super().__init__(list(FIELDS), *args, **kwargs)
        self._skip_fields.update(NOT_DATA)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_data, record, message_dict)
        if log_data.get("request_id") == "-":  # the plain format's "none"
            log_data["request_id"] = None
        fields = log_data.pop("ms_token", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                log_data.setdefault(key, value)


def gunicorn_logging(log_format: str, level: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error log as JSON on stderr for ``json`` (its access
    log stays off, as it is by default); empty (gunicorn's own plain setup) otherwise."""
    if log_format != "json":
        return {}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JSONFormatter}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }
