"""Errors never leak, against real servers: a Host outside ALLOWED_HOSTS is a JSON 400
``disallowed_host`` and a body over the size limit a JSON 413 ``request_too_large``, with debug
off (the shop under gunicorn) and on (runserver, as ``make up`` runs it), never Django's debug
page with the settings and the environment; the probes answer whatever the Host.
"""
from __future__ import annotations

import http.client
import json
import secrets
from urllib.parse import urlsplit

import pytest
import requests

from shopdev.processes import ServiceProcess, database_prefix, free_port, fresh_database_url


TIMEOUT = 30
# Something the process's environment holds that no answer may show (runserver's debug page
# lists the whole environment: database URLs with their passwords).
CANARY = "canary-" + secrets.token_hex(8)
OVERSIZED = 3 * 1024 * 1024  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE is 2.5 MiB
BODY_PATHS = {"user": "/api/auth/login/", "product": "/api/products/", "billing": "/api/bills/"}


@pytest.fixture(scope="module")
def debug_user_service(tmp_path_factory):
    """The user service alone in debug mode under runserver, as `make up` runs it."""
    work = tmp_path_factory.mktemp("debug-user")
    process = ServiceProcess(
        "user", port=free_port(), server="runserver", log_dir=work,
        database_url=fresh_database_url("user", f"{database_prefix('debug')}_user", work),
        env={"DJANGO_DEBUG": "1", "SHOP_TEST_CANARY": CANARY},
    )
    try:
        yield process.migrate().start()
    finally:
        process.stop()


def servers(shop, debug_user_service):
    """(name, base URL) of every server to ask: the shop's three, and the debug one."""
    return [*((service, shop.url(service)) for service in BODY_PATHS), ("user", debug_user_service.url)]


def get_with_host(url: str, path: str, host: str, *, accept: str = "application/json") -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` with the Host header given (requests would send the URL's own)."""
    address = urlsplit(url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=TIMEOUT)
    try:
        connection.request("GET", path, headers={"Host": host, "Accept": accept})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected: int, code: str) -> None:
    assert status == expected, body[:500]
    assert headers["content-type"].startswith("application/json"), headers
    document = json.loads(body)
    assert document["code"] == code and isinstance(document["detail"], str), document
    assert CANARY.encode() not in body


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_host_outside_allowed_hosts_is_a_json_400(shop, debug_user_service, accept):
    for service, url in servers(shop, debug_user_service):
        for path in ("/api/", BODY_PATHS[service], "/admin/login/"):
            status, headers, body = get_with_host(url, path, "evil.example", accept=accept)
            assert_json_error(status, headers, body, 400, "disallowed_host")
            assert headers.get("x-request-id")


@pytest.mark.parametrize("host", ["10.1.2.3:8000", "[fd00::7]", "pod-7.internal"])
def test_the_probes_answer_whatever_the_host(shop, debug_user_service, host):
    for _, url in servers(shop, debug_user_service):
        for path, expected in (("/healthz", b'"ok"'), ("/readyz", b'"ready"')):
            status, _, body = get_with_host(url, path, host)
            assert status == 200 and expected in body, (url, path, body)


def test_a_body_over_the_size_limit_is_a_json_413(shop, debug_user_service):
    for service, url in servers(shop, debug_user_service):
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            response = requests.post(
                url + BODY_PATHS[service], data=b"x" * OVERSIZED, headers={"Content-Type": content_type,
                                                                          "Accept": "text/html"},
                timeout=TIMEOUT,
            )
            assert_json_error(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                              response.content, 413, "request_too_large")
        # A form of the browsable API too, where Django's CSRF check would read the body first.
        response = requests.post(url + "/api-auth/login/", data=b"x" * OVERSIZED,
                                 headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=TIMEOUT)
        assert response.status_code == 413 and response.json()["code"] == "request_too_large"
