"""API routes of the billing service."""
from django.urls import path

urlpatterns: list = []
