"""Transaction tokens and the query string in the library (issue 15).

This test process is the stand-in "product"; "user" is the transaction token service (its keys
from the test keys directory, as if fetched from its JWKS), "billing" the caller. Calls that go
out (the exchange, the calls made for a user) go to real HTTP peers on 127.0.0.1.
"""
from __future__ import annotations

import base64
import json
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from ms_token import exceptions as exc
from ms_token.client import ServiceClient
from ms_token.jwks import clear_remote_key_sets
from ms_token.keys import create_key, load_key_ring
from ms_token.settings import ms_token_settings
from ms_token.sources import SelfSignedTokenSource, TokenServiceTokenSource
from ms_token.tokens import (
    TXN_TOKEN_TYPE,
    b64url_encode,
    mint,
    mint_txn_token,
    query_hash,
    sign_claims,
    txn_token_claims,
    txn_token_hash,
)
from ms_token.txn_tokens import (
    TXN_TOKEN_ENDPOINT_PATH,
    TXN_TOKEN_REQUEST_SCOPE,
    TxnTokenExchange,
    bearer_token,
    txn_token_for,
)
from ms_token.verification import verify, verify_txn_token

from .conftest import SERVICE_PATH, assert_refused, configure, free_port, preload_peer_keys

pytestmark = pytest.mark.django_db

USER_PATH = "/api/users/7/orders/"


@pytest.fixture(autouse=True)
def transaction_tokens_accepted(settings):
    """This service accepts the transaction tokens of "user" for the trust domain "shop"."""
    configure(settings, TXN_TOKEN_ISSUER="user", TXN_TOKEN_AUDIENCE="shop")
    preload_peer_keys("user")


@pytest.fixture
def user_key():
    return load_key_ring("user").signing_key


def decode(segment: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def txn_for(subject="7", **claims) -> str:
    """A transaction token of "user" for ``subject``, as its service issues it to billing."""
    token, _ = mint_txn_token(subject=subject, requester="billing", issuer="user",
                              key=load_key_ring("user").signing_key, **claims)
    return token


def by_hand(claims: dict, *, header: dict | None = None, key=None) -> str:
    """A transaction token of exactly ``claims`` and ``header``, signed with ``key`` (user's)."""
    key = key or load_key_ring("user").signing_key
    header = header or {"alg": "EdDSA", "typ": TXN_TOKEN_TYPE, "kid": key.kid}
    signing_input = f"{b64url_encode(json.dumps(header).encode()).decode()}.{b64url_encode(json.dumps(claims).encode()).decode()}"
    return f"{signing_input}.{b64url_encode(key.private_key.sign(signing_input.encode())).decode()}"


def base_claims(**changes) -> dict:
    return {**txn_token_claims(subject="7", requester="billing", issuer="user"), **changes}


@pytest.fixture
def as_billing(billing_key):
    def make(path=USER_PATH, *, txn_token=None, query=None, scope="products:read"):
        return mint("product", scope, "GET", path, query=query, txn_token=txn_token, issuer="billing", key=billing_key)

    return make


@pytest.fixture
def get(client):
    def send(path, *, token=None, txn_token=None, **headers):
        if token is not None:
            headers["HTTP_X_MS_TOKEN"] = token
        if txn_token is not None:
            headers["HTTP_TXN_TOKEN"] = txn_token
        return client.get(path, **headers)

    return send


# --- a call made for a user ----------------------------------------------------------------------


def test_a_call_for_the_user_the_url_names_is_admitted(get, as_billing):
    txn_token = txn_for("7")
    response = get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token)
    assert response.status_code == 200, response.content
    assert response.json() == {"service": "billing", "subject": "7", "txn": decode(txn_token.split(".")[1])["txn"]}


