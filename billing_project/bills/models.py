"""Bills, their line items, deliveries, and the Idempotency-Key claims that guard bill creation.

Billing keeps no user table: ``user_id`` is the id from the caller's user token. Each line is a
snapshot of what the product service answered when the bill was made, so a later price or name
change never alters an issued bill.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from .fields import HundredthsField

MAX_QUANTITY = 1000
MAX_LINES_PER_BILL = 100
SHIPPING_ADDRESS_MAX_LENGTH = 1000  # the user service's own limit
IDEMPOTENCY_KEY_MAX_LENGTH = 255

# Prices as the product service stores them (12 digits, 2 places). Amounts are kept as whole
# hundredths in 64-bit columns (HundredthsField): the bounds below keep every line total and bill
# total within them, so nothing is ever rounded or overflows.
PRICE_DIGITS = 12
MAX_UNIT_PRICE = Decimal(10) ** (PRICE_DIGITS - 2) - Decimal("0.01")
MAX_TOTAL = MAX_UNIT_PRICE * MAX_QUANTITY * MAX_LINES_PER_BILL
TOTAL_DIGITS = 20  # of the API's decimal strings: MAX_TOTAL has fewer


class Bill(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"

    user_id = models.PositiveBigIntegerField(db_index=True)
    total = HundredthsField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user_id", "-created_at"], name="bills_bill_user_newest")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="bills_bill_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Bill {self.pk} of user {self.user_id}: {self.total} {self.currency}"


class BillItem(models.Model):
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="items")
    product_id = models.PositiveBigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = HundredthsField()
    quantity = models.PositiveIntegerField()
    line_total = HundredthsField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "product_id"], name="bills_item_product_once_per_bill"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name="bills_item_quantity_range"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0, unit_price__lte=MAX_UNIT_PRICE), name="bills_item_unit_price_range"
            ),
            # Integers multiply exactly on every database (decimals do not on SQLite).
            models.CheckConstraint(
                condition=Q(line_total=F("unit_price") * F("quantity")),
                name="bills_item_line_total_is_price_x_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku} @ {self.unit_price}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        INITIATED = "initiated", "Initiated"

    # OneToOne = a unique constraint on bill_id: a bill can never get a second delivery,
    # however many requests race to initiate one.
    bill = models.OneToOneField(Bill, on_delete=models.CASCADE, related_name="delivery")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.INITIATED)
    shipping_address = models.TextField(max_length=SHIPPING_ADDRESS_MAX_LENGTH)
    tracking_code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"Delivery {self.tracking_code} of bill {self.bill_id}"


class IdempotencyRecord(models.Model):
    """A user's claim on an ``Idempotency-Key``: inserted before the bill is built, so the
    database's unique constraint decides which of several concurrent retries does the work."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    user_id = models.PositiveBigIntegerField()
    key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical request body")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    # Which attempt owns an in-progress claim; a stale claim taken over gets a new one, so the
    # stale attempt can no longer mark it done.
    claim_token = models.UUIDField(default=uuid.uuid4)
    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="bills_idempotency_key_once_per_user"),
            models.CheckConstraint(
                condition=Q(state="in_progress", bill__isnull=True) | Q(state="done", bill__isnull=False),
                name="bills_idempotency_done_has_bill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key!r} of user {self.user_id} ({self.state})"
