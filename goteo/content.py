"""What one person receives from a campaign: its text and its template variables, built here only.

A launch stores each person's text on their message (``rendered_text``). The sending code
sends that text, or, for a campaign with an approved provider template, the template filled
with variables read from the promotion as it is when the message goes out (``outgoing_for``).

A promotion changed after the launch (``Promotion.revise``) applies to every message not yet
sent, of both kinds: ``rerender_pending`` rewrites the text of the pending messages with
the same seed as the launch, so each person keeps the variation and emoji they had and only
the promotion's words change. A message already sending, sent, failed or unknown keeps its
text; one put back in line afterwards (a retry) sends the revised text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import connection

from goteo.templating import (
    Variables,
    add_footer,
    message_seed,
    opt_out_footer,
    person_key,
    render,
    split_emojis,
    validate_template,
    with_emoji,
)
from goteo.transports.base import OutgoingMessage

if TYPE_CHECKING:
    from goteo.models import Campaign, Promotion

# The placeholders a promotion fills; a template without any of them reads the same after a
# promotion changes.
PROMOTION_PLACEHOLDERS = frozenset({"codigo", "beneficio", "valido_hasta"})
RERENDER_CHUNK = 2000  # pending messages rewritten per statement batch
# Rendered where {codigo} goes, then replaced by each person's code (no template can type it).
CODE_STAND_IN = "\x00codigo\x00"


def person_seed(campaign_id: int | None, contact_id: int | None) -> int:
    """The seed of one person's message: it fixes their variation and emoji for good."""
    return message_seed(campaign_id or 0, str(contact_id))


def variables_for(promotion: Promotion, name: str, code: str = "") -> Variables:
    """The placeholders' values for the person called ``name``, from ``promotion`` as it is;
    ``code`` is the person's own code, when the campaign gives one each."""
    return Variables(name, code or promotion.code, promotion.benefit, promotion.valid_until)


@dataclass(frozen=True)
class Content:
    """A campaign's content as one launch or preview uses it: template, emojis, opt-out text
    and promotion, read once."""

    template: str
    emojis: tuple[str, ...]
    footer: str
    code: str = ""
    benefit: str = ""
    valid_until: date | None = None
    provider_template: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, campaign: Campaign, promotion: Promotion | None = None) -> Content:
        """``campaign``'s content; ``promotion`` stands in for its own (a draft's form)."""
        promotion = promotion if promotion is not None else campaign.promotion
        return cls(
            template=campaign.template,
            emojis=tuple(split_emojis(campaign.emojis)),
            footer=opt_out_footer(campaign.opt_out_footer),
            code=promotion.code,
            benefit=promotion.benefit,
            valid_until=promotion.valid_until,
            provider_template=dict(campaign.provider_template or {}),
        )

    def variables(self, name: str, code: str = "") -> Variables:
        """The placeholders' values; ``code`` is the person's own code, if they have one."""
        return Variables(name, code or self.code, self.benefit, self.valid_until)

    def text(self, name: str, seed: int, code: str = "") -> str:
        """Exactly what the person called ``name`` reads: text, closing emoji and opt-out text."""
        return add_footer(
            render(self.template, self.variables(name, code), seed=seed, emojis=self.emojis), self.footer
        )

    def texts(
        self, campaign_id: int | None, own_codes: bool = False
    ) -> Callable[[int | None, str, str], str]:
        """``text`` of each person of a campaign, by (contact id, name, own code or ""), as fast
        as a launch needs.

        Without alternatives the text before the emoji depends only on the name and the
        code: it is rendered once per name (with ``own_codes``, a stand-in for the code that
        each message replaces with its own), and each message gets its own emoji.
        """
        key = person_key(self.template)
        code_shown = CODE_STAND_IN if own_codes else ""
        rendered: dict[str, str] = {}

        def text_for(contact_id: int | None, name: str, code: str = "") -> str:
            seed = person_seed(campaign_id, contact_id)
            if key is None:
                return self.text(name, seed, code)
            short = key(name)
            text = rendered.get(short)
            if text is None:
                text = rendered[short] = render(self.template, self.variables(name, code_shown), seed=seed)
            if own_codes:
                text = text.replace(CODE_STAND_IN, code)
            return add_footer(with_emoji(text, self.emojis, seed), self.footer)

        return text_for

    def uses_promotion(self) -> bool:
        """Whether the text shows any of the promotion's values."""
        return bool(PROMOTION_PLACEHOLDERS.intersection(validate_template(self.template)))


def outgoing_for(
    campaign: Campaign, *, name: str, phone: str, text: str, message_uuid: Any, code: str = ""
) -> OutgoingMessage:
    """What a transport sends for one claimed message: its stored text, and for a provider
    template the variables of the promotion as it is now (the same words ``rerender_pending``
    gave the text), with the person's own ``code`` (Message.code) when they have one."""
    return OutgoingMessage(
        to=phone or "",
        text=text,
        message_id=str(message_uuid),
        variables=variables_for(campaign.promotion, name, code).as_dict(),
        provider_template=dict(campaign.provider_template or {}),
    )


def trial_outgoing(
    campaign: Campaign, *, name: str, phone: str, text: str, message_id: str
) -> OutgoingMessage:
    """A test send from the dashboard: the text the shop typed, with the campaign's variables.

    No provider template: the shop tests the words it typed.
    """
    return OutgoingMessage(
        to=phone,
        text=text,
        message_id=message_id,
        variables=variables_for(campaign.promotion, name).as_dict(),
    )


def rerender_pending(campaigns: Iterable[Campaign]) -> int:
    """Rewrite the text of the campaigns' pending messages from their promotion as it is now.

    The seed is the launch's, so only the promotion's words change. The status is checked by
    the update itself: a message claimed meanwhile keeps the text it is being sent with.
    Call it inside the transaction that changes the promotion. Returns how many changed.
    """
    from goteo.models.lifecycle import MessageStatus  # goteo.models imports this module

    changed = 0
    pending = MessageStatus.PENDING.value
    for campaign in campaigns:
        content = Content.of(campaign)
        if not content.uses_promotion():
            continue
        text_for = content.texts(campaign.pk, campaign.unique_codes)
        rows = (
            campaign.messages.filter(status=pending)
            .order_by("id")
            .values_list("id", "contact_id", "contact_name", "code", "rendered_text")
        )
        batch: list[tuple[str, int, str]] = []
        for message_id, contact_id, name, code, old in rows.iterator(chunk_size=RERENDER_CHUNK):
            text = text_for(contact_id, name, code)  # each person keeps their own code
            if text != old:
                batch.append((text, message_id, pending))
        table = connection.ops.quote_name(campaign.messages.model._meta.db_table)
        update = f"UPDATE {table} SET rendered_text = %s WHERE id = %s AND status = %s"
        with connection.cursor() as cursor:
            for start in range(0, len(batch), RERENDER_CHUNK):
                cursor.executemany(update, batch[start : start + RERENDER_CHUNK])
                changed += max(cursor.rowcount, 0)
    return changed
