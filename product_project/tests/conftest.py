import itertools
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from catalog import services
from service_kit.testing import make_user_token, preload_peer_keys, use_fresh_keys

# The shared contract tests (service_kit.contract_tests) get pytest's assertion messages too.
pytest.register_assert_rewrite("service_kit.contract_tests")

PRODUCTS_URL = "/api/products/"


@pytest.fixture(scope="session", autouse=True)
def signing_keys(tmp_path_factory):
    """Every test session signs with throwaway keys, never the developer's .keys/."""
    return use_fresh_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def peer_keys(signing_keys):
    """User and billing tokens verify against their test keys; neither service needs to run."""
    preload_peer_keys("user", "billing")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Local staff logins in tests need no brute-force resistance, only speed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api_client():
    return APIClient()


def bearer_client(*, user_id: int, username: str, is_staff: bool) -> APIClient:
    client = APIClient()
    token = make_user_token(user_id=user_id, username=username, is_staff=is_staff)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def user_client():
    """Alice, an ordinary signed-in shopper (a user token, no local account)."""
    return bearer_client(user_id=7, username="alice", is_staff=False)


@pytest.fixture
def staff_client():
    """A staff person of the user service (is_staff in the token)."""
    return bearer_client(user_id=1, username="carol", is_staff=True)


@pytest.fixture
def make_product(db):
    """Creates products through the service layer, with unique SKUs unless given."""
    counter = itertools.count(1)

    def make(**fields):
        number = next(counter)
        values = {"sku": f"SKU-{number:05d}", "name": f"Product {number}", "price": Decimal("10.00")}
        values.update(fields)
        return services.product_create(**values)

    return make


@pytest.fixture
def service_token(db):
    """``service_token(scope, method=..., path=..., query=..., issuer=..., body=...)``: a fresh
    X-MS-TOKEN minted as that service would, for the product service (``query``: the query
    string exactly as the request will send it)."""
    from ms_token.keys import load_key_ring
    from ms_token.tokens import mint

    def make(scope="products:read", *, method="GET", path=PRODUCTS_URL, query=None, issuer="billing", body=None):
        return mint(
            "product", scope, method, path, body, query=query, issuer=issuer, key=load_key_ring(issuer).signing_key
        )

    return make
