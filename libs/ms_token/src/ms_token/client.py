"""Calling another service: ``ServiceClient("orders").get("/api/orders/", scope="orders:read")``.

- a new token for every attempt (retries included): it is minted right before each send, bound
  to the method, path, query string and body sent, and to the transaction token carried
- ``txn_token=``: the end user's transaction token, sent as ``Txn-Token`` and bound by each
  token's ``tth`` (get one with ``ms_token.txn_tokens.txn_token_for(request)``)
- base URL from ``MS_TOKEN["SERVICE_URLS"]``; connect and read timeouts always set
- retries with urllib3 ``Retry`` backoff, for idempotent methods only (connection errors,
  connect timeouts, 502/503/504); a read timeout is not retried, so a hung peer costs one
  read timeout, not one per attempt
- the headers of ``MS_TOKEN["PEER_HEADERS"]`` passed on (a request id, say)
- one keep-alive ``requests.Session`` per client per thread; no cookies kept between calls
- the answer's body is read against a deadline (connect + read timeout from the send, checked
  as data arrives, so at worst one read timeout more) and a size cap (``MAX_ANSWER_BYTES``):
  requests' read timeout bounds each socket read only, so a peer trickling a byte at a time
  would otherwise hold our worker for as long as it likes
- a dead, slow or failing peer, one that refuses our token (401/403), or no key of ours to sign
  its token with (``KeyConfigurationError``), raises ``ServiceCallError`` (``ms_token.contrib.rest_framework.exception_handler`` answers it with a
  503); other 4xx are returned

The HTTP side (sessions, deadline, size cap) is ``transport``'s, shared with the JWKS fetch; the
token service's source is a ``ServiceClient`` with a retry rule of its own.
"""
from __future__ import annotations

import json as jsonlib
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from urllib3.exceptions import HTTPError as TransportError
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util import Retry, parse_url

from .exceptions import ServiceCallError
from .keys import KeyConfigurationError
from .observability import observed_call
from .settings import ms_token_settings
from .tokens import TOKEN_SHAPE
from .transport import AnswerTooLarge, AnswerTooSlow, answer_json, error_code, peer_headers, peer_session, read_answer

if TYPE_CHECKING:
    from .sources import TokenSource

__all__ = ["ServiceClient", "ServiceCallError"]

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-MS-TOKEN"
TXN_TOKEN_HEADER = "Txn-Token"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})

# A request's query parameters, as requests takes them.
Params = Mapping[str, Any] | None

