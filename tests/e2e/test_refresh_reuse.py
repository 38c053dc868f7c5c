"""Refresh token rotation with reuse detection (RFC 9700), against the user service under
gunicorn: a refresh token that comes back after it was rotated is refused, and every refresh token
of its login with it, whoever refreshed first; two refreshes of one token at once never both
succeed; logging out ends one login, not the user's others.
"""
from __future__ import annotations

import threading

import requests

from helpers import login

TIMEOUT = 30


def refresh(shop, token: str) -> requests.Response:
    return requests.post(shop.url("user") + "/api/auth/refresh/", json={"refresh": token}, timeout=TIMEOUT)


def logout(shop, token: str) -> requests.Response:
    return requests.post(shop.url("user") + "/api/auth/logout/", json={"refresh": token}, timeout=TIMEOUT)


def assert_refused(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "token_not_valid"


def test_thief_first_the_victims_reuse_logs_the_thief_out(shop, account):
    stolen = account.refresh
    thiefs = refresh(shop, stolen)
    assert thiefs.status_code == 200
    thief_line = refresh(shop, thiefs.json()["refresh"]).json()["refresh"]  # the thief keeps going

    assert_refused(refresh(shop, stolen))  # the victim, with the token the thief already used
    assert_refused(refresh(shop, thief_line))
    assert_refused(logout(shop, thief_line))


def test_victim_first_the_thiefs_reuse_ends_the_login(shop, account):
    stolen = account.refresh
    victims = refresh(shop, stolen)
    assert victims.status_code == 200

    assert_refused(refresh(shop, stolen))  # the thief, too late
    assert_refused(refresh(shop, victims.json()["refresh"]))  # so the victim logs in again
    again = login(shop, account.username, account.password)
    assert refresh(shop, again["refresh"]).status_code == 200


def test_two_refreshes_of_one_token_at_once_never_both_succeed(shop, account):
    """Eight rounds of two refreshes of one token released together (gunicorn: 2 workers x 4
    threads): at most one pair per round. A loser is a reuse, so its login ends with it."""
    for _ in range(8):
        token = login(shop, account.username, account.password)["refresh"]
        barrier = threading.Barrier(2)
        answers: list[requests.Response] = []

        def use():
            barrier.wait(timeout=TIMEOUT)
            answers.append(refresh(shop, token))

        threads = [threading.Thread(target=use) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [200, 401], [answer.text for answer in answers]
        winner = next(answer for answer in answers if answer.status_code == 200)
        assert_refused(refresh(shop, winner.json()["refresh"]))


def test_logout_ends_one_login_and_leaves_the_others(shop, account):
    phone = login(shop, account.username, account.password)
    laptop_line = refresh(shop, account.refresh).json()["refresh"]

    assert logout(shop, phone["refresh"]).status_code == 205
    assert_refused(refresh(shop, phone["refresh"]))
    assert refresh(shop, laptop_line).status_code == 200
