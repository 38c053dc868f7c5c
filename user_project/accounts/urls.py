"""API routes of the user service."""
from django.urls import path

from . import views

urlpatterns = [
    path("api/auth/register/", views.RegisterView.as_view(), name="register"),
    path("api/auth/login/", views.LoginView.as_view(), name="login"),
    path("api/auth/refresh/", views.RefreshView.as_view(), name="token-refresh"),
    path("api/auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("api/users/me/", views.MeView.as_view(), name="me"),
    path("api/internal/users/<id:user_id>/", views.InternalUserView.as_view(), name="internal-user"),
]
