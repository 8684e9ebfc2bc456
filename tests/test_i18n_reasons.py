"""Sentences built outside templates follow the page's language; Spanish stays as it was."""

from datetime import date, time

from django.utils.translation import override

from goteo.compliance import PROFILES, campaign_notices, campaign_violations
from goteo.risk import Activity, assess
from goteo.transports.cloud import phone_status
from goteo.transports.config import SETTINGS
from goteo.transports.gateway import session_end_reason
from goteo.transports.memory import MemoryTransport
from goteo.warmup import warmup_stage

CO = PROFILES["co"]
RISKY = Activity(finished=12, sent=12, failed=4, brakes=1, sent_ever=100)


def sunday_violations() -> list[str]:
    found = campaign_violations(
        CO,
        window_start=time(8),
        window_end=time(18),
        weekdays=[6],
        skip_holidays=True,
        has_opt_out_text=False,
    )
    return [v.message for v in found]


def test_it_gives_risk_reasons_in_english():
    with override("en"):
        risk = assess(RISKY)
        assert risk.reasons == ["4 of 12 messages failed (33%)", "1 provider brake in 14 days"]
        assert risk.describe().startswith("🔴 high risk: 4 of 12 messages failed (33%)")
        assert risk.as_dict()["label"] == "high"


def test_it_keeps_risk_reasons_in_spanish():
    with override("es"):
        risk = assess(RISKY)
        assert risk.reasons == ["4 de 12 mensajes fallaron (33 %)", "1 freno del proveedor en 14 días"]
        assert risk.describe().startswith("🔴 riesgo alto: 4 de 12 mensajes fallaron (33 %)")
        assert risk.as_dict()["label"] == "alto"


def test_it_gives_legal_refusals_and_notices_in_english():
    with override("en"):
        assert sunday_violations() == ["Law 2300 of 2023 (Colombia): promotions may not be sent on Sundays."]
        assert campaign_notices(CO, window_start=time(9), window_end=time(18), weekdays=[5]) == [
            "On Saturdays, messages go out only from 09:00 to 15:00 (Law 2300 of 2023 (Colombia))."
        ]
        assert CO.describe() == (
            "Law 2300 of 2023 (Colombia): promotions only Mondays to Fridays from 07:00 to 19:00, "
            "Saturdays from 08:00 to 15:00; never on Sundays or public holidays."
        )


def test_it_keeps_legal_refusals_and_notices_in_spanish():
    with override("es"):
        assert sunday_violations() == [
            "Ley 2300 de 2023 (Colombia): no se permite enviar promociones los domingos."
        ]
        assert campaign_notices(CO, window_start=time(9), window_end=time(18), weekdays=[5]) == [
            "Los sábados se envía solo de 09:00 a 15:00 (Ley 2300 de 2023 (Colombia))."
        ]


def test_it_gives_the_warmup_stage_in_each_language():
    stage = warmup_stage(date(2026, 1, 2), date(2026, 1, 2), 30)
    assert stage is not None
    with override("en"):
        assert stage.describe() == "week 1 of 3: at most 5 a day until 08/01/2026"
    with override("es"):
        assert stage.describe() == "semana 1 de 3: máximo 5 al día hasta el 08/01/2026"


def test_it_gives_connection_details_in_each_language():
    MemoryTransport.reset()
    red = {"status": "CONNECTED", "quality_rating": "RED"}
    with override("en"):
        assert MemoryTransport().check_connection().detail == "connected (memory)"
        assert phone_status(red).detail.endswith("; quality is red: the number is braked")
        assert session_end_reason(401).startswith("WhatsApp closed the number's session")
        assert str(SETTINGS["cloud"][0].label) == "Meta access token"
    with override("es"):
        assert MemoryTransport().check_connection().detail == "conectado (memoria)"
        assert phone_status(red).detail.endswith("; calidad en rojo: se frena el número")
        assert str(SETTINGS["cloud"][0].label) == "token de acceso de Meta"
