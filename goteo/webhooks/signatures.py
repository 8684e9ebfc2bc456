"""Checking that a webhook really comes from the provider, each in its own way.

Every comparison is constant-time, and a webhook without any configured secret is refused:
an unsigned request could otherwise opt people out or mark messages as delivered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit


def meta_signature_ok(body: bytes, header: str, app_secrets: Iterable[str]) -> bool:
    """``X-Hub-Signature-256: sha256=<hex>``, an HMAC-SHA256 of the raw body with the app secret."""
    if not header.startswith("sha256="):
        return False
    received = header.removeprefix("sha256=").strip().lower()
    return any(
        hmac.compare_digest(hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(), received)
        for secret in app_secrets
        if secret
    )


def twilio_signature(url: str, params: Mapping[str, Sequence[str]], auth_token: str) -> str:
    """Twilio's signature: HMAC-SHA1 of the URL, then each name and its distinct values, sorted."""
    data = url
    for name in sorted(params):
        for value in sorted(set(params[name])):
            data += name + value
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_variants(url: str) -> list[str]:
    """The URL without its port and with the scheme's default port, as Twilio's own
    RequestValidator tries them: a proxy may add ``:443`` to what Twilio signed, or drop it.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    without = urlunsplit(parts._replace(netloc=prefix + host))
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{port}")) if port else without
    return [without, with_port]


def twilio_signature_ok(url: str, params: Mapping[str, Sequence[str]], header: str, auth_token: str) -> bool:
    """``X-Twilio-Signature`` checked against the URL Twilio called and the form fields."""
    if not header or not auth_token:
        return False
    received = header.strip()
    return any(
        hmac.compare_digest(twilio_signature(candidate, params, auth_token), received)
        for candidate in url_variants(url)
    )


def waha_hmac_ok(body: bytes, header: str, keys: Iterable[str]) -> bool:
    """``X-Webhook-Hmac``: the HMAC-SHA512 of the raw body, in hex."""
    received = header.strip().lower()
    if not received:
        return False
    return any(
        hmac.compare_digest(hmac.new(key.encode(), body, hashlib.sha512).hexdigest(), received)
        for key in keys
        if key
    )


def secret_matches(given: str, secrets: Iterable[str]) -> bool:
    """Whether ``given`` equals one of ``secrets`` (a secret carried in the URL)."""
    return any(hmac.compare_digest(given.encode(), s.encode()) for s in secrets if s)
