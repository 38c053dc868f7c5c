"""``/readyz`` answers for the database and the replay store of X-MS-TOKENs."""
import pytest
from ms_token.testing import free_port


@pytest.mark.django_db
def test_readiness_reports_the_replay_store(client, settings):
    assert client.get("/readyz").status_code == 200
    settings.MS_TOKEN = {**settings.MS_TOKEN, "REPLAY_CACHE": f"redis://127.0.0.1:{free_port()}/0"}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["replay_store"] == "unavailable"
