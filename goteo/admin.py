"""Django admin for every goteo model: the fallback when the dashboard lacks a screen.

Statuses and counters change only through the models' verbs, which keep the counters and
the audit log right, so the admin shows them read-only and offers the verbs as actions.
Sender credentials are never shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from goteo.brakes import lift
from goteo.models import (
    ApiToken,
    Campaign,
    CampaignMedia,
    Contact,
    DailyCounter,
    ExcludedPhone,
    InboundMessage,
    Message,
    MessageEvent,
    Promotion,
    Redemption,
    Reply,
    Segment,
    Sender,
    Tag,
    UploadedMedia,
    WhatsAppLid,
    WorkerHeartbeat,
)

if TYPE_CHECKING:
    # django-stubs makes ModelAdmin generic; Django's own class cannot be subscripted at run time.
    ModelAdmin = admin.ModelAdmin[Any]
else:
    ModelAdmin = admin.ModelAdmin

# goteo's name instead of "Administración de Django" on the bundled site's admin.
admin.site.site_header = _("goteo · administración")
admin.site.site_title = _("goteo")
admin.site.index_title = _("Datos de las promociones")


class ReadOnlyAdmin(ModelAdmin):
    """Rows written by goteo itself: looked at, never edited by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Contact)
class ContactAdmin(ModelAdmin):
    list_display = ["full_name", "phone", "landline", "consent", "opted_out", "birth_date", "last_visit"]
    list_filter = ["consent", "opted_out", "landline", "tags"]
    search_fields = ["full_name", "phone"]
    filter_horizontal = ["tags"]
    # source_ref says which row of the shop's own system keeps this contact in step.
    readonly_fields = ["landline", "opted_out", "opted_out_at", "opt_out_source", "source_ref"]
    actions = ["opt_out"]

    @admin.action(description=_("Dar de baja (omite sus mensajes pendientes)"))
    def opt_out(self, request: HttpRequest, queryset: QuerySet[Contact]) -> None:
        skipped = sum(
            contact.opt_out(f"admin:{request.user.get_username()}", timezone.now()) for contact in queryset
        )
        self.message_user(request, _("%(n)s mensajes pendientes omitidos.") % {"n": skipped})


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    list_display = ["name", "status", "sender", "total_count", "sent_count", "pending_count", "failed_count"]
    list_filter = ["status", "sender"]
    list_select_related = ["sender"]
    search_fields = ["name"]
    readonly_fields = [
        "status",
        "pause_reason",
        "started_at",
        "finished_at",
        "total_count",
        "pending_count",
        "sending_count",
        "sent_count",
        "failed_count",
        "skipped_count",
        "unknown_count",
        "simulation",  # the mode it was started in (goteo.simulation), never flipped afterwards
        "simulated_count",
    ]
    actions = ["pause", "resume"]

    @admin.action(description=_("Pausar"))
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        reason = _("Pausada por %(persona)s desde la administración") % {
            "persona": request.user.get_username()
        }
        n = sum(campaign.pause(reason=str(reason)) for campaign in queryset)
        self.message_user(request, _("%(n)s campañas pausadas.") % {"n": n})

    @admin.action(description=_("Reanudar"))
    def resume(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        n = sum(campaign.resume() for campaign in queryset)
        self.message_user(request, _("%(n)s campañas reanudadas.") % {"n": n}, messages.SUCCESS)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["contact_name", "phone", "campaign", "status", "attempts", "sent_at", "delivery_status"]
    list_filter = ["status", "delivery_status", "campaign"]
    list_select_related = ["campaign"]
    search_fields = ["contact_name", "=phone", "=provider_message_id"]
    raw_id_fields = ["contact", "campaign"]
    # Counting a million rows on every page would make the list slow.
    show_full_result_count = False


@admin.register(MessageEvent)
class MessageEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "message", "from_status", "to_status", "actor"]
    list_filter = ["to_status"]
    search_fields = ["actor", "=message__id"]
    raw_id_fields = ["message"]
    show_full_result_count = False


