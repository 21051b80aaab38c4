"""Follow-ups: the due work a card implies, kept right in one place.

The invariant, enforced by :func:`sync_due_work` (and its "at most one" half by the partial
unique index ``ux_due_work_one_pending_reminder``):

- **Reminder.** A live card (not archived) with an open next step has exactly one reminder for
  that step: pending — at the step's time inside the owner's working hours, or the same day's
  last working quarter-hour for a step after hours, else the next working moment
  (``core.workhours.step_reminder_time``, in the owner's time zone), addressed to the owner — until it is
  delivered, and then delivered once. Nothing is pending for a card without an open step, or
  archived.
- **Going cold.** A pending check exists only while the card is going cold: live, not lost, no
  open step, no touch since the check was planned, and (when the rhythm is known) no touch within
  its stage's rhythm.
- **Stale data.** A pending check exists only while the card is live, not lost and (when the
  window is known) not verified within ``STALE_AFTER_DAYS``.
- **Inbound reply.** A pending alert exists only while the inbound request is unanswered on a
  live card; the first goes to the owner after ``INBOUND_REPLY_HOURS`` of the owner's working
  time, the second to the owner's manager after twice that.
- Every pending check and alert is addressed to the card's current owner (the manager's alert to
  the owner's manager) and falls inside the owner's working hours.

Every path that changes what a card implies — a touch, a next step, snooze, reschedule, done, an
edit, import, merge, "service delivered", archive, restore, a new owner, the owner's time zone or
working hours — ends in :func:`sync_due_work`. Everything here only writes due work into the
database; the scheduler's tick delivers it.

The package, by what each part does:

- ``rules``: the kinds of due work, the settings they depend on (:class:`Rules`), when a
  reminder and an inbound alert are due;
- ``sync``: :func:`sync_due_work`, the one place that makes a card's due work right;
- ``use_cases``: every path that changes what a card implies, each ending in it;
- ``audit``: every breach of the invariant, for the tests;
- ``daily``: the daily scan for cards going cold and stale data.
"""

from services.followups.audit import audit
from services.followups.daily import scan
from services.followups.rules import (
    COLD,
    FOLLOWUP_KINDS,
    INBOUND_MGR,
    INBOUND_REP,
    NOTICE,
    REMINDER,
    STALE,
    Rules,
    payload_of,
    step_stamp,
    user_hours,
    user_tz,
)
from services.followups.sync import sync_due_work
from services.followups.use_cases import (
    Completed,
    Moved,
    archive,
    change,
    change_owner,
    complete_step,
    contact_wrote,
    done_step,
    log_relayed,
    log_touch,
    mark_verified,
    merge,
    merge_into,
    move_step,
    notify_manager_unreachable,
    plan_inbound_sla,
    plan_reminder,
    replan_owner,
    restore,
    set_introducer,
    set_next_step,
    step_for_stamp,
    touch_type_for,
)

__all__ = [
    "CARD_KINDS",
    "COLD",
    "DELIVERED",
    "FOLLOWUP_KINDS",
    "INBOUND_MGR",
    "INBOUND_REP",
    "NOTICE",
    "OPEN",
    "REMINDER",
    "STALE",
    "Completed",
    "Moved",
    "Rules",
    "archive",
    "audit",
    "change",
    "set_introducer",
    "change_owner",
    "complete_step",
    "contact_wrote",
    "done_step",
    "log_relayed",
    "log_touch",
    "mark_verified",
    "merge",
    "merge_into",
    "move_step",
    "notify_manager_unreachable",
    "payload_of",
    "plan_inbound_sla",
    "plan_reminder",
    "reminder_due",
    "replan_owner",
    "restore",
    "scan",
    "set_next_step",
    "step_for_stamp",
    "step_stamp",
    "sync_due_work",
    "touch_type_for",
    "user_hours",
    "user_tz",
]
