"""Contacts in and out: export as CSV and vCard; import a file in steps that never hold the
database's write lock for long.

Import:

1. :func:`stage` checks the file's structure (a broken CSV imports nothing), then parses,
   validates and matches the rows against the user's cards (reads only) and stages them in
   ``import_rows`` a batch at a time, each batch its own short write block, so other people's
   writes get in between. Nothing is live yet: the caller shows the preview (N new, M updates,
   K skipped) with Import / Cancel.
2. :func:`apply`, when the uploader confirms, makes the staged rows live in one short write
   transaction, set-based (``INSERT … SELECT``, ``UPDATE … FROM``): all or nothing. A card that
   changed after the preview makes it refuse, so a stale preview never overwrites newer work.
3. Then the due work of the imported next steps is planned, a batch per write block
   (:func:`_plan_due_work` is the one place that does it), and the staged rows are deleted.

:func:`cancel` drops a staged import without touching a card.

A row is matched to a card by its ``id`` (within the user's scope), else by an exact phone,
e-mail or Telegram id (among the cards and the file's earlier rows); otherwise it is a new card.
Only cells that have a value are applied: an import never erases a field. A new card is made
when its ``created_at`` says (its "created" event too), so the cohort figures count it in its
own period; an existing card keeps the day it was made.
"""

from __future__ import annotations

from services.exchange.common import (  # noqa: F401
    APPLIED,
    CANCELLED,
    CARD_COLUMNS,
    CREATE,
    DONE,
    EMPTY,
    ENUM_FIELDS,
    EXPIRED,
    FAILED,
    MAX_KEPT_ISSUES,
    MAX_ROW_ID,
    MAX_ROWS,
    MAX_TG_ID,
    PLAN_BATCH,
    PREVIEW_TTL,
    PURGE_BATCH,
    REPLACED,
    SEARCHED,
    STAGE_BATCH,
    STAGED,
    STAGING,
    STALE,
    TEXT_FIELDS,
    UPDATE,
    Export,
    ImportFailed,
    Issue,
    Outcome,
    Preview,
)
from services.exchange.exporting import (  # noqa: F401
    _history,
    _iso,
    contact_row,
    export,
)
from services.exchange.housekeeping import (  # noqa: F401
    _give_up,
    _purge,
    _retire,
)
from services.exchange.matching import (  # noqa: F401
    _IDENTITY,
    _held_elsewhere,
    _Holder,
    _Slot,
    _target_key,
)
from services.exchange.rows import (  # noqa: F401
    _card_values,
    _clip,
    _merged,
    _next_step_event,
    _parse_int,
    _parse_row,
    _parse_when,
    _Parsed,
    _same,
    _Skip,
)
from services.exchange.staging import (  # noqa: F401
    _Stager,
    stage,
)
from services.exchange.swap import (  # noqa: F401
    _claim,
    _new_id,
    _plan_due_work,
    _plan_reminders,
    _swap,
    _taken_meanwhile,
    apply,
    cancel,
)
