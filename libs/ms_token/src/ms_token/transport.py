"""The HTTP side of every call to a peer: ``ServiceClient``'s calls and the JWKS fetch.

A peer is as untrusted as any client: no proxy or netrc from the environment, no cookies kept,
and its answer read against a deadline and within a size cap (requests' read timeout bounds each
socket read only, so a peer trickling a byte at a time would otherwise hold a worker).
"""
from __future__ import annotations

import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from opentelemetry import context, propagate

from .settings import ms_token_settings

MAX_ANSWER_BYTES = 2 * 1024 * 1024  # no answer of a peer of ours comes near; more is hostile
_READ_SIZE = 256 * 1024


class AnswerTooSlow(Exception):
    """The body did not arrive within the call's deadline."""


class AnswerTooLarge(Exception):
    """The body is larger than ``MAX_ANSWER_BYTES``."""


def peer_session(local: threading.local) -> requests.Session:
    """This thread's keep-alive session in ``local``, made on first use: no proxy or netrc
    lookups from the environment (unless ``TRUST_ENV``), and no cookies kept, so that cookies
    of one call never ride along on another (other user, other request)."""
    session = getattr(local, "session", None)
    if session is None:
        session = local.session = requests.Session()
        session.trust_env = ms_token_settings.TRUST_ENV
        session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return session


def peer_headers(**extra: str) -> dict[str, str]:
    """Headers of every call to a peer: JSON wanted, the current trace context (W3C
    ``traceparent``; nothing when there is none), and what ``MS_TOKEN["PEER_HEADERS"]`` adds
    (the id of the request being served, say)."""
    headers = {"Accept": "application/json", **extra}
    # An empty context (no SDK's span, no trace continued from a caller without one, no
    # baggage) has nothing for any propagator to write: inject is skipped, not its result.
    if context.get_current():
        propagate.inject(headers)
    hook = ms_token_settings.PEER_HEADERS
    if hook is not None:
        headers.update(hook())
    return headers


def read_answer(response: requests.Response, *, deadline: float, max_bytes: int = MAX_ANSWER_BYTES) -> None:
    """Read the body of a ``stream=True`` response into it (``.content``, ``.json()`` work as
    usual), by ``time.monotonic()`` ``deadline`` and within ``max_bytes`` (after decoding).

    ``read1`` returns what one socket read brings (``read``/``iter_content`` would wait for a
    whole chunk), so the deadline is checked after every arrival; a peer that then goes silent
    is stopped by the read timeout. A body read to the end frees the connection for keep-alive;
    on overrun (``AnswerTooSlow``, ``AnswerTooLarge``) or a broken body (``urllib3`` errors)
    the connection is closed, never reused.
    """
    raw = response.raw
    try:
        length = raw.length_remaining
        if length is not None and length > max_bytes:
            raise AnswerTooLarge(f"answer of {length} bytes, more than {max_bytes}")
        chunks = []
        size = 0
        while chunk := raw.read1(_READ_SIZE, decode_content=True):
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"answer of more than {max_bytes} bytes")
            if time.monotonic() > deadline:
                raise AnswerTooSlow("body not complete in time")
            chunks.append(chunk)
    except BaseException:
        response.close()
        raise
    response._content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    response._content_consumed = True  # type: ignore[attr-defined]


def answer_json(response: requests.Response) -> Any:
    """A peer's JSON body. Anything unreadable, absurdly deep nesting included, is a ValueError:
    a peer's bad answer must come out as a 503, never as our own 500."""
    try:
        return response.json()
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def error_code(response: requests.Response) -> str:
    """The ``code`` of a peer's error answer, or ``-`` (also when it does not look like a name:
    the code goes into our log lines)."""
    from .admission import loggable  # here: admission -> verification -> jwks -> this module

    try:
        code = answer_json(response).get("code")
    except (ValueError, AttributeError):
        return "-"
    return loggable(code)