def test_the_principal_and_the_verified_token_name_the_user_and_the_transaction(as_billing, rf):
    from ms_token.contrib.rest_framework import MSTokenAuthentication

    txn_token = txn_for("7")
    request = rf.get(USER_PATH, HTTP_X_MS_TOKEN=as_billing(txn_token=txn_token), HTTP_TXN_TOKEN=txn_token)
    principal, claims = MSTokenAuthentication().authenticate(request)
    assert (principal.service, principal.subject, principal.txn) == ("billing", "7", decode(txn_token.split(".")[1])["txn"])
    assert claims["tth"] == txn_token_hash(txn_token)
    plain = MSTokenAuthentication().authenticate(rf.get(USER_PATH, HTTP_X_MS_TOKEN=as_billing()))[0]
    assert (plain.subject, plain.txn) == (None, None)


def test_without_a_transaction_token_is_403_txn_token_required(get, as_billing):
    assert_refused(get(USER_PATH, token=as_billing()), "txn_token_required", status=403)


def test_a_transaction_token_for_another_user_is_403_subject_mismatch(get, as_billing):
    txn_token = txn_for("8")
    assert_refused(get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token), "subject_mismatch", 403)


def test_the_scope_is_checked_first(get, as_billing):
    assert_refused(get(USER_PATH, token=as_billing(scope="")), "insufficient_scope", status=403)


def test_a_view_that_names_no_subject_argument_is_a_configuration_error(rf, as_billing):
    from ms_token.contrib.rest_framework import HasTxnTokenSubject
    from ms_token.principal import ServicePrincipal

    class View:
        kwargs = {"user_id": 7}

    request = rf.get(USER_PATH)
    request.user = ServicePrincipal("billing", frozenset(), subject="7")
    with pytest.raises(ImproperlyConfigured):
        HasTxnTokenSubject().has_permission(request, View())
    request.user = None
    View.txn_token_subject_kwarg = "user_id"
    assert HasTxnTokenSubject().has_permission(request, View()) is False  # not a service at all


def test_a_view_whose_url_lacks_the_subject_argument_is_a_configuration_error(get, as_billing):
    # Its kwarg is customer_id, its URL captures user_id: a transaction token for the user
    # "None" must not pass as the missing argument's str().
    path = "/api/users/7/misconfigured/"
    txn_token = txn_for("None")
    with pytest.raises(ImproperlyConfigured, match="customer_id"):
        get(path, token=as_billing(path, txn_token=txn_token), txn_token=txn_token)


def test_a_call_made_for_a_user_is_still_single_use(get, as_billing):
    txn_token = txn_for("7")
    token = as_billing(txn_token=txn_token)
    assert get(USER_PATH, token=token, txn_token=txn_token).status_code == 200
    assert_refused(get(USER_PATH, token=token, txn_token=txn_token), "token_replayed")


def test_the_transaction_token_may_ride_on_any_call_to_any_view(call, billing_key):
    """A view that needs no user still verifies a transaction token it is sent."""
    txn_token = txn_for("7")
    token = mint("product", "products:read", "GET", SERVICE_PATH, txn_token=txn_token, issuer="billing", key=billing_key)
    assert call(token, HTTP_TXN_TOKEN=txn_token).status_code == 200
    token = mint("product", "products:read", "GET", SERVICE_PATH, txn_token="garbage", issuer="billing", key=billing_key)
    assert_refused(call(token, HTTP_TXN_TOKEN="garbage"), "txn_token_invalid")


# --- the binding (tth) ---------------------------------------------------------------------------


def test_a_txn_token_without_tth_is_refused(get, as_billing):
    assert_refused(get(USER_PATH, token=as_billing(), txn_token=txn_for("7")), "txn_token_invalid")


def test_tth_without_a_txn_token_is_refused(get, as_billing):
    assert_refused(get(USER_PATH, token=as_billing(txn_token=txn_for("7"))), "txn_token_invalid")


def test_a_tth_naming_another_transaction_token_is_refused(get, as_billing):
    assert_refused(get(USER_PATH, token=as_billing(txn_token=txn_for("7")), txn_token=txn_for("7")), "txn_token_invalid")


def test_a_txn_token_alone_is_refused(get):
    assert_refused(get(USER_PATH, txn_token=txn_for("7")), "txn_token_invalid")


