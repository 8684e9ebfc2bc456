"""Django admin for every goteo model: the fallback when the dashboard lacks a screen."""

from django.contrib import admin

from goteo.models import (
    Campaign,
    Contact,
    DailyCounter,
    Message,
    MessageEvent,
    Promotion,
    Sender,
    Tag,
)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "consent", "opted_out", "created_at"]
    list_filter = ["consent", "opted_out", "tags"]
    search_fields = ["full_name", "phone"]
    filter_horizontal = ["tags"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "sender", "total_count", "sent_count", "pending_count"]
    list_filter = ["status", "sender"]
    readonly_fields = [
        "total_count",
        "pending_count",
        "sending_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "unknown_count",
    ]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["contact_name", "phone", "campaign", "status", "attempts", "sent_at"]
    list_filter = ["status", "campaign"]
    search_fields = ["contact_name", "phone", "provider_message_id"]
    raw_id_fields = ["contact", "campaign"]

    def has_change_permission(self, request, obj=None):
        # States change only through goteo's transitions, which keep counts and logs right.
        return False


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = ["name", "backend", "from_environment", "daily_cap", "is_active"]
    exclude = ["secrets"]


admin.site.register(Promotion)
admin.site.register(Tag)
admin.site.register(DailyCounter)
admin.site.register(MessageEvent)
