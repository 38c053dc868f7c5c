"""A peer's published keys, and the one lookup of "the key ``kid`` that ``issuer`` publishes".

``RemoteKeySet`` is a peer's JWKS, fetched from a URL fixed in our own settings (never from a
token) and cached, with bounded trust:

- it is refreshed once older than ``JWKS_REFRESH_INTERVAL`` (sooner when the peer's
  ``Cache-Control: max-age`` says so), in the background: requests keep using the set in hand
  for up to ``JWKS_STALE_WHILE_REFRESHING`` more seconds, after which a request waits for the
  refresh. A ``kid`` the peer no longer publishes is forgotten then;
- a token naming an unknown ``kid`` refetches at once, at most once per ``REFETCH_INTERVAL``;
- one fetch per peer at a time: whoever needs keys meanwhile waits for that fetch, or keeps
  using the set in hand;
- when the JWKS cannot be fetched, the last set fetched stays in use (logged as a warning)
  until ``JWKS_OUTAGE_GRACE`` after that fetch; then the peer's keys are unavailable (503).

Our own JWKS is served by ``views.jwks_view``.
"""
from __future__ import annotations

import binascii
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point
from urllib3.exceptions import HTTPError as TransportError

from .encoding import b64url_decode
from .keys import KID_PATTERN, OWN_KEYS_CHECK_INTERVAL, KeyConfigurationError, own_key_ring
from .observability import observed_jwks_fetch
from .settings import DEFAULTS, ms_token_settings, on_reload
from .transport import AnswerTooLarge, AnswerTooSlow, answer_json, peer_headers, peer_session, read_answer

logger = logging.getLogger(__name__)

JWKS_PATH = "/.well-known/jwks.json"
# How long verifiers and HTTP caches may keep our JWKS (our answer's Cache-Control: max-age),
# and how often a verifier may refetch a peer's for an unknown kid (the contract's rate limit):
# keys.ACTIVATION_SECONDS waits out both.
JWKS_MAX_AGE = 30
REFETCH_INTERVAL = 30.0
# A peer's max-age shorter than this is read as this: a refresh per request is no policy.
MIN_REFRESH_INTERVAL = 5.0
# After failed fetches, the next waits 1, 2, 4 ... seconds, at most this long.
MAX_FAILURE_BACKOFF = 10.0
# A JWKS of a few keys is far smaller: an answer this large is hostile or broken.
MAX_JWKS_BYTES = 64 * 1024
# ASCII digits only (a peer's header may hold any Latin-1 text), as many as a sane value has.
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]{1,12})\"?\s*(?:,|$)", re.IGNORECASE)
_AGE = re.compile(r"\s*([0-9]{1,12})\s*")
_NO_CACHE = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\s*(?:[,=]|$)", re.IGNORECASE)


class KeySetError(Exception):
    """A peer's key could not be had."""


class UnknownKeyError(KeySetError):
    """The peer does not publish a key with that ``kid``."""


class KeySetUnavailable(KeySetError):
    """The peer's JWKS could not be fetched or read."""


def parse_jwks(document: object) -> dict[str, Ed25519PublicKey]:
    """The Ed25519 signing keys of a JWKS document, by ``kid``; anything else is ignored."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeySetUnavailable("JWKS document has no 'keys' list")
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in document["keys"]:
        if not isinstance(jwk, dict):
            continue
        kid, x = jwk.get("kid"), jwk.get("x")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid) or not isinstance(x, str):
            continue
        if jwk.get("use", "sig") != "sig":
            continue
        try:
            key = Ed25519PublicKey.from_public_bytes(b64url_decode(x))
        except (ValueError, binascii.Error):
            continue
        # Only a point of the prime-order subgroup is a real public key. With a small-order one
        # (the identity, say) OpenSSL's verify, which PyJWT uses for user tokens, accepts a
        # "signature" of any message: a broken JWKS must not let anyone sign in its issuer's name.
        if not crypto_core_ed25519_is_valid_point(key.public_bytes_raw()):
            logger.warning("JWKS key %s is not a valid Ed25519 public key: ignored", kid)
            continue
        keys[kid] = key
    return keys


def freshness(cache_control: str | None, age: str | None, refresh_interval: float) -> float:
    """For how many seconds a JWKS just fetched may be used without refreshing it: our
    ``refresh_interval``, or the answer's ``Cache-Control: max-age`` less its ``Age`` when that
    is sooner (``no-cache``/``no-store``: as soon as we ever refresh), never less than
    MIN_REFRESH_INTERVAL. A header that cannot be read is ignored."""
    fresh_for = refresh_interval
    if cache_control:
        if _NO_CACHE.search(cache_control):
            fresh_for = 0
        elif match := _MAX_AGE.search(cache_control):
            already = _AGE.fullmatch(age) if age else None
            fresh_for = min(fresh_for, int(match[1]) - (int(already[1]) if already else 0))
    return max(fresh_for, MIN_REFRESH_INTERVAL)


@dataclass(frozen=True)
class RefreshPolicy:
    """How long a peer's keys are trusted (seconds; ``MS_TOKEN["JWKS_..."]``)."""

    refresh_interval: float = DEFAULTS["JWKS_REFRESH_INTERVAL"]
    stale_while_refreshing: float = DEFAULTS["JWKS_STALE_WHILE_REFRESHING"]
    outage_grace: float = DEFAULTS["JWKS_OUTAGE_GRACE"]

    @classmethod
    def from_settings(cls) -> RefreshPolicy:
        return cls(
            refresh_interval=ms_token_settings.JWKS_REFRESH_INTERVAL,
            stale_while_refreshing=ms_token_settings.JWKS_STALE_WHILE_REFRESHING,
            outage_grace=ms_token_settings.JWKS_OUTAGE_GRACE,
        )


