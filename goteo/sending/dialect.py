"""The database's side of sending: running the statements of goteo.sending.sql, and the one
place SQLite and PostgreSQL differ.

``dialect()`` gives the connection's dialect, chosen once per vendor. SQLite runs each
claim and record as steps inside a transaction; PostgreSQL runs them as one statement and
holds each candidate's person with a lock (claims run side by side there).

Statements run on the driver's own connection: Django's cursor wrappers cost SQLite three
times what it takes to run these statements, and Django's PostgreSQL cursors bind on the
client and cannot prepare (planning took longer than running: half of the claim's time).
On PostgreSQL each statement is prepared once per connection, unless
GOTEO_DB_PREPARED_STATEMENTS is off (behind PgBouncer in transaction mode, where a
connection's prepared statements may belong to another client's session).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from functools import lru_cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from goteo.conf import env_bool
from goteo.sending import sql
from goteo.writes import write_transaction

T = TypeVar("T")
Row = tuple[Any, ...]
PREPARE_ONLY_WHEN_ASKED = 2**31 - 1  # a threshold no query reaches on its own


def db() -> BaseDatabaseWrapper:
    """This thread's connection (once per call: each use of ``connection`` is a lookup)."""
    return connections[DEFAULT_DB_ALIAS]


@lru_cache(maxsize=256)
def qmark(statement: str) -> str:
    """``statement`` with Django's ``%s`` placeholders as SQLite's ``?`` (and ``%%`` as ``%``)."""
    return re.sub(r"(?<!%)%s", "?", statement).replace("%%", "%")


def prepared_statements() -> bool:
    """GOTEO_DB_PREPARED_STATEMENTS (default on): prepare the sending's statements on PostgreSQL."""
    return env_bool("GOTEO_DB_PREPARED_STATEMENTS", True)


