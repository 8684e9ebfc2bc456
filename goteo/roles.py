"""Who may do what in the dashboard: the shop's two roles, and the permission each page needs.

- **Dueño**: everything, including the numbers, their secrets, imports, exports and the team.
- **Mostrador**: the counter's work: redeem codes, read the replies and mark them handled, and
  see the campaigns; nothing that launches, pauses, imports, exports or edits a number.

Both are Django groups, created by a migration and assigned on the team page (or the admin).
Every dashboard page names its permission in ``PAGE_PERMISSIONS``; a page missing from it is
refused to everyone but a superuser, so a new page cannot be left open by mistake.
"""

from __future__ import annotations

from typing import Any

OWNER = "Dueño"
COUNTER = "Mostrador"
ROLES = (OWNER, COUNTER)

# The counter's permissions; the owner has every permission of goteo, and the team's.
COUNTER_PERMISSIONS = (
    "goteo.view_campaign",
    "goteo.handle_reply",
    "goteo.redeem_code",
)
TEAM_PERMISSIONS = ("auth.view_user", "auth.change_user")

VIEW_CAMPAIGNS = "goteo.view_campaign"
EDIT_CAMPAIGNS = "goteo.change_campaign"
EDIT_CONTACTS = "goteo.change_contact"
EDIT_NUMBERS = "goteo.change_sender"
READ_REPLIES = "goteo.handle_reply"

# Each dashboard page (its URL name) and the permission it needs.
PAGE_PERMISSIONS: dict[str, str] = {
    "campaign_list": VIEW_CAMPAIGNS,
    "campaign_detail": VIEW_CAMPAIGNS,
    "campaign_live": VIEW_CAMPAIGNS,
    "campaign_recipients": VIEW_CAMPAIGNS,
    "campaign_new": "goteo.add_campaign",
    "campaign_preview": "goteo.add_campaign",
    "automation_new": "goteo.add_campaign",
    "campaign_edit": EDIT_CAMPAIGNS,
    "campaign_start": EDIT_CAMPAIGNS,
    "campaign_pause": EDIT_CAMPAIGNS,
    "campaign_resume": EDIT_CAMPAIGNS,
    "campaign_cancel": EDIT_CAMPAIGNS,
    "campaign_retry_failed": EDIT_CAMPAIGNS,
    "campaign_test_message": EDIT_CAMPAIGNS,
    "campaign_resolve_unknown": EDIT_CAMPAIGNS,
    "campaign_export": EDIT_CAMPAIGNS,  # the whole list of people: the owner's
    "contact_list": "goteo.view_contact",
    "contact_import": "goteo.add_contact",
    "contact_import_confirm": "goteo.add_contact",
    "contact_import_template": "goteo.add_contact",
    "contact_opt_out": EDIT_CONTACTS,
    # Segments name contacts by their data: whoever may see contacts sees them, whoever
    # may edit contacts edits them (the counter does neither).
    "segment_list": "goteo.view_contact",
    "segment_new": EDIT_CONTACTS,
    "segment_edit": EDIT_CONTACTS,
    "segment_delete": EDIT_CONTACTS,
    "contact_edit": EDIT_CONTACTS,
    "inbound_list": EDIT_CONTACTS,  # tying an unknown sender to a contact edits the contact
    "inbound_match": EDIT_CONTACTS,
    "sender_list": EDIT_NUMBERS,
    "sender_new": "goteo.add_sender",
    "sender_edit": EDIT_NUMBERS,
    "sender_check": EDIT_NUMBERS,
    "sender_unbrake": EDIT_NUMBERS,
    "sender_pairing": EDIT_NUMBERS,
    "sender_pairing_status": EDIT_NUMBERS,
    "sender_pairing_connect": EDIT_NUMBERS,
    "sender_pairing_code": EDIT_NUMBERS,
    "sender_pairing_logout": EDIT_NUMBERS,
    "team": "auth.change_user",
    "redeem": "goteo.redeem_code",
    "results": VIEW_CAMPAIGNS,
    "reply_list": READ_REPLIES,
    "reply_handled": READ_REPLIES,
    "campaign_replies": READ_REPLIES,
    "contact_detail": READ_REPLIES,  # a person's conversation: what they were sent and wrote
}


def page_permission(url_name: str | None) -> str | None:
    """The permission a dashboard page needs; None for a page no role may open."""
    return PAGE_PERMISSIONS.get(url_name or "")


def may_open(user: Any, url_name: str | None) -> bool:
    """Whether a signed-in staff member may open the page."""
    needed = page_permission(url_name)
    if needed is None:
        return bool(user.is_superuser)
    return bool(user.has_perm(needed))


def role_of(user: Any) -> str:
    """The user's role by name ("Dueño", "Mostrador"), or "" for an account without one."""
    if user.is_superuser:
        return OWNER
    names = {group.name for group in user.groups.all()}  # the team page prefetches them
    return next((role for role in ROLES if role in names), "")


def assign_role(user: Any, role: str) -> None:
    """Give the user exactly this role ("" takes the dashboard away from them)."""
    from django.contrib.auth.models import Group

    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        group = Group.objects.filter(name=role).first()
        if group is None:  # the migration made them; a database flushed since has lost them
            from django.apps import apps

            set_up_roles(apps)
            group = Group.objects.get(name=role)
        user.groups.add(group)


def set_up_roles(apps: Any) -> None:
    """Create both groups with their permissions (for the migration, with its ``apps``).

    Permissions are created first: on a new database they do not exist until after the
    migrations, and the groups need them now.
    """
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        # create_permissions skips an app without a models module, as every app of a
        # migration's ``apps`` looks; the real registry's keep theirs.
        kept = getattr(config, "models_module", None)
        config.models_module = kept or True
        create_permissions(config, verbosity=0, apps=apps)
        config.models_module = kept
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")

    def permissions(names: tuple[str, ...]) -> list[Any]:
        found = []
        for name in names:
            app_label, codename = name.split(".")
            found.append(permission_model.objects.get(content_type__app_label=app_label, codename=codename))
        return found

    owner, _ = group_model.objects.get_or_create(name=OWNER)
    owner.permissions.set(
        [*permission_model.objects.filter(content_type__app_label="goteo"), *permissions(TEAM_PERMISSIONS)]
    )
    counter, _ = group_model.objects.get_or_create(name=COUNTER)
    counter.permissions.set(permissions(COUNTER_PERMISSIONS))


def keep_staff_in(apps: Any) -> None:
    """Staff accounts that existed before the roles keep the whole dashboard: they are owners."""
    from django.conf import settings

    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    owner = apps.get_model("auth", "Group").objects.get(name=OWNER)
    for user in user_model.objects.filter(is_staff=True, is_superuser=False):
        user.groups.add(owner)
