"""What the transport tests share: a fake provider running for one test, and the message sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from goteo.transports import OutgoingMessage
from tests.fakes.server import FakeServer

PHONE = "+573001112233"
MESSAGE_ID = "8c7a3f2e-5d1b-4e8a-9f0c-123456789abc"
TEXT = "¡Hola María! 30% de descuento con el código LENTES30"


def running(fake: type[FakeServer]) -> Any:
    """A fixture serving ``fake`` on 127.0.0.1 for one test: ``api = running(FakeWaha)``."""

    @pytest.fixture
    def server() -> Iterator[FakeServer]:
        with fake() as started:
            yield started

    return server


def outgoing(
    to: str = PHONE,
    *,
    text: str = TEXT,
    variables: dict[str, str] | None = None,
    template: dict[str, Any] | None = None,
) -> OutgoingMessage:
    """María's 30% message (goteo's id MESSAGE_ID), free text unless given a provider template."""
    return OutgoingMessage(
        to=to, text=text, message_id=MESSAGE_ID, variables=variables or {}, provider_template=template or {}
    )
