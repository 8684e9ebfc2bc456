"""Redemption at the counter: by own code or by phone, once, expired only with a reason."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from goteo.models import Campaign, Message, MessageStatus, Redemption
from goteo.redemptions import RedemptionRefused, find_by_code, find_by_phone
from tests.conftest import at

TEMPLATE = "¡Hola {name}! {benefit} con el código {codigo}"
NOW = at(2026, 1, 10, 11, 30)

pytestmark = pytest.mark.django_db


def sent(campaign: Campaign, when=None) -> list[Message]:
    """Mark every pending message of ``campaign`` sent (at ``when``) and return them."""
    pending = campaign.messages.filter(status=MessageStatus.PENDING)
    Message.move(pending, MessageStatus.SENT, NOW, sent_at=when or at(2026, 1, 5, 10))
    return list(campaign.messages.filter(status=MessageStatus.SENT).order_by("id"))


@pytest.fixture
def own_codes(make_campaign):
    campaign = make_campaign(3, template=TEMPLATE, unique_codes=True, valid_until=date(2026, 1, 31))
    return campaign, sent(campaign)


def redeemed_count(campaign: Campaign) -> int:
    campaign.refresh_from_db()
    return campaign.redeemed_count


def test_it_redeems_an_own_code_typed_loosely(own_codes):
    campaign, messages = own_codes
    typed = " " + messages[0].code.lower().replace("-", " ") + " "
    found = find_by_code(typed)
    assert (found.message, found.campaign, found.name) == (messages[0], campaign, messages[0].contact_name)
    redemption = found.redeem(NOW, "ana")
    assert (redemption.code, redemption.phone, redemption.redeemed_by) == (
        messages[0].code,
        messages[0].phone,
        "ana",
    )
    assert (redemption.campaign, redemption.message, redemption.override_reason) == (
        campaign,
        messages[0],
        "",
    )
    assert redeemed_count(campaign) == 1


def test_the_same_code_twice_is_refused_saying_when_and_by_whom(own_codes):
    campaign, messages = own_codes
    find_by_code(messages[1].code).redeem(NOW, "ana")
    with pytest.raises(RedemptionRefused) as refused:
        find_by_code(messages[1].code).redeem(NOW + timedelta(hours=2), "beto")
    assert refused.value.reason == "redeemed"
    assert (
        str(refused.value)
        == f"El código {messages[1].code} ya se canjeó el 10/01/2026 a las 11:30 (atendió: ana)."
    )
    assert Redemption.objects.count() == 1 and redeemed_count(campaign) == 1


def test_an_unknown_code_is_refused(own_codes):
    with pytest.raises(RedemptionRefused, match="No existe el código PROMO1-ZZZZZZZZ") as refused:
        find_by_code("promo1-zzzzzzzz")
    assert refused.value.reason == "unknown"


def test_the_shared_code_typed_as_a_code_asks_for_the_phone(own_codes):
    campaign, _messages = own_codes
    with pytest.raises(RedemptionRefused, match="busque al cliente por su teléfono"):
        find_by_code(campaign.promotion.code)


def test_a_shared_code_with_a_dash_is_recognized_and_an_unknown_one_named_as_typed(make_campaign):
    campaign = make_campaign(1)
    campaign.promotion.code = "DEMO-NAVIDAD"  # 12 characters: the suffix rule would misplace a dash
    campaign.promotion.save()
    with pytest.raises(RedemptionRefused, match="DEMO-NAVIDAD es el código de la promoción"):
        find_by_code("demo-navidad")
    with pytest.raises(RedemptionRefused, match="No existe el código NOEXISTE-ABCD:"):
        find_by_code("noexiste-abcd")


def test_a_code_never_sent_is_unknown(make_campaign):
    campaign = make_campaign(1, template=TEMPLATE, unique_codes=True)
    with pytest.raises(RedemptionRefused, match="No existe el código"):
        find_by_code(campaign.messages.get().code)  # still pending: nobody received it


def test_an_expired_promotion_is_refused_without_a_reason(own_codes):
    campaign, messages = own_codes
    after = at(2026, 2, 1, 0, 5)  # 31 January was the last day, in Bogotá
    with pytest.raises(RedemptionRefused, match="venció el 31/01/2026") as refused:
        find_by_code(messages[0].code).redeem(after, "ana")
    assert refused.value.reason == "expired"
    assert not Redemption.objects.exists() and redeemed_count(campaign) == 0


def test_the_last_day_counts_in_the_shops_time_zone(own_codes):
    _campaign, messages = own_codes
    late = at(2026, 1, 31, 23, 50)  # already 1 February in UTC
    assert find_by_code(messages[0].code).redeem(late, "ana").override_reason == ""


def test_an_expired_promotion_is_accepted_with_a_reason_which_is_recorded(own_codes):
    campaign, messages = own_codes
    redemption = find_by_code(messages[0].code).redeem(at(2026, 2, 3, 9), "ana", "  cliente frecuente ")
    assert Redemption.objects.get() == redemption
    assert redemption.override_reason == "cliente frecuente"
    assert redeemed_count(campaign) == 1


def test_a_shared_code_is_redeemed_by_phone_for_the_campaign_that_last_sent_it(make_campaign):
    older = make_campaign(2, template=TEMPLATE)
    sent(older, at(2026, 1, 3, 10))
    newer = Campaign.objects.create(
        name="otra", promotion=older.promotion, sender=older.sender, template=TEMPLATE, audience="all"
    )
    from goteo.launch import campaign_launch

    campaign_launch(newer, at(2026, 1, 5, 9))
    sent(newer, at(2026, 1, 6, 10))
    phone = older.messages.first().phone
    local = "300" + phone[-7:]  # as the customer says it, without +57
    found = find_by_phone(local, older.promotion.code.lower())
    assert (found.campaign, found.phone, found.code) == (newer, phone, older.promotion.code)
    redemption = found.redeem(NOW, "ana")
    assert (redemption.campaign, redemption.code) == (newer, "")
    assert (redeemed_count(newer), redeemed_count(older)) == (1, 0)
    with pytest.raises(RedemptionRefused, match="para este número ya se canjeó el 10/01/2026"):
        find_by_phone(phone, older.promotion.code).redeem(NOW, "beto")


def test_a_phone_the_promotion_was_not_sent_to_is_refused(make_campaign):
    campaign = make_campaign(1, template=TEMPLATE)
    sent(campaign)
    with pytest.raises(RedemptionRefused, match="No se envió la promoción PROMO1 al \\+573009999999"):
        find_by_phone("+573009999999", "PROMO1")
    with pytest.raises(RedemptionRefused, match="No existe la promoción NADA"):
        find_by_phone("+573009999999", "nada")
    with pytest.raises(RedemptionRefused, match="Teléfono 'abc'") as refused:
        find_by_phone("abc", "PROMO1")
    assert refused.value.reason == "invalid"


# --- the command ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _counter_clock(monkeypatch):
    """The command reads the time from Django: pinned to NOW for these tests."""
    monkeypatch.setattr("goteo.management.commands.redeem.timezone.now", lambda: NOW)


def redeem(*args: str) -> tuple[int, str]:
    """Run ``goteo redeem``: its exit code and what it said."""
    out = StringIO()
    try:
        call_command("redeem", *args, stdout=out, stderr=StringIO())
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def test_the_command_redeems_a_code_and_exits_1_with_the_reason(own_codes):
    campaign, messages = own_codes
    code = messages[0].code
    status, said = redeem(code, "--by", "ana")
    assert status == 0
    assert said.startswith(
        f"Canjeado: {campaign.promotion.code} (30% de descuento) para {messages[0].contact_name}"
    )
    assert Redemption.objects.get().redeemed_by == "ana"
    status, said = redeem(code, "--by", "beto")
    assert status == 1 and said.startswith(f"El código {code} ya se canjeó el ") and "(atendió: ana)" in said
    assert redeem("PROMO1-ZZZZZZZZ")[0] == 1


def test_the_command_refuses_an_expired_promotion_unless_given_a_reason(own_codes, monkeypatch):
    _campaign, messages = own_codes
    monkeypatch.setattr("goteo.management.commands.redeem.timezone.now", lambda: at(2026, 3, 1, 10))
    status, said = redeem(messages[2].code)
    assert status == 1 and "venció el 31/01/2026" in said
    status, said = redeem(messages[2].code, "--reason", "lo autorizó la dueña")
    assert status == 0 and "Vencida; aceptada por: lo autorizó la dueña." in said
    assert Redemption.objects.get().override_reason == "lo autorizó la dueña"


def test_the_command_redeems_a_shared_code_by_phone(make_campaign, monkeypatch):
    campaign = make_campaign(1, template=TEMPLATE)
    [message] = sent(campaign)
    monkeypatch.setattr("goteo.management.commands.redeem.getpass.getuser", lambda: "caja1")
    status, said = redeem("--phone", message.phone, "--promotion", campaign.promotion.code)
    assert status == 0, said
    assert Redemption.objects.get().redeemed_by == "caja1"
    assert redeem("--phone", message.phone, "--promotion", campaign.promotion.code)[0] == 1


def test_the_command_asks_for_a_code_or_a_phone_and_promotion(db):
    status, said = redeem()
    assert status == 1 and "Indique el código del cliente" in said
    assert redeem("--phone", "3001234567")[0] == 1
    status, said = redeem("X-AAAAAAAA", "--phone", "3001234567", "--promotion", "X")
    assert status == 1 and "pero no ambos" in said


# --- two counters at the same moment ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_counters_redeeming_at_once_make_one_redemption(make_campaign):
    if connection.vendor != "postgresql":
        pytest.skip("the race needs two real connections writing side by side (PostgreSQL)")
    campaign = make_campaign(1, template=TEMPLATE, unique_codes=True)
    [message] = sent(campaign)
    found = [find_by_code(message.code), find_by_code(message.code)]  # both looked it up first
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def counter(i: int) -> None:
        try:
            barrier.wait()
            found[i].redeem(NOW, f"caja{i}")
            outcomes.append("ok")
        except RedemptionRefused as exc:
            outcomes.append(exc.reason)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=counter, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["ok", "redeemed"]
    assert Redemption.objects.count() == 1
    assert redeemed_count(campaign) == 1