class Dialect:
    """The statements as SQLite runs them, and what every database shares."""

    holds_people = False  # whether a claim locks each candidate's person (claims run side by side)
    next_lock = ""  # how the candidate query locks the row it finds

    # --- running statements -------------------------------------------------------------
    def run(self, statement: str, params: Sequence[Any], read: Callable[[Any], T], *, prepare: bool) -> T:
        """``read(cursor)`` after running ``statement`` on this thread's connection."""
        connection = db()
        connection.ensure_connection()
        started = time.monotonic()
        with connection.wrap_database_errors:
            result = self.driver_run(connection, statement, params, read, prepare)
        if connection.queries_logged:  # as Django logs its own (DEBUG, tests)
            moment = f"{time.monotonic() - started:.3f}"
            connection.queries_log.append({"sql": f"{statement} {list(params)!r}", "time": moment})
        return result

    def driver_run(
        self,
        connection: BaseDatabaseWrapper,
        statement: str,
        params: Sequence[Any],
        read: Callable[[Any], T],
        prepare: bool,
    ) -> T:
        return read(connection.connection.execute(qmark(statement), params))

    def execute(self, statement: str, *params: Any) -> int:
        """Run one statement; how many rows it touched."""
        return self.run(statement, params, lambda cursor: int(cursor.rowcount), prepare=True)

    def fetch_one(self, statement: str, params: Sequence[Any], *, prepare: bool = True) -> Row | None:
        """The first row of a query, or None; ``prepare=False`` when its best plan depends on
        its parameters."""
        row: Row | None = self.run(statement, params, lambda cursor: cursor.fetchone(), prepare=prepare)
        return row

    # --- values as the driver takes them --------------------------------------------------
    def at(self, moment: datetime) -> Any:
        return db().ops.adapt_datetimefield_value(moment)

    def day(self, day: date) -> Any:
        return db().ops.adapt_datefield_value(day)

    def token(self, value: uuid.UUID) -> Any:
        return value.hex  # a UUIDField in a char column (as Django stores it on SQLite)

    # --- the steps --------------------------------------------------------------------------
    def take_slot(self, scope: str, day: date, cap: int) -> bool:
        """DailyCounter.reserve as sending runs it: the plain increment first, and the upsert
        only when it took nothing (the day's first slot, or the cap). On SQLite every upsert
        also writes the table's sequence, even when the row was there."""
        if cap <= 0:
            return False
        value = self.day(day)
        return self.execute(sql.TAKE_SLOT, scope, value, cap) == 1 or self.reserve(scope, value, cap)

    def reserve(self, scope: str, day_value: Any, cap: int) -> bool:
        return cap > 0 and self.execute(sql.RESERVE, scope, day_value, cap) == 1

    def pace_and_take_slot(self, pace: Row, scope: str, day: date, cap: int) -> tuple[bool, bool]:
        """PACE_SENDER with ``pace``, then the sender's slot: whether it was paced, and whether
        the slot was taken."""
        if self.execute(sql.PACE_SENDER, *pace) != 1:
            return False, False
        return True, self.take_slot(scope, day, cap)

    def claim_message(
        self,
        message_id: int,
        slot: tuple[str, date, int],
        claim: Row,
        active: Row,
        event: Row,
        cap: str,
        cap_params: Sequence[Any],
    ) -> tuple[bool, bool]:
        """Take the campaign's ``slot`` (scope, day, limit), then CLAIM_MESSAGE with ``claim``,
        SHIFT_IF_ACTIVE with ``active`` and the claim's ``event``. Whether the person is free
        under ``cap`` (the candidate query checked it already here), and whether all was
        taken (else the caller rolls back)."""
        if not self.take_slot(*slot):
            return True, False
        if self.execute(sql.CLAIM_MESSAGE, *claim) != 1 or self.execute(sql.SHIFT_IF_ACTIVE, *active) != 1:
            return True, False
        self.execute(sql.LOG_EVENT, message_id, *event)
        return True, True

    def next_candidate(self, params: Row, cap: str, cap_params: Sequence[Any], hold: bool) -> Row | None:
        """The campaign's next candidate (``params``: campaign, status, now, now, after id), and
        whether its person is held (always, where claims take turns)."""
        statement = sql.NEXT_PENDING.format(cap=cap) + self.next_lock
        row = self.fetch_one(statement, (*params, *cap_params), prepare=not cap)
        return None if row is None else (*row, True)

    def sent_transaction(self) -> AbstractContextManager[None]:
        """What ``record_sent`` runs in: its steps take one transaction here."""
        return write_transaction()

    def record_sent(self, mark: Row, event: Row, campaign_id: int, complete: Row) -> bool | None:
        """MARK_SENT with ``mark``, then SHIFT_SENT, the ``event`` and COMPLETE; None when the
        message was not this claim's to mark, else whether the campaign is now complete."""
        if self.execute(sql.MARK_SENT, *mark) != 1:
            return None
        self.execute(sql.SHIFT_SENT.format(campaign="%s"), campaign_id)
        self.execute(sql.LOG_EVENT, mark[4], *event)
        return self.execute(sql.COMPLETE, *complete) == 1