@admin.register(Sender)
class SenderAdmin(ModelAdmin):
    list_display = ["name", "backend", "from_environment", "daily_cap", "is_active", "paused_until"]
    exclude = ["secrets"]
    # A brake is lifted with the action, which records who and when, not by editing the date.
    readonly_fields = ["health", "next_send_at", "paused_until", "pause_reason", "brake_log"]
    actions = ["unbrake"]

    @admin.action(description=_("Levantar freno"))
    def unbrake(self, request: HttpRequest, queryset: QuerySet[Sender]) -> None:
        now = timezone.now()
        n = sum(lift(sender, request.user.get_username(), now) for sender in queryset)
        self.message_user(request, _("%(n)s frenos levantados.") % {"n": n}, messages.SUCCESS)


@admin.register(Promotion)
class PromotionAdmin(ModelAdmin):
    list_display = ["code", "name", "benefit", "valid_until"]
    search_fields = ["code", "name"]

    def save_model(self, request: HttpRequest, obj: Promotion, form: Any, change: bool) -> None:
        """A later expiry puts back in line what its campaigns skipped as expired; the pending
        messages say the promotion as saved, as ``Promotion.revise`` does."""
        before = form.initial.get("valid_until")
        super().save_model(request, obj, form, change)
        if change and before and obj.valid_until > before:
            restored = obj.restore_expired(timezone.now(), request.user.get_username())
            if restored:
                self.message_user(
                    request,
                    _("%(n)s mensajes omitidos por vencimiento vuelven a estar pendientes.")
                    % {"n": restored},
                )
        if change:
            obj.rewrite_pending()


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    search_fields = ["name"]


@admin.register(Segment)
class SegmentAdmin(ModelAdmin):
    """Rules as JSON, checked on save (Segment.clean names the rule that is wrong); the
    dashboard's «Segmentos» page edits them without JSON."""

    list_display = ["name", "updated_at"]
    search_fields = ["name"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Not while a campaign or automation not over uses it: it would stop finding its
        audience (the bulk action asks this for each segment too)."""
        if obj is not None and obj.campaigns_using().exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(ExcludedPhone)
class ExcludedPhoneAdmin(ModelAdmin):
    list_display = ["phone", "list_name", "source", "note", "added_at"]
    list_filter = ["list_name"]
    search_fields = ["phone", "note"]


@admin.register(DailyCounter)
class DailyCounterAdmin(ReadOnlyAdmin):
    list_display = ["scope", "day", "used"]
    list_filter = ["day"]
    search_fields = ["scope"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "hostname", "pid", "started_at", "last_seen_at", "stopped_at", "senders", "sent"]


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "provider",
        "phone",
        "sender_ref",
        "is_opt_out",
        "matched_by",
        "handled_at",
    ]
    list_filter = ["provider", "is_opt_out", "matched_by"]
    search_fields = ["phone", "sender_ref", "text"]


@admin.register(Reply)
class ReplyAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "sender", "phone", "status", "sent_at"]
    list_filter = ["status"]


@admin.register(WhatsAppLid)
class WhatsAppLidAdmin(ReadOnlyAdmin):
    list_display = ["lid", "phone", "source", "learned_at"]
    search_fields = ["lid", "phone"]


@admin.register(CampaignMedia)
class CampaignMediaAdmin(ReadOnlyAdmin):
    # Attached through the campaign (goteo.media.attach_media), which checks the file.
    list_display = ["campaign", "original_name", "kind", "mime", "size", "created_at"]
    exclude = ["file"]


@admin.register(UploadedMedia)
class UploadedMediaAdmin(ReadOnlyAdmin):
    list_display = ["media", "account", "provider_id", "uploaded_at"]


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    # Recorded at the counter (goteo redeem, or the Canjear page), which checks the code.
    list_display = ["redeemed_at", "promotion", "code", "phone", "redeemed_by", "override_reason"]
    list_filter = ["promotion"]
    search_fields = ["code", "phone"]


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    """Tokens are created with ``goteo api_token``, which shows the token once; here they are
    listed and revoked. Only the start of a token is kept in the clear, never the token."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    list_select_related = ["user"]
    search_fields = ["prefix", "name", "user__username"]
    fields = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revocar (dejan de funcionar ya)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        live = list(queryset.filter(revoked_at__isnull=True))
        for token in live:
            token.revoke(now)
        self.message_user(request, _("%(n)s tokens revocados.") % {"n": len(live)}, messages.SUCCESS)
