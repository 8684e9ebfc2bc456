"""A promotion shared by campaigns is never rewritten behind their backs, and expiry is reversible."""

from datetime import date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from goteo.models import Campaign, Contact, ExcludedPhone, MessageEvent, Promotion
from goteo.sending import Engine
from tests.conftest import BOGOTA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("no_legal_hours")]


def create(name, *promotion_args, update=False):
    out, err = StringIO(), StringIO()
    args = ["create_campaign", "--name", name, "--template", "Hola {name}, {benefit}"]
    args += ["--promotion-code", "NAVIDAD2026", *promotion_args]
    if update:
        args.append("--update-promotion")
    call_command(*args, stdout=out, stderr=err)
    return Campaign.objects.get(pk=int(out.getvalue().strip())), err.getvalue()


FIELDS = ("--benefit", "30% en monturas", "--valid-until", "2099-12-31")


@pytest.fixture
def navidad(db):
    Contact.objects.create(full_name="Paciente Uno", phone="+573001000001", consent=True)
    campaign, _err = create("Navidad", *FIELDS)
    return campaign


def test_it_refuses_a_different_expiry_naming_the_change_and_the_campaigns(navidad):
    with pytest.raises(CommandError) as error:
        create("Otra", "--valid-until", "2025-01-01")
    text = str(error.value)
    assert "válida hasta: 31/12/2099 → 01/01/2025" in text
    assert f"«Navidad» (#{navidad.pk}, Borrador)" in text
    assert "--update-promotion" in text
    promotion = Promotion.objects.get(code="NAVIDAD2026")
    assert promotion.valid_until == date(2099, 12, 31)
    assert not Campaign.objects.filter(name="Otra").exists()


def test_it_names_every_field_that_differs(navidad):
    with pytest.raises(CommandError) as error:
        create("Otra", "--benefit", "40% en lentes", "--promotion-name", "Navidad")
    assert "beneficio: «30% en monturas» → «40% en lentes»" in str(error.value)
    assert "nombre: «NAVIDAD2026» → «Navidad»" in str(error.value)


def test_the_same_fields_or_none_reuse_the_promotion(navidad):
    same, err = create("Igual", *FIELDS)
    bare, _err = create("Sin datos")
    assert same.promotion_id == bare.promotion_id == navidad.promotion_id
    assert "actualizada" not in err
    assert Promotion.objects.count() == 1


def test_update_promotion_changes_it_and_lists_the_campaigns(navidad):
    other, err = create("Otra", "--valid-until", "2099-06-30", update=True)
    assert other.promotion_id == navidad.promotion_id
    assert Promotion.objects.get().valid_until == date(2099, 6, 30)
    assert "válida hasta: 31/12/2099 → 30/06/2099" in err
    assert f"«Navidad» (#{navidad.pk}, Borrador)" in err


def expire(make_campaign, clock, contacts=30, **fields):
    """A campaign of ``contacts`` that sends 20 on Friday 2 January and expires on Monday 5."""
    campaign = make_campaign(contacts, valid_until=date(2026, 1, 4), daily_limit=20, **fields)
    Engine(clock, max_wait=3600).run()
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=BOGOTA))
    Engine(clock, max_wait=3600).expire_campaigns(clock.now())
    campaign.refresh_from_db()
    return campaign


def test_moving_the_expiry_later_puts_the_skipped_messages_back(make_campaign, clock):
    campaign = expire(make_campaign, clock)
    assert (campaign.status, campaign.sent_count, campaign.skipped_count) == ("completed", 20, 10)
    restored = campaign.promotion.revise(clock.now(), "create_campaign", valid_until=date(2026, 1, 31))
    campaign.refresh_from_db()
    assert restored == 10
    assert campaign.status == "active" and campaign.finished_at is None
    assert campaign.counts() == campaign.recount()  # the counters were moved exactly
    assert (campaign.pending_count, campaign.skipped_count, campaign.sent_count) == (10, 0, 20)
    events = MessageEvent.objects.filter(message__campaign=campaign, to_status="pending")
    assert events.count() == 10
    assert {e.actor for e in events} == {"create_campaign"}
    assert "31/01/2026" in events[0].detail
    Engine(clock, max_wait=3600).run()
    campaign.refresh_from_db()
    assert (campaign.sent_count, campaign.status) == (30, "completed")


def test_it_never_restores_people_who_left_since(make_campaign, clock):
    campaign = expire(make_campaign, clock)
    skipped = list(campaign.messages.filter(status="skipped").order_by("id"))
    Contact.objects.filter(pk=skipped[0].contact_id).update(opted_out=True)
    ExcludedPhone.objects.create(phone=skipped[1].phone, added_at=clock.now())
    restored = campaign.promotion.revise(clock.now(), "panel", valid_until=date(2026, 1, 31))
    campaign.refresh_from_db()
    assert restored == 8
    assert campaign.counts() == campaign.recount()
    assert set(campaign.messages.filter(status="skipped").values_list("pk", flat=True)) == {
        skipped[0].pk,
        skipped[1].pk,
    }


