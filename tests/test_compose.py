"""compose.yaml's WhatsApp Web profile: WAHA beside goteo, wired with the names both sides read.

Docker cannot run here, so this checks what a wrong edit would break: the file parses, the
gateway only starts with its profile and on a pinned image, its variables are ones WAHA
documents, and every value goteo and WAHA must share comes from the same variable.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from django.urls import resolve

from goteo.transports.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
# WAHA's own names: devlikeapro/waha-docs content/docs/how-to/config/index.md (Global webhooks,
# Security, Swagger, Engines) and content/docs/how-to/install/index.md (the sessions folder).
WAHA_VARIABLES = {
    "WAHA_API_KEY",
    "WHATSAPP_API_KEY",
    "WHATSAPP_DEFAULT_ENGINE",
    "WHATSAPP_HOOK_URL",
    "WHATSAPP_HOOK_EVENTS",
    "WHATSAPP_HOOK_HMAC_KEY",
    "WHATSAPP_HOOK_RETRIES_POLICY",
    "WHATSAPP_HOOK_RETRIES_DELAY_SECONDS",
    "WHATSAPP_HOOK_RETRIES_ATTEMPTS",
    "WAHA_DASHBOARD_ENABLED",
    "WHATSAPP_SWAGGER_ENABLED",
}
WAHA_SESSIONS_DIR = "/app/.sessions"
# The events goteo's WAHA webhook acts on (goteo/webhooks/gateway_events.py, parse_waha).
EVENTS_READ = {"message", "message.ack", "session.status"}
SUBSTITUTION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}$")


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def variable(value: str) -> tuple[str, str]:
    """``${NAME:-default}`` -> (NAME, default)."""
    match = SUBSTITUTION.match(str(value))
    assert match, f"{value!r} is not a ${{NAME:-default}} substitution"
    return match["name"], match["default"] or ""


def goteo_environment() -> dict:
    return compose()["services"]["web"]["environment"]


def waha() -> dict:
    return compose()["services"]["waha"]


def test_the_gateway_starts_only_with_its_profile_on_a_pinned_image():
    service = waha()

    assert service["profiles"] == ["whatsapp-web"]
    image, tag = service["image"].split(":")
    assert image == "devlikeapro/waha"
    assert re.fullmatch(r"noweb-\d{4}\.\d{1,2}\.\d+", tag), "pin a version, never latest"
    assert service["environment"]["WHATSAPP_DEFAULT_ENGINE"] == "NOWEB"  # the image has no browser
    assert any(v.endswith(":" + WAHA_SESSIONS_DIR) for v in service["volumes"])
    assert "ports" not in service, "only goteo talks to the gateway"
    for name in ("web", "worker", "migrate", "db"):
        assert "profiles" not in compose()["services"][name]


def test_the_gateway_reads_only_variables_waha_documents():
    assert set(waha()["environment"]) <= WAHA_VARIABLES


def test_goteo_reads_the_gateway_with_its_own_setting_names():
    names = {setting.env for setting in SETTINGS["waha"]}
    environment = goteo_environment()

    assert names <= set(environment)
    for name in names:
        assert variable(environment[name])[0] == name
    host = urlsplit(variable(environment["WAHA_BASE_URL"])[1])
    assert (host.hostname, host.port) == ("waha", 3000)  # the service's name and WAHA's port


def test_both_sides_share_the_api_key_and_the_webhook_key():
    gateway, ours = waha()["environment"], goteo_environment()

    assert variable(gateway["WAHA_API_KEY"])[0] == variable(ours["WAHA_API_KEY"])[0]
    assert variable(gateway["WHATSAPP_HOOK_HMAC_KEY"])[0] == variable(ours["WAHA_WEBHOOK_HMAC_KEY"])[0]


def test_the_webhook_reaches_goteos_waha_view_by_an_allowed_host():
    hook = urlsplit(waha()["environment"]["WHATSAPP_HOOK_URL"])

    assert resolve(hook.path).url_name == "waha"
    assert hook.hostname == "web" and hook.port == 8000
    assert "web" in variable(goteo_environment()["ALLOWED_HOSTS"])[1].split(",")
    assert set(waha()["environment"]["WHATSAPP_HOOK_EVENTS"].split(",")) == EVENTS_READ


def test_the_guide_names_the_image_it_was_written_for():
    assert waha()["image"] in (ROOT / "docs" / "providers.md").read_text()
