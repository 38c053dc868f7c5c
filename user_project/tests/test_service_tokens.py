"""The token service, POST /api/service-tokens/: grants, the caller switch, every bad input.

The callers' client assertions are real X-MS-TOKENs signed with billing's (or product's) key from
the test keys directory; the tokens issued are verified by this service's own verifier when they
are meant for it (GET /api/internal/users/{id}/), exactly as a callee would.
"""
from __future__ import annotations

import base64
import json
import time

from unittest import mock

import pytest
from rest_framework.test import APIClient

from ms_token.keys import load_key_ring
from ms_token.exceptions import TokenRejected
from ms_token.settings import ms_token_settings
from ms_token.sources import ASSERTION_SCOPE, TOKEN_ENDPOINT_PATH
from ms_token.tokens import body_hash, mint, mint_txn_token, query_hash, txn_token_hash
from ms_token.verification import verify
from service_kit.testing import preload_peer_keys
from service_tokens.models import IssuedServiceToken, ServiceCaller, ServiceGrant
from service_tokens.selectors import service_caller_grant
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db

PRODUCTS = {"audience": "product", "scope": "products:read", "method": "GET", "path": "/api/products/"}


@pytest.fixture(autouse=True)
def callers_keys_known():
    """Billing's and product's public keys, as if fetched from their JWKS; neither runs."""
    preload_peer_keys("billing", "product")


def encode(document) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def assertion(body: bytes, *, caller="billing", scope=ASSERTION_SCOPE, audience="user", path=TOKEN_ENDPOINT_PATH,
              ttl=None, key=None) -> str:
    """A client assertion as TokenServiceTokenSource makes it: self-signed, bound to this POST."""
    key = key or load_key_ring(caller).signing_key
    return mint(audience, scope, "POST", path, body, issuer=caller, key=key, ttl=ttl)


def ask(request: dict, *, token: str | None = None, **assertion_options):
    """POST a token request; the assertion is made for exactly this body unless ``token`` given."""
    body = encode(request)
    client = APIClient()
    if token is None:
        token = assertion(body, **assertion_options)
    if token:
        client.credentials(HTTP_X_MS_TOKEN=token)
    return client.post(TOKEN_ENDPOINT_PATH, data=body, content_type="application/json")


def claims_of(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


@pytest.fixture
def nothing_issued():
    """Asserts at the end of the test that no issuance was recorded."""
    before = IssuedServiceToken.objects.count()
    yield
    assert IssuedServiceToken.objects.count() == before


def txn_token_of(user_id: int) -> str:
    """A transaction token for ``user_id`` (this service's own, as POST /api/txn-tokens/ issues it)."""
    return mint_txn_token(subject=str(user_id), requester="billing")[0]


def for_user(user_id: int, txn_token: str, **request) -> dict:
    """A token request for billing's read of ``user_id``, bound to that transaction token."""
    return {"audience": "user", "scope": "users:read", "method": "GET", "path": f"/api/internal/users/{user_id}/",
            "txn_token_hash": txn_token_hash(txn_token), **request}


def internal_user(token: str, user_id: int, txn_token: str | None):
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=token, **({"HTTP_TXN_TOKEN": txn_token} if txn_token else {}))
    return client.get(f"/api/internal/users/{user_id}/")


# --- issuing -------------------------------------------------------------------------------------


def test_billing_gets_a_token_for_product_signed_by_the_token_service():
    before = int(time.time())
    response = ask(PRODUCTS)
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"token", "expires_in", "jti"} and body["expires_in"] == 30

    header, claims = claims_of(body["token"])
    assert header == {"alg": "EdDSA", "typ": "ms+jwt", "kid": load_key_ring("user").signing_key.kid}
    assert claims["iat"] >= before and claims["exp"] - claims["iat"] == 30
    assert claims["iss"] == "user" and claims["sub"] == "billing" and claims["aud"] == "product"
    assert (claims["scope"], claims["htm"], claims["htu"], claims["jti"]) == (
        "products:read", "GET", "/api/products/", body["jti"])
    assert "bh" not in claims

    record = IssuedServiceToken.objects.get()
    assert (record.caller, record.audience, record.scope, record.method, record.path, record.jti) == (
        "billing", "product", "products:read", "GET", "/api/products/", body["jti"])
    assert (record.expires_at - record.issued_at).total_seconds() == 30
    assert record.assertion_jti and record.assertion_jti != record.jti
    stored = json.dumps([str(getattr(record, f.name)) for f in IssuedServiceToken._meta.fields])
    assert body["token"] not in stored and body["token"].split(".")[2] not in stored  # never the token


