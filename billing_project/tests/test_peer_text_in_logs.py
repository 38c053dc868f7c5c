"""What a peer answers reaches billing's log only as a name: a hostile product service (a real
HTTP server on loopback) can neither forge a log line nor flood the log."""
import logging

import pytest
from ms_token.testing import FakePeer

from .conftest import BILLS_URL, assert_unavailable_and_nothing_stored, items

FORGED = "\r\n2026-11-29 12:00:00 INFO bills.services bill 1 made for user 1: 0.00 EUR"
ANSWERS = {
    "a 400 with a hostile code": (400, {"detail": FORGED, "code": "invalid" + FORGED}),
    "a 400 with a huge code": (400, {"detail": "x", "code": "x" * 100_000}),
    "a 200 that is no product list": (200, {"detail": FORGED * 1000}),
}


@pytest.fixture
def hostile_product(settings):
    with FakePeer("product") as peer:
        urls = settings.MS_TOKEN["SERVICE_URLS"]
        settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**urls, "product": peer.url}}
        yield peer


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_hostile_answer_is_a_503_and_clean_log_lines(alice_client, catalogue, hostile_product, caplog, answer):
    hostile_product.handler = lambda request: answer
    with caplog.at_level(logging.INFO):
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert_unavailable_and_nothing_stored(response)
    messages = [record.getMessage() for record in caplog.records if record.name.startswith(("bills", "service_kit", "ms_token"))]
    assert messages
    for message in messages:
        assert "\n" not in message and "\r" not in message and len(message) < 500, message
        assert "bill 1 made" not in message
    if answer[0] == 400:
        assert any("answered 400 to GET /api/products/: code=-" in message for message in messages), messages
