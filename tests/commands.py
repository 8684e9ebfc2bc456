"""Running goteo's management commands in this process, as a person types them."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command


def call(*args, **kw) -> tuple[str, str]:
    """Run a command; what it printed to stdout and to stderr."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **kw)
    return out.getvalue(), err.getvalue()


def create(*extra: str):
    """``create_campaign`` for «Navidad» on NAVIDAD2026 (30% en monturas), plus ``extra`` flags;
    the campaign and what the command warned on stderr."""
    from goteo.models import Campaign

    out, err = call(
        "create_campaign",
        *("--name", "Navidad", "--template", "Hola {name}, {benefit}", "--promotion-code", "NAVIDAD2026"),
        *("--benefit", "30% en monturas", "--valid-until", "2099-12-31"),
        *extra,
    )
    return Campaign.objects.get(pk=int(out.strip())), err
