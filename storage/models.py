"""ORM models. Datetimes are aware UTC; defaults come from the injected clock, never import time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.nps import CaseStatus, SurveyStatus
from storage.base import CLUSTERED, Base, HourRollup
from storage.types import UTCDateTime


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    # per-team minimum touch frequency, "connection=7,development=14,…" (None: the settings')
    cadence: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """Everyone who has talked to the bot. ``role`` is None for a stranger."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tg_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(256), default="")
    last_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tg_language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # "12345 09:00-19:00" (ISO weekdays, local time); None means the default Mon–Fri 09–19
    work_hours: Mapped[str | None] = mapped_column(String(32), nullable=True)
    role: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True
    )
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # when a manager deactivated them (services.team): told so, not taken for a stranger
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # they sent /stop: no surveys, on any card linked to them now or later (services.nps)
    nps_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or (f"@{self.username}" if self.username else str(self.tg_id))


class Invite(Base):
    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), nullable=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    used_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


# One live card per phone, e-mail and Telegram id in a team (a card without a team: per owner),
# held by partial unique indexes (migration 0013), so that no race can make two cards. Archived
# and forgotten cards, and the duplicates found by the migration, are out of the rule.
LIVE_CARD = "archived_at IS NULL AND forgotten_at IS NULL AND duplicate_of IS NULL"
IDENTITY_COLUMNS = ("phone", "email", "tg_user_id")


def _unique_in_team(column: str) -> tuple[Index, Index]:
    live = f"{column} IS NOT NULL AND {LIVE_CARD}"
    team = f"team_id IS NOT NULL AND {live}"
    own = f"team_id IS NULL AND {live}"
    return (
        Index(
            f"ux_contacts_team_{column}",
            "team_id",
            column,
            unique=True,
            sqlite_where=text(team),
            postgresql_where=text(team),
        ),
        Index(
            f"ux_contacts_own_{column}",
            "owner_id",
            column,
            unique=True,
            sqlite_where=text(own),
            postgresql_where=text(own),
        ),
    )


UNIQUE_IN_TEAM = tuple(ix for column in IDENTITY_COLUMNS for ix in _unique_in_team(column))


class Contact(Base):
    """A contact card (the method's minimal record)."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True
    )
    name: Mapped[str] = mapped_column(String(256))
    company: Mapped[str | None] = mapped_column(String(256), nullable=True)
    position: Mapped[str | None] = mapped_column(String(256), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    segment: Mapped[str | None] = mapped_column(String(128), nullable=True)
    icp_fit: Mapped[str] = mapped_column(String(16), default="unknown")
    icp_criterion: Mapped[str | None] = mapped_column(String(512), nullable=True)
    influence: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_detail: Mapped[str | None] = mapped_column(String(256), nullable=True)
    introduced_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="contact")
    stage: Mapped[str] = mapped_column(String(32), default="identification")
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    email: Mapped[str | None] = mapped_column(String(256), nullable=True, index=True)
    tg_username: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    tg_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    tags: Mapped[str] = mapped_column(String(1024), default="")
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    next_step: Mapped[str | None] = mapped_column(String(512), nullable=True)
    next_step_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    no_next_step_reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # the client's own time zone, when known (surveys go out in their daytime)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # the client sent /stop: no more surveys
    nps_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # personal data erased (/forget); the row stays for anonymous counts
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # a card that migration 0013 found sharing a phone, e-mail or Telegram id with an older live
    # card of its team (that card's id): kept whole, but left out of the uniqueness rule below
    # until the two are merged. New cards never get it: the rule refuses them instead.
    duplicate_of: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        *UNIQUE_IN_TEAM,
        Index("ix_contacts_owner_name", "owner_id", "archived_at", "name"),
        Index("ix_contacts_owner_due", "owner_id", "next_step_due"),
        # covering indexes for /find: SQLite checks LIKE '%…%' inside the index. Not on
        # PostgreSQL, whose B-tree entries are capped in size (search uses a scan there).
        Index("ix_contacts_owner_search", "owner_id", "archived_at", "search_text").ddl_if(
            dialect="sqlite"
        ),
        Index("ix_contacts_team_search", "team_id", "archived_at", "search_text").ddl_if(
            dialect="sqlite"
        ),
        # the digest and /stats (migration 0005): a team's new cards; its cards by status/stage
        Index("ix_contacts_team_created", "team_id", "created_at"),
        Index("ix_contacts_team_status_stage", "team_id", "status", "stage"),
        # /find on PostgreSQL (0009): trigrams of the search text. SQLite has the FTS5 table
        # contacts_fts instead (kept by triggers; not a model: see SEARCH_TABLES)
        Index(
            "ix_contacts_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class Touch(Base):
    __tablename__ = "touches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    type: Mapped[str] = mapped_column(String(24))
    direction: Mapped[str] = mapped_column(String(8), default="out")
    summary: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_touches_contact_time", "contact_id", "occurred_at"),
        # the digest and /stats (0005): a period's touches, inbound ones picked in the index
        Index("ix_touches_time_direction", "occurred_at", "direction"),
    )


class ContactEvent(Base):
    """A change on a card (status, stage, next step, merge…): who and when."""

    __tablename__ = "contact_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(String(512), nullable=True)
    new_value: Mapped[str | None] = mapped_column(String(512), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_contact_events_contact_time", "contact_id", "at"),
        Index("ix_contact_events_time", "at"),  # a period's stage moves (0005)
    )


# the rows of the partial unique index "one pending reminder per contact"
PENDING_REMINDER = "kind = 'reminder' AND status = 'pending'"


class DueWork(Base):
    """Every piece of due work (reminders, checks, SLA alerts, surveys, digests) lives here.

    APScheduler only ticks; workers claim due rows atomically, one at a time. ``key`` makes
    scheduling idempotent. Each claim writes a fresh ``claim_token`` (a fencing token): only the
    holder of the current token can renew, close or release the row, and a claim whose holder
    stopped renewing it (a crash, a stall) is taken again, with a new token, after its lease.
    """

    __tablename__ = "due_work"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(128), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), nullable=True, index=True
    )
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[str | None] = mapped_column(Text, nullable=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_due_work_status_due", "status", "due_at"),
        Index("ix_due_work_kind_sent", "kind", "sent_at"),  # alerts sent in a period (0005)
        # at most one pending reminder per contact (0011); services.followups upserts against it
        Index(
            "ux_due_work_one_pending_reminder",
            "contact_id",
            unique=True,
            sqlite_where=text(PENDING_REMINDER),
            postgresql_where=text(PENDING_REMINDER),
        ),
    )


class JobRun(Base):
    """One run of a periodic job (the daily scans) for one period, whoever's replica ran it.

    The unique (job, period) key is the claim: the replica that inserts it runs the job; the
    others skip it. A run that failed, or whose runner vanished (``running`` for longer than a
    stale limit), is taken again by the next attempt, with a new token.
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))  # running | done | failed
    token: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_runs_job_period"),)


