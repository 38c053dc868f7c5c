"""What a peer answers reaches billing's log only as a name, or as a size: a hostile product
service (a real HTTP server on loopback) can neither forge a log line nor flood the log."""
import json
import logging
from http.server import BaseHTTPRequestHandler

import pytest

from service_kit.testing import http_server

from .conftest import BILLS_URL, assert_unavailable_and_nothing_stored, items

FORGED = "\r\n2026-11-29 12:00:00 INFO bills.services bill 1 made for user 1: 0.00 EUR"
ANSWERS = {
    "a 400 with a hostile code": (400, "application/json", json.dumps({"detail": FORGED, "code": "invalid" + FORGED})),
    "a 400 with a huge code": (400, "application/json", json.dumps({"detail": "x", "code": "x" * 100_000})),
    "a page that is not JSON": (200, "text/html", "<html>" + FORGED * 1000 + "</html>"),
}


class HostilePeer(BaseHTTPRequestHandler):
    def do_GET(self):
        status, content_type, body = self.server.answer
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def hostile_product(settings):
    with http_server(HostilePeer) as server:
        settings.SERVICE_URLS = {**settings.SERVICE_URLS, "product": server.url}
        yield server


@pytest.mark.parametrize("answer", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_hostile_answer_is_a_503_and_one_clean_log_line(alice_client, catalogue, hostile_product, caplog, answer):
    hostile_product.answer = answer
    with caplog.at_level(logging.INFO):
        response = alice_client.post(BILLS_URL, items((catalogue["keyboard"], 1)), format="json")
    assert_unavailable_and_nothing_stored(response)
    messages = [record.getMessage() for record in caplog.records if record.name.startswith(("bills", "service_kit"))]
    assert messages
    for message in messages:
        assert "\n" not in message and "\r" not in message and len(message) < 500, message
        assert "bill 1 made" not in message
    if answer[0] == 400:
        assert any("answered 400 to GET /api/products/: code=-" in message for message in messages), messages
