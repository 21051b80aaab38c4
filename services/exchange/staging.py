"""Import, step 1: check the file, match and stage its rows a batch per write block."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import (
    insert,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.exchange import (
    Record,
    RowError,
    check_csv,
    csv_headings,
    iter_csv,
    refusal,
)
from core.roles import Role
from core.vcard import iter_vcard
from services import contacts as contacts_svc
from services.exchange.archiving import read_marker, write_markers
from services.exchange.common import (
    CANCELLED,
    CARD_COLUMNS,
    CREATE,
    EMPTY,
    MAX_KEPT_ISSUES,
    MAX_ROWS,
    STAGE_BATCH,
    STAGED,
    STAGING,
    STEP_TEXT,
    UPDATE,
    ImportFailed,
    Issue,
    Preview,
)
from services.exchange.housekeeping import _give_up, _purge, _retire
from services.exchange.introducers import Introducers
from services.exchange.matching import (
    _KEYS,
    _SLOT_COLUMNS,
    _company_key,
    _held_elsewhere,
    _keyed,
    _Slot,
    _target_key,
    cards_by_key,
    cards_by_name,
    team_holders,
)
from services.exchange.notes import _Notes
from services.exchange.rows import (
    _card_values,
    _merged,
    _parse_int,
    _parse_row,
    _Parsed,
    _Skip,
    is_archived,
    label_key,
)
from storage.inline_sqlite import offload
from storage.models import (
    Contact,
    Import,
    ImportRow,
    User,
)
from storage.uow import end_read, writing

log = logging.getLogger(__name__)


# -------------------------------------------------------------------------------- staging


@dataclass
class _Stager(_Notes):
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
    # "introduced_by" by name or e-mail (services.exchange.introducers): the file's rows by
    # name and e-mail (read when first needed), and what each line became
    introducers: Introducers | None = None
    # the picked fields' labels in every language, by rows.label_key, to their codes
    # ("лид": "lead")
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # the columns as the file names them ({"stage": "Этап"}; a vCard: none)
    headings: Mapping[str, str] = field(default_factory=dict)
    # the step of a due date given without one, in the uploader's language (notes._fill_step)
    step_text: str = STEP_TEXT

    def _issue(self, line: int, name: str | None, code: str, **details: Any) -> Issue:
        column = details.get("column")
        heading = self.headings.get(column) if column else None
        return Issue(line, code, name=name, heading=heading, **details)

    def skip(
        self, line: int, name: str | None, code: str, also: tuple[Any, ...] = (), **details: Any
    ) -> None:
        """A row left out: why (and, in ``also``, its other bad values as (code, details))."""
        self.preview.skipped += 1
        if len(self.preview.issues) < MAX_KEPT_ISSUES:
            issue = self._issue(line, name, code, **details)
            more = tuple(self._issue(line, name, c, **d) for c, d in also)
            self.preview.issues.append(replace(issue, also=more))

    def note(self, line: int, name: str | None, code: str, **details: Any) -> None:
        if len(self.preview.notes) < MAX_KEPT_ISSUES:
            self.preview.notes.append(self._issue(line, name, code, **details))

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
                parsed = _parse_row(
                    record.row,
                    region=self.region,
                    tz=self.tz,
                    current=current,
                    labels=self.labels,
                    now=self.now,
                )
            except _Skip as skip:
                name = record.row.get("name")
                self.skip(record.line, name, skip.code, skip.also, **skip.details)
                continue
            self._note_cuts(record, parsed)
            parsed_rows.append((record, parsed, current))

        keyed = await cards_by_key(
            self.session, self.scope, [p for _r, p, c in parsed_rows if c is None]
        )
        named = await cards_by_name(
            self.session, self.scope, [p for _r, p, c in parsed_rows if c is None and not _keyed(p)]
        )
        # a card taken out of the archive must not hold what a live card of the team holds
        back = {
            r.line: _Parsed({c: getattr(c_, c) for c in _KEYS} | p.fields)
            for r, p, c_ in parsed_rows
            if p.archived is False and c_ is not None and c_.archived_at is not None
        }
        taken = await team_holders(
            self.session, self.scope, [p for _r, p, _c in parsed_rows] + list(back.values())
        )
        introducers = {
            p.fields["introduced_by_id"]
            for _r, p, _c in parsed_rows
            if (p.fields.get("introduced_by_id") or 0) > 0
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
                if not matches and not _keyed(parsed):  # a hand-made file sent again
                    matches = self._same_name(parsed, named)
                    if len(matches) == 1:
                        self._note_same_name(record.line, name, matches[0])
                if len(matches) > 1:
                    self.skip(
                        record.line,
                        name,
                        "ambiguous",
                        matches=tuple([await self._describe(m) for m in matches]),
                    )
                    continue
                target = matches[0] if matches else None
            if isinstance(target, int):  # a row of an earlier batch: read it back
                target = await self._reload(target)
                touched.append(target)
            holder = _held_elsewhere(_ruled(parsed, target), target, taken)
            if holder is not None:  # one live card per phone, e-mail, Telegram id in a team
                self.skip(record.line, name, "in_team", value=holder[2], detail=holder[1])
                continue
            renamed = False
            if current is None and target is not None:
                renamed = self._note_renamed(record.line, name, parsed, target)
            self._note_dates(record, parsed, target)
            self._note_others(record)
            if record.line in back and (held := _held_elsewhere(back[record.line], target, taken)):
                parsed.archived = None  # stays in the archive
                self.note(record.line, name, "archived_kept", value=held[2], detail=held[1])
            self._fill_step(record, parsed, target)
            if parsed.introduced_ref is not None and self.introducers is not None:
                self.introducers.refer(record.line, name, parsed)
            introduced = parsed.fields.get("introduced_by_id")
            if introduced is not None and introduced > 0:
                target_id = target.id if isinstance(target, Contact) else None
                if isinstance(target, _Slot):
                    target_id = target.contact_id if target.action == UPDATE else None
                if introduced == target_id or introduced not in in_scope:
                    del parsed.fields["introduced_by_id"]
                    # not one of the uploader's cards: the row of the file with that id, if any
                    # (an export imported into another account)
                    if introduced == target_id or not (
                        self.introducers
                        and self.introducers.refer_id(record.line, name, parsed, introduced)
                    ):
                        self.note(record.line, name, "introduced_by_dropped", value=str(introduced))
            if isinstance(target, _Slot):
                self._merge_row(record, target, parsed, renamed=renamed)
                self._index(target)
                self._became(record.line, target)
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
            self._became(record.line, slot)
        await self._write(fresh, touched)
        loaded = [
            *by_id.values(),
            *(c for cs in keyed.values() for c in cs),
            *(c for cs in named.values() for c in cs),
        ]
        for contact in loaded + [s.base for s in touched if s.base is not None]:
            if contact in session:  # the identity map does not grow with the file
                session.expunge(contact)

    def _became(self, line: int, slot: _Slot) -> None:
        """What the row on ``line`` became: a card (an update) or a new card (its slot's line)."""
        if self.introducers is not None:
            card = slot.contact_id if slot.action == UPDATE else None
            self.introducers.became(line, ("card", card) if card else ("row", slot.line))

    def _same_name(
        self, parsed: _Parsed, named: dict[tuple[str, str], list[Contact]]
    ) -> list[Contact | _Slot | int]:
        key = (parsed.fields["name"], _company_key(parsed.fields.get("company")))
        return [self.by_card.get(card.id) or card for card in named.get(key, [])]

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

    async def _reload(self, line: int) -> _Slot:
        """A row staged in an earlier batch, back as a _Slot (a later row changes it again)."""
        row = await self.session.scalar(
            select(ImportRow).where(ImportRow.import_id == self.import_id, ImportRow.line == line)
        )
        assert row is not None
        values = {c: getattr(row, c) for c in (*CARD_COLUMNS, "next_step_event")}
        values = {k: v for k, v in values.items() if v is not None}
        if row.action == CREATE and row.created_at is not None:
            values["created_at"] = row.created_at
        if (archived := await read_marker(self.session, self.import_id, line)) is not None:
            values["archived"] = archived
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
            await write_markers(self.session, self.import_id, slots, touched)
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
        row.update({c: getattr(slot, c) for c in _SLOT_COLUMNS}, import_id=self.import_id)
        # a new card's date of creation, when the file gives it (None: the swap's time)
        row["created_at"] = values.get("created_at") if slot.action == CREATE else None
        return row


def _ruled(parsed: _Parsed, target: Contact | _Slot | None) -> _Parsed:
    """What the team's rule (one live card per phone, e-mail, Telegram id) checks of a row: all
    its values, but only those it changes of a card that stays in the archive (the rule is
    for live cards: an archived card may share its phone with a live one)."""
    card: Any = target
    if isinstance(target, _Slot):
        card = _merged(target.base, target.values) if target.action == UPDATE else None
    if card is None or parsed.archived is False or not is_archived(card):
        return parsed
    changed = {c: v for c in _KEYS if (v := parsed.fields.get(c)) and v != getattr(card, c)}
    return _Parsed(changed)


@offload
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
    labels: Mapping[str, Mapping[str, str]] | None = None,
    step_text: str = STEP_TEXT,
) -> Preview:
    """Check, parse, match and stage a file ("csv" or "vcard"); returns the preview. Raises
    :class:`ImportFailed` if the database fails (whatever was staged is dropped). ``labels``:
    the picked fields' values as people write them (any language) to their codes;
    ``step_text``: the step of a due date given without one (in the uploader's language)."""
    preview = Preview(filename=filename)
    headings: dict[str, str] = {}
    if kind == "csv":
        preview.refused = refusal(data)
        if preview.refused is not None:  # no file of contacts: nothing is read
            return preview
        broken = check_csv(data)
        if broken:
            preview.broken = [Issue(e.line, e.reason, detail=e.detail) for e in broken]
            return preview
        records = iter_csv(data)
        headings = csv_headings(data)
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
        known = {f: {label_key(k): c for k, c in m.items()} for f, m in (labels or {}).items()}
        stager = _Stager(
            session, import_id, scope, region, tz, now, preview, labels=known, headings=headings
        )
        stager.step_text = step_text
        again = iter_csv if kind == "csv" else iter_vcard  # the file read again, for introducers
        stager.introducers = Introducers(lambda: again(data), stager.note)
        whole = await stager.run(records)
        if whole and stager.introducers is not None:
            await stager.introducers.resolve(session, import_id)
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
