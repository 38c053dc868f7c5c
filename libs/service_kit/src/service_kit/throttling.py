"""Throttles for every way in: logging in (per client address and per username) and registering.

DRF's ``SimpleRateThrottle`` keeps each key's attempt times in the cache, and a view checks its
throttles one after the other: a request refused by one is still recorded by the next, and two
requests served at once read the same history and both get through. Here a request is checked
against all of its limits before anything is written, and recorded in all of them or in none; the
recording happens under a short lock per key (``cache.add``, atomic on the database cache and on
Redis), so requests served at once cannot pass more attempts than the limit.

    class LoginView(GenericAPIView):
        throttle_classes = [LoginThrottle]

The forms that log in (Django admin's, the browsable API's) are throttled by
:class:`LoginThrottleMiddleware` with the same limits and counters.
"""
from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.core.cache import cache as default_cache
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from .conf import parse_rate
from .errors import error_body
from .usernames import username_key

# The lock is held for a few cache round trips; should its holder die, the key is free again
# after this long.
LOCK_SECONDS = 10
LOCK_ATTEMPTS = 5
LOCK_RETRY_SECONDS = 0.02
# What a refused request is told to wait when another attempt with the same identity is being
# recorded at that very moment.
BUSY_WAIT_SECONDS = 1.0
USERNAME_FIELD = "username"  # of the API login's body and of Django's login forms


class RateLimit:
    """At most N attempts in any window of ``duration`` seconds for one identity (an address, a
    username). The rate is ``DEFAULT_THROTTLE_RATES[scope]`` (read on every request, so settings
    overrides apply), else ``default_rate``."""

    def __init__(self, scope: str, default_rate: str) -> None:
        self.scope = scope
        self.default_rate = default_rate

    def rate(self) -> tuple[int, int]:
        return parse_rate(api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or self.default_rate)

    def identity(self, request) -> str | None:
        """Whom this request's attempt counts against; None: not counted."""
        raise NotImplementedError

    def cache_key(self, identity: str) -> str:
        # Hashed: any text (an IPv6 address, a username in any script) makes a short, safe key.
        digest = hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()
        return f"throttle:{self.scope}:{digest}"


class ClientAddressLimit(RateLimit):
    """Per client address: the socket's, unless ``NUM_PROXIES`` trusted proxies set
    ``X-Forwarded-For`` (DRF's ``get_ident``). An IPv6 client counts by its /64, the block one
    host is given: counting single addresses would give it as many limits as it has addresses."""

    def identity(self, request) -> str | None:
        return client_network(BaseThrottle().get_ident(request)) or None


IPV6_CLIENT_PREFIX = 64


