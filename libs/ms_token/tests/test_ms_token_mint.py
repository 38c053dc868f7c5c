"""Minting, the settings object, and the ms_token management command."""
import base64
import hashlib
import json
import re
import time

import pytest
from django.core.management import CommandError, call_command
from django.core.exceptions import ImproperlyConfigured

from ms_token.keys import load_key_ring
from ms_token.settings import ms_token_settings
from ms_token.tokens import mint, sign_claims
from ms_token.verification import verify


def decode(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def test_minted_token_has_the_contract_header_and_claims():
    before = int(time.time())
    token = mint("billing", "bills:read", "post", "/api/bills/", b'{"a":1}')
    header, claims = decode(token.split(".")[0]), decode(token.split(".")[1])
    assert header == {"alg": "EdDSA", "typ": "ms+jwt", "kid": load_key_ring("product").signing_key.kid}
    assert claims["iss"] == "product" and claims["aud"] == "billing"
    assert claims["htm"] == "POST" and claims["htu"] == "/api/bills/" and claims["scope"] == "bills:read"
    assert claims["exp"] - claims["iat"] == 30 and claims["iat"] >= before
    expected = base64.urlsafe_b64encode(hashlib.sha256(b'{"a":1}').digest()).rstrip(b"=").decode()
    assert claims["bh"] == expected
    assert "=" not in token


def test_no_body_no_bh_and_every_jti_is_new():
    tokens = [mint("billing", "bills:read", "GET", "/api/bills/") for _ in range(50)]
    claims = [decode(t.split(".")[1]) for t in tokens]
    assert all("bh" not in c for c in claims)
    assert len({c["jti"] for c in claims}) == 50


def test_sign_claims_signs_exactly_the_claims_given_with_mints_header():
    """What the token service signs: claims of its own (sub), the same header, verifiable."""
    now = int(time.time())
    claims = {
        "iss": "billing", "sub": "someone", "aud": "product", "iat": now, "exp": now + 30,
        "jti": "j-1", "scope": "products:read", "htm": "GET", "htu": "/api/service-only/",
    }
    key = load_key_ring("billing").signing_key
    token = sign_claims(claims, key=key)
    header, payload, signature = token.split(".")
    assert decode(header) == decode(mint("x", "s", "GET", "/", issuer="billing", key=key).split(".")[0])
    assert decode(payload) == claims
    key.public_key.verify(base64.urlsafe_b64decode(signature + "=="), f"{header}.{payload}".encode())
    # Without a key: our own newest one.
    assert decode(sign_claims(claims).split(".")[0])["kid"] == load_key_ring("product").signing_key.kid


@pytest.mark.parametrize("ttl", [0, -5, 301])
def test_lifetime_is_bounded(ttl):
    with pytest.raises(ValueError):
        mint("billing", "x", "GET", "/", ttl=ttl)


def test_a_minted_billing_token_verifies_at_product():
    key = load_key_ring("billing").signing_key
    token = mint("product", "products:read", "GET", "/api/products/", issuer="billing", key=key, ttl=300)
    verified = verify(token, method="GET", path="/api/products/", body=b"")
    assert verified.issuer == "billing" and verified.scopes == {"products:read"}
    assert verified.remember_until == verified.claims["exp"] + 5 + 60  # leeway, then the replay margin


def test_settings_read_overrides_and_reload(settings):
    assert ms_token_settings.TRUSTED_ISSUERS == {"billing": frozenset({"products:read"})}
    settings.MS_TOKEN = {**settings.MS_TOKEN, "TRUSTED_ISSUERS": {"user": ["x:y"]}, "TOKEN_TTL": 10}
    assert ms_token_settings.TRUSTED_ISSUERS == {"user": frozenset({"x:y"})}
    assert ms_token_settings.TOKEN_TTL == 10 and ms_token_settings.MAX_TOKEN_TTL == 300


@pytest.mark.parametrize(
    "bad",
    [
        {"TRUSTED_ISSUERS": {"billing": "products:read"}},
        {"TOKEN_TTL": 301},
        {"TYPO": 1},
        {"MAX_TOKEN_TTL": 301, "TOKEN_TTL": 301},  # the contract's bound: never more than 300 s
        {"REPLAY_CACHE": "memcached://127.0.0.1:11211"},
        {"SERVICE_NAME": None},
        {"TOKEN_SOURCE": "carrier-pigeon"},
    ],
)
def test_bad_settings_are_a_clear_error(settings, bad):
    settings.MS_TOKEN = {**settings.MS_TOKEN, **bad}
    with pytest.raises(ImproperlyConfigured):
        ms_token_settings.TOKEN_TTL


def test_bad_settings_stop_the_app_at_startup_not_at_the_first_request(settings):
    """``MSTokenConfig.ready()`` reads them: a typo is a failed start, not a 500 per request."""
    from django.apps import apps

    settings.MS_TOKEN = {**settings.MS_TOKEN, "TYPO": 1}
    with pytest.raises(ImproperlyConfigured, match="TYPO"):
        apps.get_app_config("ms_token").ready()


def test_the_defaults_know_no_deployment(settings):
    """Nothing of any particular shop: no token service, no peers, no keys until configured."""
    settings.MS_TOKEN = {"SERVICE_NAME": "orders"}
    assert ms_token_settings.TOKEN_SERVICE_ISSUER is None
    assert ms_token_settings.SERVICE_URLS == {} and ms_token_settings.TRUSTED_ISSUERS == {}
    assert ms_token_settings.KEYS_DIR is None and ms_token_settings.TOKEN_SOURCE == "self"


def test_command_prints_one_token(capsys, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"items": []}')
    call_command(
        "ms_token", "--from", "product", "--to", "billing", "--scope", "bills:read bills:write",
        "--method", "POST", "--path", "/api/bills/", "--ttl", "120", "--body-file", str(body),
    )
    token = capsys.readouterr().out.strip()
    claims = decode(token.split(".")[1])
    assert claims["aud"] == "billing" and claims["scope"] == "bills:read bills:write"
    assert claims["exp"] - claims["iat"] == 120 and "bh" in claims


@pytest.mark.parametrize(
    "args",
    [
        ["--from", "billing", "--to", "product"],  # this project is product: it cannot sign as billing
        ["--from", "product", "--to", "nobody"],
        ["--from", "product", "--to", "billing", "--ttl", "301"],
    ],
)
def test_command_refuses_what_it_cannot_do(args):
    with pytest.raises(CommandError):
        call_command("ms_token", *args, "--scope", "x", "--method", "GET", "--path", "/api/")


def test_the_library_speaks_of_no_shop():
    """Its code, comments and docstrings name no service of the repository it was written in."""
    from pathlib import Path

    import ms_token

    shop = re.compile(r"\bshop\b|\bbilling\b|\buser service\b|\bproducts?:(read|write)\b", re.IGNORECASE)
    found = [
        f"{path.name}:{number}"
        for path in Path(ms_token.__file__).parent.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if shop.search(line)
    ]
    assert found == []