def test_a_tth_that_is_not_a_string_is_refused(get, make_token):
    txn_token = txn_for("7")
    token = make_token(htu=USER_PATH, tth=[txn_token_hash(txn_token)])
    assert_refused(get(USER_PATH, token=token, txn_token=txn_token), "txn_token_invalid")


def test_a_bad_x_ms_token_is_refused_for_itself_first(get, as_billing, billing_key):
    txn_token = txn_for("7")
    other_path = mint("product", "products:read", "GET", "/elsewhere/", txn_token=txn_token, issuer="billing", key=billing_key)
    assert_refused(get(USER_PATH, token=other_path, txn_token=txn_token), "token_request_mismatch")


# --- the transaction token itself ----------------------------------------------------------------

NOW = int(time.time())
HOSTILE = {
    "sub changed after signing": lambda: _tampered(txn_for("7"), sub="8"),
    "exp changed after signing": lambda: _tampered(txn_for("7"), exp=NOW + 200),
    "aud another": lambda: by_hand(base_claims(aud="elsewhere")),
    "aud a list": lambda: by_hand(base_claims(aud=["shop"])),
    "typ JWT": lambda: by_hand(base_claims(), header={"alg": "EdDSA", "typ": "JWT", "kid": load_key_ring("user").signing_key.kid}),
    "typ ms+jwt": lambda: by_hand(base_claims(), header={"alg": "EdDSA", "typ": "ms+jwt", "kid": load_key_ring("user").signing_key.kid}),
    "a jwk header": lambda: by_hand(base_claims(), header={"alg": "EdDSA", "typ": TXN_TOKEN_TYPE, "kid": load_key_ring("user").signing_key.kid, "jwk": {}}),
    "alg none": lambda: _alg_none(),
    "expired beyond the leeway": lambda: by_hand(base_claims(iat=NOW - 400, exp=NOW - 6)),
    "issued in the future": lambda: by_hand(base_claims(iat=NOW + 60, exp=NOW + 90)),
    "lifetime of 301 s": lambda: by_hand(base_claims(iat=NOW, exp=NOW + 301)),
    "no lifetime": lambda: by_hand(base_claims(iat=NOW, exp=NOW)),
    "exp a float": lambda: by_hand(base_claims(exp=NOW + 30.5)),
    "iat a string": lambda: by_hand(base_claims(iat=str(NOW))),
    "no txn": lambda: by_hand({k: v for k, v in base_claims().items() if k != "txn"}),
    "txn malformed": lambda: by_hand(base_claims(txn="a b")),
    "sub empty": lambda: by_hand(base_claims(sub="")),
    "sub a number": lambda: by_hand(base_claims(sub=7)),
    "no req_wl": lambda: by_hand({k: v for k, v in base_claims().items() if k != "req_wl"}),
    "iss billing, billing's key": lambda: by_hand(base_claims(iss="billing"), key=load_key_ring("billing").signing_key),
    "iss user, billing's key and kid": lambda: by_hand(base_claims(), key=load_key_ring("billing").signing_key),
    "duplicate sub": lambda: _duplicate_sub(),
    "an X-MS-TOKEN": lambda: mint("product", "products:read", "GET", USER_PATH, issuer="billing", key=load_key_ring("billing").signing_key),
    "garbage": lambda: "garbage",
    "too large": lambda: "a" * 5000,
}


def _tampered(token: str, **changes) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{b64url_encode(json.dumps({**decode(payload), **changes}).encode()).decode()}.{signature}"


def _alg_none() -> str:
    header = b64url_encode(json.dumps({"alg": "none", "typ": TXN_TOKEN_TYPE, "kid": load_key_ring("user").signing_key.kid}).encode())
    return f"{header.decode()}.{b64url_encode(json.dumps(base_claims()).encode()).decode()}."


