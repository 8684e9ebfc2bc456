"""The statements every message runs, each written once.

They are SQL rather than ORM calls: the ORM spends about 200 µs of CPU composing each one,
ten times what running it costs, and with hundreds of messages a second sharing one core
(the GIL) that was most of the worker's time. Everything else goes through the ORM.

SQLite runs the steps one by one inside a transaction. PostgreSQL runs the same steps as
the parts of one statement (``WITH`` … ``RETURNING``), composed below from the same
fragments, so that a claim or a sent message costs one round trip.
"""

from __future__ import annotations

from goteo.models.counters import RESERVE

__all__ = [
    "CLAIM_AT_ONCE",
    "CLAIM_IF_FREE",
    "CLAIM_MESSAGE",
    "COMPLETE",
    "CONTACT_LOCKS",
    "HOLD_NEXT",
    "LOG_EVENT",
    "MARK_SENT",
    "NEXT_PENDING",
    "PACE_AND_TAKE_SLOT",
    "PACE_SENDER",
    "PERSON_LOCK",
    "RECORD_SENT",
    "RESERVE",
    "SHIFT_IF_ACTIVE",
    "SHIFT_SENT",
    "TAKE_SLOT",
]

# --- the steps ----------------------------------------------------------------------------
PACE_SENDER = (  # the claim's conditional update of the sender's row
    "UPDATE goteo_sender SET next_send_at = %s WHERE id = %s AND is_active"
    " AND (next_send_at IS NULL OR next_send_at <= %s) AND (paused_until IS NULL OR paused_until <= %s)"
)
TAKE_SLOT = (  # a slot of the day's counter, once its row exists (RESERVE creates it)
    "UPDATE goteo_dailycounter SET used = used + 1 WHERE scope = %s AND day = %s AND used < %s"
)
CLAIM_MESSAGE = (  # pending -> sending, only if it is still pending
    "UPDATE goteo_message SET status = %s, claim_token = %s, claimed_by = %s, claimed_at = %s,"
    " quota_day = %s, attempts = attempts + 1 WHERE id = %s AND status = %s"
)
SHIFT_IF_ACTIVE = (  # Campaign.shift_count(pending -> sending), only while the campaign is active
    "UPDATE goteo_campaign SET pending_count = pending_count - 1, sending_count = sending_count + 1"
    " WHERE id = %s AND status = %s"
)
MARK_SENT = (  # sending -> sent, only while this claim owns it
    "UPDATE goteo_message SET status = %s, sent_at = %s, finished_at = %s, provider_message_id = %s,"
    " last_error = '' WHERE id = %s AND status = %s AND claim_token = %s"
)
SHIFT_SENT = (  # Campaign.shift_count(sending -> sent); {campaign} is the campaign's id
    "UPDATE goteo_campaign SET sending_count = sending_count - 1, sent_count = sent_count + 1"
    " WHERE id = {campaign}"
)
EVENT = (  # a MessageEvent; {rows} gives its values
    "INSERT INTO goteo_messageevent (message_id, at, from_status, to_status, actor, detail) {rows}"
)
LOG_EVENT = EVENT.format(rows="VALUES (%s, %s, %s, %s, %s, %s)")
COMPLETE = (  # Campaign.complete_if_done
    "UPDATE goteo_campaign SET status = %s, finished_at = %s"
    " WHERE id = %s AND status = %s AND pending_count = 0 AND sending_count = 0 AND trigger_spec = ''"
)

