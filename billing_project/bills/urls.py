"""API routes of the billing service."""

from django.urls import path

from .views import BillDeliveryView, BillDetailView, BillListCreateView

urlpatterns = [
    path("api/bills/", BillListCreateView.as_view(), name="bill-list"),
    path("api/bills/<id:pk>/", BillDetailView.as_view(), name="bill-detail"),
    path("api/bills/<id:pk>/delivery/", BillDeliveryView.as_view(), name="bill-delivery"),
]
