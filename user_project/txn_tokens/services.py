"""Writes of the transaction token service: exchanging an end user's access token for a
transaction token (draft-ietf-oauth-transaction-tokens) that a service carries on the calls it
makes for that user."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts.selectors import active_user_get
from ms_token.exceptions import SUBJECT_TOKEN_INVALID
from ms_token.tokens import mint_txn_token
from service_kit.errors import DomainError
from service_kit.urls import MAX_DATABASE_ID
from service_kit.user_auth import UserAccessToken

from .models import IssuedTxnToken


class SubjectTokenInvalid(DomainError):
    status = 401
    code = SUBJECT_TOKEN_INVALID
    detail = "The subject token is not a valid, unexpired access token of an active user."
    www_authenticate = 'Bearer error="invalid_token"'


@dataclass(frozen=True)
class IssuedTxnTokenAnswer:
    txn_token: str
    expires_in: int


def txn_token_issue(
    *, requester: str, subject_token: str, assertion_jti: str, request_id: str | None = None
) -> IssuedTxnTokenAnswer:
    """A transaction token for the user of ``subject_token``, asked for by the service
    ``requester``: living ``MS_TOKEN["TXN_TOKEN_TTL"]`` seconds, never past the subject token.

    The subject token must be an access token this service issued (signature by a key it still
    publishes, ``typ`` JWT, ``aud``/``iss``, ``token_type`` access: never a refresh token, a
    service token or a transaction token), not expired (no leeway: a token must outlive its
    exchange), of a user who exists and is active. Recorded, never stored.
    """
    try:
        access = UserAccessToken(subject_token)
    except TokenError as error:
        raise SubjectTokenInvalid() from error
    now = int(time.time())
    expires = access.payload.get("exp")
    if type(expires) is not int or expires <= now:
        raise SubjectTokenInvalid("The subject token has expired.")
    user = active_user_get(user_id=user_id) if (user_id := _database_id(access.payload)) else None
    if user is None:
        raise SubjectTokenInvalid("The subject token's user is unknown or inactive.")

    token, claims = mint_txn_token(subject=str(user.pk), requester=requester, not_after=expires, now=now)
    IssuedTxnToken.objects.create(
        requester=requester,
        subject=claims["sub"],
        txn=claims["txn"],
        subject_token_jti=str(access.payload.get(jwt_settings.JTI_CLAIM, ""))[:255],
        assertion_jti=assertion_jti,
        request_id=request_id or "",
        issued_at=datetime.fromtimestamp(claims["iat"], tz=timezone.utc),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=timezone.utc),
    )
    return IssuedTxnTokenAnswer(txn_token=token, expires_in=claims["exp"] - claims["iat"])


def _database_id(claims: dict) -> int | None:
    """The token's user id as a database id (simplejwt writes it as a string), else None."""
    value = claims.get(jwt_settings.USER_ID_CLAIM)
    if isinstance(value, str) and len(value) <= 19 and value.isascii() and value.isdecimal() and 0 < int(value) <= MAX_DATABASE_ID:
        return int(value)
    return None
