"""A service's own Ed25519 signing keys, and their lifecycle.

Keys live as PEM files under ``<KEYS_DIR>/<service>/<kid>.pem`` (mode 0600), created by
``manage.py ms_token_keys``; or one key comes from ``MS_TOKEN["SIGNING_KEY"]`` (PEM text) or
``MS_TOKEN["SIGNING_KEY_FILE"]``. Revocations are recorded in
``<KEYS_DIR>/<service>/revoked.jsonl`` however the keys are given.

A key is, in turn:

- **pending**: published, not signing yet. Rotation is "publish, then sign": a new key signs
  only ``ACTIVATION_SECONDS`` after it was made, when every verifier can have fetched it.
- **signing**: the newest key past its activation.
- **retired**: replaced by a newer signing key. It stays published for ``RETENTION_SECONDS``,
  so the tokens it signed verify everywhere until they expire, and keeps verifying tokens only
  this service checks (``KeyRing.verifying_key``) for as long as the caller says.
- **revoked** (``revoke_key``): withdrawn at once and for good. Never published, never signing,
  never verifying, even if its file comes back: the record names its public key. If it was
  signing, the newest remaining key signs at once.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .encoding import b64url_encode
from .settings import ms_token_settings, on_reload

KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_KID = r"(?P<kid>(?P<service>[a-z]+)-(?P<created>\d{10})-[0-9a-f]{8})"
_KEY_FILE = re.compile(_KID + r"\.pem")
# A revoked key's file keeps its name plus this suffix, which _KEY_FILE does not match.
REVOKED_SUFFIX = ".revoked"
_ANY_KEY_FILE = re.compile(_KID + r"\.pem(?:" + re.escape(REVOKED_SUFFIX) + ")?")
REVOCATIONS_FILE = "revoked.jsonl"

# How often a running process looks whether its keys changed (rotation, revocation).
OWN_KEYS_CHECK_INTERVAL = 5.0
# A new key waits this long between being published and signing. Before a verifier can know
# it: up to OWN_KEYS_CHECK_INTERVAL until our running process rereads its keys, up
# to jwks.JWKS_MAX_AGE in any HTTP cache of our JWKS, then the jwks.REFETCH_INTERVAL a verifier
# that fetched just before may wait to refetch for an unknown kid; created_at is rounded down
# to the second.
ACTIVATION_SECONDS = 70
# A replaced key stays published this long: longer than any token that other services verify
# with it lives (an X-MS-TOKEN, a transaction token, end users' access tokens a service signs
# with its keys), plus leeway.
RETENTION_SECONDS = 600

KeyState = Literal["pending", "signing", "retired", "revoked"]


class KeyConfigurationError(Exception):
    """The service has no usable signing key."""


class KeyNotFound(LookupError):
    """The service has no key with that kid."""


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 JWK thumbprint of an Ed25519 public key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": b64url_encode(raw).decode()}, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode()).digest()).decode()


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
    def thumbprint(self) -> str:
        return thumbprint(self.public_key)

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
            "x": b64url_encode(self.public_bytes).decode(),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }


def _created_at(kid: str) -> int:
    """The creation time a key file's kid carries (0 for a key given as text or file)."""
    match = re.fullmatch(_KID, kid)
    return int(match["created"]) if match else 0


@dataclass(frozen=True)
class Revocation:
    """The record that ``kid`` (the key with this public-key ``thumbprint``) is revoked."""

    kid: str
    thumbprint: str
    revoked_at: int
    was_signing: bool  # it signed when revoked: the newest remaining key took over at once

    @property
    def created_at(self) -> int:
        return _created_at(self.kid)

    def as_json(self) -> str:
        return json.dumps(
            {"kid": self.kid, "thumbprint": self.thumbprint, "revoked_at": self.revoked_at,
             "was_signing": self.was_signing},
            separators=(",", ":"),
        )


