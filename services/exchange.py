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
Only cells that have a value are applied: an import never erases a field.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Integer,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import limits
from core.contactdata import normalize_email, normalize_phone, normalize_tag, normalize_username
from core.enums import IcpFit, Influence, InfluenceSource, Kind, Source, Stage, Status
from core.exchange import (
    HISTORY_COLUMNS,
    Record,
    RowError,
    check_csv,
    iter_csv,
    iter_vcard,
    split_tags,
    write_csv,
    write_vcard,
)
from core.roles import Role
from services import contacts as contacts_svc
from services import followups, teamcards
from storage.models import (
    IDENTITY_COLUMNS,
    Contact,
    ContactEvent,
    Import,
    ImportRow,
    Survey,
    Touch,
    User,
)
from storage.types import UTCDateTime
from storage.uow import end_read, writing

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
ENUM_FIELDS: dict[str, tuple[type[StrEnum], ...]] = {
    "kind": (Kind,),
    "icp_fit": (IcpFit,),
    "influence": (Influence, InfluenceSource),  # B2B role or B2C influence source
    "source": (Source,),
    "status": (Status,),
    "stage": (Stage,),
}
MAX_ROW_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
MAX_TG_ID = 2**63 - 1
# the card columns an import writes (staged under the same names)
CARD_COLUMNS = (*contacts_svc.EDITABLE, "tags", "next_step", "next_step_due", "verified_at")
SEARCHED = ("name", "company", "position", "email", "tg_username", "tags", "phone")

# import statuses
STAGING, STAGED, APPLIED, DONE, EMPTY = "staging", "staged", "applied", "done", "empty"
CANCELLED, EXPIRED, STALE, FAILED = "cancelled", "expired", "stale", "failed"
CREATE, UPDATE = "create", "update"


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


# ------------------------------------------------------------------------------------ export


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def contact_row(c: Contact) -> dict[str, Any]:
    """A contact as an exchange row keyed by core.exchange.CSV_COLUMNS."""
    return {
        "id": c.id,
        "name": c.name,
        "company": c.company,
        "position": c.position,
        "kind": c.kind,
        "segment": c.segment,
        "icp_fit": c.icp_fit,
        "icp_criterion": c.icp_criterion,
        "influence": c.influence,
        "source": c.source,
        "source_detail": c.source_detail,
        "introduced_by": c.introduced_by_id,
        "status": c.status,
        "stage": c.stage,
        "phone": c.phone,
        "email": c.email,
        "tg_username": c.tg_username,
        "tg_user_id": c.tg_user_id,
        "tags": ";".join(contacts_svc.tag_list(c.tags)),
        "notes": c.notes,
        "next_step": c.next_step,
        "next_step_due": _iso(c.next_step_due),
        "verified_at": _iso(c.verified_at),
        "created_at": _iso(c.created_at),
    }


async def export(session: AsyncSession, scope: contacts_svc.Scope) -> Export | None:
    """Everything in the scope: the contacts as CSV (cells a spreadsheet would run are
    neutralized) and vCard, and their history (touches, card changes, NPS answers) as CSV;
    None when there are no contacts."""
    rows: list[dict[str, Any]] = []
    names: dict[int, str] = {}
    async for c in contacts_svc.all_for_export(session, scope):
        rows.append(contact_row(c))
        names[c.id] = c.name
    history = [row async for row in _history(session, names)]
    await end_read(session)
    if not rows:
        return None
    return Export(
        count=len(rows),
        csv=write_csv(rows),
        vcard=write_vcard(rows),
        history=write_csv(history, HISTORY_COLUMNS),
        events=len(history),
    )


async def _history(
    session: AsyncSession, names: dict[int, str], batch: int = 500
) -> AsyncIterator[dict[str, Any]]:
    """Touches, card changes and NPS answers of these contacts, a batch of cards at a time."""
    ids = sorted(names)
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        found: list[tuple[datetime, int, dict[str, Any]]] = []
        for t in await session.scalars(select(Touch).where(Touch.contact_id.in_(chunk))):
            found.append(
                (
                    t.occurred_at,
                    t.id,
                    {"contact_id": t.contact_id, "what": "touch", "type": t.type}
                    | {"direction": t.direction, "text": t.summary, "at": _iso(t.occurred_at)},
                )
            )
        for e in await session.scalars(
            select(ContactEvent).where(ContactEvent.contact_id.in_(chunk))
        ):
            found.append(
                (
                    e.at,
                    e.id,
                    {"contact_id": e.contact_id, "what": e.field, "at": _iso(e.at)}
                    | {"old": e.old_value, "new": e.new_value},
                )
            )
        for sv in await session.scalars(
            select(Survey).where(Survey.contact_id.in_(chunk), Survey.answered_at.is_not(None))
        ):
            found.append(
                (
                    sv.answered_at,
                    sv.id,
                    {"contact_id": sv.contact_id, "what": "nps_answer", "score": sv.score}
                    | {"text": sv.comment, "at": _iso(sv.answered_at)},
                )
            )
        for _at, _id, row in sorted(found, key=lambda item: (item[2]["contact_id"], item[0])):
            row["contact"] = names[row["contact_id"]]
            yield row


