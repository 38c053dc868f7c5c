"""API routes of the product service."""
from django.urls import path

from .views import ProductDetailView, ProductListView

urlpatterns: list = [
    path("api/products/", ProductListView.as_view(), name="product-list"),
    path("api/products/<id:pk>/", ProductDetailView.as_view(), name="product-detail"),
]