def _duplicate_sub() -> str:
    key = load_key_ring("user").signing_key
    header = b64url_encode(json.dumps({"alg": "EdDSA", "typ": TXN_TOKEN_TYPE, "kid": key.kid}).encode()).decode()
    raw = json.dumps(base_claims())[:-1] + ', "sub": "8"}'
    signing_input = f"{header}.{b64url_encode(raw.encode()).decode()}"
    return f"{signing_input}.{b64url_encode(key.private_key.sign(signing_input.encode())).decode()}"


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_a_hostile_transaction_token_is_refused(get, as_billing, case):
    txn_token = HOSTILE[case]()
    response = get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token)
    assert_refused(response, "txn_token_invalid")
    with pytest.raises(exc.TokenRejected) as refused:
        verify_txn_token(txn_token)
    assert refused.value.code == "txn_token_invalid"


def test_a_key_the_issuer_no_longer_publishes_is_refused(get, as_billing, tmp_path):
    """A revoked key: gone from the issuer's JWKS (here: never in it), so nothing it signed passes."""
    withdrawn = create_key("user", tmp_path)
    txn_token = by_hand(base_claims(), key=withdrawn)
    assert_refused(get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token), "txn_token_invalid")


def test_times_have_the_leeway(user_key):
    token = by_hand(base_claims(iat=NOW - 60, exp=NOW))
    assert verify_txn_token(token, now=NOW + 5).subject == "7"
    with pytest.raises(exc.TokenRejected):
        verify_txn_token(token, now=NOW + 6)
    future = by_hand(base_claims(iat=NOW + 5, exp=NOW + 65))
    assert verify_txn_token(future, now=NOW).txn


def test_no_issuer_or_no_audience_configured_means_none_accepted(settings, get, as_billing):
    txn_token = txn_for("7")
    for unset in ("TXN_TOKEN_ISSUER", "TXN_TOKEN_AUDIENCE"):
        configure(settings, **{"TXN_TOKEN_ISSUER": "user", "TXN_TOKEN_AUDIENCE": "shop", unset: None})
        assert_refused(get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token), "txn_token_invalid")


def test_the_issuers_keys_unavailable_is_a_503(settings, get, as_billing):
    txn_token = txn_for("7")
    token = as_billing(txn_token=txn_token)
    clear_remote_key_sets()
    preload_peer_keys("billing")
    configure(settings, SERVICE_URLS={**settings.MS_TOKEN["SERVICE_URLS"], "user": f"http://127.0.0.1:{free_port()}"})
    response = get(USER_PATH, token=token, txn_token=txn_token)
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


def test_a_header_checked_for_one_type_never_passes_as_the_other(get, as_billing, billing_key, call):
    """Headers are cached once checked: a transaction token's must not then pass as an X-MS-TOKEN's."""
    txn_token = txn_for("7")
    assert verify_txn_token(txn_token)
    assert_refused(call(txn_token), "token_invalid")
    x_ms_token = as_billing()
    verify(x_ms_token, method="GET", path=USER_PATH, body=b"")
    with pytest.raises(exc.TokenRejected):
        verify_txn_token(x_ms_token)


def test_the_log_line_adds_the_transaction_and_the_user(get, as_billing, caplog):
    caplog.set_level("INFO", logger="ms_token")
    txn_token = txn_for("7")
    get(USER_PATH, token=as_billing(txn_token=txn_token), txn_token=txn_token)
    get(USER_PATH, token=as_billing(), txn_token=txn_token)
    accepted, refused = [r.getMessage() for r in caplog.records if "outcome=" in r.getMessage()]
    txn = decode(txn_token.split(".")[1])["txn"]
    assert accepted.endswith(f"outcome=accepted code=- caller=billing txn={txn} sub=7")
    assert refused.endswith("outcome=refused code=txn_token_invalid caller=billing txn=- sub=-")
    assert caplog.records[0].ms_token["txn"] == txn and caplog.records[0].ms_token["sub"] == "7"
    assert txn_token not in caplog.text and txn_token.split(".")[2] not in caplog.text


# --- minting --------------------------------------------------------------------------------------


