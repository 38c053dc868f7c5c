"""API routes of the user service."""
from django.urls import path

urlpatterns: list = []
