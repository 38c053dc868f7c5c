"""Calling another service: ``ServiceClient("product").get("/api/products/", scope="products:read")``.

- a new token for every attempt (retries included): it is minted right before each send
- base URL from ``settings.SERVICE_URLS``; connect and read timeouts always set
- retries with urllib3 ``Retry`` backoff, for idempotent methods only (connection errors,
  connect timeouts, 502/503/504); a read timeout is not retried, so a hung peer costs one
  read timeout, not one per attempt
- ``X-Request-ID`` of the request being served passed on
- one keep-alive ``requests.Session`` per client per thread; no cookies kept between calls
- a dead, slow or failing peer, or one that refuses our token (401/403), raises
  ``ServiceCallError``, which ``service_kit.errors`` answers with 503; other 4xx are returned
"""
from __future__ import annotations

import json as jsonlib
import logging
import threading
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import unquote, urlsplit

import requests
from django.core.serializers.json import DjangoJSONEncoder
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry

from ..middleware import REQUEST_ID_HEADER, current_request_id
from .exceptions import ServiceCallError
from .settings import ms_token_settings
from .sources import TokenSource, get_token_source

__all__ = ["ServiceClient", "ServiceCallError"]

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-MS-TOKEN"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({502, 503, 504})


class ServiceClient:
    def __init__(
        self,
        service: str,
        *,
        token_source: TokenSource | None = None,
        base_url: str | None = None,
        timeout: tuple[float, float] | None = None,
        retries: int | None = None,
    ) -> None:
        from django.conf import settings

        self.service = service
        self.base_url = (base_url or settings.SERVICE_URLS[service]).rstrip("/")
        self.token_source = token_source or get_token_source()
        config = ms_token_settings
        self.timeout = timeout or (config.CONNECT_TIMEOUT, config.READ_TIMEOUT)
        self.retry = Retry(
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
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = ms_token_settings.TRUST_ENV
            # Cookies of one call must never ride along on another (other user, other request).
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            self._local.session = session
        return session

    def request(self, method: str, path: str, *, scope: str, params=None, json: Any = None) -> requests.Response:
        method = method.upper()
        url = self.base_url + path
        body = None
        headers = {"Accept": "application/json"}
        if json is not None:
            body = jsonlib.dumps(json, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        prepared = self.session.prepare_request(
            requests.Request(method, url, params=params, data=body, headers=headers)
        )
        # htu is the path the callee's Django sees: no host, no query, percent-decoded.
        htu = unquote(urlsplit(prepared.url).path)
        retry = self.retry if method in IDEMPOTENT_METHODS else self.retry.new(total=0)
        while True:
            attempt = prepared.copy()  # each attempt its own request, its own token
            attempt.headers[TOKEN_HEADER] = self.token_source.token(
                audience=self.service, scope=scope, method=method, path=htu, body=body
            )
            error = None
            try:
                response = self.session.send(attempt, timeout=self.timeout, allow_redirects=False)
            except requests.ReadTimeout as exc:
                # A peer that hangs would hang again: retrying would only multiply the wait.
                raise ServiceCallError(self.service, f"{method} {path}: no answer in time") from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                response, error = None, exc
            except requests.RequestException as exc:  # garbage, bad encoding: not worth a retry
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
            code = _error_code(response)
            logger.warning(
                "service call refused or failed: service=%s status=%s code=%s", self.service, status, code
            )
            raise ServiceCallError(self.service, f"answered {status} {code}", status=status)
        return response


def _error_code(response: requests.Response) -> str:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return "-"
    return code if isinstance(code, str) else "-"
