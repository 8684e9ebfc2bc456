"""The "Respuestas" inbox, its "atendida" toggle, the unread count and a contact's conversation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from goteo.models import Campaign, Contact, InboundMessage, Message, MessageStatus
from tests.dashboard import make_user, page_text, pin_page_clock

pytestmark = pytest.mark.django_db

INBOX = "/dashboard/promociones/respuestas/"


def may_handle_replies(user) -> None:
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="goteo", codename="handle_reply")
    )


@pytest.fixture
def replier(client, clock, monkeypatch):
    """The client signed in as staff allowed to read and handle replies."""
    pin_page_clock(monkeypatch, clock)
    user = make_user("ana")
    may_handle_replies(user)
    client.force_login(user)
    return client


@pytest.fixture
def shop(make_campaign, clock):
    """Two campaigns; Persona 0 answered the first, Persona 2 the second, Persona 1 opted out."""
    first, second = make_campaign(2), make_campaign(1)  # the second reaches all three
    Message.objects.update(
        status=MessageStatus.SENT, sent_at=clock.now() - timedelta(hours=3), delivery_status="read"
    )
    messages = [*first.messages.order_by("id"), second.messages.get(contact__full_name="Persona 2 Prueba")]
    wrote = [
        (messages[0], "¿Cuánto valen las monturas?", False, 30),
        (messages[1], "BAJA", True, 20),
        (messages[2], "Quiero una cita el sábado", False, 10),
    ]
    for message, text, opt_out, minutes_ago in wrote:
        InboundMessage.objects.create(
            provider="cloud",
            provider_message_id=f"wamid.{message.pk}",
            sender_ref=message.phone,
            phone=message.phone,
            contact=message.contact,
            campaign=message.campaign,
            in_reply_to=message,
            text=text,
            is_opt_out=opt_out,
            received_at=clock.now() - timedelta(minutes=minutes_ago),
            handled_by="goteo" if opt_out else "",
            handled_at=clock.now() if opt_out else None,
        )
    return first, second


def reply(text: str) -> InboundMessage:
    return InboundMessage.objects.get(text=text)


def test_the_inbox_lists_each_reply_with_name_phone_text_time_and_campaign(replier, shop):
    first, second = shop

    text = page_text(replier.get(INBOX))

    assert "2 sin atender" in text
    assert "Persona 0 Prueba" in text and "+573002000000" in text
    assert "¿Cuánto valen las monturas?" in text and f"Campaña: {first.name}" in text
    assert "Quiero una cita el sábado" in text and f"Campaña: {second.name}" in text
    assert "2 Ene, 09:30" in text  # received at 09:30 in Bogotá
    assert "BAJA" not in text  # an opt-out is handled by applying it: not waiting for anyone


def test_all_replies_show_an_opt_out_as_one_without_a_toggle(replier, shop):
    response = replier.get(INBOX, {"ver": "todas"})
    text = page_text(response)

    assert "3 respuestas" in text
    assert "BAJA" in text and "pidió la baja" in text and "Ya no recibirá promociones." in text
    opt_out = reply("BAJA")
    assert f"/respuestas/{opt_out.pk}/atendida/" not in response.content.decode()
    assert replier.post(f"{INBOX}{opt_out.pk}/atendida/", {"atendida": "1"}).status_code == 404


def test_a_campaigns_inbox_shows_only_its_replies_and_the_campaign_page_links_to_it(replier, shop):
    _first, second = shop

    text = page_text(replier.get(f"/dashboard/promociones/campanas/{second.pk}/respuestas/"))
    detail = replier.get(f"/dashboard/promociones/campanas/{second.pk}/").content.decode()

    assert "Quiero una cita el sábado" in text
    assert "¿Cuánto valen las monturas?" not in text
    assert f'href="/dashboard/promociones/campanas/{second.pk}/respuestas/"' in detail
    assert "Respuestas (1 sin atender)" in page_text(
        replier.get(f"/dashboard/promociones/campanas/{second.pk}/")
    )


def test_marking_a_reply_handled_records_who_and_when_and_can_be_undone(replier, shop, clock):
    question = reply("¿Cuánto valen las monturas?")

    done = replier.post(f"{INBOX}{question.pk}/atendida/", {"atendida": "1", "next": INBOX}, follow=True)

    question.refresh_from_db()
    assert (question.handled_by, question.handled_at) == ("panel:ana", clock.now())
    assert "Respuesta marcada como atendida." in page_text(done)
    assert "¿Cuánto valen las monturas?" not in page_text(done)  # gone from "sin atender"
    shown = page_text(replier.get(INBOX, {"ver": "todas"}))
    assert "Atendida por ana el 2 Ene, 10:00" in shown

    replier.post(f"{INBOX}{question.pk}/atendida/", {"atendida": "0"})

    question.refresh_from_db()
    assert (question.handled_by, question.handled_at) == ("", None)


def test_the_toggle_goes_back_only_to_a_page_of_this_site(replier, shop):
    question = reply("¿Cuánto valen las monturas?")

    response = replier.post(
        f"{INBOX}{question.pk}/atendida/", {"atendida": "1", "next": "https://example.com/"}
    )

    assert response.status_code == 302 and response.url == "/dashboard/promociones/respuestas/"


def test_the_toggle_without_a_csrf_token_is_refused_and_changes_nothing(shop, clock, monkeypatch):
    pin_page_clock(monkeypatch, clock)
    browser = Client(enforce_csrf_checks=True)
    user = make_user("ana")
    may_handle_replies(user)
    browser.force_login(user)
    question = reply("¿Cuánto valen las monturas?")

    response = browser.post(f"{INBOX}{question.pk}/atendida/", {"atendida": "1"})

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.handled_at is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", INBOX),
        ("get", "/dashboard/promociones/campanas/{campaign}/respuestas/"),
        ("post", INBOX + "{reply}/atendida/"),
        ("get", "/dashboard/promociones/contactos/{contact}/"),
    ],
)
def test_staff_without_the_permission_get_the_denied_page(client, shop, method, path):
    client.force_login(make_user("nadie", role=""))  # staff without a role
    question = reply("¿Cuánto valen las monturas?")
    url = path.format(campaign=shop[0].pk, reply=question.pk, contact=question.contact_id)

    response = getattr(client, method)(url, {"atendida": "1"} if method == "post" else {})

    assert response.status_code == 403
    assert "Sin acceso" in page_text(response)
    question.refresh_from_db()
    assert question.handled_at is None


def test_signed_out_people_are_sent_to_sign_in(client, shop):
    response = client.get(INBOX)

    assert response.status_code == 302 and response.url.startswith("/dashboard/ingresar/")


def test_a_superuser_may_handle_replies(client, shop):
    client.force_login(make_user("duena", superuser=True))

    assert client.get(INBOX).status_code == 200


def test_the_header_shows_the_unread_count_in_both_navs_only_to_who_may_read_them(replier, shop, client):
    page = replier.get("/dashboard/promociones/campanas/").content.decode()

    assert page.count('href="/dashboard/promociones/respuestas/"') == 2  # the bar and the phone menu
    assert page.count('<span class="unread">2</span>') == 3  # both links and the menu button
    assert "Respuestas 2 respuestas sin atender" in page_text(replier.get("/dashboard/promociones/campanas/"))

    question = reply("¿Cuánto valen las monturas?")
    replier.post(f"{INBOX}{question.pk}/atendida/", {"atendida": "1"})
    after = replier.get("/dashboard/promociones/campanas/").content.decode()
    assert '<span class="unread">1</span>' in after and "> 1 respuesta sin atender" not in after
    assert "Respuestas 1 respuesta sin atender" in page_text(replier.get("/dashboard/promociones/campanas/"))

    seer = make_user("vista", role="")  # sees the campaigns, not the replies
    seer.user_permissions.add(
        Permission.objects.get(codename="view_campaign", content_type__app_label="goteo")
    )
    client.force_login(seer)
    other = client.get("/dashboard/promociones/campanas/").content.decode()
    assert "/dashboard/promociones/respuestas/" not in other and 'class="unread"' not in other


def test_the_unread_count_says_99_plus_past_99(replier, shop, clock):
    InboundMessage.objects.bulk_create(
        InboundMessage(
            provider="waha",
            provider_message_id=f"m{i}",
            phone="+573001112233",
            text="Hola",
            received_at=clock.now(),
        )
        for i in range(120)
    )

    page = replier.get("/dashboard/promociones/campanas/").content.decode()

    assert '<span class="unread">99+</span>' in page


def test_the_live_block_alone_is_what_the_page_fetches_to_show_new_replies(replier, shop, clock):
    page = replier.get(INBOX).content.decode()
    assert 'data-refresh-url="/dashboard/promociones/respuestas/?bloque=1"' in page

    InboundMessage.objects.create(
        provider="waha",
        provider_message_id="new",
        phone="+573002000000",
        text="¿Abren el domingo?",
        received_at=clock.now(),
    )
    block = replier.get(INBOX, {"bloque": "1"}).content.decode()

    assert block.startswith('<div id="replies-live"')
    assert "¿Abren el domingo?" in block and "Sin campaña" in block
    assert "<html" not in block


def test_the_inbox_is_paginated(replier, shop, clock):
    InboundMessage.objects.bulk_create(
        InboundMessage(
            provider="waha",
            provider_message_id=f"m{i}",
            phone="+573001112233",
            text=f"mensaje {i:02d}",
            received_at=clock.now() - timedelta(days=1, minutes=i),
        )
        for i in range(30)
    )

    first = page_text(replier.get(INBOX))
    second = page_text(replier.get(INBOX, {"pagina": "2"}))

    assert "mensaje 00" in first and "mensaje 29" not in first
    assert "mensaje 29" in second and "Página 2" in replier.get(INBOX).content.decode()


def test_a_contacts_page_shows_the_promotions_and_replies_in_order(replier, shop):
    first, _second = shop
    contact = Contact.objects.get(full_name="Persona 0 Prueba")
    listing = replier.get("/dashboard/promociones/contactos/").content.decode()
    assert f'href="/dashboard/promociones/contactos/{contact.pk}/"' in listing

    text = page_text(replier.get(f"/dashboard/promociones/contactos/{contact.pk}/"))

    sent = Message.objects.get(contact=contact, campaign=first).rendered_text.splitlines()[0]
    assert text.index(sent) < text.index("¿Cuánto valen las monturas?")
    assert "2 Ene 2026, 07:00 · Leído" in text
    assert f"respuesta a {first.name}" in text and "sin atender" in text


def test_a_contact_who_opted_out_shows_it_in_the_conversation(replier, shop):
    contact = Contact.objects.get(full_name="Persona 1 Prueba")

    text = page_text(replier.get(f"/dashboard/promociones/contactos/{contact.pk}/"))

    assert "BAJA" in text and "pidió la baja" in text


def test_counters_are_untouched_by_viewing(replier, shop):
    first, _second = shop
    replier.get(INBOX)
    assert Campaign.objects.get(pk=first.pk).replied_count == 0  # the fixture wrote rows, not counts


def test_the_new_pages_keep_commands_and_internal_ids_off(replier, shop):
    from tests.test_view_owner_words import developer_words

    first, _second = shop
    InboundMessage.objects.filter(text="¿Cuánto valen las monturas?").update(sender_ref="13718@lid")
    contact = Contact.objects.get(full_name="Persona 0 Prueba")
    pages = [
        INBOX,
        INBOX + "?ver=todas",
        f"/dashboard/promociones/campanas/{first.pk}/respuestas/",
        f"/dashboard/promociones/contactos/{contact.pk}/",
    ]

    found = {url: developer_words(page_text(replier.get(url))) for url in pages}

    assert {url: words for url, words in found.items() if words} == {}
