"""Issue 6 in the library: callees accept tokens of the central token service, and the client's
second token source asks that service for each token.

This test process is the stand-in "product" (trusts billing for products:read). A token of the
token service is signed with the *user* service's key (iss "user", sub = the calling service);
product takes that key from the user service's published keys, as from its JWKS.
"""
from __future__ import annotations

import json
import logging
import time

import pytest
import requests
import responses

from ms_token.jwks import clear_remote_key_sets
from ms_token.keys import load_key_ring
from ms_token.client import ServiceClient
from ms_token.exceptions import ServiceCallError
from ms_token.settings import ms_token_settings
from ms_token.sources import (
    ASSERTION_SCOPE,
    TOKEN_ENDPOINT_PATH,
    SelfSignedTokenSource,
    TokenServiceTokenSource,
    get_token_source,
)
from ms_token.tokens import body_hash, mint
from ms_token.verification import verify


from .request_context import request_id
from .conftest import DROP, SERVICE_PATH, assert_refused, free_port, preload_peer_keys

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token_service_keys_known():
    """Product knows the user service's (the token service's) published keys."""
    preload_peer_keys("user")


@pytest.fixture
def user_key():
    return load_key_ring("user").signing_key


@pytest.fixture
def from_token_service(make_token, user_key):
    """A token as the token service issues it: iss user, sub = the caller, signed by user's key."""

    def make(**claims):
        claims = {"iss": "user", "sub": "billing", **claims}
        return make_token(header={"kid": user_key.kid}, key=user_key.private_key, **claims)

    return make


# --- the callee ----------------------------------------------------------------------------------


def test_a_token_service_token_is_accepted_as_the_service_in_sub(call, from_token_service):
    response = call(from_token_service())
    assert response.status_code == 200, response.content
    assert response.json()["service"] == "billing"
    assert response.json()["scopes"] == ["products:read"]


def test_the_principal_says_which_token_service_vouched(from_token_service, rf):
    from ms_token.contrib.rest_framework import MSTokenAuthentication

    request = rf.get(SERVICE_PATH, HTTP_X_MS_TOKEN=from_token_service())
    principal, claims = MSTokenAuthentication().authenticate(request)
    assert (principal.service, principal.token_service, claims["sub"]) == ("billing", "user", "billing")


def test_a_self_signed_token_has_no_token_service(make_token, rf):
    from ms_token.contrib.rest_framework import MSTokenAuthentication

    principal, _ = MSTokenAuthentication().authenticate(rf.get(SERVICE_PATH, HTTP_X_MS_TOKEN=make_token()))
    assert (principal.service, principal.token_service) == ("billing", None)


def test_without_sub_it_is_the_user_service_itself_which_product_does_not_trust(call, from_token_service):
    assert_refused(call(from_token_service(sub=DROP)), "untrusted_issuer")


@pytest.mark.parametrize("caller", ["inventory", "product", "user", "Billing", "", "billing "])
def test_a_sub_the_callee_does_not_trust_is_refused(call, from_token_service, caller):
    assert_refused(call(from_token_service(sub=caller)), "untrusted_issuer")


def test_the_callees_policy_bounds_the_scopes_whatever_the_token_service_granted(call, from_token_service):
    assert_refused(call(from_token_service(scope="products:read products:write")), "insufficient_scope", 403)


@pytest.mark.parametrize("sub", [None, 7, ["billing"], {"name": "billing"}, True])
def test_a_sub_that_is_not_a_string_is_refused(call, from_token_service, sub):
    assert_refused(call(from_token_service(sub=sub)), "token_invalid")


@pytest.mark.parametrize("sub", ["billing", "product"])
def test_nobody_but_the_token_service_may_carry_sub(call, make_token, sub):
    """A caller cannot speak for another service (nor repeat its own name) in sub."""
    assert_refused(call(make_token(sub=sub)), "token_invalid")