# ------------------------------------------------------------------------------ row parsing


class _Skip(Exception):
    def __init__(self, code: str, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details


@dataclass
class _Parsed:
    fields: dict[str, Any] = field(default_factory=dict)  # EDITABLE name -> value
    tags: list[str] | None = None
    next_step: str | None = None
    next_step_due: datetime | None = None
    verified_at: datetime | None = None


def _parse_int(value: str, limit: int = MAX_ROW_ID) -> int | None:
    """A positive integer that fits the column, else None (so no query can overflow)."""
    digits = value.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    number = int(digits)
    return number if 0 < number <= limit else None


def _parse_when(value: str, column: str, tz: tzinfo) -> datetime:
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise _Skip("invalid_date", column=column, value=value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _same(current: Any, attr: str, value: str) -> bool:
    """The cell repeats what the card already holds (exported as is): nothing to check."""
    if current is None:
        return False
    stored = getattr(current, attr)
    return stored is not None and str(stored) == value


def _parse_row(row: Mapping[str, str | None], *, region: str, tz: tzinfo, current: Any) -> _Parsed:
    name = (row.get("name") or "").strip()
    if not name:
        raise _Skip("missing_name")
    parsed = _Parsed()
    parsed.fields["name"] = name
    for column in TEXT_FIELDS:
        if row.get(column) is not None:
            parsed.fields[column] = row[column]
    for column, enums in ENUM_FIELDS.items():
        value = row.get(column)
        if value is None:
            continue
        code = value.strip().lower()
        same = _same(current, column, value)
        if not same and not any(code in set(e) for e in enums):
            raise _Skip("invalid_value", column=column, value=value)
        parsed.fields[column] = value if same else code
    if (value := row.get("introduced_by")) is not None:
        ref = _parse_int(value)
        if ref is None:
            raise _Skip("invalid_value", column="introduced_by", value=value)
        parsed.fields["introduced_by_id"] = ref
    if (value := row.get("phone")) is not None:
        phone = value if _same(current, "phone", value) else normalize_phone(value, region)
        if phone is None:
            raise _Skip("invalid_phone", value=value)
        parsed.fields["phone"] = phone
    if (value := row.get("email")) is not None:
        email = value if _same(current, "email", value) else normalize_email(value)
        if email is None:
            raise _Skip("invalid_email", value=value)
        parsed.fields["email"] = email
    if (value := row.get("tg_username")) is not None:
        username = value if _same(current, "tg_username", value) else normalize_username(value)
        if username is None:
            raise _Skip("invalid_username", value=value)
        parsed.fields["tg_username"] = username
    if (value := row.get("tg_user_id")) is not None:
        tg_user_id = _parse_int(value, MAX_TG_ID)
        if tg_user_id is None:
            raise _Skip("invalid_value", column="tg_user_id", value=value)
        parsed.fields["tg_user_id"] = tg_user_id
    if (value := row.get("tags")) is not None:
        parsed.tags = split_tags(value)
        if len({t for t in map(normalize_tag, parsed.tags) if t}) > limits.TAG_MAX_COUNT:
            raise _Skip("too_many_tags")
    parsed.next_step = row.get("next_step")
    if (value := row.get("next_step_due")) is not None:
        parsed.next_step_due = _parse_when(value, "next_step_due", tz)
    if (value := row.get("verified_at")) is not None:
        parsed.verified_at = _parse_when(value, "verified_at", tz)
    return parsed


def _clip(name: str, value: Any) -> Any:
    """As services.contacts stores a value: cleaned and fitted (core.limits), "" is None."""
    return limits.fit(name, value).value if isinstance(value, str) else value


def _next_step_event(step: str | None, due: datetime | None, reason: str | None) -> str:
    """The "next_step" event's text, as services.contacts.set_next_step writes it."""
    return f"{step or ''} @ {due.isoformat()}" if due else f"- {reason or ''}"


def _card_values(parsed: _Parsed, current: Any, now: datetime) -> dict[str, Any]:
    """The staged cells: for a new card (``current`` None) all its values, else only those that
    differ from ``current`` (empty when nothing changes). Mirrors contacts.create / change and
    set_next_step, without touching the database."""
    values: dict[str, Any] = {}
    for name, raw in parsed.fields.items():
        value = _clip(name, raw)
        if value is None or (current is not None and getattr(current, name) == value):
            continue
        values[name] = value
    if parsed.tags is not None:
        tags = contacts_svc.join_tags(parsed.tags)
        if current is None or tags != current.tags:
            values["tags"] = tags
    if parsed.next_step is not None or parsed.next_step_due is not None:
        old_step = current.next_step if current is not None else None
        old_due = current.next_step_due if current is not None else None
        step = parsed.next_step if parsed.next_step is not None else old_step
        step = (step or "").strip()[:512] or None
        due = parsed.next_step_due if parsed.next_step_due is not None else old_due
        if (step, due) != (old_step, old_due):
            reason = current.no_next_step_reason if current is not None else None
            values["next_step"], values["next_step_due"] = step, due
            values["next_step_event"] = _next_step_event(step, due, reason)[:512]
    if parsed.verified_at is not None and (
        current is None or parsed.verified_at != current.verified_at
    ):
        values["verified_at"] = parsed.verified_at
    if current is None:
        values.setdefault("status", Status.CONTACT.value)
        values.setdefault("stage", Stage.IDENTIFICATION.value)
        values.setdefault("icp_fit", IcpFit.UNKNOWN.value)
        values.setdefault("tags", "")
        values.setdefault("verified_at", now)
    return values


def _merged(current: Any, values: Mapping[str, Any]) -> SimpleNamespace:
    """``current`` (a card or a staged new card) with ``values`` applied, as a card-like object."""
    base = {c: getattr(current, c, None) for c in (*CARD_COLUMNS, "no_next_step_reason")}
    if current is None:
        base["tags"] = ""
    base.update({k: v for k, v in values.items() if v is not None})
    return SimpleNamespace(**base)


# -------------------------------------------------------------------------------- staging


@dataclass(eq=False)
class _Slot:
    """A staged row while its batch is being built: a new card or the changes to one card."""

    action: str
    line: int
    values: dict[str, Any]
    base: Any = None  # update: the card as read (create: None)
    contact_id: int | None = None
    base_updated_at: datetime | None = None
    seq: int | None = None
    staged: bool = False  # written (a staged row is known by its line within the import)


@dataclass
class _Stager:
    session: AsyncSession
    import_id: int
    scope: contacts_svc.Scope
    region: str
    tz: tzinfo
    now: datetime
    preview: Preview
    # the file's earlier rows, by the card they change and by their phone / e-mail / Telegram id:
    # a _Slot while its batch is being built, then the staged row's line (its key)
    by_card: dict[int, _Slot | int] = field(default_factory=dict)
    by_key: dict[tuple[str, Any], _Slot | int] = field(default_factory=dict)
    seq: int = 0

    def skip(self, line: int, name: str | None, code: str, **details: Any) -> None:
        self.preview.skipped += 1
        if len(self.preview.issues) < MAX_KEPT_ISSUES:
            self.preview.issues.append(Issue(line, code, name=name, **details))

    def note(self, line: int, name: str | None, code: str, **details: Any) -> None:
        if len(self.preview.notes) < MAX_KEPT_ISSUES:
            self.preview.notes.append(Issue(line, code, name=name, **details))

    async def run(self, records: Iterator[Record | RowError]) -> bool:
        """Stage every row; False (and stop) when the file has more than MAX_ROWS rows."""
        batch: list[Record] = []
        count = 0
        for item in records:
            if isinstance(item, RowError):
                self.skip(item.line, None, item.reason, detail=item.detail)
                continue
            count += 1
            if count > MAX_ROWS:
                return False
            batch.append(item)
            if len(batch) >= STAGE_BATCH:
                await self.stage_batch(batch)
                batch = []
        if batch:
            await self.stage_batch(batch)
        return True

    # ---------------------------------------------------------------------- one batch
    async def stage_batch(self, records: list[Record]) -> None:
        session, scope = self.session, self.scope
        refs = {r.line: _parse_int(r.row["id"]) if r.row.get("id") else None for r in records}
        wanted = {ref for ref in refs.values() if ref is not None}
        by_id: dict[int, Contact] = {}
        if wanted:
            found = await session.scalars(
                select(Contact).where(Contact.id.in_(wanted), scope.condition())
            )
            by_id = {c.id: c for c in found}

        parsed_rows: list[tuple[Record, _Parsed, Contact | None]] = []
        for record in records:
            ref = refs[record.line]
            current = by_id.get(ref) if ref is not None else None
            try:
                parsed = _parse_row(record.row, region=self.region, tz=self.tz, current=current)
            except _Skip as skip:
                self.skip(record.line, record.row.get("name"), skip.code, **skip.details)
                continue
            self._note_cuts(record, parsed)
            parsed_rows.append((record, parsed, current))

        keyed = await self._cards_by_key([p for _r, p, c in parsed_rows if c is None])
        taken = await self._team_holders([p for _r, p, _c in parsed_rows])
        introducers = {
            p.fields["introduced_by_id"]
            for _r, p, _c in parsed_rows
            if p.fields.get("introduced_by_id") is not None
        }
        in_scope: set[int] = set()
        if introducers:
            in_scope = set(
                await session.scalars(
                    select(Contact.id).where(Contact.id.in_(introducers), scope.condition())
                )
            )

        fresh: list[_Slot] = []  # written in this batch
        touched: list[_Slot] = []  # staged in an earlier batch, changed again now
        for record, parsed, current in parsed_rows:
            name = record.row.get("name")
            target: _Slot | int | Contact | None = current
            if current is not None and current.id in self.by_card:
                target = self.by_card[current.id]
            elif current is None:
                matches = self._matches(parsed, keyed)
                if len(matches) > 1:
                    self.skip(
                        record.line,
                        name,
                        "ambiguous",
                        matches=tuple(await self._describe(m) for m in matches),
                    )
                    continue
                target = matches[0] if matches else None
            if isinstance(target, int):  # a row of an earlier batch: read it back
                target = await self._reload(target)
                touched.append(target)
            holder = _held_elsewhere(parsed, target, taken)
            if holder is not None:  # one live card per phone, e-mail, Telegram id in a team
                self.skip(record.line, name, "in_team", value=holder[2], detail=holder[1])
                continue
            introduced = parsed.fields.get("introduced_by_id")
            if introduced is not None:
                target_id = target.id if isinstance(target, Contact) else None
                if isinstance(target, _Slot):
                    target_id = target.contact_id if target.action == UPDATE else None
                if introduced == target_id or introduced not in in_scope:
                    del parsed.fields["introduced_by_id"]
                    self.note(record.line, name, "introduced_by_dropped", value=str(introduced))
            if isinstance(target, _Slot):
                self._merge(target, parsed)
                continue
            if target is None:
                self.seq += 1
                slot = _Slot(CREATE, record.line, _card_values(parsed, None, self.now))
                slot.seq = self.seq
                self.preview.creates += 1
            else:
                values = _card_values(parsed, target, self.now)
                slot = _Slot(UPDATE, record.line, values, base=target, contact_id=target.id)
                slot.base_updated_at = target.updated_at
                self.by_card[target.id] = slot
                if values:
                    self.preview.updates += 1
                else:  # matched, nothing to change (a later row may still change the card)
                    self.preview.unchanged += 1
            fresh.append(slot)
            self._index(slot)
        await self._write(fresh, touched)
        loaded = [*by_id.values(), *(c for cs in keyed.values() for c in cs)]
        for contact in loaded + [s.base for s in touched if s.base is not None]:
            if contact in session:  # the identity map does not grow with the file
                session.expunge(contact)

    async def _cards_by_key(self, parsed: list[_Parsed]) -> dict[tuple[str, Any], list[Contact]]:
        keys: dict[str, set[Any]] = {"phone": set(), "email": set(), "tg_user_id": set()}
        for p in parsed:
            for column, wanted in keys.items():
                if p.fields.get(column):
                    wanted.add(p.fields[column])
        conditions = [getattr(Contact, col).in_(vals) for col, vals in keys.items() if vals]
        found: dict[tuple[str, Any], list[Contact]] = {}
        if not conditions:
            return found
        cards = await self.session.scalars(
            select(Contact)
            .where(self.scope.condition(), Contact.archived_at.is_(None), or_(*conditions))
            .order_by(Contact.id)
        )
        for card in cards:
            for column, wanted in keys.items():
                value = getattr(card, column)
                if value is not None and value in wanted:
                    found.setdefault((column, value), []).append(card)
        return found

    def _note_cuts(self, record: Record, parsed: _Parsed) -> None:
        """Values longer than their field (core.limits) are cut: each one is told, by row and
        column, and counted."""
        cells = [*parsed.fields.items(), ("next_step", parsed.next_step)]
        for column, value in cells:
            if isinstance(value, str) and limits.fit(column, value).cut:
                self.preview.cut += 1
                limit = limits.limit_of(column)
                self.note(
                    record.line, record.row.get("name"), "cut", column=column, detail=str(limit)
                )

    async def _team_holders(self, parsed: list[_Parsed]) -> dict[tuple[str, Any], _Holder]:
        """The live cards of the uploader's team (in their scope or not: a teammate's) that hold
        the rows' phones, e-mails and Telegram ids: (card id, its name, its owner's name)."""
        keys: dict[str, set[Any]] = {c: set() for c in IDENTITY_COLUMNS}
        for p in parsed:
            for column, wanted in keys.items():
                if p.fields.get(column):
                    wanted.add(p.fields[column])
        conditions = [getattr(Contact, col).in_(vals) for col, vals in keys.items() if vals]
        found: dict[tuple[str, Any], _Holder] = {}
        if not conditions:
            return found
        rule = teamcards.team_of(self.scope.team_id, self.scope.user_id)
        rows = await self.session.execute(
            select(Contact.id, Contact.name, User.first_name, User.last_name, *_IDENTITY)
            .join(User, User.id == Contact.owner_id)
            .where(rule, teamcards.live(), or_(*conditions))
            .order_by(Contact.created_at, Contact.id)
        )
        for row in rows:
            owner = " ".join(p for p in (row.first_name, row.last_name) if p)
            for column, wanted in keys.items():
                value = getattr(row, column)
                if value is not None and value in wanted:
                    found.setdefault((column, value), (row.id, row.name, owner))
        return found

    def _matches(
        self, parsed: _Parsed, keyed: dict[tuple[str, Any], list[Contact]]
    ) -> list[Contact | _Slot | int]:
        """Distinct cards (or earlier rows of the file) with this row's phone, e-mail or id."""
        found: list[Contact | _Slot | int] = []
        for column in ("phone", "email", "tg_user_id"):
            value = parsed.fields.get(column)
            if not value:
                continue
            for card in keyed.get((column, value), []):
                earlier = self.by_card.get(card.id)
                candidate: Contact | _Slot | int = earlier if earlier is not None else card
                if _target_key(candidate) not in {_target_key(f) for f in found}:
                    found.append(candidate)
            earlier = self.by_key.get((column, value))
            if earlier is not None and _target_key(earlier) not in {_target_key(f) for f in found}:
                found.append(earlier)
        return found

    async def _describe(self, match: Contact | _Slot | int) -> tuple[str, int]:
        """(name, card id) of a match; an earlier new row of the file is (name, -its line)."""
        if isinstance(match, int):
            match = await self._reload(match)
        if isinstance(match, Contact):
            return (match.name, match.id)
        if match.contact_id is not None:
            return (match.base.name if match.base is not None else "?", match.contact_id)
        return (match.values.get("name") or "?", -match.line)

    def _index(self, slot: _Slot) -> None:
        for column in ("phone", "email", "tg_user_id"):
            value = slot.values.get(column)
            if value:
                self.by_key.setdefault((column, value), slot)

    def _merge(self, slot: _Slot, parsed: _Parsed) -> None:
        """A later row for the same card (or the same new card): applied on top, in file order."""
        changes = _card_values(parsed, _merged(slot.base, slot.values), self.now)
        if slot.action == UPDATE and changes and not slot.values:
            self.preview.unchanged -= 1
            self.preview.updates += 1
        slot.values.update(changes)
        self._index(slot)

    async def _reload(self, line: int) -> _Slot:
        """A row staged in an earlier batch, back as a _Slot (a later row changes it again)."""
        row = await self.session.scalar(
            select(ImportRow).where(ImportRow.import_id == self.import_id, ImportRow.line == line)
        )
        assert row is not None
        values = {c: getattr(row, c) for c in (*CARD_COLUMNS, "next_step_event")}
        values = {k: v for k, v in values.items() if v is not None}
        slot = _Slot(row.action, row.line, values, contact_id=row.contact_id, seq=row.seq)
        slot.staged, slot.base_updated_at = True, row.base_updated_at
        if row.action == UPDATE and row.contact_id is not None:
            slot.base = await self.session.get(Contact, row.contact_id)
        self.session.expunge(row)
        if row.action == UPDATE and slot.contact_id is not None:
            self.by_card[slot.contact_id] = slot
        return slot

    async def _write(self, fresh: list[_Slot], touched: list[_Slot]) -> None:
        """One short write block: the batch's new staged rows, and earlier ones changed again
        (the rows are built before it: no work but the writes holds the lock)."""
        slots = [s for s in fresh if s.values]
        rows = [self._row(s) for s in slots]
        again = [(s.line, self._row(s)) for s in touched]
        new_cards = [i for i, s in enumerate(slots) if s.action == CREATE]
        postgres = self.session.get_bind().dialect.name == "postgresql"
        async with writing(self.session):
            if new_cards and postgres:
                # new cards get their ids now, from the sequence (nothing else can take them)
                ids = await self.session.scalars(
                    text(
                        "SELECT nextval(pg_get_serial_sequence('contacts', 'id')) "
                        "FROM generate_series(1, :n)"
                    ),
                    {"n": len(new_cards)},
                )
                for index, new_id in zip(new_cards, ids, strict=True):
                    slots[index].contact_id = rows[index]["contact_id"] = new_id
            if rows:  # executemany: one statement, a few hundred rows
                await self.session.execute(insert(ImportRow.__table__), rows)
            for line, row in again:
                await self.session.execute(
                    update(ImportRow)
                    .where(ImportRow.import_id == self.import_id, ImportRow.line == line)
                    .values(**row)
                )
        for slot in slots:
            slot.staged = True
        # the batch is written: the index keeps the staged rows' lines only, not the rows
        for slot in fresh + touched:
            if not slot.staged and not slot.values and slot.contact_id is not None:
                # matched, unchanged: nothing staged; a later row starts from the card again
                self.by_card.pop(slot.contact_id, None)
                continue
            ref = slot.line
            if slot.contact_id is not None and slot.action == UPDATE:
                self.by_card[slot.contact_id] = ref
            for column in ("phone", "email", "tg_user_id"):
                key = (column, slot.values.get(column))
                if self.by_key.get(key) is slot:
                    self.by_key[key] = ref

    def _row(self, slot: _Slot) -> dict[str, Any]:
        values = slot.values
        row: dict[str, Any] = {c: values.get(c) for c in CARD_COLUMNS}
        row["next_step_event"] = values.get("next_step_event")
        card = _merged(slot.base, values)
        row["search_text"] = contacts_svc.build_search_text(card)
        row.update(
            import_id=self.import_id,
            line=slot.line,
            action=slot.action,
            seq=slot.seq,
            contact_id=slot.contact_id,
            base_updated_at=slot.base_updated_at,
        )
        return row


_Holder = tuple[int, str, str]  # a card of the team: id, name, owner's name
_IDENTITY = tuple(getattr(Contact, c) for c in IDENTITY_COLUMNS)


def _held_elsewhere(
    parsed: _Parsed, target: Contact | _Slot | None, taken: dict[tuple[str, Any], _Holder]
) -> _Holder | None:
    """A card of the team other than the row's own that holds its phone, e-mail or Telegram id
    (the row would make a second live card of a person, or give a card another's value)."""
    own = target.id if isinstance(target, Contact) else None
    if isinstance(target, _Slot) and target.action == UPDATE:
        own = target.contact_id
    for column in IDENTITY_COLUMNS:
        value = parsed.fields.get(column)
        holder = taken.get((column, value)) if value else None
        if holder is not None and holder[0] != own:
            return holder
    return None


def _target_key(target: Contact | _Slot | int) -> tuple[str, int]:
    """What a match stands for: a card, a staged row (by its line), or a row of this batch."""
    if isinstance(target, Contact):
        return ("card", target.id)
    if isinstance(target, int):
        return ("row", target)
    if target.staged:
        return ("row", target.line)
    if target.action == UPDATE and target.contact_id is not None:
        return ("card", target.contact_id)
    return ("slot", id(target))


async def stage(
    session: AsyncSession,
    *,
    user: User,
    role: Role,
    data: bytes,
    kind: str,
    filename: str,
    region: str,
    tz: tzinfo,
    now: datetime,
) -> Preview:
    """Check, parse, match and stage a file ("csv" or "vcard"); returns the preview. Raises
    :class:`ImportFailed` if the database fails (whatever was staged is dropped)."""
    preview = Preview(filename=filename)
    if kind == "csv":
        broken = check_csv(data)
        if broken:
            preview.broken = [Issue(e.line, e.reason, detail=e.detail) for e in broken]
            return preview
        records = iter_csv(data)
    else:
        records = iter_vcard(data)
    # a failed write block expires the session's objects: ids are kept as plain values
    user_id, scope = user.id, contacts_svc.Scope.of(user, role)
    import_id: int | None = None
    try:
        await end_read(session)
        async with writing(session):
            await _retire(session, user_id=user_id, now=now)
            imp = Import(
                user_id=user_id,
                role=role.value,
                team_id=user.team_id,
                filename=filename[:256],
                status=STAGING,
                created_at=now,
            )
            session.add(imp)
            await session.flush()
            import_id = imp.id
        await _purge(session)
        stager = _Stager(session, import_id, scope, region, tz, now, preview)
        whole = await stager.run(records)
        async with writing(session):
            imp.creates, imp.updates = preview.creates, preview.updates
            imp.unchanged, imp.skipped = preview.unchanged, preview.skipped
            imp.status = STAGED if preview.creates or preview.updates else EMPTY
            if not whole:
                imp.status, preview = CANCELLED, Preview(filename=filename, too_many=MAX_ROWS)
        if imp.status == STAGED:
            preview.import_id = import_id
        else:
            await _purge(session, import_id)
        await end_read(session)
    except Exception as exc:
        log.exception("staging import %s of user %s failed", import_id, user_id)
        if import_id is not None:
            await _give_up(session, import_id)
        raise ImportFailed from exc
    preview.issues.sort(key=lambda i: i.line)
    preview.notes.sort(key=lambda i: i.line)
    return preview


# --------------------------------------------------------------------------- housekeeping


async def _retire(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """A new file replaces the user's earlier preview; anyone's preview expires after a day
    (and a staging that never finished, a crash, fails). Their rows go in :func:`_purge`."""
    await session.execute(
        update(Import)
        .where(Import.user_id == user_id, Import.status == STAGED)
        .values(status=CANCELLED, finished_at=now)
    )
    old = Import.created_at < now - PREVIEW_TTL
    await session.execute(
        update(Import).where(Import.status == STAGED, old).values(status=EXPIRED, finished_at=now)
    )
    await session.execute(
        update(Import).where(Import.status == STAGING, old).values(status=FAILED, finished_at=now)
    )


async def _purge(session: AsyncSession, import_id: int | None = None) -> None:
    """Delete staged rows no longer needed (one import's, or of every finished import), a batch
    per write block."""
    if import_id is not None:
        which = ImportRow.import_id == import_id
    else:
        done = select(Import.id).where(Import.status.not_in((STAGING, STAGED, APPLIED)))
        which = ImportRow.import_id.in_(done.scalar_subquery())
    while True:
        async with writing(session):
            chunk = select(ImportRow.id).where(which).limit(PURGE_BATCH).scalar_subquery()
            result = await session.execute(delete(ImportRow).where(ImportRow.id.in_(chunk)))
        if (result.rowcount or 0) < PURGE_BATCH:  # type: ignore[attr-defined]
            return


async def _give_up(session: AsyncSession, import_id: int) -> None:
    """After a failure: the import is marked failed and its staged rows go (best effort: the
    database may be what failed; then the next import's housekeeping does it)."""
    try:
        await session.rollback()  # a read that failed leaves its transaction unusable
        async with writing(session):
            await session.execute(
                update(Import).where(Import.id == import_id).values(status=FAILED)
            )
        await _purge(session, import_id)
    except Exception:
        log.exception("could not clean up import %s", import_id)


# ----------------------------------------------------------------------------- the swap


async def _claim(
    session: AsyncSession, import_id: int, user: User
) -> tuple[Import | None, str | None]:
    """Inside a write block: the user's own staged import, taken for this transaction (a second
    tap, even on another process, finds it taken), or why not."""
    result = await session.execute(
        update(Import)
        .where(Import.id == import_id, Import.user_id == user.id, Import.status == STAGED)
        .values(status=APPLIED)
    )
    imp = await session.get(Import, import_id, populate_existing=True)
    if imp is None or imp.user_id != user.id:
        return None, "not_found"
    if not result.rowcount:  # type: ignore[attr-defined]
        return imp, imp.status
    return imp, None


def _new_id(imp: Import, dialect: str) -> Any:
    """A new card's id: reserved from the sequence while staging (PostgreSQL), or the highest
    id when the swap began plus the row's number (SQLite, where the swap holds the only lock)."""
    if dialect == "postgresql":
        return ImportRow.contact_id
    return func.coalesce(ImportRow.contact_id, literal(imp.id_base or 0, Integer) + ImportRow.seq)


async def _swap(session: AsyncSession, imp: Import, user: User, role: Role, now: datetime) -> str:
    """The staged rows go live: one transaction, set-based. Returns "applied" or why not."""
    mine = ImportRow.import_id == imp.id
    updates = and_(mine, ImportRow.action == UPDATE)
    creates = and_(mine, ImportRow.action == CREATE)
    if imp.role != role.value or imp.team_id != user.team_id:
        return STALE
    stale = await session.scalar(
        select(func.count())
        .select_from(ImportRow)
        .outerjoin(Contact, Contact.id == ImportRow.contact_id)
        .where(
            updates,
            or_(Contact.id.is_(None), Contact.updated_at != ImportRow.base_updated_at),
        )
    )
    introducer = Contact.__table__.alias("introducer")
    gone = await session.scalar(
        select(func.count())
        .select_from(ImportRow)
        .outerjoin(introducer, introducer.c.id == ImportRow.introduced_by_id)
        .where(mine, ImportRow.introduced_by_id.is_not(None), introducer.c.id.is_(None))
    )
    if stale or gone or await _taken_meanwhile(session, imp, user):
        return STALE

    at = literal(now, UTCDateTime())
    event_columns = ["contact_id", "actor_id", "field", "old_value", "new_value", "at"]
    for tracked in contacts_svc.TRACKED:  # status and stage changes, with the old value
        new_value = getattr(ImportRow, tracked)
        await session.execute(
            insert(ContactEvent).from_select(
                event_columns,
                select(
                    ImportRow.contact_id,
                    literal(user.id, Integer),
                    literal(tracked),
                    getattr(Contact, tracked),
                    new_value,
                    at,
                )
                .join(Contact, Contact.id == ImportRow.contact_id)
                .where(updates, new_value.is_not(None))
                .order_by(ImportRow.line),
            )
        )
    changed = {c: func.coalesce(getattr(ImportRow, c), getattr(Contact, c)) for c in CARD_COLUMNS}
    sets_step = and_(
        ImportRow.next_step_event.is_not(None),
        func.coalesce(ImportRow.next_step_due, Contact.next_step_due).is_not(None),
    )
    await session.execute(
        update(Contact)
        .where(Contact.id == ImportRow.contact_id, updates)
        .values(
            **changed,
            search_text=ImportRow.search_text,
            updated_at=now,
            no_next_step_reason=case((sets_step, None), else_=Contact.no_next_step_reason),
        )
    )

    dialect = session.get_bind().dialect.name
    if dialect != "postgresql":
        imp.id_base = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))))
    new_id = _new_id(imp, dialect)
    new_cards = {
        "id": new_id,
        "owner_id": literal(user.id, Integer),
        "team_id": literal(imp.team_id, Integer),
        **{c: getattr(ImportRow, c) for c in CARD_COLUMNS},
        "search_text": ImportRow.search_text,
        "created_at": at,
        "updated_at": at,
    }
    await session.execute(
        insert(Contact).from_select(
            list(new_cards), select(*new_cards.values()).where(creates).order_by(ImportRow.line)
        )
    )
    await session.execute(
        insert(ContactEvent).from_select(
            event_columns,
            select(
                new_id,
                literal(user.id, Integer),
                literal("created"),
                literal(None),
                ImportRow.name,
                at,
            )
            .where(creates)
            .order_by(ImportRow.line),
        )
    )
    await session.execute(
        insert(ContactEvent).from_select(
            event_columns,
            select(
                new_id,
                literal(user.id, Integer),
                literal("next_step"),
                literal(None),
                ImportRow.next_step_event,
                at,
            )
            .where(mine, ImportRow.next_step_event.is_not(None))
            .order_by(ImportRow.line),
        )
    )
    imp.status, imp.finished_at = APPLIED, now
    return APPLIED


