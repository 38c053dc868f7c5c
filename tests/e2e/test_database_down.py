"""A service whose database does not answer says 503 (retry), never 500: on the API (DRF) and on
Django's own HTML views alike."""
from __future__ import annotations

import requests

from shopdev.processes import ServiceProcess, free_port


def test_a_database_that_does_not_answer_is_a_503_not_a_500(tmp_path):
    # Nothing listens there: every query fails to connect, as while PostgreSQL restarts.
    down = f"postgres://postgres@127.0.0.1:{free_port()}/nowhere"
    with ServiceProcess("user", port=free_port(), database_url=down, log_dir=tmp_path, workers=1).start() as user:
        login = requests.post(user.url + "/api/auth/login/", json={"username": "alice", "password": "x" * 12}, timeout=10)
        assert login.status_code == 503, login.text
        assert login.json()["code"] == "service_unavailable"
        assert login.headers["Retry-After"] == "1"

        # Django's admin login form (not DRF): its throttle reads the database before any view.
        session = requests.Session()
        form = session.get(user.url + "/admin/login/", timeout=10)
        assert form.status_code == 200
        admin = session.post(user.url + "/admin/login/", timeout=10, headers={"Referer": user.url + "/admin/login/"},
                             data={"username": "a", "password": "b", "csrfmiddlewaretoken": session.cookies["csrftoken"]})
        assert admin.status_code == 503, admin.text[:300]
        assert admin.json()["code"] == "service_unavailable"

        assert requests.get(user.url + "/readyz", timeout=10).status_code == 503