@dataclass(frozen=True)
class KeyStatus:
    """Where a key is in its lifecycle at one moment (``KeyRing.statuses``)."""

    kid: str
    created_at: int
    state: KeyState
    signs_from: float | None = None  # when it signs (signed) from; None: never
    retired_at: float | None = None  # when another key replaced it; None: not (yet) planned
    revoked_at: int | None = None


@dataclass(frozen=True)
class KeyRing:
    """The keys of one service: those it may use (``keys``, oldest first) and its revocations."""

    service: str
    keys: tuple[SigningKey, ...]
    revocations: tuple[Revocation, ...] = ()

    def __post_init__(self) -> None:
        if not self.keys and not self.revocations:
            raise KeyConfigurationError(
                f"no signing key for service {self.service!r}: create one (manage.py ms_token_keys) "
                "or set MS_TOKEN['SIGNING_KEY_FILE']"
            )

    @cached_property
    def _schedule(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """For each of ``keys``: when it signs from, and when it stops signing for good, replaced
        by another (inf: no other is planned)."""
        # Every key this service ever had: (created, kid, gone), gone = revoked_at or inf.
        everyone = [(float(k.created_at), k.kid, math.inf) for k in self.keys]
        everyone += [(float(r.created_at), r.kid, float(r.revoked_at)) for r in self.revocations]
        handovers = sorted(r.revoked_at for r in self.revocations if r.was_signing)

        def signs_from(created: float, kid: str) -> float:
            # With no older key left that could sign, a key signs at once (the first key, or
            # one made after the others were revoked); otherwise after its activation, or at
            # the revocation of the key signing before it, whichever is first.
            if not any((c, k) < (created, kid) and gone > created for c, k, gone in everyone):
                return created
            return min([created + ACTIVATION_SECONDS, *(t for t in handovers if t >= created)])

        starts = {kid: signs_from(created, kid) for created, kid, _ in everyone}
        newest_first = sorted(everyone, reverse=True)
        # Who signs changes only when a key's time comes or a key is revoked.
        moments = sorted({*starts.values(), *(gone for _, _, gone in everyone if gone < math.inf)})
        signers = [
            next((kid for _, kid, gone in newest_first if starts[kid] <= moment < gone), None)
            for moment in moments
        ]

        def replaced_at(key: SigningKey) -> float:
            # The end of its last time signing (a key can sign again when its successor is
            # revoked); a key that never signs is done with at its start.
            last = max((index for index, kid in enumerate(signers) if kid == key.kid), default=None)
            if last is None:
                return starts[key.kid]
            return moments[last + 1] if last + 1 < len(moments) else math.inf

        return tuple(starts[k.kid] for k in self.keys), tuple(replaced_at(k) for k in self.keys)

    @cached_property
    def _index(self) -> dict[str, int]:
        return {key.kid: index for index, key in enumerate(self.keys)}

    def signing_key_at(self, now: float) -> SigningKey:
        """The newest key whose time to sign has come."""
        if not self.keys:
            raise KeyConfigurationError(
                f"every key of service {self.service!r} is revoked: give it a new one "
                "(manage.py ms_token_keys, or a new SIGNING_KEY / SIGNING_KEY_FILE)"
            )
        starts = self._schedule[0]
        for index in range(len(self.keys) - 1, -1, -1):
            if starts[index] <= now:
                return self.keys[index]
        return self.keys[0]  # clocks apart: a key "made" a moment from now is still ours

    @property
    def signing_key(self) -> SigningKey:
        return self.signing_key_at(time.time())

    def published_keys(self, now: float | None = None) -> list[SigningKey]:
        """Keys not yet signing, the one signing, and those replaced less than RETENTION ago."""
        now = time.time() if now is None else now
        replaced = self._schedule[1]
        return [key for index, key in enumerate(self.keys) if now < replaced[index] + RETENTION_SECONDS]

    def verifying_key(self, kid: str, now: float | None = None, *, retired_for: float = 0) -> SigningKey | None:
        """The key ``kid`` if it may verify now: published, or replaced less than
        ``retired_for`` seconds ago (tokens only this service checks may outlive publication)."""
        index = self._index.get(kid)
        if index is None:
            return None
        now = time.time() if now is None else now
        if now < self._schedule[1][index] + max(RETENTION_SECONDS, retired_for):
            return self.keys[index]
        return None

    def jwks(self, now: float | None = None) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in self.published_keys(now)]}

    def statuses(self, now: float | None = None) -> list[KeyStatus]:
        """Every key, revoked ones included, oldest first, with its state at ``now``."""
        now = time.time() if now is None else now
        signing = self.signing_key_at(now).kid if self.keys else None
        starts, replaced = self._schedule
        found = []
        for index, key in enumerate(self.keys):
            start, end = starts[index], replaced[index]
            state: KeyState = "signing" if key.kid == signing else "pending" if start > now else "retired"
            found.append(KeyStatus(key.kid, key.created_at, state, start, None if end == math.inf else end))
        for revocation in self.revocations:
            found.append(KeyStatus(revocation.kid, revocation.created_at, "revoked", revoked_at=revocation.revoked_at))
        return sorted(found, key=lambda status: (status.created_at, status.kid))


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


