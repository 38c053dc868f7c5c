"""Checks the schemathesis CLI loads (``SCHEMATHESIS_HOOKS``) in test_schemathesis.py.

Two built-in checks get a narrow exception each, for a rule of the contract that no OpenAPI
schema can state; the run excludes the built-ins and runs these instead, which delegate to them
for every other response.
"""
from __future__ import annotations

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance, use_after_free

# Refusals (status, code) no OpenAPI schema can state. Most depend on what is stored already: a
# schema can say what a username, a SKU or a password looks like, not that another account or
# product already has it, that a password is a common one or close to the username, that an
# Idempotency-Key was used with another body, or that the user's profile has no address. And a
# bill's items name each product once: JSON Schema's uniqueItems compares whole items, not one key.
# A username's length counts after NFKC normalization (one character may become eighteen), which
# maxLength cannot state.
REFUSALS_BY_STATE = {
    "POST /api/auth/register/": {
        (400, "unique"), (400, "max_length"), (400, "password_too_common"), (400, "password_too_similar")
    },
    "POST /api/products/": {(400, "unique")},
    "PUT /api/products/{id}/": {(400, "unique")},
    "PATCH /api/products/{id}/": {(400, "unique")},
    "POST /api/bills/": {
        (422, "idempotency_key_reused"), (400, "duplicate_product"), (400, "unknown_product"), (400, "mixed_currencies")
    },
    "POST /api/bills/{id}/delivery/": {(400, "shipping_address_required")},
}


def _error_code(response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


@schemathesis.check
def positive_data_acceptance_but_taken_names(ctx, response, case):
    """positive_data_acceptance, except for a refusal of :data:`REFUSALS_BY_STATE`."""
    if (response.status_code, _error_code(response)) in REFUSALS_BY_STATE.get(case.operation.label, ()):
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def use_after_free_but_soft_deletes(ctx, response, case):
    """use_after_free, except for a product read after its DELETE: the contract makes DELETE a
    soft delete, and a product read by id stays readable with ``is_active: false`` (bills still
    name it). A deleted product that came back active would still fail."""
    if case.operation.label == "GET /api/products/{id}/" and response.status_code == 200:
        try:
            if response.json().get("is_active") is False:
                return None
        except (ValueError, AttributeError):
            pass
    return use_after_free(ctx, response, case)
