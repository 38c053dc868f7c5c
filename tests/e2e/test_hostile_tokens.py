"""The hostile token catalogue (issue 7) against the running product service.

Every forged, deformed or replayed X-MS-TOKEN gets the contract's 401 (or 403) and ``code``; none
is accepted and none gets a 500. Tokens are made by hand (tests/e2e/forge.py), so a token the
contract calls valid is proven accepted first: the refusals are about the deformation alone.

Each case is pinned to the one code the service gives: the checks run in a fixed order
(libs/README.md, "The checks, in order"), so a change in that order shows up here.
The catalogue attacks the callee, so it does not depend on the caller's token source; the
token service's own shape (issue 6: ``iss`` user, ``sub`` the caller) gets cases of its own.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import forge
from ms_token.keys import SigningKey
from tokens import TOKEN_ENDPOINT, library_token, token_service_token

PATH = "/api/products/"
MS_TOKEN_CODES = {
    "token_invalid", "token_expired", "token_replayed", "token_audience_mismatch",
    "token_request_mismatch", "untrusted_issuer",
}


@dataclass(frozen=True)
class Keys:
    billing: SigningKey
    user: SigningKey
    product: SigningKey
    attacker: SigningKey


@pytest.fixture(scope="module")
def keys(shop) -> Keys:
    attacker = SigningKey(kid="attacker-1", private_key=Ed25519PrivateKey.generate(), created_at=0)
    return Keys(shop.signing_key("billing"), shop.signing_key("user"), shop.signing_key("product"), attacker)


def call_product(shop, headers: dict[str, str], *, method: str = "GET", path: str = PATH, **kwargs):
    return requests.request(method, shop.url("product") + path, headers=headers, timeout=10, **kwargs)


def assert_refused(response, status: int, code: str) -> dict:
    """Exactly this status and this one code: the checks run in a fixed order, so a token gets
    one answer; a set of acceptable codes would let a change in that order pass unnoticed."""
    assert response.status_code < 500, f"server error {response.status_code}: {response.text[:500]}"
    body = response.json()
    assert (response.status_code, body.get("code")) == (status, code), (
        f"expected {status} {code}, got {response.status_code} {body}"
    )
    assert isinstance(body.get("detail"), str) and body["detail"]
    if status == 401 and code in MS_TOKEN_CODES:
        assert response.headers.get("WWW-Authenticate", "").startswith("MS-Token"), response.headers
    return body


def _public_raw(key: SigningKey) -> bytes:
    return key.public_bytes


def _public_pem(key: SigningKey) -> bytes:
    return key.public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _tampered(k: Keys) -> str:
    head, _payload, signature = forge.token(k.billing).split(".")
    bigger = forge.claims(scope="products:read products:write users:read")
    return f"{head}.{forge.segment(bigger)}.{signature}"


def _attacker_headed(k: Keys, **extra) -> str:
    return forge.sign_ed25519(forge.header(k.attacker, **extra), forge.claims(), k.attacker.private_key)


# name -> (token builder, expected status, the code the service gives)
CATALOGUE = {
    # Algorithm confusion
    **{
        f"alg {alg}": (
            lambda k, alg=alg: forge.unsigned(forge.header(k.billing, alg=alg), forge.claims()), 401, "token_invalid"
        )
        for alg in ("none", "None", "NONE", "nOnE")
    },
    "alg none with a signature kept": (
        lambda k: forge.unsigned(forge.header(k.billing, alg="none"), forge.claims()) + forge.token(k.billing).split(".")[2],
        401, "token_invalid",
    ),
    "HS256 keyed with the raw public key": (
        lambda k: forge.sign_hs256(forge.header(k.billing, alg="HS256"), forge.claims(), _public_raw(k.billing)),
        401, "token_invalid",
    ),
    "HS256 keyed with the PEM public key": (
        lambda k: forge.sign_hs256(forge.header(k.billing, alg="HS256"), forge.claims(), _public_pem(k.billing)),
        401, "token_invalid",
    ),
    "HS256 keyed with the JWK x": (
        lambda k: forge.sign_hs256(
            forge.header(k.billing, alg="HS256"), forge.claims(), k.billing.public_jwk()["x"].encode()
        ),
        401, "token_invalid",
    ),
    "ES256 named": (
        lambda k: forge.sign_ed25519(forge.header(k.billing, alg="ES256"), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    # Keys the attacker chooses
    "attacker key with billing's kid": (
        lambda k: forge.sign_ed25519(forge.header(k.billing), forge.claims(), k.attacker.private_key),
        401, "token_invalid",
    ),
    "attacker key with an unknown kid": (lambda k: _attacker_headed(k), 401, "token_invalid"),
    "jku header to the attacker's keys": (
        lambda k: _attacker_headed(k, jku="http://127.0.0.1:9/.well-known/jwks.json"), 401, "token_invalid"
    ),
    "jwk header carrying the attacker's key": (
        lambda k: forge.sign_ed25519(
            forge.header(k.billing, jwk=k.attacker.public_jwk()), forge.claims(), k.attacker.private_key
        ),
        401, "token_invalid",
    ),
    "x5u header": (lambda k: _attacker_headed(k, x5u="http://127.0.0.1:9/cert.pem"), 401, "token_invalid"),
    "crit header naming an unknown extension": (
        lambda k: forge.sign_ed25519(
            forge.header(k.billing, crit=["x-evil"], **{"x-evil": True}), forge.claims(), k.billing.private_key
        ),
        401, "token_invalid",
    ),
    "kid path traversal": (
        lambda k: forge.sign_ed25519(
            forge.header(None, kid=f"../../billing/{k.billing.kid}"), forge.claims(), k.billing.private_key
        ),
        401, "token_invalid",
    ),
    "kid traversal to /etc/passwd": (
        lambda k: forge.sign_ed25519(forge.header(None, kid="../../../../etc/passwd"), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "kid SQL injection": (
        lambda k: forge.sign_ed25519(forge.header(None, kid="x' OR '1'='1"), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "kid with a NUL byte": (
        lambda k: forge.sign_ed25519(forge.header(None, kid=k.billing.kid + "\x00.pem"), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "kid not a string": (
        lambda k: forge.sign_ed25519(forge.header(None, kid=["a"]), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "typ JWT instead of ms+jwt": (
        lambda k: forge.sign_ed25519(forge.header(k.billing, typ="JWT"), forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "no typ": (
        lambda k: forge.sign_ed25519({"alg": "EdDSA", "kid": k.billing.kid}, forge.claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    # The signature itself
    "tampered claim": (_tampered, 401, "token_invalid"),
    "stripped signature": (lambda k: forge.token(k.billing).rsplit(".", 1)[0] + ".", 401, "token_invalid"),
    "no signature segment": (lambda k: forge.token(k.billing).rsplit(".", 1)[0], 401, "token_invalid"),
    "truncated signature": (lambda k: forge.token(k.billing)[:-8], 401, "token_invalid"),
    "signature by user's key under billing's name": (
        lambda k: forge.sign_ed25519(forge.header(k.user), forge.claims(), k.user.private_key),
        401, "token_invalid",
    ),
    # Audience and issuer
    "wrong aud": (lambda k: forge.token(k.billing, aud="user"), 401, "token_audience_mismatch"),
    "aud a list without product": (
        lambda k: forge.token(k.billing, aud=["user", "billing"]), 401, "token_invalid"
    ),
    "aud a list with product and another": (
        lambda k: forge.token(k.billing, aud=["product", "user"]), 401, "token_invalid"
    ),
    "aud an empty string": (lambda k: forge.token(k.billing, aud=""), 401, "token_audience_mismatch"),
    "aud an empty list": (lambda k: forge.token(k.billing, aud=[]), 401, "token_invalid"),
    "no aud": (lambda k: forge.token(k.billing, drop=("aud",)), 401, "token_invalid"),
    # iss user without sub: not a token-service token (issue 6) and not a service product trusts.
    "iss user (a real service product does not trust)": (
        lambda k: forge.token(k.user, iss="user"), 401, "untrusted_issuer"
    ),
    "iss product (itself)": (lambda k: forge.token(k.product, iss="product"), 401, "untrusted_issuer"),
    "iss unknown": (
        lambda k: forge.sign_ed25519(forge.header(k.attacker), forge.claims(iss="mallory"), k.attacker.private_key),
        401, "untrusted_issuer",
    ),
    "no iss": (lambda k: forge.token(k.billing, drop=("iss",)), 401, "token_invalid"),
    # Time
    "expired": (lambda k: forge.token(k.billing, iat=int(time.time()) - 120, ttl=30), 401, "token_expired"),
    "issued in the future": (
        lambda k: forge.token(k.billing, iat=int(time.time()) + 120, ttl=30), 401, "token_invalid"
    ),
    "lifetime above the maximum": (lambda k: forge.token(k.billing, ttl=3600), 401, "token_invalid"),
    "missing exp": (lambda k: forge.token(k.billing, drop=("exp",)), 401, "token_invalid"),
    "missing iat": (lambda k: forge.token(k.billing, drop=("iat",)), 401, "token_invalid"),
    "missing jti": (lambda k: forge.token(k.billing, drop=("jti",)), 401, "token_invalid"),
    "empty jti": (lambda k: forge.token(k.billing, jti=""), 401, "token_invalid"),
    "exp as a string": (
        lambda k: forge.token(k.billing, raw={"exp": str(int(time.time()) + 30)}), 401, "token_invalid"
    ),
    "iat as a string": (
        lambda k: forge.token(k.billing, raw={"iat": str(int(time.time()))}), 401, "token_invalid"
    ),
    # Binding to this request
    "wrong method": (lambda k: forge.token(k.billing, htm="POST"), 401, "token_request_mismatch"),
    "wrong path": (lambda k: forge.token(k.billing, htu="/api/products/1/"), 401, "token_request_mismatch"),
    "no htm": (lambda k: forge.token(k.billing, drop=("htm",)), 401, "token_invalid"),
    "no htu": (lambda k: forge.token(k.billing, drop=("htu",)), 401, "token_invalid"),
    "body hash for a body not sent": (
        lambda k: forge.token(k.billing, body=b'{"items": []}'), 401, "token_request_mismatch"
    ),
    "query hash for a query not sent": (
        lambda k: forge.token(k.billing, qh=forge.body_hash(b"ids=1")), 401, "token_request_mismatch"
    ),
    # Garbage
    "empty token": (lambda k: "", 401, "token_invalid"),
    "not a JWS": (lambda k: "hello", 401, "token_invalid"),
    "header not JSON": (lambda k: "bm90LWpzb24." + forge.token(k.billing).split(".", 1)[1], 401, "token_invalid"),
    "four segments": (lambda k: forge.token(k.billing) + ".AAAA", 401, "token_invalid"),
    "claims a JSON list": (
        lambda k: f"{forge.segment(forge.header(k.billing))}.{forge.segment([1, 2])}.AAAA", 401, "token_invalid"
    ),
}


def _token_service_claims(**overrides) -> dict:
    """Claims of a token the token service (iss user) issues to ``sub`` (billing unless overridden)."""
    return forge.claims(**{"iss": "user", "sub": "billing", **overrides})


# Tokens shaped like the token service's (issue 6: iss user, sub = the caller): the callee must
# take them from the token service's key only, and only for a caller it trusts itself.
TOKEN_SERVICE_CATALOGUE = {
    "iss user sub billing, attacker key under user's kid": (
        lambda k: forge.sign_ed25519(forge.header(k.user), _token_service_claims(), k.attacker.private_key),
        401, "token_invalid",
    ),
    "iss user sub billing, attacker key under its own kid": (
        lambda k: forge.sign_ed25519(forge.header(k.attacker), _token_service_claims(), k.attacker.private_key),
        401, "token_invalid",
    ),
    "iss user sub billing, signed by billing's key": (
        lambda k: forge.sign_ed25519(forge.header(k.billing), _token_service_claims(), k.billing.private_key),
        401, "token_invalid",
    ),
    "iss billing with sub billing": (lambda k: forge.token(k.billing, sub="billing"), 401, "token_invalid"),
    "iss billing with sub user": (lambda k: forge.token(k.billing, sub="user"), 401, "token_invalid"),
    "sub product (not a caller product trusts), real user key": (
        lambda k: forge.sign_ed25519(forge.header(k.user), _token_service_claims(sub="product"), k.user.private_key),
        401, "untrusted_issuer",
    ),
    "sub Billing (not exactly billing), real user key": (
        lambda k: forge.sign_ed25519(forge.header(k.user), _token_service_claims(sub="Billing"), k.user.private_key),
        401, "untrusted_issuer",
    ),
    **{
        f"sub {label}, real user key": (
            lambda k, sub=sub: forge.sign_ed25519(forge.header(k.user), _token_service_claims(sub=sub), k.user.private_key),
            401, "token_invalid",
        )
        for label, sub in (("a list", ["billing"]), ("a number", 1), ("null", None), ("an object", {"service": "billing"}))
    },
    "iss user sub billing, scope beyond product's grant for billing": (
        lambda k: forge.sign_ed25519(
            forge.header(k.user), _token_service_claims(scope="products:read products:write"), k.user.private_key
        ),
        403, "insufficient_scope",
    ),
}


def test_a_token_made_by_the_contract_is_accepted(shop, keys):
    """The control: without it every refusal below could be for the wrong reason."""
    forged = call_product(shop, {"X-MS-TOKEN": forge.token(keys.billing)})
    assert forged.status_code == 200, forged.text
    made = call_product(shop, {"X-MS-TOKEN": library_token(shop, method="GET", path=PATH)})
    assert made.status_code == 200, made.text
    # htu has no query; the query is bound by qh (tests/e2e/test_query_binding.py).
    with_query = call_product(shop, {"X-MS-TOKEN": forge.token(keys.billing, qh=forge.body_hash(b"search=x"))},
                              path=PATH + "?search=x")
    assert with_query.status_code == 200, with_query.text


@pytest.mark.parametrize("case", list(CATALOGUE), ids=list(CATALOGUE))
def test_hostile_token_is_refused(shop, keys, case):
    build, status, code = CATALOGUE[case]
    assert_refused(call_product(shop, {"X-MS-TOKEN": build(keys)}), status, code)


def test_a_token_shaped_like_the_token_services_is_accepted(shop, keys):
    """The control for the catalogue below: iss user, sub billing, signed by the user service's
    real key, is what the token service issues, and product takes it."""
    token = forge.sign_ed25519(forge.header(keys.user), _token_service_claims(), keys.user.private_key)
    response = call_product(shop, {"X-MS-TOKEN": token})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("case", list(TOKEN_SERVICE_CATALOGUE), ids=list(TOKEN_SERVICE_CATALOGUE))
def test_hostile_token_service_token_is_refused(shop, keys, case):
    build, status, code = TOKEN_SERVICE_CATALOGUE[case]
    assert_refused(call_product(shop, {"X-MS-TOKEN": build(keys)}), status, code)


def test_a_token_the_token_service_issued_is_single_use_and_bound(shop):
    """A token really issued over HTTP (POST /api/service-tokens/): accepted once, then a replay;
    and one issued for another path is refused for this one."""
    issued = token_service_token(shop, method="GET", path=PATH)
    assert call_product(shop, {"X-MS-TOKEN": issued}).status_code == 200
    assert_refused(call_product(shop, {"X-MS-TOKEN": issued}), 401, "token_replayed")
    elsewhere = token_service_token(shop, method="GET", path=PATH + "1/")
    assert_refused(call_product(shop, {"X-MS-TOKEN": elsewhere}), 401, "token_request_mismatch")


def test_no_token_buys_a_token(shop, keys):
    """A token-service token (iss user, sub billing) as the client assertion at the token
    endpoint is refused: only a caller's own signature buys a token."""
    body = b'{"audience": "product", "scope": "products:read", "method": "GET", "path": "/api/products/"}'
    claims = _token_service_claims(
        aud="user", scope="service-tokens:request", htm="POST", htu=TOKEN_ENDPOINT, body=body
    )
    assertion = forge.sign_ed25519(forge.header(keys.user), claims, keys.user.private_key)
    response = requests.post(
        shop.url("user") + TOKEN_ENDPOINT,
        data=body,
        headers={"X-MS-TOKEN": assertion, "Content-Type": "application/json"},
        timeout=10,
    )
    assert_refused(response, 401, "token_invalid")


