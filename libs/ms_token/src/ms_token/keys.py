"""A service's own Ed25519 signing keys.

Keys live as PEM files under ``<KEYS_DIR>/<service>/<kid>.pem`` (mode 0600), created by
``manage.py ms_token_keys``; or one key comes from ``MS_TOKEN["SIGNING_KEY"]`` (PEM text) or
``MS_TOKEN["SIGNING_KEY_FILE"]``.

Rotation is "publish, then sign": a new key is published at once but signs only after
``ACTIVATION_SECONDS``, longer than the delays before our JWKS shows the key plus a verifier's
JWKS refetch interval (30 s), so no verifier that fetched our keys just before the rotation
refuses the new key's first tokens. The newest active key signs. A replaced key stays published for ``RETENTION_SECONDS`` after its successor
starts signing, so tokens it signed can still be verified until they expire.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .settings import ms_token_settings, on_reload

KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KEY_FILE = re.compile(r"(?P<kid>(?P<service>[a-z]+)-(?P<created>\d{10})-[0-9a-f]{8})\.pem")

# A new key waits this long between being published and signing. Before a verifier can know
# it: up to 5 s until our running process rereads its keys (_CachedKeyRing.check_interval),
# 5 s more in any HTTP cache of our JWKS (jwks.JWKS_MAX_AGE), then the 30 s a verifier that
# fetched just before may wait to refetch (jwks.REFETCH_INTERVAL), and created_at is rounded
# down to the second: 41 s at worst, so 45.
ACTIVATION_SECONDS = 45
# A superseded key must outlive every token it signed: the longest lifetime (300 s) plus
# clock leeway, rounded up generously.
RETENTION_SECONDS = 600


class KeyConfigurationError(Exception):
    """The service has no usable signing key."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey = field(repr=False)
    created_at: int

    @cached_property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    @cached_property
    def public_bytes(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @cached_property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def public_jwk(self) -> dict[str, str]:
        return {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": b64url(self.public_bytes),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url(raw)}, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class KeyRing:
    """The keys of one service, newest last."""

    service: str
    keys: tuple[SigningKey, ...]

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyConfigurationError(
                f"no signing key for service {self.service!r}: create one (manage.py ms_token_keys) "
                "or set MS_TOKEN['SIGNING_KEY_FILE']"
            )

    def _active_from(self, index: int) -> float:
        # The first key signs at once: before it there was nothing to verify with.
        return self.keys[index].created_at + (ACTIVATION_SECONDS if index else 0)

    def signing_key_at(self, now: float) -> SigningKey:
        """The newest key that has been published long enough to sign."""
        for index in range(len(self.keys) - 1, 0, -1):
            if self._active_from(index) <= now:
                return self.keys[index]
        return self.keys[0]

    @property
    def signing_key(self) -> SigningKey:
        return self.signing_key_at(time.time())

    def published_keys(self, now: float | None = None) -> list[SigningKey]:
        """Keys not yet signing, the one signing, and those replaced less than RETENTION ago."""
        now = time.time() if now is None else now
        last = len(self.keys) - 1
        return [
            key
            for index, key in enumerate(self.keys)
            if index == last or now - self._active_from(index + 1) < RETENTION_SECONDS
        ]

    def jwks(self, now: float | None = None) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in self.published_keys(now)]}


def default_keys_dir() -> Path:
    """``MS_TOKEN["KEYS_DIR"]``: where key files are created and read."""
    directory = ms_token_settings.KEYS_DIR
    if directory is None:
        raise KeyConfigurationError("MS_TOKEN['KEYS_DIR'] is not set: no directory for key files")
    return Path(directory)


