"""GET /api/bills/ and /api/bills/{id}/: a user's own bills only, newest first, paginated."""

from .conftest import BILLS_URL, client_for, items


def make_bills(client, catalogue, count: int) -> list[dict]:
    made = []
    for quantity in range(1, count + 1):
        response = client.post(BILLS_URL, items((catalogue["mouse"], quantity)), format="json")
        assert response.status_code == 201
        made.append(response.json())
    return made


def test_the_list_shows_own_bills_newest_first(alice_client, bob, catalogue):
    alices = make_bills(alice_client, catalogue, 3)
    make_bills(client_for(bob), catalogue, 2)

    listed = alice_client.get(BILLS_URL).json()

    assert listed["count"] == 3
    assert [bill["id"] for bill in listed["results"]] == [bill["id"] for bill in reversed(alices)]
    assert listed["results"][0] == alices[-1]


def test_the_list_is_paginated_in_pages_of_20(alice_client, catalogue):
    made = make_bills(alice_client, catalogue, 21)

    first = alice_client.get(BILLS_URL).json()
    assert first["count"] == 21 and len(first["results"]) == 20 and first["previous"] is None
    second = alice_client.get(first["next"]).json()
    assert [bill["id"] for bill in second["results"]] == [made[0]["id"]]
    assert second["next"] is None
    assert alice_client.get(BILLS_URL, {"page": 3}).status_code == 404


def test_a_user_sees_their_bill(alice_client, catalogue):
    bill = make_bills(alice_client, catalogue, 1)[0]
    response = alice_client.get(f"{BILLS_URL}{bill['id']}/")
    assert response.status_code == 200 and response.json() == bill


def test_another_users_bill_is_a_404(alice_client, bob, catalogue):
    bill = make_bills(alice_client, catalogue, 1)[0]
    response = client_for(bob).get(f"{BILLS_URL}{bill['id']}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client_for(bob).get(BILLS_URL).json()["count"] == 0


def test_an_unknown_bill_is_a_404(alice_client):
    assert alice_client.get(f"{BILLS_URL}987654/").status_code == 404


def test_reading_bills_needs_a_user_token(api_client, db):
    assert api_client.get(BILLS_URL).status_code == 401
    assert api_client.get(f"{BILLS_URL}1/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(BILLS_URL).status_code == 401


def test_ids_beyond_a_database_integer_are_not_found_not_a_crash(alice_client):
    too_big = 2**63  # SQLite raises OverflowError on it; the URL must not even match
    for path in (f"{BILLS_URL}{too_big}/", f"{BILLS_URL}{too_big}/delivery/"):
        response = alice_client.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert alice_client.get(f"{BILLS_URL}{2**63 - 1}/delivery/").status_code == 404
