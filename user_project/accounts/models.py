"""The user service's own user table: Django's user plus where to ship a customer's orders."""
from django.contrib.auth.models import AbstractUser
from django.db import models

SHIPPING_ADDRESS_MAX_LENGTH = 1000


class User(AbstractUser):
    # Free text: addresses differ too much between countries to split into fields.
    # max_length is not a DB constraint for a TextField; forms and serializers enforce it.
    shipping_address = models.TextField(blank=True, max_length=SHIPPING_ADDRESS_MAX_LENGTH)
