"""Fill the funnel's delivered and read counters from the receipts already recorded.

From here on the receipts move them as they arrive (goteo.receipts.advance_delivery); this
counts once what came before. A simulation's messages reached nobody and are not counted.
"""

from django.db import migrations
from django.db.models import Count, F, Q


def fill(apps, schema_editor):
    Campaign = apps.get_model("goteo", "Campaign")
    Message = apps.get_model("goteo", "Message")
    # A message read was delivered: give it that time too, so a late "delivered" does not count it again.
    Message.objects.filter(delivered_at__isnull=True, read_at__isnull=False).update(delivered_at=F("read_at"))
    rows = (
        Message.objects.filter(campaign__simulation=False, delivered_at__isnull=False)
        .values("campaign_id")
        .annotate(
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            read=Count("id", filter=Q(read_at__isnull=False)),
        )
        .order_by()
    )
    for row in rows:
        Campaign.objects.filter(pk=row["campaign_id"]).update(
            delivered_count=row["delivered"], read_count=row["read"]
        )


def empty(apps, schema_editor):
    apps.get_model("goteo", "Campaign").objects.update(delivered_count=0, read_count=0)


class Migration(migrations.Migration):
    dependencies = [("goteo", "0012_results")]

    operations = [migrations.RunPython(fill, empty)]
