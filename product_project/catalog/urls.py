"""API routes of the product service."""
from django.urls import path

urlpatterns: list = []
