"""goteo's log lines in Spanish on the console a shop owner reads.

The code logs in English with %-style arguments, so a host project's structured or JSON
handlers keep stable English messages; only ``ConsoleFormatter`` (goteo.settings' console
handler) swaps each known message for its Spanish, with the same arguments.
"""

from __future__ import annotations

import logging
from typing import Any

SPANISH = {
    # goteo.sending
    "send to %s failed (%s): %s": "el envío a %s falló (%s): %s",
    "scheduled campaign %s could not start: %s": "la campaña programada %s no pudo empezar: %s",
    "late result for message %s: recorded as sent": "resultado tardío del mensaje %s: queda como enviado",
    "late result for message %s: it had moved on; nothing recorded": (
        "resultado tardío del mensaje %s: su estado ya había cambiado; no se registra nada"
    ),
    "sending message %s raised an unexpected error": "el envío del mensaje %s falló con un error inesperado",
    "%d message(s) left sending by a stopped worker are now unknown": (
        "%d mensaje(s) que un worker detenido dejó enviándose quedan sin confirmar"
    ),
    # goteo.automations
    "automation %s could not enroll: %s": "la automatización %s no pudo sumar a nadie: %s",
    # goteo.health, goteo.receipts
    "sender %s braked by its connection check: %s": "número %s frenado por su comprobación de conexión: %s",
    "sender %s braked: %s": "número %s frenado: %s",
    "no opt-out reply from %s: %s": "el número %s no respondió la baja: %s",
    "opt-out reply to %s failed: %s": "no se pudo confirmar la baja a %s: %s",
    "opt-out from %s (%s): %d pending skipped": "baja de %s (%s): %d pendientes omitidos",
    "receipt %s for a message goteo does not know; ignored": (
        "confirmación %s de un mensaje que goteo no conoce; se ignora"
    ),
    # goteo.worker
    "closing the transport of sender %s failed": "no se pudo cerrar la conexión del número %s",
    "database unavailable while recording an outcome; retrying": (
        "la base de datos no responde al registrar un resultado; se reintenta"
    ),
    "could not mark the messages in flight unknown": "no se pudieron marcar sin confirmar los mensajes en curso",
    "database unavailable: %s": "la base de datos no responde: %s",
    "step for sender %s failed": "falló un paso de envío del número %s",
    "could not record the worker's stop: %s": "no se pudo registrar la parada del worker: %s",
    "closing a broken connection failed": "no se pudo cerrar una conexión rota",
    # goteo.webhooks
    "Meta webhook with a missing or wrong signature refused": "aviso de Meta rechazado: sin firma o firma incorrecta",
    "Twilio status callback with a missing or wrong signature refused": (
        "aviso de estado de Twilio rechazado: sin firma o firma incorrecta"
    ),
    "Twilio inbound webhook with a missing or wrong signature refused": (
        "mensaje entrante de Twilio rechazado: sin firma o firma incorrecta"
    ),
    "Evolution webhook with a wrong secret refused": "aviso de Evolution rechazado: clave incorrecta",
    "WAHA webhook with a missing or wrong HMAC refused": "aviso de WAHA rechazado: sin firma o firma incorrecta",
    # goteo.redemptions
    "promotion %s redeemed for %s by %s": "promoción %s canjeada para %s por %s",
    # goteo.web
    "campaign %s created and launched by %s": "campaña %s creada e iniciada por %s",
    "campaign %s launched by %s": "campaña %s iniciada por %s",
    "campaign %s scheduled by %s": "campaña %s programada por %s",
    "automation %s started by %s": "automatización %s iniciada por %s",
    "campaign %s paused by %s": "campaña %s pausada por %s",
    "campaign %s resumed by %s": "campaña %s reanudada por %s",
    "campaign %s cancelled by %s (%s skipped)": "campaña %s cancelada por %s (%s omitidos)",
    "campaign %s: %s failed requeued by %s": "campaña %s: %s fallidos vuelven a la cola por %s",
    "campaign %s: %s unknown resolved as %s by %s": "campaña %s: %s sin confirmar resueltos como %s por %s",
    "contact %s opt-out=%s by %s": "contacto %s dado de baja=%s por %s",
    "contact %s dates and data edited by %s": "fechas y datos del contacto %s editados por %s",
    "contacts imported by %s: %s created, %s updated, %s rejected": (
        "contactos importados por %s: %s nuevos, %s actualizados, %s rechazados"
    ),
    "sender %s saved by %s": "número %s guardado por %s",
    "segment %s saved by %s": "segmento %s guardado por %s",
    "segment %s deleted by %s": "segmento %s borrado por %s",
    "test message for campaign %s sent by %s: %s": "mensaje de prueba de la campaña %s enviado por %s: %s",
    "contacts imported by %s: %s created, %s updated, %s rejected, %s warnings": (
        "contactos importados por %s: %s nuevos, %s actualizados, %s rechazados, %s avisos"
    ),
    # goteo.transports.cloud
    "Cloud API refused the media id of %s (%s); uploading it again": (
        "la Cloud API rechazó el id del archivo %s (%s); se sube de nuevo"
    ),
    # goteo.brakes, goteo.receipts
    "sender %s: brake lifted by its provider: %s": "número %s: su proveedor levantó el freno: %s",
    "sender %s: brake lifted by %s (it said: %s)": "número %s: freno levantado por %s (decía: %s)",
    # goteo.contact_sync
    "contact for %s not synced: unreadable phone %s": "el contacto de %s no se sincronizó: teléfono ilegible %s",
    "could not sync the contact of %s (phone %s)": "no se pudo sincronizar el contacto de %s (teléfono %s)",
    "could not unlink the contact of %s": "no se pudo desvincular el contacto de %s",
    # goteo.inbound, goteo.web.inbound
    "inbound message from %s (%s) already received; ignored": "mensaje entrante de %s (%s) ya recibido; se ignora",
    "stop request from %s without a phone; kept for a person": (
        "pedido de baja de %s sin teléfono; queda para que una persona lo asigne"
    ),
    "no lid lookup through %s: %s": "no se pudo consultar el id oculto en %s: %s",
    "inbound %s matched to contact %s by %s": "mensaje entrante %s asignado al contacto %s por %s",
    "inbound %s dismissed by %s": "mensaje entrante %s marcado como revisado por %s",
    "inbound %s from %s answers campaign %s": "el mensaje entrante %s de %s responde a la campaña %s",
    "inbound %s could not be tied to a campaign": "el mensaje entrante %s no se pudo atribuir a una campaña",
    # goteo.web.replies
    "reply %s marked handled by %s": "respuesta %s marcada como atendida por %s",
    "reply %s marked unhandled by %s": "respuesta %s marcada sin atender por %s",
    # goteo.replies
    "no number to confirm the opt-out of %s from": "no hay número desde el que confirmar la baja de %s",
    "reply %s waits: %s reached its daily cap": "la respuesta %s espera: %s llegó a su máximo del día",
    "reply to %s: %s": "respuesta a %s: %s",
    "opt-out confirmation to %s expired unsent": "la confirmación de baja a %s venció sin enviarse",
    "replies from %s stopped": "se detuvieron las respuestas desde %s",
    # goteo.web.pairing, goteo.transports.pairing
    "sender %s: pairing started by %s": "número %s: vinculación iniciada por %s",
    "sender %s: pairing code requested by %s": "número %s: código de vinculación pedido por %s",
    "sender %s: unlinked by %s": "número %s: desvinculado por %s",
    "%s answered %s to %s %s": "%s respondió %s a %s %s",
    "%s unreachable for pairing: %s": "no se puede contactar %s para vincular: %s",
    "Evolution instance created for pairing (webhook %s)": "instancia de Evolution creada para vincular (webhook %s)",
    "Evolution instance create answered %s": "Evolution respondió %s al crear la instancia",
    "Evolution logout answered %s": "Evolution respondió %s al cerrar la sesión",
}

