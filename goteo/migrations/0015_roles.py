"""The shop's two roles, Dueño and Mostrador, as groups; staff accounts from before are owners."""

from typing import Any

from django.conf import settings
from django.db import migrations

from goteo.roles import keep_staff_in, set_up_roles


def create_roles(apps: Any, schema_editor: Any) -> None:
    set_up_roles(apps)
    keep_staff_in(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("goteo", "0014_reply_lookup"),
        ("auth", "0012_alter_user_first_name_max_length"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