def test_a_scope_the_view_does_not_accept_is_403_insufficient_scope(shop, keys):
    for scope in ("", "products:write", "users:read"):
        assert_refused(call_product(shop, {"X-MS-TOKEN": forge.token(keys.billing, scope=scope)}), 403, "insufficient_scope")


def test_a_service_may_not_write_products(shop, keys):
    """The token is good (products:read, bound to this POST and body); the view is staff only."""
    body = b'{"sku": "SVC-1", "name": "x", "price": "1.00", "currency": "EUR"}'
    token = forge.token(keys.billing, htm="POST", body=body)
    response = call_product(
        shop, {"X-MS-TOKEN": token, "Content-Type": "application/json"}, method="POST", data=body
    )
    assert_refused(response, 403, "permission_denied")


def test_replayed_token_is_refused(shop, keys):
    token = forge.token(keys.billing)
    assert call_product(shop, {"X-MS-TOKEN": token}).status_code == 200
    assert_refused(call_product(shop, {"X-MS-TOKEN": token}), 401, "token_replayed")


def test_the_same_token_re_encoded_is_still_a_replay(shop, keys):
    token = forge.token(keys.billing)
    assert call_product(shop, {"X-MS-TOKEN": token}).status_code == 200
    twin = forge.with_other_padding_bits(token)
    assert twin != token
    # The twin decodes to the same signature over the same claims: the same token, a replay.
    assert_refused(call_product(shop, {"X-MS-TOKEN": twin}), 401, "token_replayed")


