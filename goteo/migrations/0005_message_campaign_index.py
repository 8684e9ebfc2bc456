"""The message's campaign gets no index of its own: every composite index on
goteo_message starts with the campaign, and each index costs every launch's insert.

Only the index is dropped (by its name, the same on SQLite and PostgreSQL): altering
the field would make SQLite rebuild the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "goteo_message_campaign_id_478781dc"


class Migration(migrations.Migration):
    dependencies = [("goteo", "0004_worker_heartbeat")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="message",
                    name="campaign",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="messages",
                        to="goteo.campaign",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON goteo_message (campaign_id)",
                ),
            ],
        ),
    ]