def test_the_lifetime_is_the_configured_one(settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_TTL": 120}
    token = ask(PRODUCTS).json()["token"]
    _, claims = claims_of(token)
    assert claims["exp"] - claims["iat"] == 120


def test_a_body_hash_becomes_the_bh_claim():
    digest = body_hash(b'{"items":[]}')
    response = ask({**PRODUCTS, "method": "POST", "body_hash": digest})
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["token"])[1]["bh"] == digest


def test_a_token_for_the_user_service_works_once_at_its_internal_endpoint(alice):
    txn_token = txn_token_of(alice.pk)
    response = ask(for_user(alice.pk, txn_token))
    token = response.json()["token"]
    assert claims_of(token)[1]["tth"] == txn_token_hash(txn_token)
    record = IssuedServiceToken.objects.get()
    assert (record.txn_token_hash, record.query_hash) == (txn_token_hash(txn_token), "")
    response = internal_user(token, alice.pk, txn_token)
    assert response.status_code == 200, response.content
    assert response.json()["username"] == "alice"
    assert_error(internal_user(token, alice.pk, txn_token), 401, "token_replayed")


def test_a_token_is_bound_to_the_path_it_was_asked_for(alice):
    txn_token = txn_token_of(alice.pk)
    token = ask(for_user(alice.pk, txn_token, path=f"/api/internal/users/{alice.pk + 1}/")).json()["token"]
    assert_error(internal_user(token, alice.pk, txn_token), 401, "token_request_mismatch")


def test_a_token_is_bound_to_the_transaction_token_it_was_asked_for(alice):
    """Issued for one transaction token: with another, or with none, it is refused."""
    asked_for, other = txn_token_of(alice.pk), txn_token_of(alice.pk)
    token = ask(for_user(alice.pk, asked_for)).json()["token"]
    assert_error(internal_user(token, alice.pk, other), 401, "txn_token_invalid")
    token = ask(for_user(alice.pk, asked_for)).json()["token"]
    assert_error(internal_user(token, alice.pk, None), 401, "txn_token_invalid")
    token = ask(for_user(alice.pk, asked_for, txn_token_hash=None)).json()["token"]
    assert "tth" not in claims_of(token)[1]
    assert_error(internal_user(token, alice.pk, asked_for), 401, "txn_token_invalid")


def test_a_query_hash_becomes_the_qh_claim():
    digest = query_hash("ids=1%2C2")
    response = ask({**PRODUCTS, "query_hash": digest})
    assert response.status_code == 200, response.content
    claims = claims_of(response.json()["token"])[1]
    assert claims["qh"] == digest and "tth" not in claims and "bh" not in claims
    assert IssuedServiceToken.objects.get().query_hash == digest


def test_the_hash_claims_follow_mints_order():
    """qh, bh, tth: the order SPEC.md gives (and mint writes)."""
    digests = {"query_hash": query_hash("a=1"), "body_hash": body_hash(b"{}"), "txn_token_hash": txn_token_hash("t")}
    token = ask({**PRODUCTS, "method": "POST", **digests}).json()["token"]
    assert list(claims_of(token)[1])[-3:] == ["qh", "bh", "tth"]


def test_every_token_is_new():
    jtis = {ask(PRODUCTS).json()["jti"] for _ in range(3)}
    assert len(jtis) == 3 and IssuedServiceToken.objects.count() == 3


# --- the grant rules -----------------------------------------------------------------------------


def test_the_default_grants_are_there_after_migrate():
    grants = {(g.caller.name, g.audience): g.scopes for g in ServiceGrant.objects.select_related("caller")}
    assert grants == {("billing", "product"): "products:read", ("billing", "user"): "users:read txn-tokens:request"}
    assert ServiceCaller.objects.get(name="billing").is_enabled


@pytest.mark.parametrize(
    "request_",
    [
        {**PRODUCTS, "scope": "products:write"},  # not granted at all
        {**PRODUCTS, "scope": "products:read products:write"},  # one of two not granted
        {**PRODUCTS, "scope": "users:read"},  # granted, but for another audience
        {**PRODUCTS, "audience": "billing", "scope": "bills:read"},  # no grant for that audience
        {**PRODUCTS, "audience": "user", "scope": ASSERTION_SCOPE},  # a token never buys a token
    ],
)
def test_a_scope_outside_the_grant_is_403(request_, nothing_issued):
    assert_error(ask(request_), 403, "scope_not_granted")


def test_several_scopes_of_one_grant_can_be_asked_at_once():
    ServiceGrant.objects.filter(audience="product").update(scopes="products:read products:audit")
    response = ask({**PRODUCTS, "scope": "products:audit products:read products:read"})
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["token"])[1]["scope"] == "products:audit products:read"


