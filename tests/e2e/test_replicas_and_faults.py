"""Several processes of one service, and the failures of the things the services depend on."""
from __future__ import annotations

import threading
from collections import Counter

import requests

import forge
from helpers import create_product, register, staff_of, wait_until

PATH = "/api/products/"


def _get(url: str, token: str) -> requests.Response:
    return requests.get(url + PATH, headers={"X-MS-TOKEN": token}, timeout=10)


def _assert_one_store(first_url: str, second_url: str, billing_key) -> None:
    """A token accepted by one replica is a replay to the other, both ways round."""
    for accepting, refusing in ((first_url, second_url), (second_url, first_url)):
        token = forge.token(billing_key)
        accepted = _get(accepting, token)
        assert accepted.status_code == 200, accepted.text
        refused = _get(refusing, token)
        assert (refused.status_code, refused.json().get("code")) == (401, "token_replayed"), refused.text


def test_replicas_on_one_database_share_the_replay_store(shop):
    """The default replay store is the callee's database (PostgreSQL in CI; one SQLite file here)."""
    replica = shop.replica("product")
    _assert_one_store(shop.url("product"), replica.url, shop.signing_key("billing"))


def test_replicas_on_one_redis_share_the_replay_store(shop, redis_server):
    env = {"MS_REPLAY_CACHE": redis_server.url}
    first, second = shop.replica("product", env=env), shop.replica("product", env=env)
    _assert_one_store(first.url, second.url, shop.signing_key("billing"))


def test_replay_store_down_means_refusal_then_recovery(shop, redis_server):
    product = shop.replica("product", env={"MS_REPLAY_CACHE": redis_server.url})
    key = shop.signing_key("billing")
    assert _get(product.url, forge.token(key)).status_code == 200

    redis_server.stop()
    refused = _get(product.url, forge.token(key))
    assert refused.status_code == 503, f"fail closed: a store that does not answer means refusal, got {refused.text}"
    assert refused.json()["code"]
    assert requests.get(product.url + "/readyz", timeout=10).status_code == 503

    redis_server.start()  # same port: the callee reconnects by itself
    wait_until(lambda: _get(product.url, forge.token(key)).status_code == 200, timeout=20, interval=0.2,
               what="the callee to accept again once its replay store is back")
    assert requests.get(product.url + "/readyz", timeout=10).status_code == 200


class BillStream:
    """One user making bills in a loop through billing, recording every answer in order."""

    def __init__(self, billing_url: str, headers: dict[str, str], items: list[dict]) -> None:
        self.url = billing_url + "/api/bills/"
        self.headers = headers
        self.items = items
        self.answers: list[requests.Response] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            try:
                self.answers.append(session.post(self.url, json={"items": self.items}, headers=self.headers, timeout=20))
            except requests.RequestException as exc:  # billing itself must never drop us
                self.errors.append(exc)
                return

    def statuses_since(self, index: int) -> list[int]:
        return [r.status_code for r in self.answers[index:]]

    def start(self) -> "BillStream":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def _kill_restart_and_check(shop, *, peer, billing, items: list[dict]) -> None:
    """Bills made in a loop through ``billing`` while ``peer`` (a process billing depends on) is
    killed and restarted: 503 and nothing stored while it is dead, bills again once it is back,
    with no restart of billing."""
    buyer = register(shop)
    stream = BillStream(billing.url, buyer.headers, items).start()
    try:
        wait_until(lambda: stream.statuses_since(0).count(201) >= 3, timeout=30, what="bills before the kill")
        peer.kill()
        killed_at = len(stream.answers)
        wait_until(lambda: stream.statuses_since(killed_at).count(503) >= 3, timeout=30, what=f"503s while {peer.service} is dead")
        peer.start()  # the same port, a new process
        restarted_at = len(stream.answers)
        wait_until(lambda: stream.statuses_since(restarted_at).count(201) >= 3, timeout=30, what="bills after the restart")
    finally:
        stream.stop()

    assert not stream.errors, stream.errors
    statuses = Counter(r.status_code for r in stream.answers)
    assert set(statuses) <= {201, 503}, statuses
    for response in stream.answers:
        if response.status_code == 503:
            assert response.json()["code"] == "service_unavailable", response.text
    # Nothing half-written: exactly the bills answered 201 are stored, each once.
    created_ids = [r.json()["id"] for r in stream.answers if r.status_code == 201]
    assert len(set(created_ids)) == len(created_ids)
    listed = requests.get(billing.url + "/api/bills/", headers=buyer.headers, params={"page_size": 1}, timeout=10)
    assert listed.status_code == 200, listed.text
    assert listed.json()["count"] == len(created_ids), (listed.json()["count"], statuses)


def test_product_killed_mid_run_then_restarted(sourced_shop, sourced_staff):
    """For both token sources of billing."""
    shop = sourced_shop
    product = shop.replica("product")
    billing = shop.replica("billing", env={"PRODUCT_SERVICE_URL": product.url})
    items = [{"product_id": create_product(shop, sourced_staff)["id"], "quantity": 1}]
    _kill_restart_and_check(shop, peer=product, billing=billing, items=items)


def test_token_service_killed_mid_run_then_restarted(token_service_shop, staff_accounts):
    """With MS_TOKEN_SOURCE=token-service, billing asks user for every token: user dead means
    billing answers 503 and stores nothing (billing keeps verifying user tokens with the user
    service's keys it already fetched: one worker, fetched by the first bill)."""
    shop = token_service_shop
    token_service = shop.replica("user")
    billing = shop.replica("billing", env={"USER_SERVICE_URL": token_service.url}, workers=1)
    items = [{"product_id": create_product(shop, staff_of(shop, staff_accounts))["id"], "quantity": 1}]
    _kill_restart_and_check(shop, peer=token_service, billing=billing, items=items)
