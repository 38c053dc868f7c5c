"""Peers that answer too slowly or too much: the body is read by a deadline and within a cap.

requests' read timeout bounds each socket read, not the answer: a peer that trickles a byte
every few tenths of a second would hold the caller's worker for as long as it likes. These
peers are real HTTP servers on loopback (keep-alive HTTP/1.1), not ``responses`` stubs.
"""
import gzip
import json
import time
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler

import pytest

from ms_token.keys import load_key_ring
from ms_token.client import ServiceCallError, ServiceClient
from ms_token.transport import MAX_ANSWER_BYTES
from ms_token.sources import TOKEN_ENDPOINT_PATH, SelfSignedTokenSource, TokenServiceTokenSource
from ms_token.tokens import mint

from .conftest import http_server

# Budget of one call: connect 0.5 s + read 0.5 s. Each trickled byte comes well within the read
# timeout, and the whole trickle takes far longer than the budget (6 s): without a deadline on
# the body the call would succeed, late.
TIMEOUT = (0.5, 0.5)
TRICKLE_BYTES = 60
TRICKLE_PAUSE = 0.1


class Peer(BaseHTTPRequestHandler):
    """Answers every request with ``server.document`` as ``server.behaviour`` says (trailing
    spaces make it as long as wanted, still valid JSON); records the client's port."""

    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn answers

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.client_ports.append(self.client_address[1])
        getattr(self, "_" + self.server.behaviour)()

    do_GET = do_POST = _answer

    def _headers(self, **headers):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _body(self, padding=0):
        return json.dumps(self.server.document).encode() + b" " * padding

    def _ok(self):
        body = self._body()
        self._headers(Content_Length=str(len(body)))
        self.wfile.write(body)

    def _trickle(self):
        body = self._body(TRICKLE_BYTES)
        self._headers(Content_Length=str(len(body)))
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(TRICKLE_PAUSE)  # the peer's pace, not a wait for the test

    def _trickle_chunked(self):
        self._headers(Transfer_Encoding="chunked")
        for byte in self._body(TRICKLE_BYTES):
            self.wfile.write(b"1\r\n" + bytes([byte]) + b"\r\n")
            self.wfile.flush()
            time.sleep(TRICKLE_PAUSE)
        self.wfile.write(b"0\r\n\r\n")

    def _huge(self):
        body = self._body(MAX_ANSWER_BYTES)
        self._headers(Content_Length=str(len(body)))
        self.wfile.write(body)

    def _huge_chunked(self):
        self._headers(Transfer_Encoding="chunked")
        block = b" " * 65536
        for data in [self._body(), *[block] * (MAX_ANSWER_BYTES // len(block))]:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")

    def _gzip_bomb(self):
        body = gzip.compress(self._body(4 * MAX_ANSWER_BYTES))  # a few KiB on the wire
        self._headers(Content_Length=str(len(body)), Content_Encoding="gzip")
        self.wfile.write(body)

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on us: that is the point

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_peer():
    """``slow_peer("trickle")``: a running peer; ``.url``, ``.client_ports``, ``.document``."""
    with ExitStack() as servers:
        yield lambda behaviour, document=None: servers.enter_context(
            http_server(Peer, behaviour=behaviour, document=document or {}, client_ports=[])
        )


@pytest.fixture
def as_billing(billing_key):
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


def client_of(server, as_billing, **kwargs):
    return ServiceClient("product", token_source=as_billing, base_url=server.url, timeout=TIMEOUT, **kwargs)


@pytest.mark.parametrize("behaviour", ["trickle", "trickle_chunked"])
def test_a_trickling_peer_is_a_service_call_error(slow_peer, as_billing, behaviour):
    server = slow_peer(behaviour, {"results": []})
    with pytest.raises(ServiceCallError) as caught:
        client_of(server, as_billing).get("/api/products/", scope="products:read")
    assert "no answer in time" in caught.value.reason
    assert len(server.client_ports) == 1  # a slow peer is not asked again


@pytest.mark.parametrize("behaviour", ["huge", "huge_chunked", "gzip_bomb"])
def test_an_answer_beyond_the_size_cap_is_a_service_call_error(slow_peer, as_billing, behaviour):
    server = slow_peer(behaviour)
    with pytest.raises(ServiceCallError) as caught:
        client_of(server, as_billing).get("/api/products/", scope="products:read")
    assert str(MAX_ANSWER_BYTES) in caught.value.reason


def test_answers_read_in_full_keep_the_connection_for_the_next_call(slow_peer, as_billing):
    server = slow_peer("ok", {"results": [{"id": 1}]})
    client = client_of(server, as_billing)
    first = client.get("/api/products/", scope="products:read")
    second = client.post("/api/products/", scope="products:read", json={"a": 1})
    assert first.json() == second.json() == {"results": [{"id": 1}]}
    assert len(server.client_ports) == 2 and len(set(server.client_ports)) == 1


def test_after_an_overrun_the_next_call_gets_a_new_connection(slow_peer, as_billing):
    server = slow_peer("trickle")
    client = client_of(server, as_billing)
    with pytest.raises(ServiceCallError):
        client.get("/api/products/", scope="products:read")
    server.behaviour, server.document = "ok", {"fine": True}
    assert client.get("/api/products/", scope="products:read").json() == {"fine": True}
    assert len(server.client_ports) == 2 and len(set(server.client_ports)) == 2


# --- the token service's source reads its answer the same way -----------------------------------


@pytest.fixture
def user_key():
    return load_key_ring("user").signing_key


def token_source_of(server, as_billing):
    return TokenServiceTokenSource(assertion_source=as_billing, base_url=server.url, timeout=TIMEOUT)


def ask(source):
    return source.token(audience="product", scope="products:read", method="GET", path="/api/products/", body=None)


@pytest.mark.parametrize("behaviour", ["trickle", "trickle_chunked", "huge", "gzip_bomb"])
def test_a_trickling_or_oversized_token_service_is_a_service_call_error(slow_peer, as_billing, user_key, behaviour):
    issued = mint("product", "products:read", "GET", "/api/products/", issuer="user", key=user_key)
    server = slow_peer(behaviour, {"token": issued, "expires_in": 30, "jti": "j"})
    with pytest.raises(ServiceCallError) as caught:
        ask(token_source_of(server, as_billing))
    assert caught.value.service == "user"
    assert len(server.client_ports) == 1


def test_the_token_service_connection_is_kept_alive(slow_peer, as_billing, user_key):
    issued = mint("product", "products:read", "GET", "/api/products/", issuer="user", key=user_key)
    server = slow_peer("ok", {"token": issued, "expires_in": 30, "jti": "j"})
    source = token_source_of(server, as_billing)
    assert ask(source) == ask(source) == issued
    assert len(set(server.client_ports)) == 1
    assert source.url.endswith(TOKEN_ENDPOINT_PATH)