async def _taken_meanwhile(session: AsyncSession, imp: Import, user: User) -> bool:
    """A staged row's phone, e-mail or Telegram id is now held by another live card of the team
    (added since the preview): the swap would make a second card of a person."""
    holder = Contact.__table__.alias("holder")
    if imp.team_id is not None:
        rule = holder.c.team_id == imp.team_id
    else:
        rule = and_(holder.c.team_id.is_(None), holder.c.owner_id == user.id)
    for column in IDENTITY_COLUMNS:
        clash = await session.scalar(
            select(ImportRow.id)
            .join(
                holder,
                and_(
                    holder.c[column] == getattr(ImportRow, column),
                    rule,
                    holder.c.archived_at.is_(None),
                    holder.c.forgotten_at.is_(None),
                    or_(ImportRow.contact_id.is_(None), holder.c.id != ImportRow.contact_id),
                ),
            )
            .where(ImportRow.import_id == imp.id)
            .limit(1)
        )
        if clash is not None:
            return True
    return False


async def _plan_due_work(
    session: AsyncSession, contact: Contact, *, default_tz: str, now: datetime
) -> None:
    """The one place an imported card's due work is planned: its next step's reminder. (A
    pending going-cold check needs nothing: delivery drops it once the card has a step.)"""
    await followups.plan_reminder(session, contact, default_tz=default_tz, now=now)