# Words passed as arguments: a SendError's kind, an outcome, a yes/no.
SPANISH_WORDS = {
    "permanent": "permanente",
    "retry": "se reintentará",
    "unknown": "desconocido",
    "disconnected": "desconectado",
    "brake": "freno",
    "sent": "enviados",
    "failed": "fallidos",
    "set": "puesto",
    "not set": "sin poner",
    "True": "sí",
    "False": "no",
}

LEVELS = {"DEBUG": "detalle", "INFO": "info", "WARNING": "aviso", "ERROR": "error", "CRITICAL": "grave"}


def spanish_word(value: Any) -> Any:
    return SPANISH_WORDS.get(str(value), value) if isinstance(value, str | bool) else value


class ConsoleFormatter(logging.Formatter):
    """``2026-12-07 10:15:00 aviso: el envío a +57 300 ***4567 falló (permanente): ...``."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            fmt or "%(asctime)s %(levelname)s: %(message)s", datefmt or "%Y-%m-%d %H:%M:%S", **kwargs
        )

    def format(self, record: logging.LogRecord) -> str:
        spanish = logging.makeLogRecord(record.__dict__)
        spanish.levelname = LEVELS.get(record.levelname, record.levelname)
        if isinstance(record.msg, str) and record.msg in SPANISH:
            spanish.msg = SPANISH[record.msg]
            if isinstance(record.args, tuple):
                spanish.args = tuple(spanish_word(a) for a in record.args)
        return super().format(spanish)
