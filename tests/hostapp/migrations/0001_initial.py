from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Patient",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_name", models.CharField(max_length=100)),
                ("last_name", models.CharField(blank=True, max_length=100)),
                ("phone_number", models.CharField(blank=True, max_length=40)),
                ("accepts_marketing", models.BooleanField(default=False)),
                ("birth_date", models.DateField(blank=True, null=True)),
                ("last_exam_date", models.DateTimeField(blank=True, null=True)),
                ("product", models.CharField(blank=True, max_length=100)),
            ],
        ),
    ]
