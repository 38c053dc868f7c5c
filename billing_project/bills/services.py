"""Writes: making a bill (optionally under an Idempotency-Key) and initiating its delivery.

Peer calls happen outside any database transaction: a slow peer must not hold locks, and a
failing peer leaves nothing stored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from service_kit.text import visible_text

from . import peers
from .exceptions import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidBillItems,
    ItemProblem,
    ShippingAddressMissing,
)
from .models import MAX_UNIT_PRICE, Bill, BillItem, Delivery, IdempotencyRecord

logger = logging.getLogger(__name__)


def stale_claim_after() -> timedelta:
    """An in-progress claim older than this belongs to an attempt that died (a killed worker):
    a retry may take it over (``IDEMPOTENCY_STALE_CLAIM_SECONDS``)."""
    return timedelta(seconds=settings.IDEMPOTENCY_STALE_CLAIM_SECONDS)


# Keys are kept at least this long (``manage.py purge_idempotency_keys`` deletes older ones).
IDEMPOTENCY_KEY_RETENTION = timedelta(hours=24)

TRACKING_CODE_PREFIX = "TRK-"


@dataclass(frozen=True)
class BillLine:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class BillOutcome:
    bill: Bill
    created: bool  # False: an Idempotency-Key retry answered with the bill made before


@dataclass(frozen=True)
class DeliveryOutcome:
    delivery: Delivery
    created: bool  # False: the bill's delivery had already been initiated


@dataclass(frozen=True)
class _Claim:
    record_id: int
    token: uuid.UUID


@dataclass(frozen=True)
class _PricedLine:
    product: peers.CatalogueProduct
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return self.product.price * self.quantity


# --- Bills ---------------------------------------------------------------------------------------


def create_bill(
    *, user_id: int, lines: Sequence[BillLine], idempotency_key: str | None = None
) -> BillOutcome:
    """A bill for ``lines`` at the product service's current prices.

    With an ``idempotency_key`` the key is claimed first (its own committed row, unique per user),
    so of several concurrent retries exactly one builds the bill; the others get that bill once
    it is done (``created=False``), :class:`IdempotencyKeyInUse` while it is being built, or
    :class:`IdempotencyKeyReused` if their body differs. A failed attempt releases the key.
    """
    if idempotency_key is None:
        return BillOutcome(bill=_make_bill(user_id=user_id, lines=lines), created=True)

    fingerprint = request_fingerprint(lines=lines)
    claim_or_bill = _claim_idempotency_key(user_id=user_id, key=idempotency_key, fingerprint=fingerprint)
    if isinstance(claim_or_bill, Bill):
        return BillOutcome(bill=claim_or_bill, created=False)
    claim = claim_or_bill
    try:
        bill = _make_bill(user_id=user_id, lines=lines, claim=claim)
    except Exception:
        _release_claim(claim)
        raise
    return BillOutcome(bill=bill, created=True)


def request_fingerprint(*, lines: Sequence[BillLine]) -> str:
    """SHA-256 of the request as billing understood it (not of its bytes: spacing and key
    order of the JSON do not make it another request)."""
    canonical = json.dumps(
        {"items": [{"product_id": line.product_id, "quantity": line.quantity} for line in lines]},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _make_bill(*, user_id: int, lines: Sequence[BillLine], claim: _Claim | None = None) -> Bill:
    priced = _price_lines(lines)
    with transaction.atomic():
        bill = Bill.objects.create(
            user_id=user_id,
            total=sum((line.line_total for line in priced), Decimal("0.00")),
            currency=priced[0].product.currency,
        )
        BillItem.objects.bulk_create(
            BillItem(
                bill=bill,
                product_id=line.product.id,
                sku=line.product.sku,
                name=line.product.name,
                unit_price=line.product.price,
                quantity=line.quantity,
                line_total=line.line_total,
            )
            for line in priced
        )
        if claim is not None:
            marked = IdempotencyRecord.objects.filter(
                pk=claim.record_id, claim_token=claim.token, state=IdempotencyRecord.State.IN_PROGRESS
            ).update(state=IdempotencyRecord.State.DONE, bill=bill, updated_at=timezone.now())
            if marked != 1:
                # Our claim went stale and another attempt took the key over: it makes the bill.
                raise IdempotencyKeyInUse()
    logger.info("bill %s made for user %s: %s %s", bill.pk, user_id, bill.total, bill.currency)
    return bill


def _price_lines(lines: Sequence[BillLine]) -> list[_PricedLine]:
    """The lines priced by the product service, in one call; every bad line is named."""
    catalogue = peers.fetch_products(product_ids=[line.product_id for line in lines])
    problems: list[ItemProblem] = []
    for index, line in enumerate(lines):
        product = catalogue.get(line.product_id)
        if product is None:
            problems.append(
                ItemProblem(
                    index,
                    "product_id",
                    f"Product {line.product_id} is unknown or no longer for sale.",
                    "unknown_product",
                )
            )
        elif not product.is_active:
            problems.append(
                ItemProblem(
                    index, "product_id", f"Product {line.product_id} is not for sale.", "inactive_product"
                )
            )
        elif product.price > MAX_UNIT_PRICE:
            problems.append(
                ItemProblem(
                    index,
                    "product_id",
                    f"Product {line.product_id} costs more than a bill can hold (at most {MAX_UNIT_PRICE}).",
                    "price_out_of_range",
                )
            )
    if problems:
        raise InvalidBillItems(problems)

    priced = [_PricedLine(product=catalogue[line.product_id], quantity=line.quantity) for line in lines]
    bill_currency = priced[0].product.currency
    for index, line in enumerate(priced):
        if line.product.currency != bill_currency:
            problems.append(
                ItemProblem(
                    index,
                    "product_id",
                    f"Product {line.product.id} is priced in {line.product.currency}, but item 0 in "
                    f"{bill_currency}; one bill has one currency.",
                    "mixed_currencies",
                )
            )
    if problems:
        raise InvalidBillItems(problems)
    return priced


def _claim_idempotency_key(*, user_id: int, key: str, fingerprint: str) -> _Claim | Bill:
    """Our claim on the key, or the bill an earlier request with it made."""
    # A few rounds: the row we collided with may be released (a failed attempt) before we read it.
    for _ in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user_id=user_id, key=key, fingerprint=fingerprint)
            return _Claim(record_id=record.pk, token=record.claim_token)
        except IntegrityError:
            pass  # the key is taken: see by whom and how far they got
        existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).select_related("bill").first()
        if existing is None:
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.state == IdempotencyRecord.State.DONE:
            return existing.bill
        claim = _take_over_stale_claim(existing)
        if claim is not None:
            return claim
        raise IdempotencyKeyInUse()
    raise IdempotencyKeyInUse()


def _take_over_stale_claim(record: IdempotencyRecord) -> _Claim | None:
    now = timezone.now()
    token = uuid.uuid4()
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk,
        state=IdempotencyRecord.State.IN_PROGRESS,
        updated_at__lt=now - stale_claim_after(),
    ).update(claim_token=token, updated_at=now)
    if taken != 1:
        return None
    logger.warning("took over stale Idempotency-Key claim %s of user %s", record.pk, record.user_id)
    return _Claim(record_id=record.pk, token=token)


def _release_claim(claim: _Claim) -> None:
    """Let a retry proceed after our attempt failed (nothing was stored for it)."""
    try:
        IdempotencyRecord.objects.filter(
            pk=claim.record_id, claim_token=claim.token, state=IdempotencyRecord.State.IN_PROGRESS
        ).delete()
    except Exception:  # the original failure matters more; a stale claim is taken over later
        logger.exception("could not release Idempotency-Key claim %s", claim.record_id)


def purge_idempotency_records(*, older_than: timedelta = IDEMPOTENCY_KEY_RETENTION) -> int:
    """Forget keys older than ``older_than`` (never less than the promised retention)."""
    older_than = max(older_than, IDEMPOTENCY_KEY_RETENTION)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# --- Deliveries ----------------------------------------------------------------------------------


def initiate_delivery(
    *, bill: Bill, shipping_address: str | None = None, owner_txn_token: Callable[[], str]
) -> DeliveryOutcome:
    """The bill's delivery, initiated now unless it already was (then that one, ``created=False``).

    Without an address in the request the user service is asked for the user's, with a
    transaction token for the bill's owner: ``owner_txn_token()`` gives it, and is called only
    then (an exchange at the user service the other paths need not pay).
    """
    existing = Delivery.objects.filter(bill=bill).first()
    if existing is not None:
        return DeliveryOutcome(delivery=existing, created=False)

    address = visible_text(shipping_address or "") or peers.fetch_shipping_address(
        user_id=bill.user_id, txn_token=owner_txn_token()
    )
    if not address:
        raise ShippingAddressMissing()

    for _ in range(5):
        try:
            with transaction.atomic():
                delivery = Delivery.objects.create(
                    bill=bill, shipping_address=address, tracking_code=new_tracking_code()
                )
            logger.info("delivery %s initiated for bill %s", delivery.tracking_code, bill.pk)
            return DeliveryOutcome(delivery=delivery, created=True)
        except IntegrityError:
            # Either a concurrent request initiated this bill's delivery first (answer with
            # theirs) or, astronomically rarely, the tracking code collided (draw another).
            existing = Delivery.objects.filter(bill=bill).first()
            if existing is not None:
                return DeliveryOutcome(delivery=existing, created=False)
    raise RuntimeError(f"could not draw a unique tracking code for bill {bill.pk}")


def new_tracking_code() -> str:
    """80 random bits in base32: unguessable, and short enough to read out on the phone."""
    return TRACKING_CODE_PREFIX + base64.b32encode(secrets.token_bytes(10)).decode("ascii")