def _load_pem(data: bytes, source: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{source} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyConfigurationError(f"{source} is not an Ed25519 key")
    return key


def _key_from_pem(service: str, data: bytes, source: str) -> SigningKey:
    private_key = _load_pem(data, source)
    kid = f"{service}-{thumbprint(private_key.public_key())[:16]}"
    return SigningKey(kid=kid, private_key=private_key, created_at=0)


def key_ring_from_pem(service: str, pem: bytes, source: str) -> KeyRing:
    """A ring of the one key in ``pem`` (its kid derived from the public key)."""
    return KeyRing(service, (_key_from_pem(service, pem, source),))


def load_key_ring(service: str, keys_dir: Path | None = None) -> KeyRing:
    """The keys of ``service`` in ``keys_dir`` (default ``MS_TOKEN["KEYS_DIR"]``), oldest first."""
    directory = (keys_dir or default_keys_dir()) / service
    keys = []
    if directory.is_dir():
        for path in directory.iterdir():
            match = _KEY_FILE.fullmatch(path.name)
            if match and match["service"] == service:
                keys.append(
                    SigningKey(
                        kid=match["kid"],
                        private_key=_load_pem(path.read_bytes(), str(path)),
                        created_at=int(match["created"]),
                    )
                )
    keys.sort(key=lambda k: (k.created_at, k.kid))
    return KeyRing(service, tuple(keys))


def configured_key_ring(service: str) -> KeyRing:
    """This service's keys as the settings give them: ``SIGNING_KEY`` (PEM text), else
    ``SIGNING_KEY_FILE``, else the files under ``KEYS_DIR``."""
    if ms_token_settings.SIGNING_KEY:
        return key_ring_from_pem(service, str(ms_token_settings.SIGNING_KEY).encode(), "MS_TOKEN['SIGNING_KEY']")
    pem_file = ms_token_settings.SIGNING_KEY_FILE
    if pem_file:
        try:
            pem_bytes = Path(pem_file).read_bytes()
        except OSError as exc:
            raise KeyConfigurationError(f"SIGNING_KEY_FILE {str(pem_file)!r} cannot be read: {exc}") from exc
        return key_ring_from_pem(service, pem_bytes, str(pem_file))
    return load_key_ring(service)


def create_key(service: str, keys_dir: Path | None = None) -> SigningKey:
    """Create a new key, which becomes the service's signing key."""
    directory = (keys_dir or default_keys_dir()) / service
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    existing = [int(m["created"]) for p in directory.iterdir() if (m := _KEY_FILE.fullmatch(p.name))]
    # Strictly newer than every existing key, even within the same second: order is by time.
    created_at = max([int(time.time()), *(t + 1 for t in existing)])
    kid = f"{service}-{created_at}-{secrets.token_hex(4)}"
    key = SigningKey(kid=kid, private_key=Ed25519PrivateKey.generate(), created_at=created_at)
    # A running service re-reads this directory when it changes: the key must appear under its
    # final name whole or not at all. So it is written under a name _KEY_FILE does not match,
    # flushed to disk, then linked to its final name (which, unlike a rename, fails if that name
    # exists), and the temporary name removed.
    path = directory / f"{kid}.pem"
    temporary = directory / f".{kid}.pem.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_directory(directory)
    return key


def _fsync_directory(directory: Path) -> None:
    """Make the new name itself durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def ensure_key(service: str, keys_dir: Path | None = None) -> SigningKey | None:
    """Create a key only if the service has none. Returns the new key, or None."""
    try:
        load_key_ring(service, keys_dir)
    except KeyConfigurationError:
        return create_key(service, keys_dir)
    return None


_UNSETTLED = object()  # a stamp that equals no stamp: re-read at the next check


def _source_stamp(service: str) -> float | None:
    """When this service's configured keys last changed: the key file's or the keys
    directory's modification time (None for keys given as text, or a directory not there)."""
    if ms_token_settings.SIGNING_KEY:
        return None
    path = ms_token_settings.SIGNING_KEY_FILE or (default_keys_dir() / service)
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return None


class _CachedKeyRing:
    """The process's own key ring, re-read when its source changes (rotation)."""

    check_interval = 5.0
    # Filesystem clocks are coarse: a change in the same tick as the one we read leaves the
    # directory's stamp as it was. A stamp is trusted once it is this old; before, we re-read.
    settle_seconds = 2.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._service: str | None = None
        self._stamp: object = None
        self._checked_at = 0.0

    def get(self, service: str) -> KeyRing:
        now = time.monotonic()
        ring = self._ring
        if ring is not None and self._service == service and now - self._checked_at < self.check_interval:
            return ring
        with self._lock:
            stamp = _source_stamp(service)
            if self._ring is None or self._service != service or stamp != self._stamp:
                self._ring = configured_key_ring(service)
                self._service = service
                settled = stamp is None or time.time() - stamp >= self.settle_seconds
                self._stamp = stamp if settled else _UNSETTLED
            self._checked_at = now
            return self._ring

    def clear(self) -> None:
        with self._lock:
            self._ring = None


_own_key_ring = _CachedKeyRing()


def own_key_ring() -> KeyRing:
    """The key ring of the service this process runs (``MS_TOKEN["SERVICE_NAME"]``)."""
    return _own_key_ring.get(ms_token_settings.SERVICE_NAME)


@on_reload
def clear_key_cache() -> None:
    _own_key_ring.clear()
