"""The library's metrics (``MS_TOKEN["METRICS"]``) recorded with prometheus-client: one count per
decision with bounded labels (a caller is named only when its signature verified and it is
trusted), the replay claim and the admission timed, every call to a peer and every JWKS fetch
counted. Without the setting nothing is recorded and prometheus-client is never imported."""
import subprocess
import sys
import time

import pytest
import responses
from prometheus_client import REGISTRY

from ms_token.client import ServiceCallError, ServiceClient
from ms_token.jwks import KeySetUnavailable, RemoteKeySet, clear_remote_key_sets
from ms_token.keys import load_key_ring
from ms_token.sources import SelfSignedTokenSource

from .conftest import DROP, assert_refused, configure, free_port, preload_peer_keys

pytestmark = pytest.mark.django_db

PROMETHEUS = "ms_token.contrib.prometheus.PrometheusMetrics"


@pytest.fixture(autouse=True)
def prometheus_metrics(settings):
    configure(settings, METRICS=PROMETHEUS)


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Samples of a metric family before and after: ``counts.delta(outcome=..., ...)``."""

    def __init__(self, name):
        self.name = name
        self.before = {self._key(s): s.value for s in self._samples()}

    def _samples(self):
        return [s for family in REGISTRY.collect() for s in family.samples if s.name == self.name]

    @staticmethod
    def _key(s):
        return tuple(sorted(s.labels.items()))

    def delta(self, **labels):
        key = tuple(sorted(labels.items()))
        now = {self._key(s): s.value for s in self._samples()}
        return now.get(key, 0.0) - self.before.get(key, 0.0)

    def changed(self):
        now = {self._key(s): s.value for s in self._samples()}
        return {dict(k).get("caller", "") + "/" + dict(k).get("code", ""): v - self.before.get(k, 0.0)
                for k, v in now.items() if v != self.before.get(k, 0.0)}


@pytest.fixture
def verifications():
    return Counts("ms_token_verifications_total")


def test_accepted_replayed_and_invalid_are_counted_with_their_caller(call, make_token, verifications):
    token = make_token()
    assert call(token).status_code == 200
    assert_refused(call(token), "token_replayed")
    assert_refused(call("garbage"), "token_invalid")
    assert verifications.delta(outcome="accepted", code="-", caller="billing") == 1
    assert verifications.delta(outcome="refused", code="token_replayed", caller="billing") == 1
    assert verifications.delta(outcome="refused", code="token_invalid", caller="unknown") == 1
    assert len(verifications.changed()) == 3


def test_a_refusal_after_the_signature_names_the_caller(call, make_token, verifications):
    assert_refused(call(make_token(exp=int(time.time()) - 60, iat=int(time.time()) - 70)), "token_expired")
    assert_refused(call(make_token(aud="user")), "token_audience_mismatch")
    assert_refused(call(make_token(htm="POST")), "token_request_mismatch")
    for code in ("token_expired", "token_audience_mismatch", "token_request_mismatch"):
        assert verifications.delta(outcome="refused", code=code, caller="billing") == 1, verifications.changed()


@pytest.mark.parametrize("claims, code", [
    ({"exp": int(time.time()) - 60, "iat": int(time.time()) - 70}, "token_invalid"),  # the signature fails first
    ({"aud": "user"}, "token_invalid"),
])
def test_a_forged_token_never_counts_against_the_caller_it_names(call, make_token, verifications, claims, code):
    stranger = load_key_ring("user").signing_key  # not billing's key: the signature cannot verify
    assert_refused(call(make_token(key=stranger.private_key, **claims)), code)
    assert verifications.changed() == {f"unknown/{code}": 1}


@pytest.mark.parametrize("issuer", ["mallory", "x" * 100, "billing\nbilling", "ünïcode"])
def test_an_untrusted_issuer_is_unknown_never_its_own_name(call, make_token, verifications, issuer):
    assert_refused(call(make_token(iss=issuer)), "untrusted_issuer")
    assert verifications.changed() == {"unknown/untrusted_issuer": 1}


def test_a_token_service_token_counts_for_the_service_it_speaks_for(call, make_token, verifications):
    preload_peer_keys("user")
    user_key = load_key_ring("user").signing_key
    token = make_token(header={"kid": user_key.kid}, key=user_key.private_key, iss="user", sub="billing")
    assert call(token).status_code == 200
    assert verifications.delta(outcome="accepted", code="-", caller="billing") == 1


def test_a_replay_store_that_does_not_answer_is_unavailable(call, make_token, settings, verifications):
    configure(settings, REPLAY_CACHE=f"redis://127.0.0.1:{free_port()}/0")
    claims = Counts("ms_token_replay_claim_duration_seconds_count")
    assert call(make_token()).status_code == 503
    assert verifications.delta(outcome="unavailable", code="service_unavailable", caller="billing") == 1
    assert claims.delta(store="redis", outcome="unavailable") == 1


def test_the_admission_and_the_claim_are_timed(call, make_token):
    admissions = Counts("ms_token_verification_duration_seconds_count")
    claims = Counts("ms_token_replay_claim_duration_seconds_count")
    token = make_token()
    call(token)
    call(token)
    call(make_token(jti=DROP))
    assert admissions.delta(outcome="accepted") == 1
    assert admissions.delta(outcome="refused") == 2
    assert claims.delta(store="database", outcome="claimed") == 1
    assert claims.delta(store="database", outcome="replayed") == 1


def test_jwks_fetches_and_their_failures_are_counted_by_issuer(settings):
    url = "http://billing.test/.well-known/jwks.json"
    configure(settings, JWKS_URLS={"billing": url})
    clear_remote_key_sets()
    fetches = Counts("ms_token_jwks_fetches_total")
    with responses.RequestsMock() as mocked:
        mocked.get(url, json=load_key_ring("billing").jwks())
        mocked.get(url, status=500)
        key_set = RemoteKeySet(url)
        key_set._fetch()
        with pytest.raises(KeySetUnavailable, match="500"):
            key_set._fetch()
    assert fetches.delta(issuer="billing", outcome="ok") == 1
    assert fetches.delta(issuer="billing", outcome="failed") == 1


@pytest.fixture
def as_billing(billing_key):
    return SelfSignedTokenSource(issuer="billing", key=billing_key)


@pytest.mark.parametrize("answers, outcome", [
    ([(200, {"ok": True})], "ok"),
    ([(404, {"detail": "no", "code": "not_found"})], "client_error"),
    ([(401, {"detail": "no", "code": "token_replayed"})], "refused"),
    ([(503, {"detail": "busy", "code": "busy"})], "server_error"),
])
def test_every_call_to_a_peer_is_counted_by_outcome(peer, as_billing, settings, answers, outcome):
    configure(settings, BACKOFF_FACTOR=0)
    server = peer(answers)
    calls = Counts("service_calls_total")
    timed = Counts("service_call_duration_seconds_count")
    client = ServiceClient("product", token_source=as_billing, base_url=server.url)
    try:
        client.get("/api/products/", scope="products:read")
    except ServiceCallError:
        pass
    assert calls.delta(peer="product", outcome=outcome) == 1
    assert timed.delta(peer="product", outcome=outcome) == 1
    assert len(calls.changed()) == 1


def test_a_dead_peer_is_unreachable(as_billing, settings):
    configure(settings, BACKOFF_FACTOR=0)
    calls = Counts("service_calls_total")
    client = ServiceClient("product", token_source=as_billing, base_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ServiceCallError):
        client.get("/api/products/", scope="products:read")
    assert calls.delta(peer="product", outcome="unreachable") == 1


def test_without_the_setting_nothing_is_recorded_and_prometheus_client_is_not_needed(tmp_path):
    # A fresh process where neither prometheus_client nor OpenTelemetry's SDK can be imported:
    # a token is still admitted, and a replay refused.
    script = f"""
