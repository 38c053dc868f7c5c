"""The transaction token service, POST /api/txn-tokens/: a calling service exchanges the access
token of the user it serves for a transaction token (issue 15).

Callers are real X-MS-TOKENs signed with billing's (or product's) key from the test keys
directory; subject tokens are real ones from this service's login, or forged as named.
"""
from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rest_framework.test import APIClient

from ms_token.keys import SigningKey, create_key, load_key_ring
from ms_token.tokens import mint, mint_txn_token, sign_claims
from ms_token.txn_tokens import TXN_TOKEN_ENDPOINT_PATH, TXN_TOKEN_REQUEST_SCOPE
from ms_token.verification import verify_txn_token
from service_kit.testing import make_user_token, preload_peer_keys
from service_kit.user_auth import UserAccessToken, user_token_backend
from tests.helpers import assert_error, decode_jws, sign_jws
from txn_tokens.models import IssuedTxnToken

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def callers_keys_known():
    """Billing's and product's public keys, as if fetched from their JWKS; neither runs."""
    preload_peer_keys("billing", "product")


def exchange(subject_token, *, caller="billing", scope=TXN_TOKEN_REQUEST_SCOPE, body=None, x_ms_token=True):
    """POST the exchange as ``caller`` would: its X-MS-TOKEN bound to exactly this body."""
    if body is None:
        body = json.dumps({"subject_token": subject_token}).encode()
    client = APIClient()
    if x_ms_token:
        token = mint("user", scope, "POST", TXN_TOKEN_ENDPOINT_PATH, body, issuer=caller,
                     key=load_key_ring(caller).signing_key)
        client.credentials(HTTP_X_MS_TOKEN=token)
    return client.post(TXN_TOKEN_ENDPOINT_PATH, data=body, content_type="application/json")


@pytest.fixture
def nothing_issued():
    before = IssuedTxnToken.objects.count()
    yield
    assert IssuedTxnToken.objects.count() == before


def access_token_of(subject, *, lifetime=None, **claims) -> str:
    """An access token of user ``subject`` as login issues it, optionally living ``lifetime`` s."""
    token = UserAccessToken()
    token["user_id"] = str(subject)
    token["username"] = "someone"
    token["is_staff"] = False
    if lifetime is not None:
        token["exp"] = int(time.time()) + lifetime
    for name, value in claims.items():
        token[name] = value
    return user_token_backend.encode(token.payload)


# --- issuing -------------------------------------------------------------------------------------


def test_billing_exchanges_alices_access_token_for_a_transaction_token(alice, alice_tokens):
    before = int(time.time())
    response = exchange(alice_tokens["access"])
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"txn_token", "expires_in"}

    header, claims = decode_jws(body["txn_token"])
    assert header == {"alg": "EdDSA", "typ": "txntoken+jwt", "kid": load_key_ring("user").signing_key.kid}
    assert set(claims) == {"iss", "aud", "iat", "exp", "txn", "sub", "req_wl"}
    assert (claims["iss"], claims["aud"], claims["sub"], claims["req_wl"]) == ("user", "shop", str(alice.pk), "billing")
    assert type(claims["sub"]) is str
    assert claims["iat"] >= before and claims["exp"] - claims["iat"] == body["expires_in"] == 60
    assert claims["exp"] <= decode_jws(alice_tokens["access"])[1]["exp"]

    verified = verify_txn_token(body["txn_token"])  # the library's own verifier takes it
    assert (verified.subject, verified.txn, verified.requester) == (str(alice.pk), claims["txn"], "billing")

    record = IssuedTxnToken.objects.get()
    assert (record.requester, record.subject, record.txn) == ("billing", str(alice.pk), claims["txn"])
    assert record.subject_token_jti == decode_jws(alice_tokens["access"])[1]["jti"]
    assert record.assertion_jti and record.issued_at.timestamp() == claims["iat"]
    assert record.expires_at.timestamp() == claims["exp"]
    stored = json.dumps([str(getattr(record, f.name)) for f in IssuedTxnToken._meta.fields])
    assert body["txn_token"].split(".")[2] not in stored and alice_tokens["access"].split(".")[2] not in stored


