"""Contacts remember whether their phone is a fixed line, and a launch can skip one for that.

Existing contacts are classified here once, so a campaign launched after the upgrade
already skips the landlines imported before it.
"""

from django.db import migrations, models

BATCH = 2000


def mark_landlines(apps, schema_editor):
    from goteo.phones import InvalidPhone, read_phone

    contact_model = apps.get_model("goteo", "Contact")
    landlines: list[int] = []
    for pk, phone in contact_model.objects.exclude(phone="").values_list("pk", "phone").iterator(BATCH):
        try:
            if read_phone(phone).landline:
                landlines.append(pk)
        except InvalidPhone:
            continue
    for start in range(0, len(landlines), BATCH):
        contact_model.objects.filter(pk__in=landlines[start : start + BATCH]).update(landline=True)


class Migration(migrations.Migration):
    dependencies = [("goteo", "0005_message_campaign_index")]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="landline",
            field=models.BooleanField(default=False, verbose_name="teléfono fijo"),
        ),
        migrations.AlterField(
            model_name="message",
            name="skip_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_consent", "sin consentimiento"),
                    ("opted_out", "se dio de baja"),
                    ("invalid_phone", "teléfono inválido"),
                    ("duplicate_phone", "teléfono repetido en la campaña"),
                    ("expired", "la promoción venció"),
                    ("cancelled", "campaña cancelada"),
                    ("excluded", "en lista de exclusión"),
                    ("operator", "omitido por una persona"),
                    ("landline", "teléfono fijo"),
                ],
                max_length=20,
                verbose_name="motivo de omisión",
            ),
        ),
        migrations.RunPython(mark_landlines, migrations.RunPython.noop),
    ]
