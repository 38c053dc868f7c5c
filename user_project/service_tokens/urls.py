"""Route of the token service."""
from django.urls import path

from . import views

urlpatterns = [
    path("api/service-tokens/", views.ServiceTokenView.as_view(), name="service-tokens"),
]
