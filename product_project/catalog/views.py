"""The product API. Views parse, check access and render; reads and writes live in selectors
and services."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import SAFE_METHODS

from ms_token.contrib.rest_framework.permissions import HasServiceScope
from service_kit.pagination import StrictPageNumberPagination
from service_kit.permissions import IsEndUser, IsStaffUser

from . import selectors, services
from .models import Product
from .serializers import MAX_IDS, ProductListFilterSerializer, ProductSerializer

class ProductPagination(StrictPageNumberPagination):
    """Pages of ``PAGE_SIZE`` (``?page_size=`` up to ``MAX_IDS``). A ``?ids=`` listing fits on one
    page, so a caller that asks for as many products by id as it may gets all of them at once."""

    page_size_query_param = "page_size"
    max_page_size = MAX_IDS
    requested_ids: list[int] | None = None

    def paginate_queryset(self, queryset, request, view=None):
        self.requested_ids = getattr(view, "requested_ids", None)
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        size = super().get_page_size(request)
        if self.requested_ids and self.page_size_query_param not in request.query_params:
            size = max(size or 0, len(self.requested_ids))
        return size


class ProductAccess:
    """Reads: any signed-in person, or a service whose token carries ``products:read``.
    Writes: staff people only."""

    permission_classes = [IsEndUser | HasServiceScope]
    required_scopes = {"GET": ["products:read"], "HEAD": ["products:read"]}
    write_permission_classes = [IsStaffUser]
    serializer_class = ProductSerializer

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return super().get_permissions()
        return [permission() for permission in self.write_permission_classes]


@extend_schema_view(
    get=extend_schema(summary="List active products", parameters=[ProductListFilterSerializer]),
    post=extend_schema(summary="Create a product (staff)"),
)
class ProductListView(ProductAccess, generics.ListCreateAPIView):
    pagination_class = ProductPagination
    requested_ids: list[int] | None = None

    def get_queryset(self):
        # A plain dict: DRF reads an empty value of a form or query (``?ordering=``) as absent.
        filters = ProductListFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        self.requested_ids = filters.validated_data.get("ids")
        return selectors.product_list(**filters.validated_data)

    def perform_create(self, serializer: ProductSerializer) -> None:
        serializer.instance = services.product_create(**serializer.validated_data)


@extend_schema_view(
    get=extend_schema(summary="One product (also a deactivated one, with is_active false)"),
    put=extend_schema(summary="Replace a product (staff)"),
    patch=extend_schema(summary="Change a product (staff)"),
    delete=extend_schema(summary="Deactivate a product: soft delete (staff)"),
)
class ProductDetailView(ProductAccess, generics.RetrieveUpdateDestroyAPIView):
    queryset = Product.objects.all()  # for the schema's path parameter; reads use the selector

    def get_object(self) -> Product:
        product = selectors.product_get(product_id=self.kwargs["pk"])
        self.check_object_permissions(self.request, product)
        return product

    def perform_update(self, serializer: ProductSerializer) -> None:
        serializer.instance = services.product_update(product=serializer.instance, changes=serializer.validated_data)

    def perform_destroy(self, instance: Product) -> None:
        services.product_deactivate(product=instance)