def test_a_re_encoded_twin_used_first_burns_the_original(shop, keys):
    token = forge.token(keys.billing)
    twin = forge.with_other_padding_bits(token)
    first = call_product(shop, {"X-MS-TOKEN": twin})
    assert first.status_code == 200, first.text
    assert_refused(call_product(shop, {"X-MS-TOKEN": token}), 401, "token_replayed")


def test_twenty_concurrent_copies_of_one_token_exactly_one_accepted(shop, keys):
    token = forge.token(keys.billing)
    copies = 20
    barrier = threading.Barrier(copies)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def send():
        session = requests.Session()
        session.get(shop.url("product") + "/healthz", timeout=10)  # connect first: race on the token only
        barrier.wait(timeout=20)
        response = session.get(shop.url("product") + PATH, headers={"X-MS-TOKEN": token}, timeout=20)
        with lock:
            answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(answers) == copies
    statuses = sorted(r.status_code for r in answers)
    assert statuses.count(200) == 1, statuses
    for response in answers:
        if response.status_code != 200:
            assert_refused(response, 401, "token_replayed")


def test_a_user_token_as_x_ms_token_is_refused(shop, account):
    assert_refused(call_product(shop, {"X-MS-TOKEN": account.access}), 401, "token_invalid")


def test_a_service_token_as_bearer_is_refused(shop, keys):
    # The user-token authenticator refuses it, in simplejwt's words.
    assert_refused(call_product(shop, {"Authorization": f"Bearer {forge.token(keys.billing)}"}), 401, "token_not_valid")


