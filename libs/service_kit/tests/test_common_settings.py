"""What common_settings gives every service: safe throttling identity, JSON everywhere."""
from django.test import Client
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import BaseThrottle


def test_throttling_ignores_x_forwarded_for_unless_proxies_are_trusted(settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    request = APIRequestFactory().post(
        "/api/auth/login/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert BaseThrottle().get_ident(request) == "203.0.113.7"


def test_plain_views_answer_other_methods_with_a_json_405_not_a_csrf_page():
    client = Client(enforce_csrf_checks=True)
    for path in ("/healthz", "/readyz", "/.well-known/jwks.json"):
        response = client.post(path)
        assert response.status_code == 405, path
        assert response.json() == {"detail": "Method not allowed.", "code": "method_not_allowed"}
        assert response["Allow"] == "GET, HEAD"


def test_a_csrf_failure_is_json(settings):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/api-auth/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


def test_the_jwks_is_cached_briefly_enough_for_peers_to_drop_a_revoked_key_within_90_s(db):
    from ms_token.jwks import RefreshPolicy, withdrawal_bound

    response = Client().get("/.well-known/jwks.json")
    assert response["Cache-Control"] == "public, max-age=30"
    # The contract's bound for every other service, even with an HTTP cache in between.
    assert withdrawal_bound(RefreshPolicy.from_settings()) <= 90


def test_allowed_hosts_default_takes_the_name_peers_call_the_service_by(monkeypatch, tmp_path):
    from service_kit.conf import common_settings

    monkeypatch.delenv("DJANGO_ALLOWED_HOSTS", raising=False)
    monkeypatch.setenv("PRODUCT_SERVICE_URL", "http://product.internal:8002")
    monkeypatch.setenv("BILLING_SERVICE_URL", "http://[fd00::3]:8003")
    assert common_settings(service="product", base_dir=tmp_path)["ALLOWED_HOSTS"] == [
        "127.0.0.1", "localhost", "[::1]", "product.internal",  # not the peers' hosts
    ]
    assert common_settings(service="billing", base_dir=tmp_path)["ALLOWED_HOSTS"][-1] == "[fd00::3]"
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "shop.example")
    assert common_settings(service="product", base_dir=tmp_path)["ALLOWED_HOSTS"] == ["shop.example"]


def test_the_shops_environment_becomes_the_libraries_settings(monkeypatch, tmp_path):
    """ms_token reads no environment: the shop's settings module hands it MS_KEYS_DIR,
    MS_SIGNING_KEY(_FILE), MS_REPLAY_CACHE and MS_TOKEN_SOURCE."""
    from service_kit.conf import common_settings

    monkeypatch.setenv("MS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("MS_SIGNING_KEY_FILE", str(tmp_path / "key.pem"))
    monkeypatch.setenv("MS_REPLAY_CACHE", "redis://127.0.0.1:6379/3")
    monkeypatch.setenv("MS_TOKEN_SOURCE", "token-service")
    config = common_settings(service="billing", base_dir=tmp_path)["MS_TOKEN"]
    assert config["SERVICE_NAME"] == "billing" and config["TOKEN_SERVICE_ISSUER"] == "user"
    assert config["KEYS_DIR"] == tmp_path / "keys" and config["SIGNING_KEY_FILE"] == str(tmp_path / "key.pem")
    assert config["REPLAY_CACHE"] == "redis://127.0.0.1:6379/3" and config["TOKEN_SOURCE"] == "token-service"
    assert set(config["SERVICE_URLS"]) == {"user", "product", "billing"}


def test_behind_trusted_proxies_a_request_is_https_when_the_proxy_says_so(monkeypatch, tmp_path):
    from service_kit.conf import common_settings

    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    monkeypatch.delenv("DJANGO_SECURE_COOKIES", raising=False)
    direct = common_settings(service="user", base_dir=tmp_path)
    # No proxy: a client's own X-Forwarded-Proto must not make a plain request look secure.
    assert direct["SECURE_PROXY_SSL_HEADER"] is None and direct["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "1")
    monkeypatch.setenv("DJANGO_SECURE_COOKIES", "1")
    monkeypatch.setenv("DJANGO_CSRF_TRUSTED_ORIGINS", "https://shop.example")
    proxied = common_settings(service="user", base_dir=tmp_path)
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")
    assert proxied["REST_FRAMEWORK"]["NUM_PROXIES"] == 1
    assert proxied["SESSION_COOKIE_SECURE"] is True and proxied["CSRF_COOKIE_SECURE"] is True
    assert proxied["CSRF_TRUSTED_ORIGINS"] == ["https://shop.example"]


def test_a_bad_proxy_count_stops_the_service_with_its_name(monkeypatch, tmp_path):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from service_kit.conf import common_settings

    for bad in ("one", "-1"):
        monkeypatch.setenv("TRUSTED_PROXY_COUNT", bad)
        with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXY_COUNT"):
            common_settings(service="user", base_dir=tmp_path)


def test_a_form_login_over_https_at_the_proxy_passes_the_csrf_check(settings, db):
    """The browser's Origin is https://...; the service hears plain HTTP from the Ingress."""
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "shop.example"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = Client(enforce_csrf_checks=True)
    client.get("/api-auth/login/")
    token = client.cookies["csrftoken"].value
    form = {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token}
    browser = {"HTTP_ORIGIN": "https://shop.example", "HTTP_HOST": "shop.example"}
    refused = client.post("/api-auth/login/", form, **browser)
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    answered = client.post("/api-auth/login/", form, **browser, HTTP_X_FORWARDED_PROTO="https")
    # Past the CSRF check: the login form answers (wrong password), not a CSRF refusal.
    assert answered.status_code == 200, answered.content[:200]