# --- the next message to claim --------------------------------------------------------------
OUTGOING_COLUMNS = "id, contact_name, phone, rendered_text, uuid, code, attempts"
# An automation's message is never taken past its deadline, even before the sweep skips it.
CANDIDATE = (  # frequency.not_reached_sql adds the cap's conditions as {cap}
    " FROM goteo_message WHERE campaign_id = %s AND status = %s"
    " AND (next_attempt_at IS NULL OR next_attempt_at <= %s) AND (deadline IS NULL OR deadline > %s)"
    " AND id > %s{cap} ORDER BY id LIMIT 1"
)
NEXT_PENDING = f"SELECT {OUTGOING_COLUMNS}" + CANDIDATE
# PostgreSQL: the person a candidate is for, held until the claim commits, so that two
# campaigns (on two numbers, in two workers) cannot both pass the frequency cap for the
# same person at the same moment. A try-lock: a person another claim holds is skipped.
PERSON_LOCK = (
    "pg_try_advisory_xact_lock(hashtextextended(phone, 0))"
    " AND (contact_id IS NULL OR pg_try_advisory_xact_lock(%s, (contact_id %% 2147483647)::integer))"
)
# The next candidate, locked, with whether its person is now held (PERSON_LOCK, formatted
# in as {lock} at each use); the row is locked first, and the person only for the row found.
HOLD_NEXT = (
    f"SELECT {OUTGOING_COLUMNS}, {{lock}} FROM (SELECT {OUTGOING_COLUMNS}, contact_id"
    + CANDIDATE
    + " FOR UPDATE SKIP LOCKED) candidate"
)
CONTACT_LOCKS = 0x676F  # the contact locks' namespace (key1 of the two-key form; ids fold into key2)


# --- PostgreSQL: the steps as one statement -------------------------------------------------
def only_after(step: str, earlier: str) -> str:
    """``step`` (an UPDATE with a WHERE) done only if the CTE ``earlier`` returned a row."""
    return f"{step} AND EXISTS (SELECT 1 FROM {earlier})"


# PACE_SENDER and then TAKE_SLOT for the sender: whether the sender was free to send, and
# whether its slot was taken.
PACE_AND_TAKE_SLOT = (
    f"WITH p AS ({PACE_SENDER} RETURNING id), s AS ({only_after(TAKE_SLOT, 'p')} RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM p), EXISTS (SELECT 1 FROM s)"
)


def claim_steps(message: str) -> str:
    """CLAIM_MESSAGE (as ``message``), SHIFT_IF_ACTIVE and the claim's event as CTEs m, c, e."""
    event = EVENT.format(rows="SELECT id, %s, %s, %s, %s, %s FROM m WHERE EXISTS (SELECT 1 FROM c)")
    return f"m AS ({message} RETURNING id), c AS ({only_after(SHIFT_IF_ACTIVE, 'm')} RETURNING id), e AS ({event})"


# True only if both the message and the campaign were taken (else the claim rolls it back).
CLAIM_AT_ONCE = f"WITH {claim_steps(CLAIM_MESSAGE)} SELECT EXISTS (SELECT 1 FROM c)"
# The whole claim of a message in one statement: the person is checked against the
# frequency cap ({cap}; a statement after the one that locked them, so it sees every claim
# committed meanwhile), then the campaign's slot is taken, then the claim's steps. Whether
# the person was free, whether the slot was taken, and whether the claim was.
CLAIM_IF_FREE = (
    "WITH f AS (SELECT 1 FROM goteo_message WHERE id = %s{cap}),"
    f" s AS ({only_after(TAKE_SLOT, 'f')} RETURNING id),"
    f" {claim_steps(only_after(CLAIM_MESSAGE, 's'))}"
    " SELECT EXISTS (SELECT 1 FROM f), EXISTS (SELECT 1 FROM s), EXISTS (SELECT 1 FROM c)"
)
# MARK_SENT, SHIFT_SENT and the event as one statement (no transaction to open and commit),
# returning the campaign's pending and sending counts after it, or no row if the message
# was not this claim's to mark.
RECORD_SENT = (
    f"WITH m AS ({MARK_SENT} RETURNING id, campaign_id),"
    f" c AS ({SHIFT_SENT.format(campaign='(SELECT campaign_id FROM m)')} RETURNING pending_count, sending_count),"
    f" e AS ({EVENT.format(rows='SELECT id, %s, %s, %s, %s, %s FROM m')})"
    " SELECT pending_count, sending_count FROM c"
)
