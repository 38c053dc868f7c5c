"""Calling another service: ``ServiceClient("product").get("/api/products/", scope="products:read")``.

- a new token for every attempt (retries included): it is minted right before each send
- base URL from ``settings.SERVICE_URLS``; connect and read timeouts always set
- retries with urllib3 ``Retry`` backoff, for idempotent methods only (connection errors,
  connect timeouts, 502/503/504); a read timeout is not retried, so a hung peer costs one
  read timeout, not one per attempt
- ``X-Request-ID`` of the request being served passed on
- one keep-alive ``requests.Session`` per client per thread; no cookies kept between calls
- the answer's body is read against a deadline (connect + read timeout from the send, checked
  as data arrives, so at worst one read timeout more) and a size cap (``MAX_ANSWER_BYTES``):
  requests' read timeout bounds each socket read only, so a peer trickling a byte at a time
  would otherwise hold our worker for as long as it likes
- a dead, slow or failing peer, or one that refuses our token (401/403), raises
  ``ServiceCallError``, which ``service_kit.errors`` answers with 503; other 4xx are returned

``peer_session()`` and ``read_answer()`` are the HTTP side of every call to a peer (the JWKS
fetch uses them too; the token service's source is a ``ServiceClient`` with its own retry).
"""
from __future__ import annotations

import json as jsonlib
import logging
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from django.core.serializers.json import DjangoJSONEncoder
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util import Retry

from ..middleware import REQUEST_ID_HEADER, current_request_id
from .exceptions import ServiceCallError
from .settings import ms_token_settings

if TYPE_CHECKING:
    from .sources import TokenSource

__all__ = ["ServiceClient", "ServiceCallError", "answer_json", "error_code", "peer_headers", "peer_session", "read_answer"]

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-MS-TOKEN"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})
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
    """Headers of every call to a peer: JSON wanted, and the request id passed on."""
    headers = {"Accept": "application/json", **extra}
    request_id = current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
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
    response._content_consumed = True


class ServiceClient:
    def __init__(
        self,
        service: str,
        *,
        token_source: TokenSource | None = None,
        base_url: str | None = None,
        timeout: tuple[float, float] | None = None,
        retries: int | None = None,
        retry: Retry | None = None,
    ) -> None:
        """``retry``: the whole retry policy, for a caller with rules of its own (the token
        service's source); methods outside its ``allowed_methods`` are never retried."""
        from django.conf import settings

        self.service = service
        self.base_url = (base_url or settings.SERVICE_URLS[service]).rstrip("/")
        if token_source is None:
            from .sources import get_token_source  # sources uses this module's HTTP helpers

            token_source = get_token_source()
        self.token_source = token_source
        if retry is not None and retries is not None:
            raise TypeError("pass retries (a count) or retry (a whole policy), not both")
        config = ms_token_settings
        self.timeout = timeout or (config.CONNECT_TIMEOUT, config.READ_TIMEOUT)
        self.budget = sum(self.timeout)  # seconds for one attempt, from send to the body's end
        self.retry = retry or Retry(
            total=config.RETRIES if retries is None else retries,
            backoff_factor=config.BACKOFF_FACTOR,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=IDEMPOTENT_METHODS,
            respect_retry_after_header=False,  # a peer must not make us hang
            raise_on_status=False,
        )
        self._local = threading.local()

    # -- the verbs ------------------------------------------------------------------------
    def get(self, path: str, *, scope: str, params: dict | None = None) -> requests.Response:
        return self.request("GET", path, scope=scope, params=params)

    def post(self, path: str, *, scope: str, params=None, json: Any = None) -> requests.Response:
        return self.request("POST", path, scope=scope, params=params, json=json)

    def put(self, path: str, *, scope: str, params=None, json: Any = None) -> requests.Response:
        return self.request("PUT", path, scope=scope, params=params, json=json)

    def patch(self, path: str, *, scope: str, params=None, json: Any = None) -> requests.Response:
        return self.request("PATCH", path, scope=scope, params=params, json=json)

    def delete(self, path: str, *, scope: str, params=None) -> requests.Response:
        return self.request("DELETE", path, scope=scope, params=params)

    # -- the machinery --------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        return peer_session(self._local)

    def request(self, method: str, path: str, *, scope: str, params=None, json: Any = None) -> requests.Response:
        method = method.upper()
        url = self.base_url + path
        body = None
        headers = peer_headers()
        if json is not None:
            body = jsonlib.dumps(json, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        prepared = self.session.prepare_request(
            requests.Request(method, url, params=params, data=body, headers=headers)
        )
        # htu is the path the callee's Django sees: no host, no query, percent-decoded.
        htu = unquote(urlsplit(prepared.url).path)
        allowed = self.retry.allowed_methods  # None: every method
        retry = self.retry if allowed is None or method in allowed else self.retry.new(total=0)
        while True:
            attempt = prepared.copy()  # each attempt its own request, its own token
            attempt.headers[TOKEN_HEADER] = self.token_source.token(
                audience=self.service, scope=scope, method=method, path=htu, body=body
            )
            error = None
            deadline = time.monotonic() + self.budget
            try:
                response = self.session.send(attempt, timeout=self.timeout, allow_redirects=False, stream=True)
                read_answer(response, deadline=deadline)
            except (requests.ReadTimeout, ReadTimeoutError, AnswerTooSlow) as exc:
                # A peer that hangs would hang again: retrying would only multiply the wait.
                raise ServiceCallError(self.service, f"{method} {path}: no answer in time") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                response, error = None, exc
            except (requests.RequestException, TransportError, AnswerTooLarge) as exc:
                # garbage, bad encoding, a broken or oversized body: not worth a retry
                raise ServiceCallError(self.service, f"{method} {path}: {exc}") from exc
            else:
                if response.status_code < 500 or not retry.is_retry(method, response.status_code):
                    return self._checked(response)
            try:
                retry = retry.increment(method, url, response=response.raw if response is not None else None, error=error)
            except MaxRetryError:
                if response is not None:
                    return self._checked(response)
                raise ServiceCallError(self.service, f"{method} {path}: {error}") from error
            retry.sleep()

    def _checked(self, response: requests.Response) -> requests.Response:
        status = response.status_code
        if status >= 500 or status in (401, 403):
            code = error_code(response)
            logger.warning(
                "service call refused or failed: service=%s status=%s code=%s", self.service, status, code
            )
            raise ServiceCallError(self.service, f"answered {status} {code}", status=status)
        return response


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
    from .authentication import loggable  # here: authentication -> verification -> jwks -> this module

    try:
        code = answer_json(response).get("code")
    except (ValueError, AttributeError):
        return "-"
    return loggable(code)
