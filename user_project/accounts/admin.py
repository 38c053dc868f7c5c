from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .forms import UserCreationForm, UserEditForm
from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Shipping", {"fields": ("shipping_address",)}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        ("Contact", {"classes": ("wide",), "fields": ("email", "shipping_address")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "is_active")