def test_mint_binds_query_and_transaction_token_in_order():
    token = mint("billing", "bills:read", "POST", "/api/bills/", b"{}", query="a=1&b=2", txn_token="t.t.t")
    claims = decode(token.split(".")[1])
    assert list(claims)[-3:] == ["qh", "bh", "tth"]
    assert claims["qh"] == query_hash("a=1&b=2") == b64url_encode(__import__("hashlib").sha256(b"a=1&b=2").digest()).decode()
    assert claims["tth"] == txn_token_hash("t.t.t")
    plain = decode(mint("billing", "bills:read", "GET", "/api/bills/", query="").split(".")[1])
    assert "qh" not in plain and "tth" not in plain


def test_the_query_hash_is_of_the_bytes_a_wsgi_server_saw():
    """WSGI gives each byte as one ISO-8859-1 character: "é" sent as UTF-8 arrives as "Ã©"."""
    sent = "q=caf\u00e9".encode()
    assert query_hash(sent.decode("latin-1")) == b64url_encode(__import__("hashlib").sha256(sent).digest()).decode()
    assert query_hash("q=\u20ac")  # beyond ISO-8859-1 (an ASGI server's UTF-8): hashed as UTF-8, no error


def test_a_transaction_token_has_the_format(user_key):
    before = int(time.time())
    token, claims = mint_txn_token(subject="42", requester="billing", key=user_key)
    header, payload, _ = token.split(".")
    assert decode(header) == {"alg": "EdDSA", "typ": "txntoken+jwt", "kid": user_key.kid}
    assert decode(payload) == claims
    assert list(claims) == ["iss", "aud", "iat", "exp", "txn", "sub", "req_wl"]
    assert (claims["iss"], claims["aud"], claims["sub"], claims["req_wl"]) == ("product", "shop", "42", "billing")
    assert claims["iat"] >= before and claims["exp"] - claims["iat"] == 60


def test_a_transaction_token_never_outlives_its_subject_token():
    claims = txn_token_claims(subject="7", requester="billing", not_after=NOW + 10, now=NOW)
    assert claims["exp"] == NOW + 10
    with pytest.raises(ValueError):
        txn_token_claims(subject="7", requester="billing", not_after=NOW, now=NOW)
    for ttl in (0, 301, 1.5):
        with pytest.raises(ValueError):
            txn_token_claims(subject="7", requester="billing", ttl=ttl)


def test_a_transaction_token_needs_its_trust_domain(settings):
    configure(settings, TXN_TOKEN_AUDIENCE=None)
    with pytest.raises(ImproperlyConfigured):
        mint_txn_token(subject="7", requester="billing")


def test_sign_claims_knows_only_the_two_types():
    with pytest.raises(ValueError):
        sign_claims({"a": 1}, token_type="JWT")


@pytest.mark.parametrize("bad", [{"TXN_TOKEN_TTL": 0}, {"TXN_TOKEN_TTL": 301}, {"TXN_TOKEN_ISSUER": ["user"]}])
def test_bad_transaction_token_settings_are_a_clear_error(settings, bad):
    configure(settings, **bad)
    with pytest.raises(ImproperlyConfigured):
        ms_token_settings.TXN_TOKEN_TTL


def test_the_defaults_accept_no_transaction_token(settings):
    settings.MS_TOKEN = {"SERVICE_NAME": "orders"}
    assert ms_token_settings.TXN_TOKEN_ISSUER is None and ms_token_settings.TXN_TOKEN_AUDIENCE is None


# --- the client: the query as sent, the transaction token carried --------------------------------