class PostgreSQL(Dialect):
    """The steps as one statement each, and the person held while a claim decides."""

    holds_people = True
    next_lock = " FOR UPDATE SKIP LOCKED"

    def __init__(self) -> None:
        self.prepare = prepared_statements()

    def driver_run(
        self,
        connection: BaseDatabaseWrapper,
        statement: str,
        params: Sequence[Any],
        read: Callable[[Any], T],
        prepare: bool,
    ) -> T:
        import psycopg

        raw = connection.connection
        if not (prepare and self.prepare):
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(statement, params, prepare=False)
                return read(cursor)
        # Django turns psycopg's preparing off (threshold None), and then ``prepare=True`` is
        # ignored: the threshold is raised for this statement only, so Django's own queries
        # are never prepared, and it is put back before anything else runs on the connection.
        threshold = raw.prepare_threshold
        raw.prepare_threshold = PREPARE_ONLY_WHEN_ASKED if threshold is None else threshold
        try:
            with psycopg.Cursor(raw) as cursor:
                cursor.execute(statement, params, prepare=True)
                return read(cursor)
        finally:
            raw.prepare_threshold = threshold

    def token(self, value: uuid.UUID) -> Any:
        return value

    def pace_and_take_slot(self, pace: Row, scope: str, day: date, cap: int) -> tuple[bool, bool]:
        value = self.day(day)
        row = self.fetch_one(sql.PACE_AND_TAKE_SLOT, (*pace, scope, value, cap))
        paced, slot = row or (False, False)
        # No slot: the day's first claim for the sender (its row does not exist yet), or the cap.
        return bool(paced), bool(slot) or (bool(paced) and self.reserve(scope, value, cap))

    def claim_message(
        self,
        message_id: int,
        slot: tuple[str, date, int],
        claim: Row,
        active: Row,
        event: Row,
        cap: str,
        cap_params: Sequence[Any],
    ) -> tuple[bool, bool]:
        scope, day, limit = slot
        value = self.day(day)
        params = (message_id, *cap_params, scope, value, limit, *claim, *active, *event)
        row = self.fetch_one(sql.CLAIM_IF_FREE.format(cap=cap), params)
        free, taken_slot, taken = row or (False, False, False)
        if not free:
            return False, False
        if not taken_slot:  # the campaign's first claim of the day (its row does not exist yet), or its cap
            if not self.reserve(scope, value, limit):
                return True, False
            taken = (self.fetch_one(sql.CLAIM_AT_ONCE, (*claim, *active, *event)) or (False,))[0]
        return True, bool(taken)

    def next_candidate(self, params: Row, cap: str, cap_params: Sequence[Any], hold: bool) -> Row | None:
        if not hold:
            return super().next_candidate(params, cap, cap_params, hold)
        # sql.PERSON_LOCK is read at each use, so a test can swap it for a lock that is not one.
        statement = sql.HOLD_NEXT.format(lock=sql.PERSON_LOCK, cap=cap)
        row = self.fetch_one(statement, (sql.CONTACT_LOCKS, *params, *cap_params), prepare=not cap)
        return None if row is None else (*row[:-1], bool(row[-1]))

    def sent_transaction(self) -> AbstractContextManager[None]:
        return nullcontext()  # RECORD_SENT is one statement: no transaction to open and commit

    def record_sent(self, mark: Row, event: Row, campaign_id: int, complete: Row) -> bool | None:
        left = self.fetch_one(sql.RECORD_SENT, (*mark, *event))
        if left is None:
            return None
        if tuple(left) != (0, 0):
            return False
        return self.execute(sql.COMPLETE, *complete) == 1


class Other(Dialect):
    """Any other database: the SQLite steps through Django's own cursors."""

    def driver_run(
        self,
        connection: BaseDatabaseWrapper,
        statement: str,
        params: Sequence[Any],
        read: Callable[[Any], T],
        prepare: bool,
    ) -> T:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return read(cursor)

    def token(self, value: uuid.UUID) -> Any:
        return value


DIALECTS: dict[str, type[Dialect]] = {"sqlite": Dialect, "postgresql": PostgreSQL}
CHOSEN: dict[str, Dialect] = {}


def dialect() -> Dialect:
    """The dialect of this thread's connection's database, made once per vendor."""
    vendor = db().vendor
    chosen = CHOSEN.get(vendor)
    if chosen is None:
        chosen = CHOSEN[vendor] = DIALECTS.get(vendor, Other)()
    return chosen


def take_slot(scope: str, day: date, cap: int) -> bool:
    """DailyCounter.reserve as the sending runs it, on this thread's connection."""
    return dialect().take_slot(scope, day, cap)
