"""The team: who works in the dashboard, and each one's role (goteo.roles)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from goteo.roles import ROLES, assign_role, role_of
from goteo.web import base


@base.staff_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    """The staff accounts with their roles; the owner changes anyone's role but their own."""
    people = get_user_model().objects.filter(is_staff=True, is_active=True).order_by("username")
    if request.method == "POST":
        chosen = request.POST.get("persona", "")
        person = get_object_or_404(people, pk=int(chosen) if chosen.isdigit() else 0)
        role = request.POST.get("rol", "")
        if role not in (*ROLES, ""):
            messages.error(request, _("Elija un rol de la lista."))
        elif person.pk == request.user.pk or person.is_superuser:
            messages.error(request, _("Ese rol no se cambia desde aquí."))
        else:
            assign_role(person, role)
            name = person.get_username()
            shown = role or _("sin acceso")
            messages.success(request, _("%(name)s ahora es: %(role)s.") % {"name": name, "role": shown})
        return redirect("goteo:team")
    rows = [
        {
            "user": person,
            "role": role_of(person),
            "fixed": person.pk == request.user.pk or person.is_superuser,
        }
        for person in people.prefetch_related("groups")
    ]
    return render(request, "goteo/team.html", {"rows": rows, "roles": ROLES})
