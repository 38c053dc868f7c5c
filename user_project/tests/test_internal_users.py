"""GET /api/internal/users/{id}/: other services (X-MS-TOKEN, scope users:read) only, each call
carrying a transaction token for that very user (the hostile transaction tokens:
test_txn_token_hostile.py)."""
import pytest
from rest_framework.test import APIClient

from ms_token.keys import load_key_ring
from ms_token.tokens import mint, mint_txn_token
from service_kit.testing import make_user_token, preload_peer_keys
from tests.helpers import assert_error

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def billing_keys_known():
    """Verify billing's tokens with its public keys from the test keys dir; no billing runs."""
    preload_peer_keys("billing")


def _path(user_id):
    return f"/api/internal/users/{user_id}/"


def txn_token_for(user_id) -> str:
    """A transaction token for ``user_id``, as this service issues it to billing."""
    token, _claims = mint_txn_token(subject=str(user_id), requester="billing")
    return token


def _as_billing(path, scope="users:read", method="GET", *, for_user=None, txn_token=None):
    """billing's client for one call; with a transaction token for ``for_user`` (the user of
    ``path`` by default), or exactly ``txn_token``, or none (``for_user=False``)."""
    if txn_token is None and for_user is not False:
        txn_token = txn_token_for(for_user if for_user is not None else path.rstrip("/").rsplit("/", 1)[1])
    token = mint("user", scope, method, path, issuer="billing", key=load_key_ring("billing").signing_key,
                 txn_token=txn_token)
    client = APIClient()
    client.credentials(HTTP_X_MS_TOKEN=token, **({"HTTP_TXN_TOKEN": txn_token} if txn_token else {}))
    return client


def test_billing_with_users_read_gets_the_shipping_details(alice, alice_client):
    alice_client.patch("/api/users/me/", {"shipping_address": "1 Rabbit Hole, Oxford"}, format="json")
    path = _path(alice.pk)
    response = _as_billing(path).get(path)
    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "email": "alice@example.com",
        "shipping_address": "1 Rabbit Hole, Oxford",
    }


def test_the_verification_log_names_the_transaction_and_the_user(alice, caplog):
    path = _path(alice.pk)
    txn_token = txn_token_for(alice.pk)
    with caplog.at_level("INFO", logger="ms_token"):
        assert _as_billing(path, txn_token=txn_token).get(path).status_code == 200
    from ms_token.verification import verify_txn_token

    txn = verify_txn_token(txn_token).txn
    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("ms_token verification"))
    assert line.endswith(f"outcome=accepted code=- caller=billing txn={txn} sub={alice.pk}")
    assert txn_token not in caplog.text and txn_token.split(".")[2] not in caplog.text


def test_without_a_transaction_token_billing_reads_no_one(alice):
    """billing's key alone (stolen, or a confused billing) reads no address."""
    path = _path(alice.pk)
    response = _as_billing(path, for_user=False).get(path)
    assert_error(response, 403, "txn_token_required")
    assert "shipping_address" not in response.json()


def test_a_transaction_token_for_another_user_is_403_subject_mismatch(alice):
    path = _path(alice.pk)
    response = _as_billing(path, for_user=alice.pk + 1).get(path)
    assert_error(response, 403, "subject_mismatch")
    assert "email" not in response.json()


def test_a_token_without_the_scope_is_403_insufficient_scope(alice):
    path = _path(alice.pk)
    assert_error(_as_billing(path, scope="products:read").get(path), 403, "insufficient_scope")


def test_a_user_access_token_as_bearer_is_refused(alice, alice_client):
    response = alice_client.get(_path(alice.pk))
    assert_error(response, 401, "not_authenticated")
    assert "shipping_address" not in response.json()


def test_a_staff_users_token_is_refused_too(alice, api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_user_token(user_id=alice.pk, is_staff=True)}")
    response = api_client.get(_path(alice.pk))
    assert_error(response, 401, "not_authenticated")
    assert "email" not in response.json()


def test_a_user_token_sent_as_x_ms_token_is_401(alice, alice_tokens, api_client):
    api_client.credentials(HTTP_X_MS_TOKEN=alice_tokens["access"])
    response = api_client.get(_path(alice.pk))
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == "MS-Token"


def test_a_session_user_is_refused(alice, password):
    client = APIClient()
    assert client.login(username="alice", password=password)
    response = client.get(_path(alice.pk))
    assert_error(response, 401, "not_authenticated")
    assert "email" not in response.json()


def test_no_credentials_is_401(alice, api_client):
    assert_error(api_client.get(_path(alice.pk)), 401, "not_authenticated")


def test_an_unknown_user_is_404(alice):
    path = _path(alice.pk + 1000)
    assert_error(_as_billing(path).get(path), 404, "not_found")


@pytest.mark.parametrize("user_id", ["0", "99999999999999999999999"])
def test_ids_that_cannot_be_a_row_are_404_not_a_crash(user_id):
    path = _path(user_id)
    assert_error(_as_billing(path).get(path), 404, "not_found")




def test_a_non_numeric_id_is_a_json_404(api_client):
    assert_error(api_client.get("/api/internal/users/abc/"), 404, "not_found")


def test_a_token_minted_for_another_user_path_is_refused(alice):
    other = _path(alice.pk + 1)
    response = _as_billing(other).get(_path(alice.pk))
    assert_error(response, 401, "token_request_mismatch")


def test_a_replayed_token_is_refused(alice):
    path = _path(alice.pk)
    client = _as_billing(path)
    assert client.get(path).status_code == 200
    assert_error(client.get(path), 401, "token_replayed")


def test_only_get_is_offered(alice):
    path = _path(alice.pk)
    response = _as_billing(path, method="DELETE").delete(path)
    assert_error(response, 405, "method_not_allowed")
    assert alice.__class__.objects.filter(pk=alice.pk).exists()
