"""goteo's data: who to message, what, from which number, and what happened."""

from goteo.models.api_tokens import ApiToken
from goteo.models.campaigns import Campaign
from goteo.models.contacts import Contact, Tag
from goteo.models.counters import DailyCounter
from goteo.models.exclusions import ExcludedPhone
from goteo.models.inbound import InboundMessage, Reply, ReplyStatus, WhatsAppLid
from goteo.models.lifecycle import Actor, CampaignStatus, IllegalTransition, MessageStatus, SkipReason
from goteo.models.media import CampaignMedia, MediaKind, UploadedMedia
from goteo.models.messages import Message, MessageEvent, MessageQuerySet
from goteo.models.promotions import Promotion
from goteo.models.redemptions import Redemption
from goteo.models.segments import Segment
from goteo.models.senders import Sender
from goteo.models.workers import WorkerHeartbeat

__all__ = [
    "Actor",
    "ApiToken",
    "Campaign",
    "CampaignMedia",
    "CampaignStatus",
    "Contact",
    "DailyCounter",
    "ExcludedPhone",
    "IllegalTransition",
    "InboundMessage",
    "MediaKind",
    "Message",
    "MessageEvent",
    "MessageQuerySet",
    "MessageStatus",
    "Promotion",
    "Redemption",
    "Reply",
    "ReplyStatus",
    "Segment",
    "Sender",
    "SkipReason",
    "Tag",
    "UploadedMedia",
    "WhatsAppLid",
    "WorkerHeartbeat",
]
