"""A peer's published keys, and the one lookup of "the key ``kid`` that ``issuer`` publishes".

``RemoteKeySet`` is a peer's JWKS, fetched from a URL fixed in our own settings (never from a
token), cached, and refetched when a token names an unknown ``kid``, at most once per
``refetch_interval``. Our own JWKS is served by ``views.jwks_view``.
"""
from __future__ import annotations

import base64
import binascii
import logging
import threading
import time

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_core_ed25519_is_valid_point
from urllib3.exceptions import HTTPError as TransportError

from .keys import KID_PATTERN, KeyConfigurationError, own_key_ring
from .settings import ms_token_settings, on_reload
from .transport import AnswerTooLarge, AnswerTooSlow, answer_json, peer_headers, peer_session, read_answer

logger = logging.getLogger(__name__)

JWKS_PATH = "/.well-known/jwks.json"
# How long a cache may keep our JWKS, and how often a verifier may refetch a peer's for an
# unknown kid (the contract's rate limit): keys.ACTIVATION_SECONDS waits out both.
JWKS_MAX_AGE = 5
REFETCH_INTERVAL = 30.0
# A JWKS of a few keys is well under 1 KiB; an answer this large is hostile or broken.
MAX_JWKS_BYTES = 64 * 1024


class KeySetError(Exception):
    """A peer's key could not be had."""


class UnknownKeyError(KeySetError):
    """The peer does not publish a key with that ``kid``."""


class KeySetUnavailable(KeySetError):
    """The peer's JWKS could not be fetched or read."""


def _decode_b64url(value: str) -> bytes:
    padded = value + "=" * (-len(value) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


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
            key = Ed25519PublicKey.from_public_bytes(_decode_b64url(x))
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


class RemoteKeySet:
    """A peer's public keys. ``get`` is a lock-free dict lookup once the key is known."""

    def __init__(
        self,
        url: str,
        *,
        refetch_interval: float = REFETCH_INTERVAL,
        failure_backoff: float = 1.0,
        timeout: tuple[float, float] = (1.0, 2.0),
    ) -> None:
        self.url = url
        self.refetch_interval = refetch_interval
        self.failure_backoff = failure_backoff
        self.timeout = timeout
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._lock = threading.Lock()
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._local = threading.local()  # this thread's keep-alive session (peer_session)

    def get(self, kid: str) -> Ed25519PublicKey:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)  # another thread may have just fetched it
            if key is not None:
                return key
            now = time.monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self.refetch_interval:
                raise UnknownKeyError(f"no key {kid!r} at {self.url} (refetch rate-limited)")
            if self._failed_at is not None and now - self._failed_at < self.failure_backoff:
                raise KeySetUnavailable(f"{self.url} failed moments ago")
            try:
                self._keys = self._fetch()
            except KeySetUnavailable:
                self._failed_at = now
                raise
            self._fetched_at = now
            self._failed_at = None
            key = self._keys.get(kid)
        if key is None:
            raise UnknownKeyError(f"no key {kid!r} at {self.url}")
        return key

    def set_keys(self, keys: dict[str, Ed25519PublicKey]) -> None:
        """Install keys as if just fetched (for tests that run no peer)."""
        with self._lock:
            self._keys = dict(keys)
            self._fetched_at = time.monotonic()

    def _fetch(self) -> dict[str, Ed25519PublicKey]:
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
        except (requests.RequestException, TransportError, AnswerTooSlow, AnswerTooLarge, ValueError) as exc:
            raise KeySetUnavailable(f"cannot fetch {self.url}: {exc}") from exc
        return parse_jwks(document)


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
    """The shared, cached key set of a peer service."""
    key_set = _key_sets_by_service.get(service)
    if key_set is None:
        url = jwks_url(service)
        with _key_sets_lock:
            key_set = _key_sets.setdefault(url, RemoteKeySet(url))
            _key_sets_by_service[service] = key_set
    return key_set


def public_key(issuer: str, kid: str) -> Ed25519PublicKey:
    """The key ``kid`` that ``issuer`` publishes: the one place that answers it.

    Our own tokens (the issuer is this service) verify with our own key ring, the keys we
    publish (retired ones until they expire), with no HTTP round trip to our own JWKS; a peer's
    with its JWKS (``remote_key_set``: cached, refetched for an unknown kid). Raises
    ``UnknownKeyError`` (the issuer publishes no such key) or ``KeySetUnavailable`` (its keys
    cannot be had, our own missing key included). Callers map these to their own errors.
    """
    if issuer != ms_token_settings.SERVICE_NAME:
        return remote_key_set(issuer).get(kid)
    try:
        published = own_key_ring().published_keys()
    except KeyConfigurationError as error:
        raise KeySetUnavailable(f"no own signing key: {error}") from error
    for key in published:
        if key.kid == kid:
            return key.public_key
    raise UnknownKeyError(f"no own key {kid!r}")


def clear_remote_key_sets() -> None:
    with _key_sets_lock:
        _key_sets.clear()
        _key_sets_by_service.clear()


@on_reload
def _forget_urls() -> None:
    # A URL may have changed (tests): look the URLs up again, keeping key sets fetched by URL.
    with _key_sets_lock:
        _key_sets_by_service.clear()
