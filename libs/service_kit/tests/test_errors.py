"""The one error shape: {"detail", "code"} whatever raised."""
import pytest
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework_simplejwt.exceptions import InvalidToken

from service_kit.errors import exception_handler
from ms_token.exceptions import ServiceCallError


def handle(exc):
    return exception_handler(exc, {})


def test_validation_error_names_the_first_bad_field_and_keeps_all():
    class ItemSerializer(serializers.Serializer):
        quantity = serializers.IntegerField(min_value=1)

    class BillSerializer(serializers.Serializer):
        items = ItemSerializer(many=True)

    serializer = BillSerializer(data={"items": [{"quantity": 2}, {"quantity": 0}]})
    assert not serializer.is_valid()
    response = handle(exceptions.ValidationError(serializer.errors))
    assert response.status_code == 400
    assert response.data["detail"].startswith("items.1.quantity: ")
    assert response.data["code"] == "min_value"
    assert response.data["errors"]["items"][1]["quantity"]


def test_simplejwt_nested_detail_is_flattened_to_its_reason():
    exc = InvalidToken({"detail": "Given token not valid", "code": "token_not_valid",
                        "messages": [{"message": "Token is expired"}]})
    response = handle(exc)
    assert response.status_code == 401
    assert response.data == {"detail": "Token is expired", "code": "token_not_valid"}


def test_a_failing_peer_is_a_503_naming_the_peer():
    response = handle(ServiceCallError("product", "connection refused"))
    assert response.status_code == 503
    assert response.data["code"] == "service_unavailable"
    assert "product" in response.data["detail"]


def test_django_404_and_plain_api_errors_take_the_shape():
    assert handle(Http404()).data == {"detail": "Not found.", "code": "not_found"}
    throttled = handle(exceptions.Throttled(wait=3))
    assert throttled.status_code == 429 and throttled.data["code"] == "throttled"


def test_non_api_errors_are_left_to_django():
    assert handle(ValueError("boom")) is None


def test_the_shared_json_parser_reads_money_exactly_and_survives_deep_nesting():
    import io

    from rest_framework.exceptions import ParseError

    from service_kit.parsers import JSONParser

    parsed = JSONParser().parse(io.BytesIO(b'{"price": 19.999999999999999999}'))
    assert str(parsed["price"]) == "19.999999999999999999"
    for body in (b"[" * 100_000, b'{"price": NaN}', b"{not json"):
        with pytest.raises(ParseError):
            JSONParser().parse(io.BytesIO(body))


def test_a_domain_error_is_answered_in_the_one_shape_with_its_status():
    from service_kit.errors import DomainError

    class KeyInUse(DomainError):
        status, code, detail = 409, "key_in_use", "Still running."

    class NameTaken(DomainError):
        code, detail, field = "unique", "Taken.", "username"

    class TokenRefused(DomainError):
        status, code, www_authenticate = 401, "token_not_valid", 'Bearer realm="api"'

    conflict = exception_handler(KeyInUse(), {})
    assert conflict.status_code == 409 and conflict.data == {"detail": "Still running.", "code": "key_in_use"}
    taken = exception_handler(NameTaken(), {})
    assert taken.status_code == 400
    assert taken.data["detail"] == "username: Taken." and taken.data["code"] == "unique"
    assert taken.data["errors"] == {"username": ["Taken."]}
    refused = exception_handler(TokenRefused("Token is blacklisted"), {})
    assert refused.status_code == 401 and refused.data["detail"] == "Token is blacklisted"
    assert refused["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_django_validation_error_from_a_model_or_service_is_a_400_naming_the_field():
    from django.core.exceptions import ValidationError

    response = exception_handler(ValidationError({"sku": ValidationError("Taken.", code="unique")}), {})
    assert response.status_code == 400
    assert response.data["code"] == "unique" and response.data["detail"] == "sku: Taken."


def _debug_page(request) -> str:
    """Django's page for an exception in a view, as debug mode answers it."""
    import sys

    from django.views.debug import technical_500_response

    try:
        raise RuntimeError("the bug")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_debug_modes_error_page_shows_the_traceback_but_no_settings_or_environment(settings):
    """runserver puts the whole process environment into every request's META; Django's debug
    page lists META and the settings (database URLs, passwords and all)."""
    import secrets

    from django.test import RequestFactory

    settings.DEBUG = True
    variable, secret, password = (f"SHOP_{secrets.token_hex(4).upper()}", secrets.token_hex(8), secrets.token_hex(8))
    request = RequestFactory().post("/api/echo/", {"password": password}, HTTP_ACCEPT="text/html",
                                    **{variable: f"postgres://shop:{secret}@db/shop"})
    request.sensitive_post_parameters = "__ALL__"  # as Django's login views mark theirs
    page = _debug_page(request)
    assert "RuntimeError" in page and "the bug" in page  # the developer's traceback stays
    assert variable not in page and secret not in page
    assert password not in page
    assert "ROOT_URLCONF" not in page and "INSTALLED_APPS" not in page  # no settings at all
    assert "HTTP_ACCEPT" in page  # the request's own headers are still shown
