"""``goteo api_token``: a new token alone on stdout, once; a list that never shows one; revoking."""

from __future__ import annotations

import pytest
from django.core.management import CommandError

from goteo.models import ApiToken
from tests.commands import call
from tests.dashboard import make_user

pytestmark = pytest.mark.django_db


def test_it_prints_only_the_new_token_and_the_notes_on_stderr():
    user = make_user("ana", role="Dueño")

    out, err = call("api_token", "ana", "--name", "sistema de la óptica")

    raw = out.strip()
    assert out == raw + "\n" and raw.startswith("gt_") and len(raw) > 40
    token = ApiToken.objects.get()
    assert ApiToken.find(raw) == token
    assert (token.user, token.name) == (user, "sistema de la óptica")
    assert raw not in err
    assert f"Token {token.prefix}… creado para ana (rol Dueño)" in err
    assert "no se vuelve a mostrar" in err
    assert raw not in str(ApiToken.objects.values_list().get())  # only its hash is stored


def test_a_user_without_a_role_is_told_the_token_can_do_nothing():
    make_user("luis", role="")

    _out, err = call("api_token", "luis")

    assert "sin rol: no podrá hacer nada hasta que tenga uno" in err


def test_the_list_shows_starts_names_and_uses_but_never_a_token(clock):
    make_user("ana", role="Dueño")
    make_user("luis", role="Mostrador")
    first = call("api_token", "ana", "--name", "óptica")[0].strip()
    second = call("api_token", "luis")[0].strip()
    ApiToken.objects.get(user__username="luis").revoke(clock.now())

    everyone = call("api_token", "--list")[0]
    only_ana = call("api_token", "ana", "--list")[0]

    assert first not in everyone and second not in everyone
    assert f"{first[:8]}…  ana  «óptica»" in everyone
    assert "último uso: nunca  activo" in everyone
    assert f"{second[:8]}…  luis  «sin nombre»" in everyone and "revocado el 02/01/2026" in everyone
    assert "luis" not in only_ana


def test_revoking_by_its_start_stops_the_token():
    make_user("ana", role="Dueño")
    raw = call("api_token", "ana")[0].strip()

    out, _err = call("api_token", "--revoke", raw[:8])

    assert out.strip() == f"Token {raw[:8]}… de ana revocado: deja de funcionar ya."
    assert ApiToken.find(raw) is None
    with pytest.raises(CommandError, match="No hay ningún token activo que empiece por"):
        call("api_token", "--revoke", raw[:8])


def test_an_ambiguous_start_is_not_guessed():
    user = make_user("ana", role="Dueño")
    for _ in range(2):
        row, _raw = ApiToken.issue(user)
        ApiToken.objects.filter(pk=row.pk).update(prefix="gt_AAAAA")

    with pytest.raises(CommandError, match="Hay más de un token activo que empieza por «gt_AAAAA»"):
        call("api_token", "--revoke", "gt_AAAAA")
    assert not ApiToken.objects.filter(revoked_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nadie"], "No hay ningún usuario «nadie»"),
        ([], "Indique el usuario: goteo api_token USUARIO"),
        (["--list", "--revoke", "gt_x"], "Use --list o --revoke, no los dos a la vez."),
    ],
)
def test_mistakes_are_said_in_spanish(args, message):
    with pytest.raises(CommandError, match=message):
        call("api_token", *args)


def test_an_inactive_user_gets_no_token():
    user = make_user("ana", role="Dueño")
    user.is_active = False
    user.save()

    with pytest.raises(CommandError, match="está desactivado"):
        call("api_token", "ana")
    assert not ApiToken.objects.exists()


def test_the_admin_lists_tokens_without_them_and_revokes(client):
    from django.urls import reverse

    make_user("ana", role="Dueño")
    raw = call("api_token", "ana", "--name", "óptica")[0].strip()
    client.force_login(make_user("root", superuser=True))
    token = ApiToken.objects.get()

    listing = client.get(reverse("admin:goteo_apitoken_changelist")).content.decode()
    change = client.get(reverse("admin:goteo_apitoken_change", args=[token.pk])).content.decode()
    client.post(
        reverse("admin:goteo_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )

    assert token.prefix in listing and "óptica" in listing
    assert raw not in listing + change and token.key_hash not in listing + change
    assert ApiToken.find(raw) is None