async def _plan_reminders(
    session: AsyncSession, imp: Import, *, default_tz: str, now: datetime
) -> None:
    """Reminders for the imported next steps, a batch per write block; resumable (progress is
    kept in the import), so a crash half-way is finished by the next tap on Import."""
    new_id = _new_id(imp, session.get_bind().dialect.name)
    while True:
        rows = (
            await session.execute(
                select(ImportRow.line, new_id)
                .where(
                    ImportRow.import_id == imp.id,
                    ImportRow.next_step_due.is_not(None),
                    ImportRow.line > imp.planned_upto,
                )
                .order_by(ImportRow.line)
                .limit(PLAN_BATCH)
            )
        ).all()
        if not rows:
            break
        async with writing(session):
            cards = list(
                await session.scalars(select(Contact).where(Contact.id.in_([r[1] for r in rows])))
            )
            for card in cards:
                await _plan_due_work(session, card, default_tz=default_tz, now=now)
            imp.planned_upto = rows[-1][0]
            imp.reminders += len(cards)
        for card in cards:
            session.expunge(card)
    async with writing(session):
        imp.status = DONE


async def apply(
    session: AsyncSession,
    *,
    import_id: int,
    user: User,
    role: Role,
    now: datetime,
    default_tz: str,
) -> Outcome:
    """The uploader confirmed: make the staged rows live (all or nothing), then plan reminders.
    Only the user who uploaded the file can; a second tap does nothing more. Raises
    :class:`ImportFailed` if the database fails (then nothing was made live)."""
    user_id = user.id  # a failed write block expires the session's objects
    try:
        await end_read(session)
        async with writing(session):
            imp, why = await _claim(session, import_id, user)
            if imp is not None and why is None:
                if now - imp.created_at > PREVIEW_TTL:
                    imp.status = why = EXPIRED
                elif await _swap(session, imp, user, role, now) == STALE:
                    imp.status = why = STALE
    except IntegrityError:
        # a phone, e-mail or Telegram id taken in the instant between the check and the swap
        # (one live card per person in a team): nothing went live; as a stale preview
        log.info("import %s of user %s: a value was taken meanwhile", import_id, user_id)
        await session.rollback()
        async with writing(session):
            await session.execute(
                update(Import)
                .where(Import.id == import_id, Import.user_id == user_id, Import.status == STAGED)
                .values(status=STALE, finished_at=now)
            )
        await _purge(session, import_id)
        await end_read(session)
        return Outcome(STALE)
    except Exception as exc:
        log.exception("import %s of user %s failed", import_id, user_id)
        raise ImportFailed from exc
    if imp is None:
        return Outcome("not_found")
    outcome = Outcome(APPLIED, filename=imp.filename, creates=imp.creates, updates=imp.updates)
    outcome.skipped = imp.skipped
    if why not in (None, APPLIED):  # done, cancelled, expired, stale…; APPLIED: resume below
        if why in (STALE, EXPIRED):
            await _purge(session, import_id)
        await end_read(session)
        outcome.status = why
        return outcome
    try:
        await _plan_reminders(session, imp, default_tz=default_tz, now=now)
        outcome.reminders = imp.reminders
        await _purge(session, import_id)
        await end_read(session)
    except Exception:
        # the cards are live; what is missing is planned by the next tap on Import
        log.exception("reminders of import %s are not all planned yet", import_id)
        await session.rollback()
        outcome.status = "reminders_pending"
    return outcome


async def cancel(session: AsyncSession, *, import_id: int, user: User, now: datetime) -> Outcome:
    """Drop the user's staged import: no card is touched. Returns what became of it."""
    await end_read(session)
    async with writing(session):
        result = await session.execute(
            update(Import)
            .where(Import.id == import_id, Import.user_id == user.id, Import.status == STAGED)
            .values(status=CANCELLED, finished_at=now)
        )
        imp = await session.get(Import, import_id, populate_existing=True)
    if imp is None or imp.user_id != user.id:
        return Outcome("not_found")
    if result.rowcount:  # type: ignore[attr-defined]
        await _purge(session, imp.id)
    await end_read(session)
    return Outcome(CANCELLED if result.rowcount else imp.status, filename=imp.filename)  # type: ignore[attr-defined]
