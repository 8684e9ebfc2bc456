"""The transport interface: send one message, and say whether the number can send.

A transport is one small class per provider, chosen by a name (``console``, ``file``,
``cloud``...). ``send`` returns the provider's message id or raises ``SendError`` whose
``kind`` tells the engine what happens to the message next. Each transport classifies its
provider's errors in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django.utils.translation import gettext


class SendError(Exception):
    """A send that did not succeed, and what that means for the message.

    kinds:
      retry         definitely not sent (throttled, connection refused): try later
      permanent     this recipient cannot get it (not on WhatsApp, invalid): failed
      unknown       may have gone out (timeout after sending, 5xx): a person decides
      disconnected  the number cannot send now (logged out, bad credentials): not sent,
                    the run stops and everything stays pending
      brake         a spam or quality signal: not sent; the number stops for the day
                    (or for ``retry_after`` seconds when longer, as Twilio's 63018 asks)
                    and its campaigns pause until a person resumes them

    ``campaign_wide``: the refusal is about the campaign, not this person or number (its
    picture is too large or of a type the provider refuses). Nothing was sent; every
    other message of the campaign would fail the same way, so the campaign pauses with
    the reason and its messages stay pending.
    """

    RETRY = "retry"
    PERMANENT = "permanent"
    UNKNOWN = "unknown"
    DISCONNECTED = "disconnected"
    BRAKE = "brake"
    KINDS = (RETRY, PERMANENT, UNKNOWN, DISCONNECTED, BRAKE)

    def __init__(
        self,
        kind: str,
        reason: str,
        *,
        code: str = "",
        retry_after: float | None = None,
        opted_out: bool = False,
        campaign_wide: bool = False,
    ) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"unknown SendError kind {kind!r}")
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.code = code
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.campaign_wide = campaign_wide

    def __str__(self) -> str:
        return f"[{self.code}] {self.reason}" if self.code else self.reason

    def brake_until(self, now: datetime, tz: ZoneInfo) -> datetime:
        """When a brake for this error ends: the number's end of day, or later when the
        provider names a longer wait (Twilio's 63018: 24 hours)."""
        from goteo.schedule import end_of_day

        until = end_of_day(now, tz)
        if self.retry_after:
            until = max(until, now + timedelta(seconds=self.retry_after))
        return until


@dataclass(frozen=True)
class OutgoingMedia:
    """A campaign's picture, PDF or video as a transport sends it (goteo.media.media_for).

    ``path`` is the stored file on this machine ("" when the storage is remote), ``url``
    its public address ("" without GOTEO_PUBLIC_URL); ``key`` names the file for the
    providers that keep an uploaded copy (the Cloud API's media ids).
    """

    key: str
    kind: str  # image | document | video
    mime: str
    file_name: str
    size: int
    campaign_id: int
    path: str = ""
    url: str = ""

    def read(self) -> bytes:
        """The file's bytes, from this machine or from the storage."""
        if self.path:
            with open(self.path, "rb") as stored:
                return stored.read()
        from goteo.media import stored_bytes

        return stored_bytes(self.key)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a transport needs to send one message."""

    to: str  # E.164 with the leading +
    text: str  # with ``media``, its caption
    message_id: str  # goteo's id for the message, echoed back in receipts where possible
    variables: dict[str, str] = field(default_factory=dict)  # name, full_name, code, ...
    provider_template: dict[str, Any] = field(default_factory=dict)
    media: OutgoingMedia | None = None


@dataclass(frozen=True)
class ConnectionStatus:
    """Whether a number can send now, and a sentence saying why not."""

    connected: bool
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def unreachable(self) -> bool:
        """True when the provider could not be asked: nothing is known about the number."""
        return bool(self.extra.get("unreachable"))


def unreachable(detail: str) -> ConnectionStatus:
    """A check that got no answer (connection refused, unknown host, time-out, a 5xx).

    It says nothing about the number: not sent now, never a brake, asked again soon.
    """
    text = gettext("no se puede verificar ahora: %(detail)s; se vuelve a intentar solo") % {"detail": detail}
    return ConnectionStatus(False, text, {"unreachable": True})


class Transport:
    """Base class of every transport."""

    name: ClassVar[str] = ""
    # A transport that only pretends (console): what it "sends" is recorded ``simulated``
    # and never counts as a promotion received (goteo.simulation).
    simulates: ClassVar[bool] = False

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = dict(config or {})

    def send(self, message: OutgoingMessage) -> str:
        """Send one message; return the provider's message id or raise ``SendError``."""
        raise NotImplementedError

    def delivered_text(self) -> str:
        """How a message this transport accepted is reported, e.g. "enviado"."""
        return gettext("enviado")

    def check_connection(self) -> ConnectionStatus:
        """Whether the number can send right now."""
        return ConnectionStatus(True, "")  # nothing to add to «Conectado»

    def close(self) -> None:
        """Release connections; the transport is not used afterwards."""