def test_a_grant_changed_in_the_admin_applies_to_the_next_request():
    assert ask(PRODUCTS).status_code == 200
    ServiceGrant.objects.filter(audience="product").update(scopes="products:audit")
    assert_error(ask(PRODUCTS), 403, "scope_not_granted")


def test_a_reserved_scope_smuggled_into_a_grant_is_still_never_issued(nothing_issued):
    # update() skips the model's validation, as a shell or a bad migration could.
    ServiceGrant.objects.filter(audience="user").update(scopes=f"users:read {ASSERTION_SCOPE}")
    request = {"audience": "user", "scope": ASSERTION_SCOPE, "method": "POST", "path": TOKEN_ENDPOINT_PATH}
    assert_error(ask(request), 403, "scope_not_granted")


def test_an_audience_that_does_not_exist_is_403(nothing_issued):
    assert_error(ask({**PRODUCTS, "audience": "inventory"}), 403, "audience_unknown")


def test_a_trusted_service_without_a_registration_is_403(nothing_issued):
    # product may use the endpoint (the user service's policy) but the table does not know it.
    assert_error(ask(PRODUCTS, caller="product"), 403, "caller_unknown")


def test_a_registered_caller_gets_what_its_grant_says():
    caller = ServiceCaller.objects.create(name="product")
    ServiceGrant.objects.create(caller=caller, audience="user", scopes="users:read")
    response = ask({"audience": "user", "scope": "users:read", "method": "GET", "path": "/api/internal/users/1/"},
                   caller="product")
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["token"])[1]["sub"] == "product"


def test_the_caller_and_its_grant_are_read_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        billing = service_caller_grant(name="billing", audience="product")
    assert billing.is_enabled and "products:read" in billing.scopes
    assert service_caller_grant(name="billing", audience="billing").scopes == frozenset()  # no grant there
    assert service_caller_grant(name="inventory", audience="product") is None


# --- switching a caller off ----------------------------------------------------------------------


def test_a_disabled_caller_gets_nothing_from_the_next_request_on(alice):
    txn_token = txn_token_of(alice.pk)
    request = for_user(alice.pk, txn_token)
    issued_before = ask(request).json()["token"]

    ServiceCaller.objects.filter(name="billing").update(is_enabled=False)
    count = IssuedServiceToken.objects.count()
    assert_error(ask(request), 403, "caller_disabled")
    assert IssuedServiceToken.objects.count() == count

    # A token issued before the switch is not revoked: it dies with its lifetime (30 s).
    assert internal_user(issued_before, alice.pk, txn_token).status_code == 200

    ServiceCaller.objects.filter(name="billing").update(is_enabled=True)
    assert ask(request).status_code == 200


def test_a_token_issued_before_disabling_is_refused_once_expired(alice):
    path = f"/api/internal/users/{alice.pk}/"
    token = ask({"audience": "user", "scope": "users:read", "method": "GET", "path": path}).json()["token"]
    ServiceCaller.objects.filter(name="billing").update(is_enabled=False)
    _, claims = claims_of(token)
    assert verify(token, method="GET", path=path, body=b"").caller == "billing"  # still alive
    with pytest.raises(TokenRejected) as refused:
        verify(token, method="GET", path=path, body=b"", now=claims["exp"] + ms_token_settings.LEEWAY + 1)
    assert refused.value.code == "token_expired"


# --- bad assertions ------------------------------------------------------------------------------


def test_no_assertion_is_401(nothing_issued):
    response = ask(PRODUCTS, token="")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "MS-Token"


def test_an_expired_assertion_is_401(nothing_issued):
    body = encode(PRODUCTS)
    key = load_key_ring("billing").signing_key
    # Signed 40 s ago with a 30 s lifetime: expired beyond the 5 s leeway.
    with mock.patch("ms_token.tokens.time.time", return_value=time.time() - 40):
        stale = mint("user", ASSERTION_SCOPE, "POST", TOKEN_ENDPOINT_PATH, body, issuer="billing", key=key)
    assert_error(ask(PRODUCTS, token=stale), 401, "token_expired")


def test_a_replayed_assertion_is_401():
    body = encode(PRODUCTS)
    token = assertion(body)
    assert ask(PRODUCTS, token=token).status_code == 200
    count = IssuedServiceToken.objects.count()
    assert_error(ask(PRODUCTS, token=token), 401, "token_replayed")
    assert IssuedServiceToken.objects.count() == count


def test_an_unknown_caller_is_401_untrusted_issuer(nothing_issued):
    key = load_key_ring("billing").signing_key  # any key: the issuer is refused before its key
    assert_error(ask(PRODUCTS, caller="inventory", key=key), 401, "untrusted_issuer")


