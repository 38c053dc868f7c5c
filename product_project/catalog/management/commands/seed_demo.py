"""Demo catalogue and a local admin login, for `make up`. Safe to run again: nothing doubles."""
from __future__ import annotations

from decimal import Decimal

from ms_token.settings import ms_token_settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Lower
from service_kit.conf import demo_password

from catalog import services
from catalog.models import Product

DEFAULT_ADMIN_PASSWORD = "admin-demo-2026!"

DEMO_PRODUCTS = [
    {"sku": "DEMO-MUG", "name": "Enamel mug", "price": Decimal("12.50"),
     "description": "A 350 ml camping mug that survives the campfire."},
    {"sku": "DEMO-TEE", "name": "Organic cotton T-shirt", "price": Decimal("19.99"),
     "description": "Heavyweight, pre-shrunk, in slate grey."},
    {"sku": "DEMO-BOTTLE", "name": "Steel water bottle", "price": Decimal("24.00"),
     "description": "Double-walled, keeps drinks cold for 24 hours."},
    {"sku": "DEMO-NOTEBOOK", "name": "Dot-grid notebook", "price": Decimal("9.75"),
     "description": "A5, 160 pages of 100 g/m2 paper."},
    {"sku": "DEMO-LAMP", "name": "Desk lamp", "price": Decimal("49.90"),
     "description": "Dimmable LED with a warm-white setting."},
]


class Command(BaseCommand):
    help = (
        "Load demo products (by SKU, once) and ensure the local admin login for /admin/ "
        "(password from DEMO_ADMIN_PASSWORD; with debug off it must be set)."
    )

    def handle(self, *args, **options) -> None:
        password = demo_password("DEMO_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)  # before any write
        created = 0
        with transaction.atomic():
            # SKUs ignore case: a "demo-mug" made by hand is the demo mug.
            wanted = [p["sku"].lower() for p in DEMO_PRODUCTS]
            existing = set(
                Product.objects.annotate(key=Lower("sku")).filter(key__in=wanted).values_list("key", flat=True)
            )
            for product in DEMO_PRODUCTS:
                if product["sku"].lower() not in existing:
                    services.product_create(**product)
                    created += 1
        self.stdout.write(f"product: {created} demo product(s) created, {len(DEMO_PRODUCTS) - created} already there")

        self._ensure_admin(username="admin", password=password)
        url = ms_token_settings.SERVICE_URLS["product"]
        self.stdout.write(f"product: admin login admin / {password} at {url}/admin/")

    def _ensure_admin(self, *, username: str, password: str) -> None:
        """The printed login must work: create the superuser, or repair its flags and password."""
        User = get_user_model()
        user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        changed = not (user.is_staff and user.is_superuser and user.is_active and user.check_password(password))
        if changed:
            user.is_staff = user.is_superuser = user.is_active = True
            user.set_password(password)
            user.save()