def read_revocations(path: Path) -> tuple[Revocation, ...]:
    """The revocation records in ``path`` (none if it does not exist). A record that cannot be
    read stops the service rather than being skipped: skipping it would undo a revocation."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyConfigurationError(f"revocation record {path} cannot be read: {exc}") from exc
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
            records.append(Revocation(
                kid=str(document["kid"]),
                thumbprint=str(document["thumbprint"]),
                revoked_at=int(document["revoked_at"]),
                was_signing=bool(document["was_signing"]),
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise KeyConfigurationError(
                f"{path}, line {number}, is not a revocation record: repair it (never delete it)"
            ) from exc
    return tuple(records)


def _revocations_path(service: str) -> Path | None:
    directory = ms_token_settings.KEYS_DIR
    return None if directory is None else Path(directory) / service / REVOCATIONS_FILE


def _ring(service: str, keys: list[SigningKey], revocations: tuple[Revocation, ...]) -> KeyRing:
    revoked = {revocation.thumbprint for revocation in revocations}
    usable = sorted((key for key in keys if key.thumbprint not in revoked), key=lambda k: (k.created_at, k.kid))
    return KeyRing(service, tuple(usable), revocations)


def key_ring_from_pem(service: str, pem: bytes, source: str) -> KeyRing:
    """A ring of the one key in ``pem`` (its kid derived from the public key), less any revoked
    in ``KEYS_DIR`` when that is set."""
    path = _revocations_path(service)
    return _ring(service, [_key_from_pem(service, pem, source)], read_revocations(path) if path else ())


def load_key_ring(service: str, keys_dir: Path | None = None) -> KeyRing:
    """The keys of ``service`` in ``keys_dir`` (default ``MS_TOKEN["KEYS_DIR"]``), oldest first,
    less the revoked ones."""
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
    return _ring(service, keys, read_revocations(directory / REVOCATIONS_FILE))


def keys_given_in_settings() -> bool:
    """The key is ``SIGNING_KEY`` or ``SIGNING_KEY_FILE``, not the files under ``KEYS_DIR``."""
    return bool(ms_token_settings.SIGNING_KEY or ms_token_settings.SIGNING_KEY_FILE)


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


def create_key(service: str, keys_dir: Path | None = None, *, now: int | None = None) -> SigningKey:
    """Create a new key, which becomes the service's signing key (``now``: its creation time,
    for tests that need a key made in the past)."""
    directory = (keys_dir or default_keys_dir()) / service
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    existing = [int(m["created"]) for p in directory.iterdir() if (m := _ANY_KEY_FILE.fullmatch(p.name))]
    # Strictly newer than every existing key, even within the same second: order is by time.
    created_at = max([int(time.time()) if now is None else now, *(t + 1 for t in existing)])
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
    """Create a key only if the service has none it may use. Returns the new key, or None."""
    try:
        if load_key_ring(service, keys_dir).keys:
            return None
    except KeyConfigurationError:
        pass
    return create_key(service, keys_dir)


def revoke_key(ring: KeyRing, kid: str, keys_dir: Path | None = None, *, now: int | None = None) -> Revocation:
    """Withdraw ``kid`` of ``ring`` (the service's keys as it uses them) at once and for good.

    The record is appended to ``<keys_dir>/<service>/revoked.jsonl`` and made durable before
    anything else; then the key's file, if it is one of ``keys_dir``, is renamed out of the
    loader's sight (kept, for the record). A running service rereads both within
    ``OWN_KEYS_CHECK_INTERVAL``.
    """
    key = next((key for key in ring.keys if key.kid == kid), None)
    if key is None:
        raise KeyNotFound(f"service {ring.service!r} has no usable key {kid!r}")
    now = int(time.time()) if now is None else now
    revocation = Revocation(kid, key.thumbprint, now, was_signing=ring.signing_key_at(now).kid == kid)
    directory = (keys_dir or default_keys_dir()) / ring.service
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / REVOCATIONS_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "ab") as handle:
        handle.write(revocation.as_json().encode() + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    key_file = directory / f"{kid}.pem"
    if key_file.exists():
        os.replace(key_file, directory / f"{kid}.pem{REVOKED_SUFFIX}")
    _fsync_directory(directory)
    return revocation


_UNSETTLED = object()  # a stamp that equals no stamp: re-read at the next check
Stamp = tuple[int, int] | None  # (mtime in ns, size) of a file or directory; None: not there


def _stamp(path: Path) -> Stamp:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def _source_stamps(service: str) -> tuple[Stamp, ...]:
    """When this service's configured keys last changed: the key file's or the keys
    directory's stamp (none for keys given as text), and its revocation record's."""
    stamps = []
    if ms_token_settings.SIGNING_KEY_FILE:
        stamps.append(_stamp(Path(ms_token_settings.SIGNING_KEY_FILE)))
    elif not ms_token_settings.SIGNING_KEY:
        stamps.append(_stamp(default_keys_dir() / service))
    revocations = _revocations_path(service)
    if revocations is not None:
        stamps.append(_stamp(revocations))
    return tuple(stamps)


class _CachedKeyRing:
    """The process's own key ring, re-read when its source changes (rotation, revocation)."""

    check_interval = OWN_KEYS_CHECK_INTERVAL
    # Filesystem clocks are coarse: a change in the same tick as the one we read leaves the
    # directory's stamp as it was. A stamp is trusted once it is this old; before, we re-read.
    settle_seconds = 2.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        # (ring, its service, when its source was last checked): replaced whole, so a reader
        # without the lock never pairs one ring with another's service or check time.
        self._current: tuple[KeyRing, str, float] | None = None
        self._stamp: object = None

    def get(self, service: str) -> KeyRing:
        now = self.clock()
        current = self._current
        if current is not None and current[1] == service and now - current[2] < self.check_interval:
            return current[0]
        with self._lock:
            current = self._current
            stamps = _source_stamps(service)
            if current is None or current[1] != service or stamps != self._stamp:
                ring = configured_key_ring(service)  # built whole before anyone sees it
                newest = max((stamp[0] for stamp in stamps if stamp is not None), default=None)
                settled = newest is None or time.time() - newest / 1e9 >= self.settle_seconds
                self._stamp = stamps if settled else _UNSETTLED
            else:
                ring = current[0]
            self._current = (ring, service, now)
            return ring

    def clear(self) -> None:
        with self._lock:
            self._current = None
            self._stamp = None


_own_key_ring = _CachedKeyRing()


def own_key_ring() -> KeyRing:
    """The key ring of the service this process runs (``MS_TOKEN["SERVICE_NAME"]``)."""
    return _own_key_ring.get(ms_token_settings.SERVICE_NAME)


@on_reload
def clear_key_cache() -> None:
    _own_key_ring.clear()
