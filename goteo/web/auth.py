"""Signing in and out of the dashboard (staff accounts only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from goteo.web import base


class StaffAuthenticationForm(AuthenticationForm):
    """Accepts only staff accounts, so nobody signs in to a page they cannot see."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not getattr(user, "is_staff", False):
            raise forms.ValidationError(
                _("Esta cuenta no tiene acceso al panel. Pida a un administrador que la habilite."),
                code="not_staff",
            )


login = base.secure(
    auth_views.LoginView.as_view(
        template_name="goteo/login.html",
        authentication_form=StaffAuthenticationForm,
        redirect_authenticated_user=True,
    )
)
logout = base.secure(auth_views.LogoutView.as_view())
