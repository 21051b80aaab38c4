"""Import and export: the constants, statuses and result types every step shares."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from core.enums import ENUM_FIELDS as ENUM_TYPES
from services import contacts as contacts_svc

log = logging.getLogger(__name__)


STAGE_BATCH = 500  # rows matched and staged per write block
PURGE_BATCH = 5000  # staged rows deleted per write block
PLAN_BATCH = 50  # cards whose reminders are planned per write block
PREVIEW_TTL = timedelta(hours=24)  # a preview not confirmed by then is dropped
MAX_KEPT_ISSUES = 50  # skipped rows and notes kept for the preview (all are counted)
# the swap's one transaction grows with the file (about 40 µs a new card on SQLite, see
# bench/README.md): a bigger file is refused, to be sent in parts
MAX_ROWS = 100_000

TEXT_FIELDS = ("company", "position", "segment", "icp_criterion", "source_detail", "notes")
ENUM_FIELDS = ENUM_TYPES  # core.enums: the one definition of the picked fields
MAX_ROW_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
MAX_TG_ID = 2**63 - 1
# the card columns an import writes (staged under the same names)
CARD_COLUMNS = (*contacts_svc.EDITABLE, "tags", "next_step", "next_step_due", "verified_at")
# the step of a due date a file gives without one, unless the caller words it (stage's step_text)
STEP_TEXT = "Follow up"
SEARCHED = ("name", "company", "position", "email", "tg_username", "tags", "phone")

# import statuses (REPLACED: a newer file of the same user took the preview's place)
STAGING, STAGED, APPLIED, DONE, EMPTY = "staging", "staged", "applied", "done", "empty"
CANCELLED, EXPIRED, STALE, FAILED = "cancelled", "expired", "stale", "failed"
REPLACED = "replaced"
CREATE, UPDATE = "create", "update"
# a staged row's card goes into the archive or out of it: a row of its own beside the card's
# (services.exchange.archiving), on line MARKER_LINE + the card's line
ARCHIVE, RESTORE = "archive", "restore"
MARKER_LINE = 1 << 30


class ImportFailed(Exception):
    """The database failed during an import; nothing was made live (details are in the log)."""


@dataclass(frozen=True)
class Issue:
    """A row that is skipped (or imported with a note), for the preview. ``code`` names the
    reason; the caller words it. ``name`` is the row's name when it has one."""

    line: int
    code: str
    name: str | None = None
    column: str | None = None
    value: str | None = None
    detail: str = ""
    matches: tuple[tuple[str, int], ...] = ()  # "ambiguous": the cards it matches
    heading: str | None = None  # ``column`` as the file names it ("Этап"), to say so
    also: tuple[Issue, ...] = ()  # a skipped row's other bad values, each said too


@dataclass
class Preview:
    filename: str
    import_id: int | None = None  # None: nothing to confirm
    creates: int = 0
    updates: int = 0
    unchanged: int = 0
    skipped: int = 0
    issues: list[Issue] = field(default_factory=list)  # the first skipped rows, by line
    notes: list[Issue] = field(default_factory=list)
    broken: list[Issue] = field(default_factory=list)  # the file's structure: nothing was read
    too_many: int = 0  # the file has more rows than this (MAX_ROWS): nothing was staged
    # no file of contacts, nothing read: "binary" (not text), "history" (/export's history.csv)
    refused: str | None = None
    cut: int = 0  # values cut to their field's length (each is also a note, the first ones)


@dataclass
class Outcome:
    """What a tap on Import or Cancel did. ``status``: applied | cancelled | not_found | done |
    expired | stale (cards changed since the preview) | reminders_pending (imported, but the
    reminders could not all be planned yet: tapping Import again finishes them)."""

    status: str
    filename: str = ""
    creates: int = 0
    updates: int = 0
    skipped: int = 0
    reminders: int = 0


@dataclass
class Export:
    count: int
    csv: bytes
    vcard: bytes
    history: bytes = b""
    events: int = 0
