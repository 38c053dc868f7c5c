import pytest


def test_healthz_answers_while_the_process_runs(api_client):
    response = api_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_checks_the_database(api_client):
    response = api_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_request_id_is_returned_and_kept_when_sane(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    made = api_client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")
    assert made["X-Request-ID"] != "bad id\n" and len(made["X-Request-ID"]) == 32


def test_jwks_publishes_public_keys_only(api_client):
    keys = api_client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all(set(k) == {"kty", "crv", "x", "kid", "alg", "use"} for k in keys)
    assert all(k["kty"] == "OKP" and k["crv"] == "Ed25519" for k in keys)


def test_unknown_url_is_a_json_404(api_client):
    response = api_client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_schema_and_offline_docs_are_served(api_client):
    assert api_client.get("/api/schema/").status_code == 200
    docs = api_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content and b"cdn" not in docs.content.lower()
