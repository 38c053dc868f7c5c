"""The gunicorn configuration of every service. gunicorn reads ``gunicorn.conf.py`` from the
directory it starts in, and each project's is this module::

    from service_kit.gunicorn_conf import *  # noqa: F401,F403

Command-line options (``--workers``, ``--bind``...) still apply on top of it. It runs in
gunicorn's master process, which never loads Django: nothing here imports it.

- Metrics from every worker (prometheus-client's multiprocess mode): the master makes the
  directory where each worker keeps its values before any worker starts, and names it in
  ``PROMETHEUS_MULTIPROC_DIR`` for them; one already named there is emptied of an earlier run's
  files instead. It is made when this configuration is read, so even a preloaded application
  (``preload_app``) creates its metrics in multiprocess mode. Each worker that exits is
  forgotten (its live gauges); the directory made here is removed when the server stops.
- ``LOG_FORMAT=json``: gunicorn's own lines are JSON objects too.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from service_kit.logs import gunicorn_logging

__all__ = ["child_exit", "logconfig_dict", "on_exit"]

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_directory() -> Path | None:
    """The directory for every worker's values, named in ``PROMETHEUS_MULTIPROC_DIR``; returns
    it when made here (to remove at exit), None when the environment named one."""
    given = os.environ.get(MULTIPROCESS_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="shop-metrics-"))
    os.environ[MULTIPROCESS_DIR] = str(made)
    return made


_made = prepare_multiprocess_directory()

logconfig_dict = gunicorn_logging(os.environ.get("LOG_FORMAT", "plain"), os.environ.get("LOG_LEVEL", "INFO"))


def child_exit(server, worker) -> None:
    """A worker exited: its live gauges go; its counters stay in the sums."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _made is not None:
        shutil.rmtree(_made, ignore_errors=True)
