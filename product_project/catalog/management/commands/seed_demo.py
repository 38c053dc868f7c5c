"""Demo catalogue and a local admin login, for `make up`. Safe to run again: nothing doubles."""
from __future__ import annotations

from decimal import Decimal

from ms_token.settings import ms_token_settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Lower
from service_kit.conf import demo_password
from service_kit.demo import DEFAULT_ADMIN_PASSWORD, ensure_demo_admin

from catalog import services
from catalog.models import Product

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

        username, password = ensure_demo_admin()
        url = ms_token_settings.SERVICE_URLS["product"]
        self.stdout.write(f"product: admin login {username} / {password} at {url}/admin/")
