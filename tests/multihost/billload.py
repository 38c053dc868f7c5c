"""A bounded load of bills, made as a careful client makes them, with a record of every answer.

Each buyer is a thread placing orders at a steady pace (it never bursts to catch up after an
outage). An order is one bill under its own Idempotency-Key; a client that gets no usable
answer (503, 409 "still running", a dropped connection, a timeout) sends the very same request
again with the same key, with backoff, until it gets its bill or its deadline passes. Every
attempt is recorded (when, what came back), so that afterwards each bill can be checked
against what the client was told, and the answers counted per stretch of time.
"""
from __future__ import annotations

import itertools
import random
import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import requests

# What a client retries with the same key: unavailable, already running, or no answer at all.
RETRYABLE = {409, 502, 503, 504}
CONNECT_TIMEOUT, READ_TIMEOUT = 2.0, 15.0


@dataclass(frozen=True)
class Answer:
    started: float  # time.monotonic()
    ended: float
    status: int | None  # None: no HTTP answer (connection refused or reset, timeout)
    code: str  # the error body's code, or the exception's name

    @property
    def latency(self) -> float:
        return self.ended - self.started


@dataclass
class Order:
    key: str
    buyer: int
    items: list[dict]
    answers: list[Answer] = field(default_factory=list)
    bill: dict | None = None  # the bill the client was finally given (201, or 200 on a retry)
    created_answer: bool = False  # one of its answers was a 201

    @property
    def unresolved(self) -> bool:
        return self.bill is None


@dataclass(frozen=True)
class Buyer:
    user_id: int
    access: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


class BillLoad:
    def __init__(self, billing_url: str, buyers: list[Buyer], product_ids: list[int], *,
                 orders_per_second: float, order_deadline: float) -> None:
        self.url = billing_url + "/api/bills/"
        self.buyers = buyers
        self.product_ids = product_ids
        self.interval = len(buyers) / orders_per_second  # each buyer's pace
        self.order_deadline = order_deadline
        self.orders: list[Order] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._buyer, args=(index,), daemon=True) for index in range(len(buyers))]
        self._numbers = itertools.count()

    def start(self) -> "BillLoad":
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()
        return self

    def finish(self, timeout: float) -> None:
        """No new orders; every buyer finishes the one it is placing (retries included)."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.finished = time.monotonic()
        alive = sum(thread.is_alive() for thread in self._threads)
        if alive:
            raise TimeoutError(f"{alive} buyers still placing an order after {timeout}s")

    # --- the client ------------------------------------------------------------------------

    def _buyer(self, index: int) -> None:
        buyer = self.buyers[index]
        randomness = random.Random(index)
        session = requests.Session()
        next_at = time.monotonic() + randomness.random() * self.interval
        while not self._stopping.is_set():
            delay = next_at - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                return
            next_at = max(next_at + self.interval, time.monotonic())
            picked = randomness.sample(self.product_ids, k=randomness.randint(1, min(2, len(self.product_ids))))
            order = Order(key=f"load-{next(self._numbers)}-{uuid.uuid4().hex[:12]}", buyer=index,
                          items=[{"product_id": pid, "quantity": randomness.randint(1, 3)} for pid in picked])
            with self._lock:
                self.orders.append(order)
            session = self._place(session, buyer, order)

    def _place(self, session: requests.Session, buyer: Buyer, order: Order) -> requests.Session:
        deadline = time.monotonic() + self.order_deadline
        backoff = 0.1
        headers = {**buyer.headers, "Idempotency-Key": order.key}
        while True:
            started = time.monotonic()
            try:
                response = session.post(self.url, json={"items": order.items}, headers=headers,
                                        timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
                status, body = response.status_code, _json(response)
                code = str(body.get("code", "")) if isinstance(body, dict) and status >= 300 else ""
            except requests.RequestException as error:
                status, body, code = None, None, _why(error)
                session.close()
                session = requests.Session()  # a client starts over on a new connection
            order.answers.append(Answer(started, time.monotonic(), status, code))
            if status in (200, 201):
                order.bill = body
                order.created_answer |= status == 201
                return session
            if status is not None and status not in RETRYABLE:
                return session  # a client error or a 500: never retried; the checks report it
            if time.monotonic() > deadline:
                return session
            time.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 1.0)

    # --- figures ---------------------------------------------------------------------------

    def answers(self) -> list[Answer]:
        with self._lock:
            return [answer for order in self.orders for answer in order.answers]

    def window(self, start: float, end: float) -> dict:
        """The answers that came back in [start, end): how many, which, how fast."""
        inside = [a for a in self.answers() if start <= a.ended < end]
        seconds = max(end - start, 1e-9)
        served = [a for a in inside if a.status in (200, 201)]
        latencies = sorted(a.latency for a in served)
        return {
            "seconds": seconds,
            "attempts": len(inside),
            "served": len(served),
            "served_per_second": len(served) / seconds,
            "attempts_per_second": len(inside) / seconds,
            "statuses": Counter("no answer" if a.status is None else a.status for a in inside),
            "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
            "max_ms": latencies[-1] * 1000 if latencies else None,
        }


def _why(error: BaseException) -> str:
    """The exception's name, and the name of the root cause it wraps (what the socket said)."""
    root = error
    while (root.__cause__ or root.__context__) is not None:
        root = root.__cause__ or root.__context__
    return type(error).__name__ if root is error else f"{type(error).__name__} ({type(root).__name__})"


def _json(response: requests.Response):
    try:
        return response.json()
    except ValueError:
        return None