import sys
for absent in ("prometheus_client", "opentelemetry.sdk"):
    sys.modules[absent] = None  # any import of it now fails
import django
from django.conf import settings
settings.configure(INSTALLED_APPS=["ms_token"], MS_TOKEN={{
    "SERVICE_NAME": "product", "KEYS_DIR": {str(tmp_path)!r}, "TRUSTED_ISSUERS": {{"billing": ["a"]}},
    "SERVICE_URLS": {{"billing": "http://127.0.0.1:9"}}}})
django.setup()
from ms_token.admission import admit
from ms_token.exceptions import TokenRejected
from ms_token.keys import load_key_ring
from ms_token.observability import NoMetrics
from ms_token.settings import ms_token_settings
from ms_token.testing import create_keys, mint_as, trust_keys

class Memory:
    def __init__(self):
        self.seen = set()
    def claim(self, key, remember_until):
        fresh = key not in self.seen
        self.seen.add(key)
        return fresh

from pathlib import Path
create_keys(Path({str(tmp_path)!r}), "billing")
trust_keys("billing", load_key_ring("billing"))
token = mint_as(load_key_ring("billing").signing_key, issuer="billing", audience="product", scope="a",
                method="GET", path="/x")
store = Memory()
assert admit(token, method="GET", path="/x", body=b"", store=store).caller == "billing"
try:
    admit(token, method="GET", path="/x", body=b"", store=store)
except TokenRejected as error:
    assert error.code == "token_replayed"
else:
    raise AssertionError("a replay was admitted")
assert isinstance(ms_token_settings.METRICS, NoMetrics)
assert "prometheus_client" not in sys.modules or sys.modules["prometheus_client"] is None
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr
