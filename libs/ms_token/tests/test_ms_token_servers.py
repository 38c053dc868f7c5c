"""What real servers do with the header's spelling and with two headers.

Django's test client maps ``X_MS_TOKEN`` to the same META key as ``X-MS-TOKEN``; real servers
do not: runserver strips headers with underscores and gunicorn drops them (``header_map``).
Both join repeated headers with a comma, which no token contains.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest


from .conftest import SERVICE_PATH, JWKSPeer, free_port, http_server

LIBS = Path(__file__).resolve().parents[1]


def raw_get(base_url, headers):
    host, port = base_url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", SERVICE_PATH)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    status, body = response.status, json.loads(response.read() or b"{}")
    connection.close()
    return status, body


def check_header_spelling(base_url, make_token):
    token = make_token()
    status, body = raw_get(base_url, [("X_MS_TOKEN", token)])
    assert status == 401 and body["code"] == "not_authenticated"  # as if no token were sent
    status, body = raw_get(base_url, [("X-MS-TOKEN", make_token()), ("X-MS-TOKEN", make_token())])
    assert status == 401 and body["code"] == "token_invalid"
    status, body = raw_get(base_url, [("X-MS-TOKEN", token)])
    assert status == 200, body  # the token sent with underscores was never used


@pytest.mark.django_db(transaction=True)
def test_runserver_handler_ignores_underscores_and_refuses_two_headers(live_server, make_token):
    check_header_spelling(live_server.url, make_token)


@pytest.fixture
def gunicorn_service(tmp_path):
    """The stand-in service under gunicorn (2 workers), fetching billing's keys from a real JWKS URL."""
    with http_server(JWKSPeer, keys_dir=None, hits=0) as jwks:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(LIBS),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'product.sqlite3'}",
            "TEST_BILLING_URL": jwks.url,
        }
        subprocess.run([sys.executable, "-m", "django", "migrate", "-v", "0"], cwd=LIBS, env=env, check=True)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        process = subprocess.Popen(
            [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "tests.wsgi:application"],
            cwd=LIBS, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:  # poll readiness, bounded: a 200 from /healthz is the signal, not the time
                if process.poll() is not None:
                    raise RuntimeError("gunicorn exited before it was healthy")
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                try:
                    connection.request("GET", "/healthz")
                    if connection.getresponse().status == 200:
                        break
                except OSError:
                    pass
                finally:
                    connection.close()
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not become healthy in 30s")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_gunicorn_drops_underscores_and_refuses_two_headers(gunicorn_service, make_token):
    check_header_spelling(gunicorn_service, make_token)


def test_twenty_copies_across_gunicorn_processes_exactly_one_accepted(gunicorn_service, make_token):
    token = make_token()
    barrier = threading.Barrier(20)
    results = []

    def send():
        barrier.wait(timeout=10)
        results.append(raw_get(gunicorn_service, [("X-MS-TOKEN", token)]))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(status for status, _ in results) == [200] + [401] * 19
    assert {body["code"] for status, body in results if status == 401} == {"token_replayed"}
