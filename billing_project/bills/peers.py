"""Billing's calls to its peers, turned into domain data.

Every call goes through the X-MS-TOKEN ``ServiceClient`` (a fresh token per request, bounded
timeouts, retries for GET). A peer that is down, slow, failing, refusing our token or answering
something we cannot read raises :class:`PeerUnavailable`, which the views answer with 503.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ms_token.client import ServiceCallError, ServiceClient
from ms_token.settings import ms_token_settings
from ms_token.transport import answer_json, error_code
from service_kit.text import visible_text

from .fields import HUNDREDTH
from .models import MAX_UNIT_PRICE

logger = logging.getLogger(__name__)

PRODUCTS_PATH = "/api/products/"
PRODUCTS_SCOPE = "products:read"
USERS_SCOPE = "users:read"
# The product list is paginated; we ask for a page that holds every id we want, and follow
# ``next`` (bounded) should the product service cap the page size below that.
PAGE_SIZE_PARAM = "page_size"
MAX_PAGES = 10

_CURRENCY = re.compile(r"[A-Z]{3}")


# A peer could not give a usable answer (dead, slow, refusing, or answering garbage): the
# library's own error, which service_kit's handler answers with a 503 naming the peer.
PeerUnavailable = ServiceCallError


@dataclass(frozen=True)
class CatalogueProduct:
    """What billing needs to know about a product, as the product service says it now."""

    id: int
    sku: str
    name: str
    price: Decimal
    currency: str
    is_active: bool


def fetch_products(*, product_ids: Sequence[int]) -> dict[int, CatalogueProduct]:
    """The products among ``product_ids`` that the product service knows, by id."""
    wanted = set(product_ids)
    params: dict[str, str] = {"ids": ",".join(str(i) for i in product_ids), PAGE_SIZE_PARAM: str(len(wanted))}
    path = PRODUCTS_PATH
    found: dict[int, CatalogueProduct] = {}
    for _ in range(MAX_PAGES):
        page = _get_json("product", path, scope=PRODUCTS_SCOPE, params=params)
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list):
            raise PeerUnavailable("product", "product list has no 'results' list")
        for raw in results:
            product = _parse_product(raw)
            if product.id in wanted:
                found[product.id] = product
        next_url = page.get("next")
        if not next_url or found.keys() == wanted:
            return found
        parts = urlsplit(next_url) if isinstance(next_url, str) else None
        if parts is None or parts.path != PRODUCTS_PATH:  # the next page of this list, nothing else
            raise PeerUnavailable("product", "product list has a bad 'next' link")
        params = dict(parse_qsl(parts.query))
    raise PeerUnavailable("product", f"product list spans more than {MAX_PAGES} pages")


def fetch_shipping_address(*, user_id: int, txn_token: str) -> str:
    """The user's shipping address at the user service; "" when the user has none (or is gone).

    ``txn_token``: a transaction token for that user (the user service answers for no one else)."""
    path = f"/api/internal/users/{user_id}/"
    response = _call("user", path, scope=USERS_SCOPE, txn_token=txn_token)
    if response.status_code == 404:
        return ""
    document = _json_of("user", response)
    address = document.get("shipping_address") if isinstance(document, dict) else None
    if address is None:
        return ""
    if not isinstance(address, str):
        raise PeerUnavailable("user", "shipping_address is not a string")
    # One kept before the user service trimmed invisible characters would pass for an address.
    return visible_text(address)


_clients: dict[tuple[str, str], ServiceClient] = {}


def service_client(service: str) -> ServiceClient:
    """One client per peer and base URL, so its per-thread keep-alive sessions are reused."""
    cache_key = (service, ms_token_settings.SERVICE_URLS[service])
    client = _clients.get(cache_key)
    if client is None:
        client = _clients.setdefault(cache_key, ServiceClient(service))
    return client


def clear_clients() -> None:
    """Forget the cached clients (tests that point the peers elsewhere)."""
    _clients.clear()


def _call(service: str, path: str, *, scope: str, params: dict[str, str] | None = None, txn_token: str | None = None):
    response = service_client(service).get(path, scope=scope, params=params, txn_token=txn_token)  # logs its failures
    if response.status_code != 200 and response.status_code != 404:
        # Any other 4xx means we asked wrongly: our bug or misconfiguration, never the caller's
        # fault, so a 503 and an error in the log. The bill serializer keeps it unreachable for
        # the product lookup: at most MAX_LINES_PER_BILL (= the product service's 100 ?ids=)
        # distinct ids, each within 1..2**63-1 as product's ids are.
        # The peer's code, not its body: peer text in our log only as a name (error_code).
        logger.error("%s answered %s to GET %s: code=%s", service, response.status_code, path, error_code(response))
        raise PeerUnavailable(service, f"answered {response.status_code}")
    return response


def _json_of(service: str, response) -> Any:
    try:
        return answer_json(response)
    except ValueError as exc:
        logger.warning("%s answered a body of %d bytes that is not JSON", service, len(response.content))
        raise PeerUnavailable(service, "answered a body that is not JSON") from exc


def _get_json(service: str, path: str, *, scope: str, params: dict[str, str]) -> Any:
    response = _call(service, path, scope=scope, params=params)
    if response.status_code == 404:
        raise PeerUnavailable(service, f"{path} not found")
    return _json_of(service, response)


def _parse_product(raw: Any) -> CatalogueProduct:
    """A product from the product service's JSON; anything malformed is the peer's failure."""
    if not isinstance(raw, dict):
        raise PeerUnavailable("product", "a product is not an object")
    try:
        product_id, sku, name = raw["id"], raw["sku"], raw["name"]
        price_text, currency, is_active = raw["price"], raw["currency"], raw["is_active"]
    except KeyError as exc:
        raise PeerUnavailable("product", f"a product lacks {exc.args[0]!r}") from exc
    if not (isinstance(product_id, int) and not isinstance(product_id, bool) and product_id > 0):
        raise PeerUnavailable("product", "a product id is not a positive integer")
    if not (isinstance(sku, str) and sku and isinstance(name, str) and name):
        raise PeerUnavailable("product", f"product {product_id} has no sku or name")
    if not (isinstance(currency, str) and _CURRENCY.fullmatch(currency)):
        raise PeerUnavailable("product", f"product {product_id} has a bad currency")
    if not isinstance(is_active, bool):
        raise PeerUnavailable("product", f"product {product_id} has a bad is_active")
    return CatalogueProduct(
        id=product_id,
        sku=sku[:64],
        name=name[:200],
        price=_parse_price(product_id, price_text),
        currency=currency,
        is_active=is_active,
    )


def _parse_price(product_id: int, price_text: Any) -> Decimal:
    """Any exact amount of whole cents: whether billing can bill it is a rule of the bill
    (``services``), not of the product service's answer."""
    # The contract sends prices as decimal strings; a float would already have lost cents.
    if not isinstance(price_text, str):
        raise PeerUnavailable("product", f"product {product_id} has a price that is not a decimal string")
    try:
        price = Decimal(price_text)
    except InvalidOperation as exc:
        raise PeerUnavailable("product", f"product {product_id} has a bad price") from exc
    if not price.is_finite() or price < 0:
        raise PeerUnavailable("product", f"product {product_id} has a bad price")
    cents = price.scaleb(2)
    if cents != cents.to_integral_value():
        raise PeerUnavailable("product", f"product {product_id} has a price with fractions of a cent")
    # Two places for display; one too dear to bill is refused by the bill, not rounded here.
    return price.quantize(HUNDREDTH) if price <= MAX_UNIT_PRICE else price
