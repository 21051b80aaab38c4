"""Import, step 1: what the preview says about a row that is imported all the same (a value
cut, a date not taken, a row taken for another's card, rows of one person merged…)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from core import limits
from core.exchange import Record
from services import contacts as contacts_svc
from services.exchange.common import CREATE, UPDATE, Preview
from services.exchange.matching import _KEYS, _Slot
from services.exchange.rows import _card_values, _merged, _Parsed
from storage.models import Contact

# what a later row of the same card may change without it being a conflict to tell: the tags
# (they add up), the dates (the later row's is taken, as before), the step's event
_NOT_CONFLICTS = frozenset(
    {"tags", "verified_at", "created_at", "next_step_event", "introduced_by_id", "archived"}
)
# a new card's values when its row gives none (services.exchange.rows._card_values)
_DEFAULTS = {"status": "contact", "stage": "identification", "icp_fit": "unknown"}


class _Notes:
    """The stager's notes on rows (services.exchange.staging._Stager)."""

    tz: tzinfo
    now: datetime
    preview: Preview
    step_text: str

    def note(self, line: int, name: str | None, code: str, **details: Any) -> None:
        raise NotImplementedError

    def _note_renamed(
        self, line: int, name: str | None, parsed: _Parsed, target: Contact | _Slot
    ) -> bool:
        """A row taken for a card (or an earlier new row) by its phone, e-mail or Telegram id,
        under another name: said in the preview, which would otherwise count it nowhere (two
        people sharing an office phone would become one card without a word). True when
        said."""
        if isinstance(target, Contact):
            values: dict[str, Any] = {c: getattr(target, c) for c in ("name", *_KEYS)}
            ref = target.id
        else:
            base = {c: getattr(target.base, c) for c in ("name", *_KEYS)} if target.base else {}
            values = {**base, **{k: v for k, v in target.values.items() if v is not None}}
            ref = target.contact_id if target.action == UPDATE else -target.line
        new, old = parsed.fields.get("name"), values.get("name")
        if (
            not new
            or not old
            or " ".join(new.casefold().split()) == " ".join(old.casefold().split())
        ):
            return False
        column = next(
            (c for c in _KEYS if parsed.fields.get(c) and parsed.fields[c] == values.get(c)),
            "phone",
        )
        self.note(line, name, "renamed", column=column, value=str(old), matches=((str(old), ref),))
        return True

    def _note_dates(self, record: Record, parsed: _Parsed, target: Contact | _Slot | None) -> None:
        """The row's notes on its dates (services.exchange.rows._past), once its card is known.
        A row that updates an existing card leaves the day that card was made alone: a
        ``created_at`` of another day is told instead (a row about a new card of this file,
        even a later one, sets its date)."""
        card = target if isinstance(target, Contact) else None
        if isinstance(target, _Slot) and target.action == UPDATE:
            card = target.base
        name, raw = record.row.get("name"), record.row.get("created_at")
        for code, details in parsed.notes:
            if card is None or details.get("column") != "created_at":
                self.note(record.line, name, code, **details)
        if card is None or raw is None:
            return
        made = card.created_at.astimezone(self.tz).date()
        if parsed.created_at is None or parsed.created_at.astimezone(self.tz).date() != made:
            self.note(
                record.line,
                name,
                "created_kept",
                column="created_at",
                value=raw,
                detail=made.isoformat(),
            )

    def _note_same_name(self, line: int, name: str | None, match: Contact | _Slot | int) -> None:
        """Said in the preview: the row changes that card rather than adding a second one."""
        card_id = match.id if isinstance(match, Contact) else getattr(match, "contact_id", None)
        if card_id is not None:
            self.note(line, name, "same_name", matches=((name or "", card_id),))

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

    def _note_others(self, record: Record) -> None:
        """A cell (or a vCard) with several phones or e-mails: the first is kept, the others
        are told."""
        for column in dict.fromkeys(column for column, _value in record.others):
            values = [value for c, value in record.others if c == column]
            self.note(
                record.line, record.row.get("name"), "more_values", column=column,
                value=", ".join(values),
            )  # fmt: skip

    def _fill_step(self, record: Record, parsed: _Parsed, target: Any) -> None:
        """A due date without a step to do (and no step on the card): the reminder would say
        "Next step: —". The step gets a plain text (``step_text``), and the preview says so."""
        if parsed.next_step_due is None or (parsed.next_step or "").strip():
            return
        card = target
        if isinstance(target, _Slot):
            card = _merged(target.base, target.values)
        if card is not None and (
            (card.next_step or "").strip() or card.next_step_due == parsed.next_step_due
        ):
            return  # the card's own step, moved; or the card as it is (an export sent back)
        parsed.next_step = self.step_text
        self.note(
            record.line, record.row.get("name"), "step_filled", column="next_step_due",
            value=record.row.get("next_step_due"), detail=self.step_text,
        )  # fmt: skip

    def _merge_row(self, record: Record, slot: _Slot, parsed: _Parsed, *, renamed: bool) -> None:
        """A later row for the same card (or the same new card): applied on top, in file order.
        Its tags add to the earlier rows'; a value it changes that an earlier row of the file
        gave is told (this row's is kept), and so is the merge itself, unless the row's other
        name said it already."""
        earlier = slot.values
        if parsed.tags is not None and earlier.get("tags"):
            parsed.tags = contacts_svc.tag_list(earlier["tags"]) + parsed.tags
        changes = _card_values(parsed, _merged(slot.base, earlier), self.now)
        if slot.action == CREATE and parsed.created_at is not None:
            changes["created_at"] = parsed.created_at  # a new card: a later row's date wins
        conflicts = [
            column
            for column in changes
            if column not in _NOT_CONFLICTS
            and earlier.get(column) not in (None, changes[column])
            and not (slot.action == CREATE and _DEFAULTS.get(column) == earlier[column])
            and not (renamed and column == "name")
        ]
        if conflicts or not renamed:
            self.note(
                record.line, record.row.get("name"), "merged", detail=",".join(conflicts),
                matches=((record.row.get("name") or "", -slot.line),),
            )  # fmt: skip
        if slot.action == UPDATE and changes and not slot.values:
            self.preview.unchanged -= 1
            self.preview.updates += 1
        slot.values.update(changes)
