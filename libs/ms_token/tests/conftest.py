import base64
import json
import os
import secrets
import threading
import time
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from django.conf import settings as django_settings

from ms_token.jwks import JWKS_MAX_AGE, clear_remote_key_sets
from ms_token.keys import load_key_ring
from ms_token.settings import reload_settings
from ms_token.testing import create_keys, free_port, send_json, trust_keys  # noqa: F401 (free_port: imported from here by tests)

# The fixtures the library offers adopters (ms_token_keys, fake_peer), tested here as they use them.
pytest_plugins = ["ms_token.fixtures"]

SERVICE_PATH = "/api/service-only/"
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DROP = object()  # a claim or header value meaning "leave this field out"


def wait_until(condition, timeout=5.0):
    """Poll ``condition`` until it holds (a bounded wait on a condition, never a lock)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def pytest_runtest_setup(item):
    """``@pytest.mark.postgresql``: skipped on another database, unless REQUIRE_POSTGRES=1 (CI,
    the version matrix), where a missing PostgreSQL fails the test instead of hiding it."""
    if item.get_closest_marker("postgresql") is None:
        return
    if "postgresql" not in django_settings.DATABASES["default"]["ENGINE"]:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1, but DATABASE_URL names no PostgreSQL database", pytrace=False)
        pytest.skip("needs PostgreSQL (DATABASE_URL); CI sets REQUIRE_POSTGRES=1 and runs it")


def preload_peer_keys(*services):
    """Verify tokens of ``services`` with their keys in the test keys directory, as if fetched."""
    for service in services:
        trust_keys(service, load_key_ring(service))


def configure(settings, **changes):
    """Change ``MS_TOKEN`` entries for one test (pytest-django's ``settings``)."""
    settings.MS_TOKEN = {**settings.MS_TOKEN, **changes}


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    """Fresh keys for this service and its peers: for this process (KEYS_DIR) and for the
    servers the tests start (MS_KEYS_DIR, read by tests/settings.py)."""
    directory = create_keys(tmp_path_factory.mktemp("keys"), "product", "billing", "user")
    os.environ["MS_KEYS_DIR"] = str(directory)
    django_settings.MS_TOKEN = {**django_settings.MS_TOKEN, "KEYS_DIR": directory}
    reload_settings()
    return directory


@pytest.fixture(autouse=True)
def billing_keys_known():
    """Product knows billing's published keys, as if fetched from its JWKS."""
    clear_remote_key_sets()
    preload_peer_keys("billing")
    yield
    clear_remote_key_sets()


@pytest.fixture
def billing_key():
    return load_key_ring("billing").signing_key


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode_json(document) -> str:
    return b64(document if isinstance(document, bytes) else json.dumps(document).encode())


def claims_for(**overrides):
    now = int(time.time())
    claims = {
        "iss": "billing",
        "aud": "product",
        "iat": now,
        "exp": now + 30,
        "jti": secrets.token_urlsafe(16),
        "scope": "products:read",
        "htm": "GET",
        "htu": SERVICE_PATH,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not DROP}


@pytest.fixture
def make_token(billing_key):
    """A hand-built token: any header, any claims (or raw payload bytes), signed with any key."""

    def make(*, header=None, payload=None, key=None, **claims):
        header = {"alg": "EdDSA", "typ": "ms+jwt", "kid": billing_key.kid, **(header or {})}
        header = {k: v for k, v in header.items() if v is not DROP}
        payload = claims_for(**claims) if payload is None else payload
        signing_input = f"{encode_json(header)}.{encode_json(payload)}"
        signature = (key or billing_key.private_key).sign(signing_input.encode())
        return f"{signing_input}.{b64(signature)}"

    return make


@pytest.fixture
def call(client):
    """Call the service-only view with ``token`` in X-MS-TOKEN."""

    def call(token, *, method="get", path=SERVICE_PATH, body=None, **headers):
        if token is not None:
            headers["HTTP_X_MS_TOKEN"] = token
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        return getattr(client, method)(path, **kwargs, **headers)

    return call


@pytest.fixture
def redis_store(settings):
    """The replay store is Redis (DB 15 by default), emptied first."""
    import redis

    redis.Redis.from_url(TEST_REDIS_URL).flushdb()
    configure(settings, REPLAY_CACHE=TEST_REDIS_URL)
    from ms_token.replay import get_replay_store

    return get_replay_store()


class Recorder(BaseHTTPRequestHandler):
    """A tiny real HTTP peer: answers from ``server.answers`` in turn, records what it got."""

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.received.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length)}
        )
        status, body = self.server.answers[min(len(self.server.received), len(self.server.answers)) - 1]
        send_json(self, status, body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args):
        pass


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler], **state):
    """``handler`` served on 127.0.0.1 from a thread: the server has ``state`` as attributes and
    its ``url``, and is stopped on leaving."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.lock = threading.Lock()
    for name, value in state.items():
        setattr(server, name, value)
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class JWKSPeer(BaseHTTPRequestHandler):
    """Billing's JWKS, read from ``server.keys_dir`` (None: the test keys) at every request,
    which ``server.hits`` counts, with the Cache-Control our JWKS view sends. Optional state:
    ``cache_control`` (None: no such header), ``status`` (not 200: an outage), ``gate`` (an
    Event the answer waits for)."""

    def do_GET(self):
        with self.server.lock:
            self.server.hits += 1
        gate = getattr(self.server, "gate", None)
        if gate is not None:
            gate.wait(10)
        status = getattr(self.server, "status", 200)
        if status != 200:
            send_json(self, status, {"detail": "unavailable"})
            return
        cache_control = getattr(self.server, "cache_control", f"public, max-age={JWKS_MAX_AGE}")
        headers = {} if cache_control is None else {"Cache-Control": cache_control}
        send_json(self, 200, load_key_ring("billing", self.server.keys_dir).jwks(), headers)

    def log_message(self, *args):
        pass


@pytest.fixture
def peer():
    """Start a recording peer: ``server = peer([(503, {...}), (200, {...})])``; ``server.url``."""
    with ExitStack() as servers:
        yield lambda answers: servers.enter_context(http_server(Recorder, answers=answers, received=[]))


def assert_refused(response, code, status=401):
    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    if status == 401:
        assert response["WWW-Authenticate"] == "MS-Token"
