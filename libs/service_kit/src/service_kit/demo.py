"""Demo logins for ``seed_demo`` (``make up``): a service's own local admin account."""
from __future__ import annotations

from django.contrib.auth import get_user_model

from .conf import demo_password

DEFAULT_ADMIN_PASSWORD = "admin-demo-2026!"


def ensure_demo_admin(*, username: str = "admin") -> tuple[str, str]:
    """The local superuser ``username`` with the password of ``DEMO_ADMIN_PASSWORD`` (the
    published default in debug mode only), made or repaired so that the login printed works.
    Returns (username, password)."""
    password = demo_password("DEMO_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    if not (user.is_staff and user.is_superuser and user.is_active and user.check_password(password)):
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
    return username, password