@pytest.mark.parametrize(
    ("path", "params", "on_the_wire"),
    [
        ("/api/products/", {"ids": "1,2"}, "ids=1%2C2"),  # requests encodes the comma
        ("/api/products/?ids=1,2", None, "ids=1,2"),  # a query in the path goes as written...
        ("/api/products/?ids=1%2c2", None, "ids=1%2C2"),  # ...but urllib3 upper-cases %xx
        ("/api/products/?q=[x]", None, "q=%5Bx%5D"),  # and encodes what a query may not hold
        ("/api/products/?a=1", {"b": "2"}, "a=1&b=2"),
    ],
)
def test_the_client_binds_the_query_exactly_as_sent(peer, as_billing_source, path, params, on_the_wire):
    server = peer([(200, {})])
    ServiceClient("product", token_source=as_billing_source, base_url=server.url).get(path, scope="products:read", params=params)
    (received,) = server.received
    sent_path, _, sent_query = received["path"].partition("?")
    assert sent_query == on_the_wire
    claims = verify(received["headers"]["X-MS-TOKEN"], method="GET", path=sent_path, body=b"", query=sent_query).claims
    assert claims["qh"] == query_hash(on_the_wire)


def test_the_client_sends_no_qh_without_a_query(peer, as_billing_source):
    server = peer([(200, {})])
    client = ServiceClient("product", token_source=as_billing_source, base_url=server.url)
    client.get("/api/products/", scope="products:read")
    client.get("/api/products/?", scope="products:read")
    for received in server.received:
        assert "qh" not in decode(received["headers"]["X-MS-TOKEN"].split(".")[1])


def test_the_client_carries_the_transaction_token_on_every_attempt(peer, as_billing_source, settings):
    configure(settings, BACKOFF_FACTOR=0)
    server = peer([(503, {"code": "busy"}), (200, {})])
    txn_token = txn_for("7")
    client = ServiceClient("product", token_source=as_billing_source, base_url=server.url)
    assert client.get(USER_PATH, scope="products:read", txn_token=txn_token).status_code == 200
    assert len(server.received) == 2
    for received in server.received:
        assert received["headers"]["Txn-Token"] == txn_token
        verified = verify(received["headers"]["X-MS-TOKEN"], method="GET", path=USER_PATH, body=b"", txn_token=txn_token)
        assert verified.txn.subject == "7"
    assert "Txn-Token" not in _received_without_txn(peer, as_billing_source)


def _received_without_txn(peer, source) -> dict:
    server = peer([(200, {})])
    ServiceClient("product", token_source=source, base_url=server.url).get(USER_PATH, scope="products:read")
    return server.received[0]["headers"]


@pytest.fixture
def as_billing_source(billing_key):
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


def test_the_token_service_binds_hashes_never_the_query_or_the_token(peer, as_billing_source, user_key):
    issued = mint("product", "p", "GET", "/", issuer="user", key=user_key)
    server = peer([(200, {"token": issued})])
    txn_token = txn_for("7")
    TokenServiceTokenSource(assertion_source=as_billing_source, base_url=server.url).token(
        audience="user", scope="users:read", method="GET", path="/api/internal/users/7/", body=None,
        query="ids=1%2C2", txn_token=txn_token,
    )
    asked = json.loads(server.received[0]["body"])
    assert asked == {"audience": "user", "scope": "users:read", "method": "GET", "path": "/api/internal/users/7/",
                     "query_hash": query_hash("ids=1%2C2"), "txn_token_hash": txn_token_hash(txn_token)}
    assert txn_token.split(".")[2] not in server.received[0]["body"].decode()


# --- getting one: txn_token_for(request) ---------------------------------------------------------


@pytest.fixture
def user_service(peer, settings):
    """A real HTTP "user" service: answers ``answers`` in turn; this service calls it by URL."""

    def start(answers):
        server = peer(answers)
        configure(settings, SERVICE_URLS={**settings.MS_TOKEN["SERVICE_URLS"], "user": server.url})
        return server

    return start


