"""Admitting a token: every check of ``verification.verify``, then the replay store, and one log
line per decision. Framework-free: ``contrib.rest_framework.MSTokenAuthentication`` is a thin
DRF wrapper around ``admit``.

The log line names the issuer, the jti, the outcome, the refusal code and the caller, and for a
call that carries a transaction token its ``txn`` and ``sub`` (the end user); never a token. Values taken from a refused token are logged only when they are plain identifiers, so a
hostile token cannot forge or break log lines.
"""
from __future__ import annotations

import logging
import re

from . import exceptions as exc
from .observability import observed_admission, observed_claim, verification
from .replay import ReplayStore, get_replay_store
from .verification import VerifiedToken, VerifiedTxnToken, rejection, verify

logger = logging.getLogger("ms_token")

_LOGGABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def loggable(value: object) -> str:
    """``value`` if it is a short plain identifier, else ``-``: safe in a log line."""
    return value if isinstance(value, str) and _LOGGABLE.fullmatch(value) else "-"


def log_verification(
    issuer: object, jti: object, outcome: str, code: str, caller: object = None,
    txn: VerifiedTxnToken | None = None,
) -> None:
    # caller: the service a token-service token speaks for (sub); else the issuer itself.
    if logger.isEnabledFor(logging.INFO):  # the fields cost five regex matches: only when logged
        _log_line(issuer, jti, outcome, code, caller, txn)
    verification(outcome, code, issuer if caller is None else caller)


def _log_line(
    issuer: object, jti: object, outcome: str, code: str, caller: object, txn: VerifiedTxnToken | None,
) -> None:
    fields = {
        "issuer": loggable(issuer),
        "jti": loggable(jti),
        "outcome": outcome,
        "code": code,
        "caller": loggable(issuer if caller is None else caller),
        "txn": "-" if txn is None else loggable(txn.txn),
        "sub": "-" if txn is None else loggable(txn.subject),
    }
    logger.info(
        "ms_token verification issuer=%(issuer)s jti=%(jti)s outcome=%(outcome)s code=%(code)s"
        " caller=%(caller)s txn=%(txn)s sub=%(sub)s",
        fields,
        extra={"ms_token": fields},
    )


def log_refusal(error: exc.TokenRejected) -> None:
    log_verification(error.issuer, error.jti, "refused", error.code, error.caller)


def _log_unavailable(error: exc.VerificationUnavailable, verified: VerifiedToken | None) -> None:
    """The issuer's keys (nothing verified yet) or the replay store (token verified) do not
    answer: logged with what is known for sure."""
    logger.warning("ms_token verification unavailable: %s", error)
    if verified is None:
        log_verification(None, None, "unavailable", "service_unavailable")
    else:
        log_verification(verified.issuer, verified.jti, "unavailable", "service_unavailable", verified.caller)


@observed_admission
def admit(
    token: str,
    *,
    method: str,
    path: str,
    body: bytes,
    query: str = "",
    txn_token: str | None = None,
    store: ReplayStore | None = None,
) -> VerifiedToken:
    """The token, verified against this request (``verify``'s arguments) and claimed in the
    replay store (``store``, else the settings' one). Raises ``TokenRejected`` (refuse, with its
    code) or ``VerificationUnavailable`` (the issuer's keys or the replay store do not answer: 503)."""
    try:
        verified = verify(token, method=method, path=path, body=body, query=query, txn_token=txn_token)
    except exc.TokenRejected as error:
        log_refusal(error)
        raise
    except exc.VerificationUnavailable as error:
        _log_unavailable(error, None)
        raise
    try:
        fresh = observed_claim(store or get_replay_store(), f"{verified.issuer}:{verified.jti}", verified.remember_until)
    except exc.VerificationUnavailable as error:
        _log_unavailable(error, verified)
        raise
    if not fresh:
        replayed = rejection(exc.TOKEN_REPLAYED, "token already used", verified.claims)
        log_refusal(replayed)
        raise replayed
    log_verification(verified.issuer, verified.jti, "accepted", "-", verified.caller, verified.txn)
    return verified