class Survey(Base):
    """One NPS question to one client after one delivered service."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    )
    touch_id: Mapped[int | None] = mapped_column(
        ForeignKey("touches.id", ondelete="SET NULL"), nullable=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    client_tg_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    # scheduled | sent | link | answered | expired | cancelled
    status: Mapped[str] = mapped_column(String(12), default=SurveyStatus.SCHEDULED.value)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_surveys_contact_created", "contact_id", "created_at"),
        Index("ix_surveys_team_answered", "team_id", "answered_at", "score"),  # covering (0020)
        Index("ix_surveys_rep_answered", "rep_id", "answered_at", "score"),
    )


class NpsCase(Base):
    """A detractor's case: opened at once, taken, client contacted, resolved; has an SLA."""

    __tablename__ = "nps_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey_id: Mapped[int] = mapped_column(
        ForeignKey("surveys.id", ondelete="CASCADE"), unique=True
    )
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # open | taken | contacted | resolved
    status: Mapped[str] = mapped_column(String(12), default=CaseStatus.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # who is on the case: who took it, or who contacted the client since (services.nps.cases)
    taken_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # closed by the client's changed answer (2 → 10): the scores, old and new (else None)
    changed_from: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    changed_to: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)


class ReferralLink(Base):
    """A promoter's personal referral link; each person who opens it becomes a new contact."""

    __tablename__ = "referral_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    promoter_contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    survey_id: Mapped[int | None] = mapped_column(
        ForeignKey("surveys.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_count: Mapped[int] = mapped_column(Integer, default=0)


class PrivacyLog(Base):
    """Who erased whose personal data, and how much (counts only: no personal data here)."""

    __tablename__ = "privacy_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), nullable=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    # "forget" (staff erased a card) or "self" (the person asked for it)
    action: Mapped[str] = mapped_column(String(16))
    counts: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Import(Base):
    """A file being imported (services.exchange): parsed rows are staged in short batches, the
    user sees a preview, and one short swap makes them live when they tap Import."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # the uploader's scope when the rows were matched: the swap refuses if it has changed since
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    filename: Mapped[str] = mapped_column(String(256))
    # staging | staged | applied (reminders being planned) | done | empty | cancelled |
    # expired | stale | failed
    status: Mapped[str] = mapped_column(String(12), default="staging")
    creates: Mapped[int] = mapped_column(Integer, default=0)
    updates: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    # SQLite: new cards get ids id_base + seq (PostgreSQL reserves them from the sequence)
    id_base: Mapped[int | None] = mapped_column(Integer, nullable=True)
    planned_upto: Mapped[int] = mapped_column(Integer, default=0)  # reminders: staged lines done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ImportRow(Base):
    """One staged row: a new card (all its values) or the changed cells of an existing one
    (None keeps the card's value). ``contact_id`` is not a foreign key: the swap checks it."""

    __tablename__ = "import_rows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)  # the row's (first) line in the file: its key
    action: Mapped[str] = mapped_column(String(8))  # create | update
    seq: Mapped[int | None] = mapped_column(Integer, nullable=True)  # creates: 1, 2, …
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    base_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # a new card's day of creation as the file gives it (None: the swap's time)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    company: Mapped[str | None] = mapped_column(String(256), nullable=True)
    position: Mapped[str | None] = mapped_column(String(256), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(8), nullable=True)
    segment: Mapped[str | None] = mapped_column(String(128), nullable=True)
    icp_fit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    icp_criterion: Mapped[str | None] = mapped_column(String(512), nullable=True)
    influence: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_detail: Mapped[str | None] = mapped_column(String(256), nullable=True)
    introduced_by_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(256), nullable=True)
    tg_username: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tg_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tags: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_step: Mapped[str | None] = mapped_column(String(512), nullable=True)
    next_step_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    search_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the "next_step" event's text when the row sets a next step
    next_step_event: Mapped[str | None] = mapped_column(String(512), nullable=True)

    __table_args__ = (Index("ix_import_rows_import_line", "import_id", "line", unique=True),)


# SQLite's FTS5 table for /find and its shadow tables (migration 0009): made and kept by SQL,
# not by these models, so schema comparison leaves them out (storage.migrate)
SEARCH_TABLES = frozenset(
    f"contacts_fts{suffix}" for suffix in ("", "_data", "_idx", "_docsize", "_config", "_content")
)
# PostgreSQL's prefix and scoped trigram indexes for /find (0009, 0022, 0023): expression
# indexes, made by SQL likewise
_PREFIX = ("ix_contacts_search_prefix", "ix_contacts_owner_prefix", "ix_contacts_team_prefix")
SEARCH_INDEXES = frozenset((*_PREFIX, "ix_contacts_owner_trgm", "ix_contacts_team_trgm"))


class RollupCards(Base):
    """How many active cards (not archived, not lost) have each kind of date on each UTC day,
    per owner, team (``team_key`` 0: none) and stage — kept by database triggers on
    ``contacts`` (migration 0010), so that "overdue", "going cold" and "stale data" are sums
    over days rather than a pass over every card:

    - ``due``: the next step's due day (cards with a next step);
    - ``quiet``: the day of the last touch, or of creation (cards without a next step);
    - ``verified``: the day the data was last verified.
    """

    __tablename__ = "rollup_cards"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    team_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_rollup_cards_owner", "kind", "owner_id", "day"), CLUSTERED)


# the NPS figures' surveys delivered in a period (0010)
Index("ix_surveys_team_delivered", Survey.team_id, Survey.delivered_at)
Index("ix_surveys_rep_delivered", Survey.rep_id, Survey.delivered_at)
# the live part of the card counts (the day a boundary falls in) is read through these (0010)
Index("ix_contacts_next_step_due", Contact.next_step_due)
Index(  # covering the boundary day's "going cold" count (0021)
    "ix_contacts_last_touch_at",
    *(Contact.last_touch_at, Contact.team_id, Contact.owner_id, Contact.stage, Contact.status),
    *(Contact.archived_at, Contact.next_step_due),
)
Index("ix_contacts_created_at", Contact.created_at)
Index("ix_contacts_verified_at", Contact.verified_at)


class RollupTouches(Base):
    """Touches per UTC day, counted under their card's current owner, team (``team_key`` 0:
    none) and stage — kept by triggers on ``touches`` and ``contacts`` (migration 0010): a card
    that changes hands or stage takes its touches along, as the direct queries see them."""

    __tablename__ = "rollup_touches"

    team_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_rollup_touches_owner", "owner_id", "day"), CLUSTERED)


class RollupTouchHours(HourRollup, Base):
    """Touches per UTC hour ('YYYY-MM-DD HH') and type, under their card's current owner, team
    and stage, kept by the same triggers: the digest's period (since the last digest) is whole
    hours but for its two ends, and so are the partial days at the ends of a /stats period."""

    __tablename__ = "rollup_touch_hours"

    stage: Mapped[str] = mapped_column(String(32), primary_key=True)
    type: Mapped[str] = mapped_column(String(24), primary_key=True)

    __table_args__ = (Index("ix_rollup_touch_hours_owner", "owner_id", "hour"), CLUSTERED)


class RollupLastTouch(Base):
    """The UTC day of each card's latest touch (cards with touches only), kept by the same
    triggers; ``rollup_cards`` of kind ``touched`` counts the cards per that day."""

    __tablename__ = "rollup_last_touch"

    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)

    __table_args__ = (Index("ix_rollup_last_touch_day", "day", "contact_id"),)


# the network analysis's result tables (declared on the same Base, so migrations see them)
from storage.deal_models import Deal  # noqa: E402, F401
from storage.dialogue_models import KeptDialogue  # noqa: E402, F401
from storage.media_models import TouchMedia  # noqa: E402, F401
from storage.network_models import (  # noqa: E402, F401
    NetworkFinding,
    NetworkNode,
    NetworkRun,
)
from storage.report_indexes import declare  # noqa: E402
from storage.rollup_models import (  # noqa: E402, F401
    RollupMark,
    RollupMarkDays,
    RollupMoveHours,
    RollupReply,
    RollupReplyDays,
)
from storage.tap_models import ButtonTap  # noqa: E402, F401

declare(Base.metadata)  # PostgreSQL's indexes for the digest (0024)
