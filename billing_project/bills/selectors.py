"""Reads of bills and deliveries; a user only ever sees their own."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Bill, Delivery


def bills_of_user(*, user_id: int) -> QuerySet[Bill]:
    """The user's bills, newest first, with their lines."""
    return Bill.objects.filter(user_id=user_id).prefetch_related("items").order_by("-created_at", "-id")


def bill_of_user(*, user_id: int, bill_id: int) -> Bill | None:
    """One of the user's bills (its lines load when read, not before)."""
    return Bill.objects.filter(user_id=user_id, pk=bill_id).first()


def delivery_of_user_bill(*, user_id: int, bill_id: int) -> Delivery | None:
    return Delivery.objects.filter(bill_id=bill_id, bill__user_id=user_id).first()
