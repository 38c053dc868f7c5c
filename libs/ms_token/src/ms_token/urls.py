"""``path("", include("ms_token.urls"))``: serves ``/.well-known/jwks.json``."""
from __future__ import annotations

from django.urls import path

from .views import jwks_view

app_name = "ms_token"
urlpatterns = [path(".well-known/jwks.json", jwks_view, name="jwks")]