def test_every_exchange_is_a_new_transaction(alice, alice_tokens):
    txns = {decode_jws(exchange(alice_tokens["access"]).json()["txn_token"])[1]["txn"] for _ in range(3)}
    assert len(txns) == 3 and IssuedTxnToken.objects.count() == 3


def test_the_lifetime_is_the_configured_one(settings, alice, alice_tokens):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TXN_TOKEN_TTL": 300}
    body = exchange(alice_tokens["access"]).json()
    assert body["expires_in"] == 300  # alice's access token lives 5 minutes: not cut short here...
    claims = decode_jws(body["txn_token"])[1]
    assert claims["exp"] - claims["iat"] == 300


def test_never_past_the_subject_tokens_expiry(alice):
    subject_token = access_token_of(alice.pk, lifetime=10)
    response = exchange(subject_token)
    assert response.status_code == 201, response.content
    claims = decode_jws(response.json()["txn_token"])[1]
    assert claims["exp"] == decode_jws(subject_token)[1]["exp"]
    assert 0 < response.json()["expires_in"] <= 10


def test_the_caller_is_who_asked_req_wl():
    """Any service this one trusts with txn-tokens:request; product is not."""
    assert exchange("x", caller="product").status_code == 403


# --- the subject token: anything but a live access token of an active user is refused --------------


def _refused(response):
    body = assert_error(response, 401, "subject_token_invalid")
    assert response["WWW-Authenticate"].startswith("Bearer")
    return body


def test_a_refresh_token_is_refused(alice_tokens, nothing_issued):
    _refused(exchange(alice_tokens["refresh"]))


def test_a_service_token_is_refused(alice, nothing_issued):
    billing = mint("user", "users:read", "GET", f"/api/internal/users/{alice.pk}/", issuer="billing",
                   key=load_key_ring("billing").signing_key)
    _refused(exchange(billing))
    # one this service signed itself, as the token service does
    now = int(time.time())
    ours = sign_claims({"iss": "user", "sub": "billing", "aud": "user", "iat": now, "exp": now + 30,
                        "jti": "a-token-service-token", "scope": "users:read", "htm": "GET", "htu": "/"})
    _refused(exchange(ours))


def test_a_transaction_token_is_refused(alice, nothing_issued):
    txn_token, _ = mint_txn_token(subject=str(alice.pk), requester="billing")
    _refused(exchange(txn_token))


def test_an_expired_access_token_is_refused(alice, nothing_issued):
    _refused(exchange(access_token_of(alice.pk, lifetime=-60)))


def test_an_access_token_expired_within_the_leeway_is_refused_too(alice, nothing_issued):
    """simplejwt would still take it (5 s of leeway); a transaction token cannot outlive it."""
    _refused(exchange(access_token_of(alice.pk, lifetime=-2)))


def test_a_tampered_access_token_is_refused(alice, alice_tokens, nothing_issued):
    header, _, signature = alice_tokens["access"].split(".")
    claims = decode_jws(alice_tokens["access"])[1]
    from tests.helpers import b64url

    other = b64url(json.dumps({**claims, "user_id": str(alice.pk + 1)}).encode())
    _refused(exchange(f"{header}.{other}.{signature}"))


def test_an_access_token_signed_by_another_services_key_is_refused(alice, nothing_issued):
    billing = load_key_ring("billing").signing_key
    claims = decode_jws(access_token_of(alice.pk))[1]
    _refused(exchange(sign_jws({"alg": "EdDSA", "typ": "JWT", "kid": billing.kid}, claims, billing.private_key)))
    user_kid = load_key_ring("user").signing_key.kid
    _refused(exchange(sign_jws({"alg": "EdDSA", "typ": "JWT", "kid": user_kid}, claims, billing.private_key)))


def test_an_access_token_signed_with_a_key_no_longer_published_is_refused(alice, tmp_path, nothing_issued):
    """A revoked key: the user service no longer has (or publishes) it."""
    gone = create_key("user", tmp_path)
    withdrawn = SigningKey(gone.kid, gone.private_key, gone.created_at)
    assert withdrawn.kid not in {key.kid for key in load_key_ring("user").published_keys()}
    token = user_token_backend.encode_with(decode_jws(access_token_of(alice.pk))[1], withdrawn)
    _refused(exchange(token))