def test_no_token_service_configured_means_no_token_service_tokens(call, from_token_service, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SERVICE_ISSUER": None}
    assert ms_token_settings.TOKEN_SERVICE_ISSUER is None
    assert_refused(call(from_token_service()), "token_invalid")


def test_another_token_service_issuer_is_configurable(call, from_token_service, make_token, billing_key, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SERVICE_ISSUER": "billing",
                         "TRUSTED_ISSUERS": {"billing": ["products:read"], "user": ["products:read"]}}
    assert_refused(call(from_token_service()), "token_invalid")  # user is no token service now
    assert call(make_token(sub="user")).json()["service"] == "user"  # billing speaks for user


def test_a_token_signed_with_the_callers_own_key_under_the_token_services_name(call, make_token, billing_key):
    # billing's kid is not one the user service publishes
    assert_refused(call(make_token(iss="user", sub="billing")), "token_invalid")


def test_a_token_service_kid_with_another_key_is_a_bad_signature(call, make_token, user_key, billing_key):
    forged = make_token(header={"kid": user_key.kid}, key=billing_key.private_key, iss="user", sub="billing")
    assert_refused(call(forged), "token_invalid")


def test_a_token_service_token_is_accepted_once(call, from_token_service):
    token = from_token_service()
    assert call(token).status_code == 200
    assert_refused(call(token), "token_replayed")


def test_the_replay_key_is_the_issuer_and_jti(call, from_token_service, make_token):
    """Tokens are remembered as (iss, jti): the token service's jtis are its own namespace."""
    assert call(from_token_service(jti="shared-jti-0000000001")).status_code == 200
    assert call(make_token(jti="shared-jti-0000000001")).status_code == 200
    assert_refused(call(from_token_service(jti="shared-jti-0000000001", sub="billing")), "token_replayed")


def test_request_binding_applies(call, from_token_service):
    assert_refused(call(from_token_service(htu="/api/other/")), "token_request_mismatch")
    assert_refused(call(from_token_service(htm="POST")), "token_request_mismatch")
    body = b'{"a":1}'
    assert_refused(call(from_token_service(htm="POST", bh=body_hash(b"{}")), method="post", body=body),
                   "token_request_mismatch")
    assert call(from_token_service(htm="POST", bh=body_hash(body)), method="post", body=body).status_code == 200


def test_lifetime_and_audience_apply(call, from_token_service):
    now = int(time.time())
    assert_refused(call(from_token_service(iat=now - 60, exp=now - 30)), "token_expired")
    assert_refused(call(from_token_service(exp=now + 301)), "token_invalid")
    assert_refused(call(from_token_service(aud="user")), "token_audience_mismatch")


def test_the_log_names_the_issuer_and_the_caller_never_the_token(call, from_token_service, caplog):
    token = from_token_service()
    with caplog.at_level(logging.INFO, logger="ms_token"):
        call(token)
    line = [r.getMessage() for r in caplog.records if r.name == "ms_token"][-1]
    assert "issuer=user" in line and "caller=billing" in line and "outcome=accepted" in line
    assert token not in caplog.text and token.split(".")[2] not in caplog.text


def test_a_token_of_this_service_itself_verifies_with_its_own_keys_no_jwks(settings):
    """The token service verifies tokens it issued for itself without fetching its own JWKS."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TRUSTED_ISSUERS": {"billing": ["products:read"]},
                         "TOKEN_SERVICE_ISSUER": "product"}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "product": f"http://127.0.0.1:{free_port()}"}}  # nobody
    clear_remote_key_sets()
    key = load_key_ring("product").signing_key
    now = int(time.time())
    claims = {"iss": "product", "sub": "billing", "aud": "product", "iat": now, "exp": now + 30,
              "jti": "own-issued-jti-000001", "scope": "products:read", "htm": "GET", "htu": SERVICE_PATH}
    from ms_token.tokens import b64url_encode, encoded_header

    signing_input = encoded_header(key) + b"." + b64url_encode(json.dumps(claims).encode())
    token = (signing_input + b"." + b64url_encode(key.private_key.sign(signing_input))).decode()
    verified = verify(token, method="GET", path=SERVICE_PATH, body=b"")
    assert (verified.issuer, verified.caller) == ("product", "billing")


# --- the client: TokenServiceTokenSource ---------------------------------------------------------


@pytest.fixture
def as_billing(billing_key):
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


def verify_assertion(received, *, issuer="billing"):
    """What the token service would check of the assertion (run here as if we were "user")."""
    from django.test import override_settings

    from django.conf import settings

    as_token_service = {**settings.MS_TOKEN, "SERVICE_NAME": "user", "TRUSTED_ISSUERS": {issuer: [ASSERTION_SCOPE]}}
    with override_settings(MS_TOKEN=as_token_service):
        preload_peer_keys(issuer)
        return verify(received["headers"]["X-MS-TOKEN"], method="POST", path=received["path"], body=received["body"])


def test_get_token_source_picks_the_token_service_by_setting(settings, peer):
    server = peer([(200, {})])
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "user": server.url}}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SOURCE": "token-service"}
    source = get_token_source()
    assert isinstance(source, TokenServiceTokenSource)
    assert source.url == server.url + TOKEN_ENDPOINT_PATH
    assert isinstance(ServiceClient("billing").token_source, TokenServiceTokenSource)


def test_it_asks_with_a_self_signed_single_request_assertion_and_returns_the_token(peer, as_billing, user_key):
    issued = mint("product", "products:read", "POST", "/api/bills/", b"{}", issuer="user", key=user_key)
    server = peer([(200, {"token": issued, "expires_in": 30, "jti": "x"})])
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url)
    rid = request_id.set("rid-of-the-call")
    try:
        token = source.token(audience="product", scope="products:read", method="post", path="/api/bills/", body=b"{}")
    finally:
        request_id.reset(rid)
    assert token == issued
    (received,) = server.received
    assert (received["method"], received["path"]) == ("POST", TOKEN_ENDPOINT_PATH)
    assert json.loads(received["body"]) == {
        "audience": "product", "scope": "products:read", "method": "POST", "path": "/api/bills/",
        "body_hash": body_hash(b"{}"),
    }
    assert received["headers"]["X-Request-ID"] == "rid-of-the-call"
    assertion = verify_assertion(received)
    assert assertion.claims["aud"] == "user" and assertion.scopes == {ASSERTION_SCOPE}
    assert assertion.claims["exp"] - assertion.claims["iat"] == 30


def test_no_body_means_no_body_hash(peer, as_billing, user_key):
    server = peer([(200, {"token": mint("product", "p", "GET", "/", issuer="user", key=user_key)})])
    TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url).token(
        audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    assert "body_hash" not in json.loads(server.received[0]["body"])


def test_each_token_is_a_new_request_with_a_new_assertion(peer, as_billing, user_key):
    server = peer([(200, {"token": mint("product", "p", "GET", "/", issuer="user", key=user_key)})])
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url)
    for _ in range(3):
        source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    assert len({verify_assertion(r).jti for r in server.received}) == 3


@pytest.mark.parametrize(
    "status, answer, reason",
    [
        (401, {"detail": "d", "code": "token_replayed"}, "401 token_replayed"),
        (403, {"detail": "d", "code": "caller_disabled"}, "403 caller_disabled"),
        (403, {"detail": "d", "code": "scope_not_granted"}, "403 scope_not_granted"),
        (500, {"detail": "boom"}, "500"),
        (503, "not even an object", "503"),
        (200, {"jti": "no token"}, "well-formed token"),
        (200, {"token": "a.b.c\r\nX-Injected: 1"}, "well-formed token"),
        (200, {"token": 42}, "well-formed token"),
        (200, {"token": "a.b." + "c" * 5000}, "well-formed token"),
        (200, {"token": "a.b.c"}, "well-formed token"),  # no Ed25519 signature: no token of the format
    ],
)
def test_a_refusal_or_garbage_is_a_service_call_error(peer, as_billing, status, answer, reason):
    server = peer([(status, answer)])
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError) as caught:
        source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    assert caught.value.service == "user" and reason in caught.value.reason
    assert len(server.received) == 1  # a refusal is not retried


def test_a_dead_token_service_is_a_service_call_error(as_billing, caplog):
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceCallError) as caught:
        source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    assert caught.value.service == "user" and caught.value.reason.startswith("token service: ")
    assert any(record.getMessage().startswith("token service user: ") for record in caplog.records)


@responses.activate
def test_a_reset_connection_is_tried_once_more_with_a_new_assertion(as_billing, user_key):
    url = "http://tokens.test" + TOKEN_ENDPOINT_PATH
    issued = mint("product", "products:read", "GET", "/api/products/", issuer="user", key=user_key)
    responses.add(responses.POST, url, body=requests.ConnectionError("Connection reset by peer"))
    responses.add(responses.POST, url, json={"token": issued, "expires_in": 30, "jti": "j"})
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url="http://tokens.test")
    assert source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None) == issued
    assertions = [call.request.headers["X-MS-TOKEN"] for call in responses.calls]
    assert len(assertions) == 2 and assertions[0] != assertions[1]


@responses.activate
def test_a_read_timeout_is_not_retried(as_billing):
    url = "http://tokens.test" + TOKEN_ENDPOINT_PATH
    responses.add(responses.POST, url, body=requests.ReadTimeout("read timed out"))
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url="http://tokens.test")
    with pytest.raises(ServiceCallError):
        source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    assert len(responses.calls) == 1


def test_the_client_answers_503_when_the_token_service_is_down(client, settings, peer):
    """A view calling a live peer through a dead token service: 503 naming the token service,
    nothing sent to the peer."""
    server = peer([(200, {"bills": []})])
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "billing": server.url, "user": f"http://127.0.0.1:{free_port()}"}}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SOURCE": "token-service"}
    response = client.get("/api/calls-billing/")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"
    assert response.json()["detail"] == "The user service is unavailable. Try again shortly."
    assert server.received == []


def test_the_settings_refuse_a_token_source_that_does_not_exist(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.MS_TOKEN = {**settings.MS_TOKEN, "TOKEN_SOURCE": "tokenservice"}
    with pytest.raises(ImproperlyConfigured):
        get_token_source()