def test_an_assertion_for_another_body_is_401(nothing_issued):
    token = assertion(encode({**PRODUCTS, "scope": "products:read"}))
    assert_error(ask({**PRODUCTS, "scope": "products:write"}, token=token), 401, "token_request_mismatch")


def test_an_assertion_for_another_audience_is_401(nothing_issued):
    assert_error(ask(PRODUCTS, audience="product"), 401, "token_audience_mismatch")


def test_an_assertion_without_the_token_request_scope_is_403(nothing_issued):
    assert_error(ask(PRODUCTS, scope="users:read"), 403, "insufficient_scope")


def test_an_assertion_with_a_scope_beyond_the_callers_policy_is_403(nothing_issued):
    assert_error(ask(PRODUCTS, caller="product", scope=f"{ASSERTION_SCOPE} users:read"), 403, "insufficient_scope")


def test_a_token_service_token_cannot_serve_as_an_assertion(nothing_issued):
    """Even if a grant allowed it: a token must never buy another token."""
    body = encode(PRODUCTS)
    from ms_token.tokens import sign_claims

    now = int(time.time())
    forged_by_us = sign_claims({
        "iss": "user", "sub": "billing", "aud": "user", "iat": now, "exp": now + 30,
        "jti": "issued-by-the-token-service-1", "scope": ASSERTION_SCOPE, "htm": "POST",
        "htu": TOKEN_ENDPOINT_PATH, "bh": body_hash(body),
    })
    response = ask(PRODUCTS, token=forged_by_us)
    assert_error(response, 401, "token_invalid")
    assert response["WWW-Authenticate"] == "MS-Token"


def test_a_user_bearer_token_is_refused(alice_tokens, nothing_issued):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {alice_tokens['access']}")
    response = client.post(TOKEN_ENDPOINT_PATH, data=encode(PRODUCTS), content_type="application/json")
    assert_error(response, 401, "not_authenticated")


def test_a_user_token_as_the_assertion_is_401(alice_tokens, nothing_issued):
    assert_error(ask(PRODUCTS, token=alice_tokens["access"]), 401, "token_invalid")


# --- bad requests --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        {},
        {k: v for k, v in PRODUCTS.items() if k != "path"},
        {**PRODUCTS, "audience": 5},
        {**PRODUCTS, "audience": "Product!"},
        {**PRODUCTS, "scope": ""},
        {**PRODUCTS, "scope": "products:read \"x\""},
        {**PRODUCTS, "scope": ["products:read"]},
        {**PRODUCTS, "method": "FETCH"},
        {**PRODUCTS, "method": "get"},
        {**PRODUCTS, "path": "api/products/"},
        {**PRODUCTS, "path": "//evil.example/api/"},
        {**PRODUCTS, "path": "/api/products/?ids=1"},
        {**PRODUCTS, "path": "/api/products/#x"},
        {**PRODUCTS, "path": "/api/\nproducts/"},
        {**PRODUCTS, "path": "/api/\ud800/"},
        {**PRODUCTS, "path": "/" + "a" * 3000},
        {**PRODUCTS, "body_hash": "not-a-hash"},
        {**PRODUCTS, "body_hash": "A" * 44},
        {**PRODUCTS, "query_hash": "ids=1,2"},
        {**PRODUCTS, "query_hash": 5},
        {**PRODUCTS, "txn_token_hash": "eyJ.a.b"},
        {**PRODUCTS, "txn_token_hash": "A" * 42},
    ],
)
def test_a_malformed_request_is_400(request_, nothing_issued):
    body = json.dumps(request_).encode()  # ASCII escapes: a lone surrogate survives as \ud800
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=assertion(body))
    response = client.post(TOKEN_ENDPOINT_PATH, data=body, content_type="application/json")
    assert_error(response, 400)


def test_a_body_that_is_not_json_is_400(nothing_issued):
    body = b"{not json"
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=assertion(body))
    assert_error(client.post(TOKEN_ENDPOINT_PATH, data=body, content_type="application/json"), 400, "parse_error")


def test_only_post_is_offered(nothing_issued):
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=mint("user", ASSERTION_SCOPE, "GET", TOKEN_ENDPOINT_PATH, issuer="billing",
                                            key=load_key_ring("billing").signing_key))
    assert_error(client.get(TOKEN_ENDPOINT_PATH), 405, "method_not_allowed")


def test_a_body_nested_past_the_recursion_limit_is_400(nothing_issued):
    body = b"[" * 100_000
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=assertion(body))
    assert_error(client.post(TOKEN_ENDPOINT_PATH, data=body, content_type="application/json"), 400, "parse_error")