def test_a_date_still_past_or_earlier_restores_nothing(make_campaign, clock):
    campaign = expire(make_campaign, clock)
    assert campaign.promotion.revise(clock.now(), "panel", valid_until=date(2026, 1, 3)) == 0
    assert campaign.promotion.revise(clock.now(), "panel", valid_until=date(2026, 1, 4)) == 0
    campaign.refresh_from_db()
    assert (campaign.status, campaign.skipped_count) == ("completed", 10)


def test_a_cancelled_campaign_stays_cancelled_and_a_paused_one_paused(make_campaign, clock):
    cancelled = expire(make_campaign, clock)
    # Expired while a send was in flight (so not completed), then cancelled or paused by the owner.
    Campaign.objects.filter(pk=cancelled.pk).update(status="cancelled")
    paused = expire(make_campaign, clock, contacts=0)
    Campaign.objects.filter(pk=paused.pk).update(status="paused")
    assert paused.promotion.revise(clock.now(), "panel", valid_until=date(2026, 2, 1)) == 30
    assert cancelled.promotion.revise(clock.now(), "panel", valid_until=date(2026, 2, 1)) == 0
    paused.refresh_from_db()
    cancelled.refresh_from_db()
    assert (paused.status, paused.pending_count) == ("paused", 30)
    assert (cancelled.status, cancelled.pending_count, cancelled.skipped_count) == ("cancelled", 0, 10)


def test_the_admin_puts_them_back_too_when_it_moves_the_expiry_later(client, make_campaign, clock):
    from django.urls import reverse

    from tests.dashboard import make_user

    campaign = expire(make_campaign, clock)
    promotion = campaign.promotion
    client.force_login(make_user("root", superuser=True))
    response = client.post(
        reverse("admin:goteo_promotion_change", args=[promotion.pk]),
        {
            "name": promotion.name,
            "code": promotion.code,
            "benefit": promotion.benefit,
            "valid_until": "2099-12-31",
        },
        follow=True,
    )
    campaign.refresh_from_db()
    assert response.status_code == 200
    assert (campaign.status, campaign.pending_count, campaign.skipped_count) == ("active", 10, 0)
    assert "10 mensajes omitidos por vencimiento vuelven a estar pendientes." in response.content.decode()
    assert MessageEvent.objects.filter(message__campaign=campaign, actor="root").count() == 10


def test_an_expiry_run_that_read_the_old_date_skips_nothing_once_it_moved(make_campaign, clock, monkeypatch):
    """The engine read the old date; the owner moved it later before the engine wrote."""
    campaign = make_campaign(5, valid_until=date(2026, 1, 4))
    clock.set(datetime(2026, 1, 5, 10, 0, tzinfo=BOGOTA))
    real_is_expired = Campaign.is_expired
    moved = []

    def stale_then_moved(checked, now):
        if not moved:  # the first look sees the old date, then the owner's change commits
            moved.append(
                Promotion.objects.filter(pk=checked.promotion_id).update(valid_until=date(2026, 1, 31))
            )
            return True
        return real_is_expired(checked, now)

    monkeypatch.setattr(Campaign, "is_expired", stale_then_moved)
    assert Engine(clock, max_wait=3600).expire_campaigns(clock.now()) == 0
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pending_count, campaign.skipped_count) == ("active", 5, 0)


def test_a_refused_campaign_leaves_nothing_behind(db):
    """An unknown tag is refused before anything is stored: no draft, no new promotion."""
    for _retry in range(2):
        with pytest.raises(CommandError, match="no existe la etiqueta 'vip'") as refused:
            create("Otra", *FIELDS, "--audience", "tag:vip")
        assert "No se creó la campaña" in str(refused.value)
    with pytest.raises(CommandError, match="Audiencia desconocida"):
        create("Otra", *FIELDS, "--audience", "vip")
    assert not Campaign.objects.exists()
    assert not Promotion.objects.exists()


def test_a_refused_campaign_leaves_an_existing_promotion_as_it_was(navidad):
    with pytest.raises(CommandError, match="no existe la etiqueta"):
        create("Otra", "--valid-until", "2100-01-31", "--audience", "tag:vip", update=True)
    assert Promotion.objects.get().valid_until == date(2099, 12, 31)
    assert list(Campaign.objects.all()) == [navidad]


def test_a_new_promotion_already_over_is_refused_in_plain_words(db):
    with pytest.raises(CommandError, match="ya venció el 01/01/2020") as refused:
        create("Vieja", "--benefit", "10%", "--valid-until", "01/01/2020")
    assert "--valid-until" in str(refused.value) and "No se creó nada" in str(refused.value)
    assert not Promotion.objects.exists() and not Campaign.objects.exists()


def test_moving_a_promotion_into_the_past_says_it_is_over(navidad):
    _campaign, err = create("Otra", "--valid-until", "01/01/2020", update=True)
    assert "la promoción ya venció el 01/01/2020" in err
