"""Spanish names for the daily counters, the sending processes, the campaign counters and the
test providers, as the admin and the number form show them."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("goteo", "0008_simulation"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="dailycounter",
            options={"verbose_name": "cupo diario usado", "verbose_name_plural": "cupos diarios usados"},
        ),
        migrations.AlterModelOptions(
            name="workerheartbeat",
            options={
                "ordering": ["-last_seen_at"],
                "verbose_name": "proceso de envío automático",
                "verbose_name_plural": "procesos de envío automático",
            },
        ),
        migrations.AlterField(
            model_name="campaign",
            name="failed_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="fallidos"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="pending_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="pendientes"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="provider_template",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Para la Cloud API o Twilio: {"name": ..., "language": "es", "params": ["nombre", "codigo"]}',
                verbose_name="plantilla aprobada del proveedor",
            ),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="sending_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="enviándose"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="sent_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="enviados"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="skipped_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="omitidos"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="total_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="total"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="unknown_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="sin confirmar"),
        ),
        migrations.AlterField(
            model_name="dailycounter",
            name="day",
            field=models.DateField(verbose_name="día"),
        ),
        migrations.AlterField(
            model_name="dailycounter",
            name="scope",
            field=models.CharField(max_length=64, verbose_name="de quién"),
        ),
        migrations.AlterField(
            model_name="dailycounter",
            name="used",
            field=models.PositiveIntegerField(default=0, verbose_name="envíos reservados"),
        ),
        migrations.AlterField(
            model_name="sender",
            name="backend",
            field=models.CharField(
                choices=[
                    ("console", "Prueba: no envía, los muestra en la pantalla del servidor"),
                    ("file", "Prueba: no envía, los guarda en un archivo"),
                    ("memory", "Prueba interna: no envía"),
                    ("cloud", "Meta WhatsApp Cloud API"),
                    ("twilio", "Twilio"),
                    ("evolution", "Evolution API"),
                    ("waha", "WAHA"),
                ],
                default="console",
                max_length=16,
                verbose_name="proveedor",
            ),
        ),
            migrations.AlterField(
            model_name="campaign",
            name="simulated_count",
            field=models.IntegerField(default=0, editable=False, verbose_name="simulados"),
        ),
        migrations.AlterField(
            model_name="inboundmessage",
            name="provider",
            field=models.CharField(
                choices=[
                    ("console", "Prueba: no envía, los muestra en la pantalla del servidor"),
                    ("file", "Prueba: no envía, los guarda en un archivo"),
                    ("memory", "Prueba interna: no envía"),
                    ("cloud", "Meta WhatsApp Cloud API"),
                    ("twilio", "Twilio"),
                    ("evolution", "Evolution API"),
                    ("waha", "WAHA"),
                ],
                max_length=16,
                verbose_name="proveedor",
            ),
        ),
]
