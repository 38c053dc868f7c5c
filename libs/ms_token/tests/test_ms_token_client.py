"""ServiceClient against real HTTP peers: a fresh token per attempt, timeouts, retries, errors."""
import socket
import threading

import pytest
import requests
import responses

from ms_token.client import ServiceCallError, ServiceClient
from ms_token.sources import SelfSignedTokenSource
from ms_token.verification import verify

from .request_context import request_id
from .conftest import SERVICE_PATH, free_port


@pytest.fixture
def as_billing(billing_key):
    """Tokens signed as billing (this test process is the product service)."""
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


def jti_of(token):
    return verify(token, method="GET", path="/api/products/", body=b"").jti


@pytest.mark.django_db(transaction=True)
def test_end_to_end_against_a_live_service(live_server, as_billing):
    product = ServiceClient("product", token_source=as_billing, base_url=live_server.url)
    token = request_id.set("rid-from-the-caller")
    try:
        response = product.get(SERVICE_PATH, scope="products:read", params={"ids": "1,2"})
        posted = product.post(SERVICE_PATH, scope="products:read", json={"items": [{"product_id": 1}]})
    finally:
        request_id.reset(token)
    assert response.status_code == 200
    assert response.json()["service"] == "billing"
    assert response.json()["request_id"] == "rid-from-the-caller"  # PEER_HEADERS
    assert posted.status_code == 200  # the body hash matched what was sent
    assert posted.json()["jti"] != response.json()["jti"]


def test_every_attempt_carries_a_new_token(peer, as_billing, settings):
    server = peer([(503, {"code": "busy"}), (503, {"code": "busy"}), (200, {"ok": True})])
    settings.MS_TOKEN = {**settings.MS_TOKEN, "BACKOFF_FACTOR": 0}
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    response = client.get("/api/products/", scope="products:read")
    assert response.status_code == 200
    tokens = [r["headers"]["X-MS-TOKEN"] for r in server.received]
    assert len(tokens) == 3
    assert len({jti_of(t) for t in tokens}) == 3


@pytest.mark.parametrize("method", ["post", "patch"])
def test_non_idempotent_methods_are_not_retried(peer, as_billing, method):
    server = peer([(503, {"code": "busy"}), (200, {"ok": True})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError) as caught:
        getattr(client, method)("/api/products/", scope="products:read", json={"a": 1})
    assert len(server.received) == 1
    assert caught.value.status == 503


def test_a_persistently_failing_peer_raises_after_the_retries(peer, as_billing, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "BACKOFF_FACTOR": 0}
    server = peer([(502, {"code": "bad_gateway"})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError) as caught:
        client.get("/api/products/", scope="products:read")
    assert len(server.received) == 3
    assert caught.value.service == "product"


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_is_a_service_call_error(peer, as_billing, status, caplog):
    server = peer([(status, {"detail": "no", "code": "token_replayed"})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    with pytest.raises(ServiceCallError) as caught:
        client.get("/api/products/", scope="products:read")
    assert caught.value.status == status
    assert "token_replayed" in caplog.text
    assert len(server.received) == 1


def test_other_client_errors_are_returned_to_the_caller(peer, as_billing):
    server = peer([(404, {"detail": "Not found.", "code": "not_found"})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    assert client.get("/api/products/9/", scope="products:read").status_code == 404


def test_body_path_and_method_are_what_the_token_binds(peer, as_billing):
    server = peer([(200, {})])
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    client.put("/api/products/7/", scope="products:read", params={"q": "x"}, json={"price": "1.50"})
    received = server.received[0]
    assert received["path"] == "/api/products/7/?q=x"
    claims = verify(
        received["headers"]["X-MS-TOKEN"], method="PUT", path="/api/products/7/", body=received["body"], query="q=x"
    ).claims
    assert claims["htm"] == "PUT" and claims["aud"] == "product" and "bh" in claims and "qh" in claims


def test_a_dead_peer_raises(as_billing):
    client = ServiceClient("product", token_source=as_billing, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceCallError):
        client.get("/api/products/", scope="products:read")


def test_a_silent_peer_times_out_once_without_retries(as_billing, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "READ_TIMEOUT": 0.2, "RETRIES": 2}
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel does), never answers
    attempts = []

    class CountingSource:
        def token(self, **request):
            attempts.append(request)
            return as_billing.token(**request)

    try:
        client = ServiceClient("product", token_source=CountingSource(), base_url=f"http://127.0.0.1:{listener.getsockname()[1]}")
        assert client.timeout == (2.0, 0.2)
        with pytest.raises(ServiceCallError) as caught:
            client.get("/api/products/", scope="products:read")
        assert isinstance(caught.value.__cause__, requests.Timeout)
        assert len(attempts) == 1  # a hung peer is not asked again: the caller's 503 comes fast
    finally:
        listener.close()


@responses.activate
def test_a_reset_connection_is_retried_with_a_new_token_then_raised(as_billing, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "BACKOFF_FACTOR": 0}
    responses.add(responses.GET, "http://peer.test/api/products/", body=requests.ConnectionError("Connection reset by peer"))
    client = ServiceClient("product", token_source=as_billing, base_url="http://peer.test")
    with pytest.raises(ServiceCallError):
        client.get("/api/products/", scope="products:read")
    tokens = [call.request.headers["X-MS-TOKEN"] for call in responses.calls]
    assert len(tokens) == 3 and len(set(tokens)) == 3


def test_one_session_per_thread(as_billing):
    client = ServiceClient("product", token_source=as_billing, base_url="http://127.0.0.1:1")
    sessions = []
    thread = threading.Thread(target=lambda: sessions.append(client.session))
    thread.start()
    thread.join()
    assert client.session is client.session
    assert sessions[0] is not client.session


@pytest.mark.django_db
def test_a_view_whose_peer_is_down_answers_503(client, settings):
    settings.MS_TOKEN = {**settings.MS_TOKEN, "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "billing": f"http://127.0.0.1:{free_port()}"}}
    response = client.get("/api/calls-billing/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "billing" in response.json()["detail"]


def test_a_retry_count_and_a_whole_retry_policy_are_one_or_the_other():
    from urllib3.util import Retry

    with pytest.raises(TypeError):
        ServiceClient("product", token_source=SelfSignedTokenSource(), retries=1, retry=Retry(total=1))


@pytest.mark.django_db
def test_no_key_of_ours_to_sign_with_is_a_503_not_a_500(client, settings, tmp_path, peer):
    billing = peer([(200, {"bills": []})])
    settings.MS_TOKEN = {
        **settings.MS_TOKEN, "KEYS_DIR": tmp_path,  # holds no key of this service
        "SERVICE_URLS": {**settings.MS_TOKEN["SERVICE_URLS"], "billing": billing.url},
    }
    response = client.get("/api/calls-billing/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert billing.received == []  # nothing sent without a token
