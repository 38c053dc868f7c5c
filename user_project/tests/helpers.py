"""Assertions shared by the tests."""


def assert_error(response, status, code=None):
    """A refusal in the shape every service uses."""
    assert response.status_code == status, response.content
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"]
    assert not body["detail"].startswith("{"), "a nested error rendered as text"
    assert isinstance(body.get("code"), str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_jws(header: dict, claims: dict, private_key) -> str:
    """A JWS made by hand (any header, any claims, any Ed25519 key), as an attacker would."""
    import json

    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(private_key.sign(signing_input.encode()))}"


def decode_jws(token: str) -> tuple[dict, dict]:
    """(header, claims) of a JWS, unverified."""
    import base64
    import json

    header, claims, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(claims)
