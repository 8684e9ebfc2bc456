"""Test mode: a message printed by the console transport is ``simulated``, never ``sent``.

Messages the console (or the demo) "sent" before this change are recognised by their
provider id, which those transports prefix with ``console-`` (``demo-``): they become
simulated, so they no longer hold anyone back under the frequency cap.
"""

from django.db import migrations, models
from django.db.models import Count, F

SIMULATED_PREFIXES = ("console-", "demo-")


def mark_printed_as_simulated(apps, schema_editor):
    Message = apps.get_model("goteo", "Message")
    Campaign = apps.get_model("goteo", "Campaign")
    for prefix in SIMULATED_PREFIXES:
        printed = Message.objects.filter(status="sent", provider_message_id__startswith=prefix)
        by_campaign = dict(printed.values_list("campaign_id").annotate(n=Count("id")).order_by())
        printed.update(status="simulated", sent_at=None)
        for campaign_id, n in by_campaign.items():
            Campaign.objects.filter(pk=campaign_id).update(
                sent_count=F("sent_count") - n, simulated_count=F("simulated_count") + n
            )
            if not Campaign.objects.filter(pk=campaign_id, sent_count__gt=0).exists():
                Campaign.objects.filter(pk=campaign_id).update(simulation=True)


class Migration(migrations.Migration):
    dependencies = [
        ("goteo", "0007_inbound_messages"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="message",
            name="goteo_msg_status_valid",
        ),
        migrations.AddField(
            model_name="campaign",
            name="simulated_count",
            field=models.IntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="campaign",
            name="simulation",
            field=models.BooleanField(
                default=False,
                help_text="Iniciada en modo de prueba: sus mensajes no salen por WhatsApp.",
                verbose_name="simulación",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pendiente"),
                    ("sending", "Enviando"),
                    ("sent", "Enviado"),
                    ("failed", "Fallido"),
                    ("skipped", "Omitido"),
                    ("unknown", "Sin confirmar"),
                    ("simulated", "Simulado"),
                ],
                default="pending",
                max_length=10,
                verbose_name="estado",
            ),
        ),
        migrations.AddConstraint(
            model_name="message",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "status__in",
                        ["pending", "sending", "sent", "failed", "skipped", "unknown", "simulated"],
                    )
                ),
                name="goteo_msg_status_valid",
            ),
        ),
        migrations.RunPython(mark_printed_as_simulated, migrations.RunPython.noop),
    ]