# A query that urllib3 sends unchanged: allowed characters, percent-encodings in upper case. It
# rewrites any other (upper-cases %xx, encodes "[" ...), and qh is of the query as sent.
_QUERY_SENT_AS_IS = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-F]{2})*")


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
        if retry is not None and retries is not None:
            raise TypeError("pass retries (a count) or retry (a whole policy), not both")
        self.service = service
        self.base_url = (base_url or service_url(service)).rstrip("/")
        if token_source is None:
            from .sources import get_token_source  # sources uses this module's HTTP helpers

            token_source = get_token_source()
        self.token_source = token_source
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
    def get(self, path: str, *, scope: str, params: Params = None, txn_token: str | None = None) -> requests.Response:
        return self.request("GET", path, scope=scope, params=params, txn_token=txn_token)

    def post(
        self, path: str, *, scope: str, params: Params = None, json: Any = None, txn_token: str | None = None
    ) -> requests.Response:
        return self.request("POST", path, scope=scope, params=params, json=json, txn_token=txn_token)

    def put(
        self, path: str, *, scope: str, params: Params = None, json: Any = None, txn_token: str | None = None
    ) -> requests.Response:
        return self.request("PUT", path, scope=scope, params=params, json=json, txn_token=txn_token)

    def patch(
        self, path: str, *, scope: str, params: Params = None, json: Any = None, txn_token: str | None = None
    ) -> requests.Response:
        return self.request("PATCH", path, scope=scope, params=params, json=json, txn_token=txn_token)

    def delete(self, path: str, *, scope: str, params: Params = None, txn_token: str | None = None) -> requests.Response:
        return self.request("DELETE", path, scope=scope, params=params, txn_token=txn_token)

    # -- the machinery --------------------------------------------------------------------
    @property
    def session(self) -> requests.Session:
        return peer_session(self._local)

    @observed_call
    def request(
        self,
        method: str,
        path: str,
        *,
        scope: str,
        params: Params = None,
        json: Any = None,
        txn_token: str | None = None,
    ) -> requests.Response:
        """``path`` may carry a query string, ``params`` adds to it; ``txn_token``: the end
        user's transaction token this call is made for (``Txn-Token``, bound by ``tth``)."""
        method = method.upper()
        url = self.base_url + path
        body = None
        headers = peer_headers()
        if json is not None:
            body = jsonlib.dumps(json, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if txn_token is not None:
            headers[TXN_TOKEN_HEADER] = txn_token
        prepared = self.session.prepare_request(
            requests.Request(method, url, params=params, data=body, headers=headers)
        )
        # htu is the path the callee's Django sees: no host, no query, percent-decoded; qh is of
        # the query exactly as it goes on the wire.
        sent_url = prepared.url or url
        parts = urlsplit(sent_url)
        htu = unquote(parts.path)
        query = parts.query
        if query and not _QUERY_SENT_AS_IS.fullmatch(query):
            query = parse_url(sent_url).query or ""
        allowed = self.retry.allowed_methods  # None: every method
        retry = self.retry if allowed is None or method in allowed else self.retry.new(total=0)
        while True:
            attempt = prepared.copy()  # each attempt its own request, its own token
            try:
                attempt.headers[TOKEN_HEADER] = self.token_source.token(
                    audience=self.service, scope=scope, method=method, path=htu, body=body, query=query,
                    txn_token=txn_token,
                )
            except KeyConfigurationError as exc:  # no key to sign with: the call cannot be made
                logger.error("no token for a call to %s: %s", self.service, exc)
                raise ServiceCallError(self.service, f"{method} {path}: no token: {exc}") from exc
            error = None
            deadline = time.monotonic() + self.budget
            try:
                response = self.session.send(attempt, timeout=self.timeout, allow_redirects=False, stream=True)
                read_answer(response, deadline=deadline)
            except (requests.ReadTimeout, ReadTimeoutError, AnswerTooSlow) as exc:
                # A peer that hangs would hang again: retrying would only multiply the wait.
                raise ServiceCallError(self.service, f"{method} {path}: no answer in time") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                failed: requests.Response | None = None
                error = exc
            except (requests.RequestException, TransportError, AnswerTooLarge) as exc:
                # garbage, bad encoding, a broken or oversized body: not worth a retry
                raise ServiceCallError(self.service, f"{method} {path}: {exc}") from exc
            else:
                if response.status_code < 500 or not retry.is_retry(method, response.status_code):
                    return self._checked(response)
                failed = response
            try:
                retry = retry.increment(method, url, response=failed.raw if failed is not None else None, error=error)
            except MaxRetryError:
                if failed is not None:
                    return self._checked(failed)
                raise ServiceCallError(self.service, f"{method} {path}: {error}") from error
            retry.sleep()

    def _checked(self, response: requests.Response) -> requests.Response:
        status = response.status_code
        if status >= 500 or status in (401, 403):
            code = error_code(response)
            logger.warning(
                "service call refused or failed: service=%s status=%s code=%s", self.service, status, code
            )
            raise ServiceCallError(self.service, f"answered {status} {code}", status=status,
                                   code=None if code == "-" else code)
        return response


def exchange_for_token(client: ServiceClient, path: str, *, scope: str, json: Any, field: str, status: int) -> str:
    """POST ``json`` to ``path`` of ``client``'s service, an exchange that answers ``status``
    with a token in ``field`` (the token service's, the transaction token service's), and return
    that token. A failed call raises ``ServiceCallError`` as any call does; so does another
    status, or an answer without a well-formed token in that field."""
    response = client.post(path, scope=scope, json=json)
    if response.status_code != status:
        raise ServiceCallError(
            client.service, f"answered {response.status_code} {error_code(response)}", status=response.status_code
        )
    try:
        document = answer_json(response)
    except ValueError:
        document = None
    token = document.get(field) if isinstance(document, dict) else None
    if not isinstance(token, str) or len(token) > ms_token_settings.MAX_TOKEN_BYTES or not TOKEN_SHAPE.fullmatch(token):
        raise ServiceCallError(client.service, f"answered without a well-formed {field}", status=response.status_code)
    return token


def connection_retries(attempts: int) -> Retry:
    """The retry rule of a POST that is harmless to repeat (it asks for a token; one nobody
    received does no harm): a connection that fails (a stale keep-alive connection, say) is
    tried again, up to ``attempts`` in all; no status is retried."""
    return Retry(
        total=attempts - 1, status_forcelist=(), allowed_methods=None,
        raise_on_status=False, respect_retry_after_header=False,
    )


def service_url(service: str) -> str:
    """Where ``service`` is called: ``MS_TOKEN["SERVICE_URLS"][service]``."""
    try:
        return ms_token_settings.SERVICE_URLS[service]  # type: ignore[no-any-return]
    except KeyError:
        raise ImproperlyConfigured(f"MS_TOKEN['SERVICE_URLS'] has no URL for {service!r}") from None
