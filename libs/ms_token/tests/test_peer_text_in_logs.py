"""Text a peer controls reaches our log lines only as a name (``loggable``): a hostile peer's
error code can neither forge a line nor flood the log. Real HTTP peers on loopback."""
import logging

import pytest

from ms_token.client import ServiceCallError, ServiceClient
from ms_token.sources import SelfSignedTokenSource, TokenServiceTokenSource

# A forged verification line after a line break, then more of the same, at length.
FORGED = "\r\n2026-11-29 12:00:00 INFO ms_token ms_token verification outcome=accepted"
HOSTILE_CODES = {
    "line breaks": "token_invalid" + FORGED,
    "unicode line separator": "token_invalid\u2028forged",
    "huge": "x" * 100_000,
    "not a string": {"nested": FORGED},
}


@pytest.fixture
def as_billing(billing_key):
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


@pytest.fixture
def log_text(caplog):
    caplog.set_level(logging.INFO)

    def text():
        messages = [record.getMessage() for record in caplog.records]
        for message in messages:
            assert "\n" not in message and "\r" not in message and "\u2028" not in message
            assert len(message) < 1000
        return "\n".join(messages)

    return text


@pytest.mark.parametrize("code", HOSTILE_CODES.values(), ids=HOSTILE_CODES.keys())
@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_peers_error_code_is_logged_as_a_name_or_not_at_all(peer, as_billing, settings, log_text, status, code):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "BACKOFF_FACTOR": 0}
    server = peer([(status, {"detail": FORGED, "code": code})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError) as caught:
        client.get("/api/products/", scope="products:read")
    assert caught.value.reason == f"answered {status} -"
    text = log_text()
    assert f"status={status} code=-" in text and "outcome=accepted" not in text


def test_a_plain_code_is_still_logged(peer, as_billing, log_text):
    server = peer([(401, {"detail": "no", "code": "token_replayed"})])
    with pytest.raises(ServiceCallError):
        ServiceClient("product", token_source=as_billing, base_url=server.url).get("/api/products/", scope="p")
    assert "status=401 code=token_replayed" in log_text()


@pytest.mark.parametrize("code", HOSTILE_CODES.values(), ids=HOSTILE_CODES.keys())
def test_the_token_services_refusal_code_is_logged_as_a_name_or_not_at_all(peer, as_billing, log_text, code):
    server = peer([(400, {"detail": FORGED, "code": code})])
    source = TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError):
        source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)
    text = log_text()
    assert "answered 400 -" in text and "outcome=accepted" not in text