def test_an_access_token_of_an_inactive_user_is_refused(alice, alice_tokens, nothing_issued):
    alice.is_active = False
    alice.save()
    _refused(exchange(alice_tokens["access"]))


def test_an_access_token_of_a_deleted_or_unknown_user_is_refused(alice, nothing_issued):
    _refused(exchange(make_user_token(user_id=alice.pk + 1000)))
    _refused(exchange(access_token_of(alice.pk, user_id="99999999999999999999999")))
    _refused(exchange(access_token_of(alice.pk, user_id="not-a-number")))


@pytest.mark.parametrize(
    "garbage",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "x" * 4096, "\u00e9.\u00e9.\u00e9", " "],
    ids=["word", "three-dots", "alg-none", "long", "non-ascii", "space"],
)
def test_garbage_is_refused(garbage, nothing_issued):
    _refused(exchange(garbage))


def test_an_attackers_token_with_alg_none_is_refused(alice, nothing_issued):
    claims = decode_jws(access_token_of(alice.pk))[1]
    from tests.helpers import b64url

    header = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    _refused(exchange(f"{header}.{b64url(json.dumps(claims).encode())}."))
    attacker = Ed25519PrivateKey.generate()
    _refused(exchange(sign_jws({"alg": "EdDSA", "typ": "JWT", "kid": "attacker"}, claims, attacker)))


# --- bad requests and bad callers ----------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [{}, {"subject_token": ""}, {"subject_token": 5}, {"subject_token": None}, {"subject_token": ["a"]},
     {"subject_token": "x" * 4097}, []],
    ids=["missing", "empty", "number", "null", "list", "too-long", "not-an-object"],
)
def test_a_malformed_request_is_400(document, nothing_issued):
    assert_error(exchange(None, body=json.dumps(document).encode()), 400)


def test_a_body_that_is_not_json_is_400(nothing_issued):
    assert_error(exchange(None, body=b"{nope"), 400, "parse_error")


def test_no_x_ms_token_is_401(alice_tokens, nothing_issued):
    response = exchange(alice_tokens["access"], x_ms_token=False)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "MS-Token"


def test_the_users_own_bearer_token_buys_nothing(alice_tokens, nothing_issued):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_tokens['access']}")
    body = json.dumps({"subject_token": alice_tokens["access"]})
    assert_error(client.post(TXN_TOKEN_ENDPOINT_PATH, data=body, content_type="application/json"), 401)


def test_a_caller_without_the_scope_is_403(alice_tokens, nothing_issued):
    assert_error(exchange(alice_tokens["access"], scope="users:read"), 403, "insufficient_scope")
    assert_error(exchange(alice_tokens["access"], caller="product"), 403, "insufficient_scope")


def test_a_transaction_token_as_the_x_ms_token_is_401(alice, alice_tokens, nothing_issued):
    txn_token, _ = mint_txn_token(subject=str(alice.pk), requester="billing")
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=txn_token)
    body = json.dumps({"subject_token": alice_tokens["access"]})
    response = client.post(TXN_TOKEN_ENDPOINT_PATH, data=body, content_type="application/json")
    assert_error(response, 401, "token_invalid")


def test_only_post_is_offered(nothing_issued):
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=mint("user", TXN_TOKEN_REQUEST_SCOPE, "GET", TXN_TOKEN_ENDPOINT_PATH,
                                            issuer="billing", key=load_key_ring("billing").signing_key))
    assert_error(client.get(TXN_TOKEN_ENDPOINT_PATH), 405, "method_not_allowed")


# --- the record in the admin ---------------------------------------------------------------------


def test_the_admin_lists_issued_transaction_tokens_read_only(admin_client, alice, alice_tokens):
    txn = decode_jws(exchange(alice_tokens["access"]).json()["txn_token"])[1]["txn"]
    listing = admin_client.get("/admin/txn_tokens/issuedtxntoken/")
    assert listing.status_code == 200 and txn.encode() in listing.content
    assert admin_client.get("/admin/txn_tokens/issuedtxntoken/add/").status_code == 403
    record = IssuedTxnToken.objects.get()
    page = admin_client.get(f"/admin/txn_tokens/issuedtxntoken/{record.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
