"""Writes of the token service: issuing one service token for one request of a caller."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from ms_token.settings import ms_token_settings
from ms_token.sources import ASSERTION_SCOPE
from ms_token.tokens import b64url_encode, sign_claims
from service_kit.errors import DomainError

from .models import IssuedServiceToken
from .selectors import service_caller_grant


class IssuanceRefused(DomainError):
    """No token for this request; ``code`` says why (the API's error code)."""

    status = 403
    code = "issuance_refused"


class CallerUnknown(IssuanceRefused):
    code = "caller_unknown"


class CallerDisabled(IssuanceRefused):
    code = "caller_disabled"


class AudienceUnknown(IssuanceRefused):
    code = "audience_unknown"


class ScopeNotGranted(IssuanceRefused):
    code = "scope_not_granted"


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int


def service_token_issue(
    *,
    caller: str,
    audience: str,
    scope: str,
    method: str,
    path: str,
    query_hash: str | None = None,
    body_hash: str | None = None,
    txn_token_hash: str | None = None,
    assertion_jti: str,
    request_id: str | None = None,
) -> IssuedToken:
    """A token that ``caller`` may send once to ``audience`` for ``method path`` (and the query,
    body and transaction token whose hashes are given: ``qh``, ``bh``, ``tth``).

    Checked in order: the caller is registered and enabled, the audience is a service of ours,
    every scope asked for is in the caller's grant for that audience. Recorded, never stored.
    """
    registered = service_caller_grant(name=caller, audience=audience)
    if registered is None:
        raise CallerUnknown(f"{caller} is not a registered caller of the token service.")
    if not registered.is_enabled:
        raise CallerDisabled(f"{caller} is disabled at the token service.")
    if audience not in ms_token_settings.SERVICE_URLS:
        raise AudienceUnknown(f"There is no service {audience!r}.")
    requested = frozenset(scope.split())
    missing = requested - registered.scopes
    if missing or ASSERTION_SCOPE in requested:
        raise ScopeNotGranted(
            f"{caller} may not get {' '.join(sorted(missing or requested))} for {audience}."
        )

    ttl = ms_token_settings.TOKEN_TTL
    now = int(time.time())
    jti = b64url_encode(os.urandom(16)).decode("ascii")
    scope = " ".join(sorted(requested))
    claims = {
        "iss": ms_token_settings.SERVICE_NAME,  # the token service: callees take its key from its JWKS
        "sub": caller,  # the calling service, whose grant the callee applies
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
        "jti": jti,
        "scope": scope,
        "htm": method,
        "htu": path,
    }
    # In mint's order (SPEC.md): the request's parts as it has them.
    for claim, digest in (("qh", query_hash), ("bh", body_hash), ("tth", txn_token_hash)):
        if digest:
            claims[claim] = digest
    token = sign_claims(claims)  # with our newest key
    IssuedServiceToken.objects.create(
        caller=caller,
        audience=audience,
        scope=scope,
        method=method,
        path=path,
        query_hash=query_hash or "",
        txn_token_hash=txn_token_hash or "",
        jti=jti,
        assertion_jti=assertion_jti,
        request_id=request_id or "",
        issued_at=datetime.fromtimestamp(now, tz=timezone.utc),
        expires_at=datetime.fromtimestamp(now + ttl, tz=timezone.utc),
    )
    return IssuedToken(token=token, jti=jti, expires_in=ttl)
