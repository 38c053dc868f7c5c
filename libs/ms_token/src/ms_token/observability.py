"""What the library tells an operator, without choosing how it is collected.

Spans go through ``opentelemetry-api``, which records nothing until the application installs an
SDK (OpenTelemetry's rule for libraries): ``ms_token verify`` around each admission and
``ms_token replay claim`` around the replay store's claim, and every call to a peer
(``ServiceClient``, the JWKS fetch) carries the current trace context as W3C ``traceparent``.

Metrics go through the object ``MS_TOKEN["METRICS"]`` names (the ``Metrics`` methods); ``None``,
the default, records nothing. ``ms_token.contrib.prometheus.PrometheusMetrics`` (the
``prometheus`` extra) records them with prometheus-client.

Every label value is bounded: ``caller`` is a service this one trusts or ``unknown`` (a refused
token names its caller only when its signature verified), ``code`` a refusal code or ``-``,
``peer`` and ``issuer`` services of our own settings, ``outcome`` one of a few words. No token,
nor anything copied from one, is a label or a span attribute.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, Protocol, TypeVar

import requests
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode
from urllib3.exceptions import ReadTimeoutError

from . import __version__
from . import exceptions as exc
from .keys import KeyConfigurationError
from .settings import ms_token_settings
from .transport import AnswerTooSlow

if TYPE_CHECKING:
    from .replay import ReplayStore

__all__ = ["Metrics", "NoMetrics", "observed_admission", "observed_call",
           "observed_claim", "observed_jwks_fetch", "verification"]

ACCEPTED, REFUSED, UNAVAILABLE = "accepted", "refused", "unavailable"
UNKNOWN = "unknown"
# Refusals that verify() makes only after the signature verified (verification.py, checks
# 10-14) and the replay store's: the caller they name is authenticated. Every other refusal
# (a bad signature, an untrusted issuer, a malformed token) may name anyone: its caller is
# "unknown", so nobody can count refusals against a service they cannot sign for.
SIGNED_REFUSALS = frozenset({
    exc.TOKEN_EXPIRED, exc.TOKEN_AUDIENCE_MISMATCH, exc.TOKEN_REQUEST_MISMATCH, exc.INSUFFICIENT_SCOPE,
    exc.TOKEN_REPLAYED,
})

VERIFY_SPAN = "ms_token verify"
REPLAY_CLAIM_SPAN = "ms_token replay claim"

_tracer = trace.get_tracer("ms_token", __version__)
_P = ParamSpec("_P")
_R = TypeVar("_R")


class Metrics(Protocol):
    """What ``MS_TOKEN["METRICS"]`` records; each method is called on the request's thread."""

    def verification(self, outcome: str, code: str, caller: str) -> None:
        """One decision on a token: ``accepted``, ``refused`` (``code``) or ``unavailable``."""

    def verification_seconds(self, outcome: str, seconds: float) -> None:
        """How long one admission took (every check and the replay claim)."""

    def replay_claim(self, store: str, outcome: str, seconds: float) -> None:
        """One claim: ``claimed``, ``replayed`` or ``unavailable``, on ``database``, ``redis``..."""

    def service_call(self, peer: str, outcome: str, seconds: float) -> None:
        """One call to a peer, retries included (``ServiceClient``): see ``call_outcome``."""

    def jwks_fetch(self, issuer: str, outcome: str) -> None:
        """One fetch of a peer's JWKS: ``ok`` or ``failed``."""


class NoMetrics:
    """``MS_TOKEN["METRICS"] = None``: nothing is recorded."""

    def verification(self, outcome: str, code: str, caller: str) -> None:
        pass

    def verification_seconds(self, outcome: str, seconds: float) -> None:
        pass

    def replay_claim(self, store: str, outcome: str, seconds: float) -> None:
        pass

    def service_call(self, peer: str, outcome: str, seconds: float) -> None:
        pass

    def jwks_fetch(self, issuer: str, outcome: str) -> None:
        pass