# A key and its 32 raw bytes.
VerifyingKey = tuple[Ed25519PublicKey, bytes]


def _with_raw_bytes(keys: dict[str, Ed25519PublicKey]) -> dict[str, VerifyingKey]:
    return {kid: (key, key.public_bytes_raw()) for kid, key in keys.items()}


def withdrawal_bound(policy: RefreshPolicy) -> float:
    """The longest a verifier that uses ``policy`` may still accept a key we withdraw (revoke),
    the peer being up: until our process notices, our JWKS's max-age in a cache in between, the
    verifier's refresh interval (our max-age, if shorter) and its stale window."""
    refresh = min(policy.refresh_interval, JWKS_MAX_AGE)
    return OWN_KEYS_CHECK_INTERVAL + JWKS_MAX_AGE + refresh + policy.stale_while_refreshing


class RemoteKeySet:
    """A peer's public keys. ``get`` is a lock-free dict lookup and a clock reading while the
    set is fresh; everything else (refresh, unknown kid, outage) is ``_get_slow``.

    ``clock`` (seconds, monotonic) is there for tests, which set it to one they move by hand.
    """

    def __init__(
        self,
        url: str,
        *,
        policy: RefreshPolicy | None = None,
        refetch_interval: float = REFETCH_INTERVAL,
        failure_backoff: float = 1.0,
        timeout: tuple[float, float] = (1.0, 2.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.policy = policy or RefreshPolicy()
        self.refetch_interval = refetch_interval
        self.failure_backoff = failure_backoff
        self.timeout = timeout
        self.clock = clock
        # (keys by kid, fresh until): replaced whole, so a reader sees one fetch's keys with
        # that fetch's freshness, never a mix.
        self._current: tuple[dict[str, VerifyingKey], float] = ({}, -math.inf)
        self._lock = threading.Lock()
        self._fetched_at: float | None = None  # when the last successful fetch started
        self._failed_at: float | None = None  # when the last fetch failed, if none succeeded since
        self._failures = 0
        self._last_error: KeySetUnavailable | None = None
        self._fetching: threading.Event | None = None  # set when the fetch in flight is over
        self.fetches = 0  # fetches over, failed or not (for tests and diagnostics)
        self._local = threading.local()  # this thread's keep-alive session (peer_session)

    def get(self, kid: str) -> Ed25519PublicKey:
        return self.verifying_key(kid)[0]

    def verifying_key(self, kid: str) -> VerifyingKey:
        """The key ``kid`` and its raw bytes (what libsodium verifies with, read once per key)."""
        keys, fresh_until = self._current
        key = keys.get(kid)
        if key is not None and self.clock() < fresh_until:
            return key
        return self._get_slow(kid)

    def _get_slow(self, kid: str) -> VerifyingKey:
        waited = False
        while True:
            with self._lock:
                now = self.clock()
                keys, fresh_until = self._current
                usable = self._usable(now, fresh_until)
                if usable and now >= fresh_until:
                    self._refresh_in_background(now)
                key = keys.get(kid) if usable else None
                if key is not None:
                    return key
                if waited:
                    # The fetch we waited for is over and did not bring the key.
                    if usable and self._failed_at is None:
                        raise UnknownKeyError(f"no key {kid!r} at {self.url}")
                    raise KeySetUnavailable(str(self._last_error or f"no answer from {self.url} in time"))
                if usable and self._fetched_at is not None and now - self._fetched_at < self.refetch_interval:
                    raise UnknownKeyError(f"no key {kid!r} at {self.url} (refetch rate-limited)")
                fetching = self._fetching
                if fetching is None:
                    if self._backing_off(now):
                        raise KeySetUnavailable(f"{self.url} failed moments ago")
                    fetching = self._fetching = threading.Event()
                    mine = True
                else:
                    mine = False
            if mine:
                self._run_fetch(fetching)
            else:
                fetching.wait(sum(self.timeout) + 1.0)
            waited = True

    def _usable(self, now: float, fresh_until: float) -> bool:
        """The set in hand may answer without a fetch first: fresh, or stale for less than
        ``stale_while_refreshing``, or kept through an outage within its grace."""
        if self._fetched_at is None:
            return False
        if now < fresh_until + self.policy.stale_while_refreshing:
            return True
        return self._failed_at is not None and now - self._fetched_at < self.policy.outage_grace

    def _backing_off(self, now: float) -> bool:
        if self._failed_at is None:
            return False
        backoff = min(self.failure_backoff * 2.0 ** (self._failures - 1), MAX_FAILURE_BACKOFF)
        return now - self._failed_at < backoff

    def _refresh_in_background(self, now: float) -> None:
        """Start a refresh unless one is running or failures call for a pause (under the lock)."""
        if self._fetching is not None or self._backing_off(now):
            return
        fetching = self._fetching = threading.Event()
        threading.Thread(target=self._run_fetch, args=(fetching,), name=f"jwks-refresh {self.url}", daemon=True).start()

    def _run_fetch(self, done: threading.Event) -> None:
        """Fetch, then install the keys or count the failure, then let waiters go."""
        started = self.clock()
        try:
            try:
                keys, fresh_for = self._fetch()
            except KeySetUnavailable:
                raise
            except Exception as unexpected:  # whatever a peer's answer did to us: never a 500
                logger.exception("JWKS of %s: unexpected error", self.url)
                raise KeySetUnavailable(f"cannot read {self.url}: {unexpected!r}") from unexpected
        except KeySetUnavailable as error:
            with self._lock:
                self._failed_at = self.clock()
                self._failures += 1
                self._last_error = error
                fetched_at = self._fetched_at
            self._warn(error, started, fetched_at)
        else:
            with self._lock:
                self._current = (_with_raw_bytes(keys), started + fresh_for)
                self._fetched_at = started
                self._failed_at = None
                self._failures = 0
                self._last_error = None
        finally:
            with self._lock:
                self._fetching = None
                self.fetches += 1
            done.set()

    def _warn(self, error: KeySetUnavailable, now: float, fetched_at: float | None) -> None:
        if fetched_at is None:
            logger.warning("JWKS of %s cannot be fetched: %s", self.url, error)
            return
        left = self.policy.outage_grace - (now - fetched_at)
        if left > 0:
            logger.warning(
                "JWKS of %s cannot be fetched (%s): still using the keys fetched %.0f s ago, for %.0f s more",
                self.url, error, now - fetched_at, left,
            )
        else:
            logger.error(
                "JWKS of %s cannot be fetched (%s): its keys, fetched %.0f s ago, are no longer used; "
                "its tokens get 503 until it answers", self.url, error, now - fetched_at,
            )

    def wait_for_fetch(self, timeout: float = 5.0) -> bool:
        """Wait until no fetch is in flight, at most ``timeout`` seconds: for tests and shutdown.
        False if one still is."""
        fetching = self._fetching
        return fetching is None or fetching.wait(timeout)

    def set_keys(self, keys: dict[str, Ed25519PublicKey]) -> None:
        """Install keys as if just fetched (for tests that run no peer)."""
        with self._lock:
            now = self.clock()
            self._current = (_with_raw_bytes(keys), now + self.policy.refresh_interval)
            self._fetched_at = now
            self._failed_at = None
            self._failures = 0
            self._last_error = None

    @observed_jwks_fetch
    def _fetch(self) -> tuple[dict[str, Ed25519PublicKey], float]:
        """The peer's keys, and for how long they may be used before refreshing them."""
        # The peer is as untrusted as any: the same HTTP side as every call to a peer (no proxy or
        # netrc from the environment, no cookies), a whole-answer deadline and a size cap, and a
        # JSON body that cannot blow our stack.
        logger.info("fetching JWKS from %s", self.url)
        deadline = time.monotonic() + sum(self.timeout)
        try:
            response = peer_session(self._local).get(
                self.url, headers=peer_headers(), timeout=self.timeout, allow_redirects=False, stream=True
            )
            if response.status_code != 200:
                response.close()
                raise KeySetUnavailable(f"cannot fetch {self.url}: answered {response.status_code}")
            read_answer(response, deadline=deadline, max_bytes=MAX_JWKS_BYTES)
            document = answer_json(response)
            fresh_for = freshness(
                response.headers.get("Cache-Control"), response.headers.get("Age"), self.policy.refresh_interval
            )
        except (requests.RequestException, TransportError, AnswerTooSlow, AnswerTooLarge, ValueError) as exc:
            raise KeySetUnavailable(f"cannot fetch {self.url}: {exc}") from exc
        return parse_jwks(document), fresh_for


_key_sets: dict[str, RemoteKeySet] = {}  # by URL
_key_sets_by_service: dict[str, RemoteKeySet] = {}  # the hot path: one dict lookup
_key_sets_lock = threading.Lock()


def jwks_url(service: str) -> str:
    """Where ``service`` publishes its keys: ``JWKS_URLS[service]``, else its URL in
    ``SERVICE_URLS`` plus the well-known path."""
    url = ms_token_settings.JWKS_URLS.get(service)
    if url:
        return url  # type: ignore[no-any-return]
    try:
        return ms_token_settings.SERVICE_URLS[service] + JWKS_PATH  # type: ignore[no-any-return]
    except KeyError:
        # A gap in our configuration, not the caller's fault: the keys cannot be had (503).
        raise KeySetUnavailable(f"no URL for the keys of {service!r} (SERVICE_URLS, JWKS_URLS)") from None


def remote_key_set(service: str) -> RemoteKeySet:
    """The shared, cached key set of a peer service (one per URL: one fetch at a time)."""
    key_set = _key_sets_by_service.get(service)
    if key_set is None:
        url = jwks_url(service)
        policy = RefreshPolicy.from_settings()
        with _key_sets_lock:
            key_set = _key_sets.get(url)
            if key_set is None:
                key_set = _key_sets[url] = RemoteKeySet(url, policy=policy)
            key_set.policy = policy  # the settings may have changed since it was made
            _key_sets_by_service[service] = key_set
    return key_set


def public_key(issuer: str, kid: str) -> Ed25519PublicKey:
    """The key ``kid`` that ``issuer`` publishes: the one place that answers it.

    Our own tokens (the issuer is this service) verify with our own key ring, the keys we
    publish (replaced ones until their tokens expire; never a revoked one), with no HTTP round
    trip to our own JWKS; a peer's with its JWKS (``remote_key_set``). Raises
    ``UnknownKeyError`` (the issuer publishes no such key) or ``KeySetUnavailable`` (its keys
    cannot be had, our own missing key included). Callers map these to their own errors.
    """
    return verifying_key(issuer, kid)[0]


def verifying_key(issuer: str, kid: str) -> VerifyingKey:
    """``public_key``, with its raw bytes (kept with the key: verify takes them per token)."""
    if issuer != ms_token_settings.SERVICE_NAME:
        return remote_key_set(issuer).verifying_key(kid)
    return _own_key(kid, retired_for=0)


def own_verifying_key(kid: str) -> Ed25519PublicKey:
    """Our own key ``kid`` for a token that only this service verifies (a refresh token, say):
    as ``public_key`` for ourselves, and a replaced key too, no longer published, until
    ``RETIRED_KEY_VERIFIES_FOR`` after it stopped signing. Raises as ``public_key``."""
    return _own_key(kid, retired_for=ms_token_settings.RETIRED_KEY_VERIFIES_FOR)[0]


def _own_key(kid: str, *, retired_for: float) -> VerifyingKey:
    try:
        ring = own_key_ring()
    except KeyConfigurationError as error:
        raise KeySetUnavailable(f"no own signing key: {error}") from error
    key = ring.verifying_key(kid, retired_for=retired_for)
    if key is None:
        raise UnknownKeyError(f"no own key {kid!r}")
    return key.public_key, key.public_bytes


def clear_remote_key_sets() -> None:
    with _key_sets_lock:
        _key_sets.clear()
        _key_sets_by_service.clear()


@on_reload
def _forget_urls() -> None:
    # A URL may have changed (tests): look the URLs up again, keeping key sets fetched by URL.
    with _key_sets_lock:
        _key_sets_by_service.clear()