def client_network(address: str) -> str:
    """An IPv4 address as it is; an IPv6 one as its /64 (an IPv4-mapped one as its IPv4)."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return str(parsed)


class UsernameLimit(RateLimit):
    """Per account, whatever the address: password guessing spread over many addresses is
    limited too. Keyed on the name as login compares it (``username_key``: "Alice", "ALICE" and
    "ａｌｉｃｅ" log into one account, so they are one identity to a guesser). A body without a
    string username is not counted: it cannot log anyone in."""

    def identity(self, request) -> str | None:
        data = request.data if isinstance(request, Request) else request.POST
        username = data.get(USERNAME_FIELD) if isinstance(data, dict) else None
        return username_key(username) if isinstance(username, str) else None


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int
    duration: int


class AllOrNothingThrottle(BaseThrottle):
    """A DRF throttle over several :class:`RateLimit`: a request is admitted when it is within
    every limit, and only then recorded in each; a refused request writes nothing."""

    limits: tuple[RateLimit, ...] = ()
    cache = default_cache
    timer = time.time

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request, view) -> bool:
        now = self.timer()
        counters = []
        for limit in self.limits:  # in order, each read alone: a full one ends the check
            identity = limit.identity(request)
            if identity is None:
                continue
            counter = _Counter(limit.cache_key(identity), *limit.rate())
            self._wait = self._over_limit([counter], self._histories([counter], now), now)
            if self._wait is not None:
                return False  # under a flood: one read per request, no write, nothing parsed
            counters.append(counter)
        if not counters:
            return True
        locks = sorted(f"{counter.key}:lock" for counter in counters)
        held: list[str] = []
        try:
            for lock in locks:
                if not self._acquire(lock):
                    self._wait = BUSY_WAIT_SECONDS
                    return False
                held.append(lock)
            now = self.timer()
            histories = self._histories(counters, now)  # again: another attempt may just have been recorded
            self._wait = self._over_limit(counters, histories, now)
            if self._wait is not None:
                return False
            for counter, history in zip(counters, histories):
                self.cache.set(counter.key, [now, *history], counter.duration)
            return True
        finally:
            if held:
                self.cache.delete_many(held)

    def wait(self) -> float | None:
        return self._wait

    def _acquire(self, lock: str) -> bool:
        for attempt in range(LOCK_ATTEMPTS):
            if self.cache.add(lock, 1, LOCK_SECONDS):
                return True
            if attempt + 1 < LOCK_ATTEMPTS:
                time.sleep(LOCK_RETRY_SECONDS)
        return False

    def _histories(self, counters: list[_Counter], now: float) -> list[list[float]]:
        """Each counter's attempt times within its window, newest first."""
        found = self.cache.get_many([counter.key for counter in counters])
        histories = []
        for counter in counters:
            history = found.get(counter.key)
            if not isinstance(history, list):
                history = []
            histories.append([t for t in history if isinstance(t, float) and t > now - counter.duration])
        return histories

    @staticmethod
    def _over_limit(counters: list[_Counter], histories: list[list[float]], now: float) -> float | None:
        """Seconds until every full counter has room again, or None when none is full."""
        waits = [
            counter.duration - (now - (history[counter.limit - 1] if counter.limit else now))
            for counter, history in zip(counters, histories)
            if len(history) >= counter.limit
        ]
        return max(waits, default=None)


class LoginThrottle(AllOrNothingThrottle):
    """Every way to log in: per client address (``LOGIN_THROTTLE_RATE``) and per username from
    anywhere (``LOGIN_USERNAME_THROTTLE_RATE``)."""

    limits = (ClientAddressLimit("login", "10/min"), UsernameLimit("login_username", "20/hour"))


class RegisterThrottle(AllOrNothingThrottle):
    """Registration, per client address (``REGISTER_THROTTLE_RATE``)."""

    limits = (ClientAddressLimit("register", "20/hour"),)


def throttled_response(request, wait: float | None) -> HttpResponse:
    """A 429 outside DRF: an HTML page for a browser's form, JSON for anything else."""
    detail = str(Throttled(wait).detail)
    if "text/html" in request.headers.get("Accept", ""):
        response = HttpResponse(
            f"<!doctype html><title>Too many attempts</title><h1>Too many attempts</h1><p>{escape(detail)}</p>",
            status=429,
        )
    else:
        response = JsonResponse(error_body(detail, "throttled"), status=429)
    if wait is not None:
        response["Retry-After"] = str(math.ceil(wait))
    return response


class LoginThrottleMiddleware:
    """The login forms (``THROTTLED_VIEWS``: Django admin's and the browsable API's) count
    against :class:`LoginThrottle`, the API login's limits and counters. Over a limit the form is
    never processed: 429, and no session even with the right password.

    Place it after ``CsrfViewMiddleware``: a post refused by the CSRF check tried no password and
    is not counted.
    """

    THROTTLED_VIEWS = frozenset({"admin:login", "rest_framework:login"})
    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method in self.SAFE_METHODS or match is None or match.view_name not in self.THROTTLED_VIEWS:
            return None
        throttle = LoginThrottle()
        if throttle.allow_request(request, None):
            return None
        return throttled_response(request, throttle.wait())
