"""Idempotency-Key: one bill per key and body, enforced by the database, also under a burst of
concurrent retries against a real billing service."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone

from bills import peers, services
from bills.models import Bill, IdempotencyRecord

from .conftest import BILLS_URL, HTTP_TIMEOUT, bearer, client_for, items


def lines_of(body: dict) -> list[services.BillLine]:
    return [services.BillLine(**item) for item in body["items"]]


def test_a_retry_with_the_same_key_and_body_returns_the_same_bill(alice_client, catalogue):
    body = items((catalogue["keyboard"], 1), (catalogue["mouse"], 2))
    first = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    retry = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")

    assert first.status_code == 201 and "Idempotent-Replayed" not in first
    assert retry.status_code == 200 and retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    assert Bill.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert record.state == IdempotencyRecord.State.DONE and record.bill_id == first.json()["id"]


def test_the_same_body_spelled_differently_is_the_same_request(alice_client, catalogue):
    keyboard_id = catalogue["keyboard"]["id"]
    compact = f'{{"items":[{{"product_id":{keyboard_id},"quantity":2}}]}}'
    spaced = f'{{ "items" : [ {{ "quantity" : 2 , "product_id" : {keyboard_id} }} ] }}'
    first = alice_client.post(BILLS_URL, compact, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    retry = alice_client.post(BILLS_URL, spaced, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]


def test_the_same_key_with_another_body_is_a_422(alice_client, catalogue):
    first = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )
    other = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 2)), format="json", HTTP_IDEMPOTENCY_KEY="k2"
    )

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Bill.objects.count() == 1


def test_a_retry_while_the_first_is_still_running_is_a_409(alice_client, alice, catalogue):
    body = items((catalogue["mouse"], 1))
    # The first request has claimed the key and is waiting for the product service.
    IdempotencyRecord.objects.create(
        user_id=alice.id, key="busy", fingerprint=services.request_fingerprint(lines=lines_of(body))
    )
    response = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="busy")

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"
    assert not Bill.objects.exists()


def test_another_body_under_a_running_key_is_a_422_not_a_409(alice_client, alice, catalogue):
    IdempotencyRecord.objects.create(
        user_id=alice.id,
        key="busy",
        fingerprint=services.request_fingerprint(lines=lines_of(items((catalogue["mouse"], 1)))),
    )
    response = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 5)), format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 422


def test_a_claim_left_by_a_dead_attempt_is_taken_over(alice_client, alice, catalogue):
    body = items((catalogue["mouse"], 1))
    stale = IdempotencyRecord.objects.create(
        user_id=alice.id, key="orphan", fingerprint=services.request_fingerprint(lines=lines_of(body))
    )
    long_ago = timezone.now() - services.stale_claim_after() - timedelta(seconds=1)
    IdempotencyRecord.objects.filter(pk=stale.pk).update(updated_at=long_ago)

    response = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="orphan")

    assert response.status_code == 201
    record = IdempotencyRecord.objects.get(pk=stale.pk)
    assert record.state == IdempotencyRecord.State.DONE and record.bill_id == response.json()["id"]
    assert record.claim_token != stale.claim_token


def test_an_attempt_whose_claim_was_taken_over_stores_no_bill(alice_client, alice, catalogue, monkeypatch):
    """The slow first attempt wakes up after a retry took its claim over: it must not make a
    second bill (its claim token no longer matches)."""
    real_fetch = peers.fetch_products

    def fetch_while_taken_over(**kwargs):
        IdempotencyRecord.objects.filter(user_id=alice.id, key="slow").update(claim_token="0" * 32)
        return real_fetch(**kwargs)

    monkeypatch.setattr(peers, "fetch_products", fetch_while_taken_over)
    response = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY="slow"
    )

    assert response.status_code == 409
    assert not Bill.objects.exists()
    assert IdempotencyRecord.objects.get(key="slow").state == IdempotencyRecord.State.IN_PROGRESS


def test_keys_belong_to_one_user(alice_client, bob, catalogue):
    body = items((catalogue["mouse"], 1))
    alices = alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    bobs = client_for(bob).post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert (alices.status_code, bobs.status_code) == (201, 201)
    assert alices.json()["id"] != bobs.json()["id"]
    assert bobs.json()["user_id"] == bob.id


def test_a_rejected_request_does_not_use_up_its_key(alice_client, catalogue):
    malformed = alice_client.post(BILLS_URL, {"items": []}, format="json", HTTP_IDEMPOTENCY_KEY="fix-me")
    unknown = alice_client.post(
        BILLS_URL,
        {"items": [{"product_id": 987654, "quantity": 1}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="fix-me",
    )
    fixed = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY="fix-me"
    )

    assert (malformed.status_code, unknown.status_code, fixed.status_code) == (400, 400, 201)
    assert Bill.objects.count() == 1


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "caf\u00e9", "tab\there"], ids=["empty", "too long", "non-ascii", "control"]
)
def test_a_malformed_key_is_a_400(alice_client, catalogue, key):
    response = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not Bill.objects.exists()


def test_keys_are_kept_for_24_hours(alice_client, catalogue):
    for key in ("day-old", "hours-old"):
        assert (
            alice_client.post(
                BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY=key
            ).status_code
            == 201
        )
    now = timezone.now()
    IdempotencyRecord.objects.filter(key="day-old").update(created_at=now - timedelta(hours=24, minutes=1))
    IdempotencyRecord.objects.filter(key="hours-old").update(created_at=now - timedelta(hours=23))

    call_command("purge_idempotency_keys", "--hours", "1")  # asking for less than 24 h keeps 24 h

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["hours-old"]
    assert Bill.objects.count() == 2  # forgetting a key never deletes its bill
    replay = alice_client.post(
        BILLS_URL, items((catalogue["mouse"], 1)), format="json", HTTP_IDEMPOTENCY_KEY="hours-old"
    )
    assert replay.status_code == 200


# --- Against a real billing service (gunicorn: 2 workers x 4 threads) --------------------------------


def _post_at_once(url: str, body: dict, headers: dict, count: int) -> list[requests.Response]:
    start = threading.Barrier(count)

    def post(_):
        start.wait(timeout=HTTP_TIMEOUT)
        return requests.post(url, json=body, headers=headers, timeout=HTTP_TIMEOUT)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(post, range(count)))


@pytest.mark.parametrize("attempt", range(3))
def test_eight_concurrent_retries_make_one_bill(shop, catalogue, stranger_token, attempt):
    token = stranger_token()
    headers = {**bearer(token), "Idempotency-Key": f"burst-{attempt}"}
    body = items((catalogue["keyboard"], 1), (catalogue["cable"], 3))

    responses = _post_at_once(shop.url("billing", BILLS_URL), body, headers, 8)

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 201, 409}, [r.text for r in responses]
    assert statuses.count(201) == 1
    bill_ids = {r.json()["id"] for r in responses if r.status_code in (200, 201)}
    assert len(bill_ids) == 1
    assert all(r.json()["code"] == "idempotency_key_in_use" for r in responses if r.status_code == 409)

    listed = requests.get(shop.url("billing", BILLS_URL), headers=bearer(token), timeout=HTTP_TIMEOUT).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] in bill_ids
    # Once the first is done, every retry gets that bill.
    late = requests.post(shop.url("billing", BILLS_URL), json=body, headers=headers, timeout=HTTP_TIMEOUT)
    assert late.status_code == 200 and late.json()["id"] in bill_ids


def test_eight_concurrent_requests_without_a_key_make_eight_bills(shop, catalogue, stranger_token):
    """The control: without a key every request is a new bill, so the test above can fail."""
    token = stranger_token()
    responses = _post_at_once(
        shop.url("billing", BILLS_URL), items((catalogue["mouse"], 1)), bearer(token), 8
    )

    assert [r.status_code for r in responses] == [201] * 8
    listed = requests.get(shop.url("billing", BILLS_URL), headers=bearer(token), timeout=HTTP_TIMEOUT).json()
    assert listed["count"] == 8


def test_a_claim_younger_than_the_configured_window_is_not_taken_over(alice_client, alice, catalogue, settings):
    settings.IDEMPOTENCY_STALE_CLAIM_SECONDS = 30
    body = items((catalogue["mouse"], 1))
    claim = IdempotencyRecord.objects.create(
        user_id=alice.id, key="young", fingerprint=services.request_fingerprint(lines=lines_of(body))
    )
    IdempotencyRecord.objects.filter(pk=claim.pk).update(updated_at=timezone.now() - timedelta(seconds=29))
    assert alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="young").status_code == 409

    IdempotencyRecord.objects.filter(pk=claim.pk).update(updated_at=timezone.now() - timedelta(seconds=31))
    assert alice_client.post(BILLS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="young").status_code == 201
