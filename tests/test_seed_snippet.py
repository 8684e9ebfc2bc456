"""The seed's "Verificar en Python" snippet runs as written, after one import line."""

from __future__ import annotations

import ast
import re
from contextlib import redirect_stdout
from datetime import date, datetime
from io import StringIO
from pathlib import Path

import pytest

from goteo.models import Campaign, Contact, Message, Promotion
from tests.conftest import BOGOTA

pytestmark = pytest.mark.django_db

# Copied verbatim from /work/shared/seed/sistema-de-promociones.md, "Verificar en Python".
SEED_SNIPPET = """from apps.promotions.models import PromotionCampaign

campaign = PromotionCampaign.objects.get(id=1)
campaign.update_stats()

print(f"Enviados: {campaign.messages_sent}")
print(f"Pendientes: {campaign.messages_pending}")
print(f"Fallidos: {campaign.messages_failed}")

# Ver quiénes ya recibieron
enviados = campaign.messages.filter(status='sent')
for msg in enviados:
    print(f"✅ {msg.patient.full_name} - {msg.sent_at}")

# Ver quiénes faltan
pendientes = campaign.messages.filter(status='pending')
for msg in pendientes:
    print(f"⏳ {msg.patient.full_name}")
"""
IMPORT_LINE = "from goteo.models import Campaign as PromotionCampaign"
README = Path(__file__).resolve().parent.parent / "README.md"


def readme_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("### Verificar en Python", 1)[1]
    found = re.search(r"```python\n(.*?)```", section, re.S)
    assert found, "the README's Verificar en Python section has no python block"
    return found.group(1)


def seed_with_our_import() -> str:
    """The seed's snippet exactly, its first line (the import) replaced by goteo's."""
    return "\n".join([IMPORT_LINE, *SEED_SNIPPET.splitlines()[1:]]) + "\n"


def test_the_readme_shows_the_seed_snippet_with_only_its_import_changed():
    # The same program: ``ruff format`` writes the README's block with double quotes.
    assert ast.dump(ast.parse(readme_snippet())) == ast.dump(ast.parse(seed_with_our_import()))


@pytest.fixture
def campaign(memory_sender):
    """Campaign 1: Daniel and María received it, Juan failed, Ana waits; Ana's contact was deleted."""
    promotion = Promotion.objects.create(
        code="NAVIDAD2026", name="Navidad", benefit="30%", valid_until=date(2026, 2, 2)
    )
    campaign = Campaign.objects.create(
        pk=1, name="Navidad", promotion=promotion, sender=memory_sender, template="Hola {name}"
    )
    sent_at = datetime(2026, 1, 2, 10, 0, tzinfo=BOGOTA)
    rows = [
        ("Daniel Osorio", "sent"),
        ("María García", "sent"),
        ("Juan Pérez", "failed"),
        ("Ana López", "pending"),
    ]
    for i, (name, status) in enumerate(rows):
        contact = Contact.objects.create(full_name=name, phone=f"+57300100000{i}", consent=True)
        Message.objects.create(
            campaign=campaign,
            contact=contact,
            contact_name=name,
            phone=contact.phone,
            status=status,
            rendered_text=f"Hola {name}",
            sent_at=sent_at if status == "sent" else None,
        )
    Contact.objects.filter(full_name="Ana López").delete()
    campaign.recount()
    return campaign


def test_it_runs_against_a_small_campaign(campaign):
    out = StringIO()
    with redirect_stdout(out):
        exec(compile(seed_with_our_import(), "seed", "exec"), {})
    assert out.getvalue().splitlines() == [
        "Enviados: 2",
        "Pendientes: 1",
        "Fallidos: 1",
        "✅ Daniel Osorio - 2026-01-02 15:00:00+00:00",
        "✅ María García - 2026-01-02 15:00:00+00:00",
        "⏳ Ana López",
    ]


def test_update_stats_reads_counters_changed_elsewhere(campaign):
    stale = Campaign.objects.get(pk=1)
    Message.move(campaign.messages.filter(status="pending"), "sent", datetime(2026, 1, 2, tzinfo=BOGOTA))
    assert stale.messages_pending == 1
    stale.update_stats()
    assert (stale.messages_sent, stale.messages_pending, stale.messages_failed) == (3, 0, 1)


def test_the_copy_is_the_seeds_own_text():
    seed = Path("/work/shared/seed/sistema-de-promociones.md")
    if not seed.exists():
        pytest.skip("the seed document is not on this machine")
    section = seed.read_text(encoding="utf-8").split("### Verificar en Python", 1)[1]
    assert re.search(r"```python\n(.*?)```", section, re.S).group(1) == SEED_SNIPPET