def test_x_ms_token_with_underscores_is_not_the_header(shop, keys):
    """``X_MS_TOKEN`` would collide with X-MS-TOKEN in CGI naming; gunicorn drops it, so the
    request carries no credentials at all."""
    assert_refused(call_product(shop, {"X_MS_TOKEN": forge.token(keys.billing)}), 401, "not_authenticated")


def _raw_get(shop, headers: list[tuple[str, bytes | str]]) -> tuple[int, dict, bytes]:
    address = urlsplit(shop.url("product"))
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.putrequest("GET", PATH)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _json_code(body: bytes) -> str | None:
    try:
        return json.loads(body).get("code")
    except ValueError:
        return None


def test_two_x_ms_token_headers_are_refused(shop, keys):
    status, _headers, body = _raw_get(
        shop, [("X-MS-TOKEN", forge.token(keys.billing)), ("X-MS-TOKEN", forge.token(keys.billing))]
    )
    assert (status, _json_code(body)) == (401, "token_invalid"), body[:300]


def test_a_token_above_the_size_limit_is_refused_before_decoding(shop, keys):
    """Within gunicorn's header limit (8190 bytes) but above MAX_TOKEN_BYTES (4096): Django sees
    it, and check 1 refuses it."""
    bloated = forge.token(keys.billing, padding="x" * 5000)
    assert 4096 < len(bloated) < 8000
    assert_refused(call_product(shop, {"X-MS-TOKEN": bloated}), 401, "token_invalid")


def test_twenty_kilobytes_of_garbage(shop):
    # gunicorn refuses a header above its limit_request_field_size (8190) before Django sees it:
    # 431, and its own HTML page, not our JSON error.
    status, _headers, body = _raw_get(shop, [("X-MS-TOKEN", "A" * 20_000)])
    assert status == 431, (status, body[:300])


def test_non_ascii_bytes(shop, keys):
    head, payload, signature = forge.token(keys.billing).split(".")
    status, _headers, body = _raw_get(shop, [("X-MS-TOKEN", f"{head}.{payload}.".encode() + "é\u00ff".encode("utf-8"))])
    assert (status, _json_code(body)) == (401, "token_invalid"), (status, body[:300])