def _tracing() -> bool:
    """Is an SDK installed? Without one the API's spans are no-ops that still cost a context
    switch each: skipping them changes nothing but the time."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


# -- admission ----------------------------------------------------------------------------------

def caller_label(outcome: str, code: str, caller: object) -> str:
    """The ``caller`` label of a decision: the calling service when it is trusted here and its
    signature verified, else ``unknown``."""
    authenticated = outcome != REFUSED or code in SIGNED_REFUSALS
    if authenticated and isinstance(caller, str) and caller in ms_token_settings.TRUSTED_ISSUERS:
        return caller
    return UNKNOWN


def verification(outcome: str, code: str, caller: object) -> None:
    """Count one decision (called with its log line, so the two always agree) and note it on
    the current span."""
    label = caller_label(outcome, code, caller)
    ms_token_settings.METRICS.verification(outcome, code, label)
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes({"ms_token.outcome": outcome, "ms_token.code": code, "ms_token.caller": label})


def observed_admission(admit: Callable[_P, _R]) -> Callable[_P, _R]:
    """``admit`` in a span of its own, timed."""

    @functools.wraps(admit)
    def observed(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        span = _tracer.start_span(VERIFY_SPAN) if _tracing() else None
        outcome = ACCEPTED
        started = time.perf_counter()
        try:
            if span is None:
                return admit(*args, **kwargs)
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                return admit(*args, **kwargs)
        except exc.TokenRejected:
            outcome = REFUSED
            raise
        except exc.VerificationUnavailable:
            outcome = UNAVAILABLE
            raise
        finally:
            ms_token_settings.METRICS.verification_seconds(outcome, time.perf_counter() - started)
            if span is not None:
                _end(span, outcome)

    return observed


_store_labels: dict[type, str] = {}  # by store class: worked out once, not per claim


def store_label(store: ReplayStore) -> str:
    """``database`` for ``DatabaseReplayStore``, ``redis`` for ``RedisReplayStore``, ..."""
    kind = type(store)
    label = _store_labels.get(kind)
    if label is None:
        label = _store_labels[kind] = kind.__name__.removesuffix("ReplayStore").lower() or "custom"
    return label


def observed_claim(store: ReplayStore, key: str, remember_until: int) -> bool:
    """``store.claim(key, remember_until)`` in a span of its own, timed."""
    span = _tracer.start_span(REPLAY_CLAIM_SPAN) if _tracing() else None
    outcome = UNAVAILABLE
    label = store_label(store)
    started = time.perf_counter()
    try:
        if span is None:
            fresh = store.claim(key, remember_until)
        else:
            with trace.use_span(span, record_exception=False, set_status_on_exception=False):
                fresh = store.claim(key, remember_until)
        outcome = "claimed" if fresh else "replayed"
        return fresh
    finally:
        ms_token_settings.METRICS.replay_claim(label, outcome, time.perf_counter() - started)
        if span is not None:
            span.set_attributes({"ms_token.replay_store": label, "ms_token.replay_outcome": outcome})
            _end(span, outcome)


def _end(span: Span, outcome: str) -> None:
    if outcome == UNAVAILABLE:
        span.set_status(Status(StatusCode.ERROR, "unavailable"))
    span.end()


# -- calls to peers -----------------------------------------------------------------------------

class _Caller(Protocol):
    service: str


_C = TypeVar("_C", bound=_Caller)


def call_outcome(status: int | None, error: BaseException | None, peer: str) -> str:
    """``ok`` (a 2xx or 3xx answer), ``client_error`` (another 4xx, returned to the caller),
    ``refused`` (401 or 403: the peer refused our token), ``server_error`` (5xx, after retries),
    ``timeout``, ``unreachable``, ``bad_answer`` (garbage, too large, broken), ``no_token`` (the
    token source failed before the call was made) or ``error`` (anything else)."""
    if error is None:
        return "ok" if status is not None and status < 400 else "client_error"
    if not isinstance(error, exc.ServiceCallError):
        return "error"
    if error.service != peer or isinstance(error.__cause__, KeyConfigurationError):
        return "no_token"
    if error.status in (401, 403):
        return "refused"
    if error.status is not None and error.status >= 500:
        return "server_error"
    cause = error.__cause__
    if isinstance(cause, (requests.ReadTimeout, ReadTimeoutError, AnswerTooSlow)):
        return "timeout"
    if isinstance(cause, (requests.ConnectionError, requests.Timeout)):
        return "unreachable"
    return "bad_answer"


def observed_call(
    request: Callable[Concatenate[_C, _P], requests.Response],
) -> Callable[Concatenate[_C, _P], requests.Response]:
    """``ServiceClient.request``, counted and timed by peer and outcome."""

    @functools.wraps(request)
    def observed(client: _C, /, *args: _P.args, **kwargs: _P.kwargs) -> requests.Response:
        status: int | None = None
        error: BaseException | None = None
        started = time.perf_counter()
        try:
            response = request(client, *args, **kwargs)
            status = response.status_code
            return response
        except BaseException as failure:
            error = failure
            raise
        finally:
            outcome = call_outcome(status, error, client.service)
            ms_token_settings.METRICS.service_call(client.service, outcome, time.perf_counter() - started)

    return observed


class _KeySet(Protocol):
    url: str


_K = TypeVar("_K", bound=_KeySet)


def key_set_owner(url: str) -> str:
    """The service whose keys ``url`` serves (our settings name it), else ``unknown``."""
    from .jwks import KeySetUnavailable, jwks_url

    service: str
    for service in (*ms_token_settings.JWKS_URLS, *ms_token_settings.SERVICE_URLS):
        try:
            if jwks_url(service) == url:
                return service
        except KeySetUnavailable:
            continue
    return UNKNOWN


def observed_jwks_fetch(fetch: Callable[[_K], _R]) -> Callable[[_K], _R]:
    """``RemoteKeySet._fetch``, counted by issuer and outcome."""

    @functools.wraps(fetch)
    def observed(key_set: _K) -> _R:
        outcome = "failed"
        try:
            keys = fetch(key_set)
            outcome = "ok"
            return keys
        finally:
            ms_token_settings.METRICS.jwks_fetch(key_set_owner(key_set.url), outcome)

    return observed
