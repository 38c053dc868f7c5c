"""Bills, their line items, deliveries, and the Idempotency-Key claims that guard bill creation.

Billing keeps no user table: ``user_id`` is the id from the caller's user token. Each line is a
snapshot of what the product service answered when the bill was made, so a later price or name
change never alters an issued bill.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

MAX_QUANTITY = 1000
MAX_LINES_PER_BILL = 100
SHIPPING_ADDRESS_MAX_LENGTH = 1000  # the user service's own limit
IDEMPOTENCY_KEY_MAX_LENGTH = 255

# Prices as the product service stores them (12 digits, 2 places); totals leave room for
# MAX_QUANTITY x MAX_LINES_PER_BILL of the dearest product.
PRICE_DIGITS = 12
TOTAL_DIGITS = 20


class Bill(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", "Issued"

    user_id = models.PositiveBigIntegerField(db_index=True)
    total = models.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)
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
    unit_price = models.DecimalField(max_digits=PRICE_DIGITS, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=TOTAL_DIGITS, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["bill", "product_id"], name="bills_item_product_once_per_bill"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1, quantity__lte=MAX_QUANTITY), name="bills_item_quantity_range"
            ),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="bills_item_unit_price_not_negative"),
            # No CHECK line_total = unit_price * quantity: SQLite multiplies decimals as floats.
            models.CheckConstraint(condition=Q(line_total__gte=0), name="bills_item_line_total_not_negative"),
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
