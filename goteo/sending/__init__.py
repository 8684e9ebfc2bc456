"""Sending: claim one message, send it, record what happened.

The path of one message: ``launch`` writes it ``pending``; a run (``run.Engine.step``)
claims it (``claim.Claimer``: ``pending -> sending`` with a claim token, the sender paced
and the day's slots taken, committed before anything else), hands it to the sender's
transport with no transaction open, and records the outcome (``record.Recorder``:
``sent``, or ``failed``, ``pending`` again to retry later, ``skipped``, or ``unknown``).
``dialect`` runs the statements of ``sql`` on SQLite or PostgreSQL; the housekeeping is
verbs on the models (``Message.objects.sweep_stale``, ``Campaign.objects.expire``).

The protocol keeps goteo's three promises under concurrency and crashes:

* never twice: the claim is a compare-and-set committed before the provider is called, and
  no transaction is held across the call. A message whose outcome is not known (a timeout
  after the request left, a 5xx, a crash) becomes ``unknown`` and is never retried.
* never lost: every message ends sent, failed, skipped or unknown, or stays pending with a
  reason (window, cap, backoff).
* never over a cap: the sender's and the campaign's slots for the day are reserved with
  conditional increments in the claim transaction, and given back only when the message
  definitely did not go out.
"""

from goteo.sending.claim import Claim, Step, Wait
from goteo.sending.record import Outcome
from goteo.sending.run import Engine, RunSummary, default_worker_name, refresh_connections

__all__ = [
    "Claim",
    "Engine",
    "Outcome",
    "RunSummary",
    "Step",
    "Wait",
    "default_worker_name",
    "refresh_connections",
]