def test_one_exchange_per_request_carried_on_every_call(client, user_service):
    txn_token = txn_for("7")
    server = user_service([(201, {"txn_token": txn_token, "expires_in": 60}), (200, {"id": 7}), (200, {"id": 7})])
    response = client.get("/api/calls-user/7/", HTTP_AUTHORIZATION="Bearer alice.access.token")
    assert response.status_code == 200, response.content
    exchange, *reads = server.received
    assert (exchange["method"], exchange["path"]) == ("POST", TXN_TOKEN_ENDPOINT_PATH)
    assert json.loads(exchange["body"]) == {"subject_token": "alice.access.token"}
    assert decode(exchange["headers"]["X-MS-TOKEN"].split(".")[1])["scope"] == TXN_TOKEN_REQUEST_SCOPE
    assert "Txn-Token" not in exchange["headers"]
    assert [r["path"] for r in reads] == ["/api/internal/users/7/"] * 2
    tokens = [r["headers"]["X-MS-TOKEN"] for r in reads]
    assert len(set(tokens)) == 2  # a fresh X-MS-TOKEN per call...
    for read, token in zip(reads, tokens):
        assert read["headers"]["Txn-Token"] == txn_token  # ...the same transaction token
        assert decode(token.split(".")[1])["tth"] == txn_token_hash(txn_token)


def test_a_request_without_a_bearer_token_has_no_one_to_act_for(client, user_service):
    server = user_service([(201, {"txn_token": txn_for("7")})])
    response = client.get("/api/calls-user/7/")
    assert response.status_code == 401 and response.json()["code"] == "subject_token_invalid"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert server.received == []


def test_a_subject_token_refused_by_the_service_is_a_401(client, user_service):
    server = user_service([(401, {"detail": "no", "code": "subject_token_invalid"})])
    response = client.get("/api/calls-user/7/", HTTP_AUTHORIZATION="Bearer expired.access.token")
    assert response.status_code == 401 and response.json()["code"] == "subject_token_invalid"
    assert len(server.received) == 1


@pytest.mark.parametrize(
    "answer",
    [
        (401, {"detail": "no", "code": "token_replayed"}),  # it refuses us, not the user
        (403, {"detail": "no", "code": "insufficient_scope"}),
        (500, {"detail": "boom"}),
        (201, {"expires_in": 60}),
        (201, {"txn_token": "not a token"}),
        (201, ["a list"]),
        (200, {"txn_token": "a.b.c"}),  # not the 201 the endpoint gives
    ],
)
def test_an_exchange_that_fails_is_a_503(client, user_service, answer):
    user_service([answer])
    response = client.get("/api/calls-user/7/", HTTP_AUTHORIZATION="Bearer alice.access.token")
    assert response.status_code == 503 and response.json()["code"] == "service_unavailable"


def test_an_exchange_needs_an_issuer(settings):
    configure(settings, TXN_TOKEN_ISSUER=None)
    with pytest.raises(ImproperlyConfigured):
        TxnTokenExchange()


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer abc", "abc"), ("Basic abc", None), ("Bearer", None),
     ("Bearer a b", None), ("", None)],
)
def test_bearer_token(rf, header, token):
    assert bearer_token(rf.get("/", HTTP_AUTHORIZATION=header)) == token


# --- the command ---------------------------------------------------------------------------------


def test_the_command_binds_the_query_of_the_path_and_the_transaction_token(capsys):
    txn_token = txn_for("7")
    call_command("ms_token", "--from", "product", "--to", "billing", "--scope", "bills:read", "--method", "GET",
                 "--path", "/api/bills/?ids=1,2&q=caf\u00e9", "--txn-token", txn_token)
    claims = decode(capsys.readouterr().out.strip().split(".")[1])
    assert claims["htu"] == "/api/bills/"
    # the bytes curl sends for that argument: UTF-8
    assert claims["qh"] == b64url_encode(__import__("hashlib").sha256("ids=1,2&q=caf\u00e9".encode()).digest()).decode()
    assert claims["tth"] == txn_token_hash(txn_token)


@pytest.mark.parametrize(
    "args",
    [["--path", "/api/bills/#frag"], ["--path", "api/bills/"], ["--path", "/api/", "--txn-token", "not a token"]],
)
def test_the_command_refuses_a_bad_path_or_transaction_token(args):
    with pytest.raises(CommandError):
        call_command("ms_token", "--from", "product", "--to", "billing", "--scope", "x", "--method", "GET", *args)
