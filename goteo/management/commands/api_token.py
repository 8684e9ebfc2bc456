"""``goteo api_token USUARIO [--name N]``, ``--list`` and ``--revoke COMIENZO``: the API's tokens.

A new token is printed once, alone on stdout, so a script can keep it
(``TOKEN=$(goteo api_token ana --name optica)``); the notes go to stderr. Only its hash is
stored: a lost token is revoked and a new one issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from goteo.management.base import GoteoCommand
from goteo.models import ApiToken
from goteo.roles import role_of


def moment(value: datetime | None, empty: str) -> str:
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M") if value else empty


class Command(GoteoCommand):
    help = (
        "Crea un token para la API de goteo a nombre de un usuario (actúa con los permisos de su "
        "rol) y lo muestra una sola vez. Con --list muestra los tokens sin revelarlos; con "
        "--revoke COMIENZO revoca uno."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", nargs="?", metavar="USUARIO", help="el usuario del panel")
        parser.add_argument(
            "--name", default="", metavar="NOMBRE", help="para qué es, p. ej. «sistema de la óptica»"
        )
        parser.add_argument("--list", action="store_true", help="lista los tokens (de USUARIO, o todos)")
        parser.add_argument(
            "--revoke", metavar="COMIENZO", help="revoca el token que empieza así (p. ej. gt_AbC12)"
        )

    def handle(self, *args: Any, **o: Any) -> None:
        username, listing, prefix = o["username"], o["list"], o["revoke"]
        if listing and prefix:
            raise CommandError("Use --list o --revoke, no los dos a la vez.")
        user = self.find_user(username) if username else None
        if listing:
            self.show(user)
        elif prefix:
            self.revoke(prefix.strip().rstrip("…"), user)
        elif user is None:
            raise CommandError("Indique el usuario: goteo api_token USUARIO (o --list para ver los tokens).")
        else:
            self.issue(user, o["name"])

    def find_user(self, username: str) -> Any:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(
                f"No hay ningún usuario «{username}». Los usuarios se crean en el panel, en Equipo."
            )
        return user

    def issue(self, user: Any, name: str) -> None:
        if not user.is_active:
            raise CommandError(f"El usuario «{user.username}» está desactivado: su token no funcionaría.")
        token, raw = ApiToken.issue(user, name)
        self.stdout.write(raw)
        role = role_of(user)
        self.stderr.write(
            f"Token {token.prefix}… creado para {user.username} "
            f"({'rol ' + role if role else 'sin rol: no podrá hacer nada hasta que tenga uno'}). "
            "Guárdelo ahora: no se vuelve a mostrar. "
            f"Para revocarlo: goteo api_token --revoke {token.prefix}"
        )

    def show(self, user: Any) -> None:
        tokens = ApiToken.objects.select_related("user")
        if user is not None:
            tokens = tokens.filter(user=user)
        if not tokens:
            self.stdout.write("No hay tokens. Cree uno con: goteo api_token USUARIO --name NOMBRE")
            return
        for t in tokens:
            state = f"revocado el {moment(t.revoked_at, '')}" if t.revoked_at else "activo"
            self.stdout.write(
                f"{t.prefix}…  {t.user.get_username()}  «{t.name or 'sin nombre'}»  "
                f"creado el {moment(t.created_at, '')}  último uso: {moment(t.last_used_at, 'nunca')}  {state}"
            )

    def revoke(self, prefix: str, user: Any) -> None:
        tokens = ApiToken.objects.filter(prefix=prefix, revoked_at__isnull=True)
        if user is not None:
            tokens = tokens.filter(user=user)
        found = list(tokens[:2])
        if not found:
            raise CommandError(
                f"No hay ningún token activo que empiece por «{prefix}». Véalos con: goteo api_token --list"
            )
        if len(found) > 1:
            raise CommandError(
                f"Hay más de un token activo que empieza por «{prefix}»: indique también el usuario "
                f"(goteo api_token USUARIO --revoke {prefix}) o revóquelo en la administración."
            )
        found[0].revoke(timezone.now())
        self.stdout.write(
            f"Token {prefix}… de {found[0].user.get_username()} revocado: deja de funcionar ya."
        )
