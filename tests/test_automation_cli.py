"""``goteo create_automation``, starting an automation by hand, and the dry run of process_campaigns."""

import json
from datetime import date, timedelta

import pytest
from django.core.management import CommandError
from django.utils import timezone

from goteo.models import Campaign, CampaignStatus, Message, Sender
from tests.automations import EVERY_DAY, automation, person
from tests.commands import call
from tests.conftest import BOGOTA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_legal_hours")]

BASE = (
    *("--name", "Cumpleaños", "--template", "¡Feliz cumpleaños, {nombre}! {beneficio}"),
    *("--promotion-code", "CUMPLE", "--benefit", "20% de descuento", "--valid-until", "2099-12-31"),
    *("--window", "00:00-23:59", "--days", EVERY_DAY, "--no-holidays"),
)


def today() -> date:
    return timezone.now().astimezone(BOGOTA).date()


def born_today() -> date:
    """A birth date whose birthday is today where the number is."""
    return date(1992, 2, 29) if (today().month, today().day) == (2, 29) else today().replace(year=1990)


def born_another_day() -> date:
    return date(1990, 6, 1) if (today().month, today().day) == (1, 1) else date(1990, 1, 1)


@pytest.fixture(autouse=True)
def number(db):
    return Sender.objects.create(name="tienda", backend="memory", daily_cap=100, time_zone="America/Bogota")


def create(*extra: str) -> tuple[Campaign, str]:
    out, err = call("create_automation", *BASE, "--sender", "tienda", *extra)
    return Campaign.objects.get(pk=int(out.strip())), err


def test_it_creates_and_starts_a_birthday_automation_enrolling_who_is_due_today():
    person("Ana", 1, birth_date=born_today())
    person("Beto", 2, birth_date=born_another_day())
    campaign, err = create("--trigger", "birthday", "--grace-days", "3")
    assert campaign.status == CampaignStatus.ACTIVE
    assert (campaign.trigger, campaign.grace_days) == ("birthday", 3)
    assert "Automatización iniciada: envía el día de su cumpleaños. Hoy: 1 por enviar" in err
    assert list(Message.objects.values_list("contact_name", "occurrence")) == [("Ana", str(today().year))]


def test_it_keeps_a_draft_with_draft_and_reads_a_days_since_trigger():
    campaign, _err = create("--trigger", "days-since:last_visit:365", "--draft")
    assert (campaign.status, campaign.trigger, campaign.grace_days) == (
        CampaignStatus.DRAFT,
        "days-since:last_visit:365",
        7,
    )
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("trigger", "said"),
    [
        ("cumpleaños", "--trigger: Disparador desconocido «cumpleaños»"),
        ("days-since:ultima:365", "--trigger: Fecha desconocida «ultima»"),
        ("days-since:last_visit:muchos", "--trigger: Días inválidos «muchos»"),
    ],
)
def test_a_bad_trigger_is_refused_in_spanish_and_creates_nothing(trigger, said):
    with pytest.raises(CommandError) as refused:
        create("--trigger", trigger)
    assert said in str(refused.value)
    assert "No se creó la automatización." in str(refused.value)
    assert Campaign.objects.count() == 0


def test_too_many_grace_days_are_refused_naming_the_field():
    with pytest.raises(CommandError, match="días de gracia"):
        create("--trigger", "birthday", "--grace-days", "61")
    assert Campaign.objects.count() == 0


def test_create_campaign_still_makes_a_one_off_draft():
    out, _err = call("create_campaign", *BASE, "--sender", "tienda")
    campaign = Campaign.objects.get(pk=int(out.strip()))
    assert (campaign.status, campaign.trigger) == (CampaignStatus.DRAFT, "")


def test_start_campaign_starts_an_automation_as_an_automation(number):
    person("Ana", 1, birth_date=born_today())
    campaign = automation(sender=number)
    out, _err = call("start_campaign", str(campaign.pk), "--yes")
    assert "Envía el día de su cumpleaños; si no se puede en 7 días, se omite." in out
    assert "Hoy se sumarían: 1" in out and "+573005000001" not in out
    assert "Terminar" not in out  # an automation does not finish
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert list(campaign.messages.values_list("occurrence", flat=True)) == [str(today().year)]


def test_the_dry_run_shows_who_would_enroll_today_with_masked_phones(number):
    campaign = automation(sender=number)
    call("start_campaign", str(campaign.pk), "--yes")  # nobody due yet: it waits
    person("Ana", 1, birth_date=born_today())
    out, _err = call("process_campaigns", "--dry-run")
    assert "(automatización, el día de su cumpleaños): hoy se sumarían 1 persona:" in out
    assert "+ Ana (" in out and "+573005000001" not in out
    data = json.loads(call("process_campaigns", "--dry-run", "--json")[0])
    [item] = data["campaigns"]
    assert item["automation"] is True and item["trigger"] == "birthday"
    assert [p["name"] for p in item["enroll_today"]] == ["Ana"]
    assert "+573005000001" not in json.dumps(item)
    assert Message.objects.count() == 0  # a dry run enrolls nobody


def test_the_start_button_starts_an_automation_as_an_automation(staff, number):
    from django.urls import reverse

    from tests.dashboard import page_text

    person("Ana", 1, birth_date=date(1990, 1, 2))  # the pinned page clock: Friday 2 January 2026
    person("Beto", 2, birth_date=date(1990, 5, 5))
    campaign = automation(sender=number)
    text = page_text(staff.post(reverse("goteo:campaign_start", args=[campaign.pk]), follow=True))
    assert "Automatización iniciada: hoy se inscribieron 1 personas y se omitieron 0." in text
    assert list(campaign.messages.values_list("contact_name", "occurrence")) == [("Ana", "2026")]


def test_a_scheduled_automation_waits_and_starts_at_its_moment_as_an_automation(number):
    from goteo.scheduling import launch_due

    later = timezone.now().astimezone(BOGOTA).replace(second=0, microsecond=0) + timedelta(minutes=5)
    person("Ana", 1, birth_date=later.date().replace(year=1992))  # a leap year: any day exists
    campaign, err = create("--trigger", "birthday", "--start-at", later.strftime("%d/%m/%Y %H:%M"))
    assert campaign.status == CampaignStatus.SCHEDULED and "Programada" in err
    assert Message.objects.count() == 0
    assert launch_due(later) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ACTIVE
    assert list(campaign.messages.values_list("occurrence", flat=True)) == [str(later.year)]
