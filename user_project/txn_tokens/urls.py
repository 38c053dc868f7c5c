"""Route of the transaction token service."""
from django.urls import path

from . import views

urlpatterns = [
    path("api/txn-tokens/", views.TxnTokenView.as_view(), name="txn-tokens"),
]
