"""A file's row read into a card's values: parsing, checks and what an update changes."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from types import SimpleNamespace
from typing import Any

from core import limits
from core.cadence import stage_of
from core.contactdata import normalize_email, normalize_phone, normalize_tag, normalize_username
from core.enums import IcpFit, Stage, Status
from core.exchange import (
    parse_moment,
    split_tags,
    yes_no,
)
from core.nextstep import DEFAULT_TIME
from services import contacts as contacts_svc
from services.exchange.common import CARD_COLUMNS, ENUM_FIELDS, MAX_ROW_ID, MAX_TG_ID, TEXT_FIELDS

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ row parsing


class _Skip(Exception):
    """The row cannot be imported: ``code`` and ``details`` say why; ``also``: the row's other
    bad values, (code, details) each, so that the preview names them all at once."""

    def __init__(
        self, code: str, also: tuple[tuple[str, dict[str, Any]], ...] = (), **details: Any
    ) -> None:
        super().__init__(code)
        self.code = code
        self.details = details
        self.also = also


@dataclass
class _Parsed:
    fields: dict[str, Any] = field(default_factory=dict)  # EDITABLE name -> value
    tags: list[str] | None = None
    next_step: str | None = None
    next_step_due: datetime | None = None
    verified_at: datetime | None = None
    # when the card was made (a new card only: an existing card keeps its own)
    created_at: datetime | None = None
    # "introduced_by" given as a name or an e-mail: another row of the file (staging resolves it)
    introduced_ref: str | None = None
    # "archived": yes (into the archive), no (out of it), None (the cell is empty)
    archived: bool | None = None
    # what the preview says about the row, which is imported all the same: (code, details)
    notes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def _parse_int(value: str, limit: int = MAX_ROW_ID) -> int | None:
    """A positive integer that fits the column, else None (so no query can overflow)."""
    digits = value.strip().removeprefix("+")
    if not digits.isascii() or not digits.isdigit():
        return None
    number = int(digits)
    return number if 0 < number <= limit else None


def _parse_when(value: str, column: str, tz: tzinfo) -> datetime:
    moment = parse_moment(value, tz)
    if moment is None:
        raise _Skip("invalid_date", column=column, value=value)
    return moment


def _past(
    parsed: _Parsed, value: str, column: str, tz: tzinfo, now: datetime | None
) -> datetime | None:
    """A date that says when something already happened (``created_at``, ``verified_at``): a
    date in the future is told and the import's time taken instead (a card "created" next
    month would count in next month's figures). ``created_at`` that cannot be read is told
    too (the row is imported, made now); ``verified_at`` skips the row, as before."""
    if column == "created_at":
        moment = parse_moment(value, tz)
        if moment is None:
            parsed.notes.append(("date_unreadable", {"column": column, "value": value}))
            return None
    else:
        moment = _parse_when(value, column, tz)
    if now is not None and moment > now:
        parsed.notes.append(("date_future", {"column": column, "value": value}))
        return now if column == "verified_at" else None
    return moment


def label_key(text: str) -> str:
    """A label as compared: spaces collapsed, any case, "ё" as "е" ("Партнёр" is "партнер")."""
    return " ".join(text.split()).casefold().replace("ё", "е")


def _code_of(column: str, value: str, labels: Mapping[str, Mapping[str, str]] | None) -> str:
    """A picked field's code from a label in any language ("мероприятие", "Decision maker"),
    or a stage's name as the rest of the bot takes it ("удержание", "коммерция"); "" if none."""
    if column == "stage" and (code := stage_of(value)):
        return code
    if column == "icp_fit" and (fits := yes_no(value)) is not None:  # "да", "no": fits or not
        return IcpFit.FITS.value if fits else IcpFit.NOT_FIT.value
    return (labels or {}).get(column, {}).get(label_key(value), "")


def _same(current: Any, attr: str, value: str) -> bool:
    """The cell repeats what the card already holds (exported as is): nothing to check."""
    if current is None:
        return False
    stored = getattr(current, attr)
    return stored is not None and str(stored) == value


def _parse_row(
    row: Mapping[str, str | None],
    *,
    region: str,
    tz: tzinfo,
    current: Any,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    now: datetime | None = None,
) -> _Parsed:
    """The row's values, checked (:class:`_Skip` when the row cannot be imported, naming every
    bad value it has). ``labels``: the picked fields' labels, keyed by :func:`label_key`, to
    their codes; ``now``: the time of the import (no date of the past may be later)."""
    name = (row.get("name") or "").strip()
    if not name:
        raise _Skip("missing_name")
    parsed = _Parsed()
    parsed.fields["name"] = name
    bad: list[tuple[str, dict[str, Any]]] = []
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
            code = _code_of(column, value, labels)
            if not code:
                bad.append(("invalid_value", {"column": column, "value": value}))
                continue
        parsed.fields[column] = value if same else code
    if (value := row.get("introduced_by")) is not None:
        number = value.strip().removeprefix("#")  # "#2", as the bot shows a card's id
        ref = _parse_int(number)
        if ref is not None:
            parsed.fields["introduced_by_id"] = ref
        elif number.isdigit():  # an id that cannot be one
            bad.append(("invalid_value", {"column": "introduced_by", "value": value}))
        else:
            parsed.introduced_ref = value.strip()
    typed = (
        ("phone", lambda v: normalize_phone(v, region), "invalid_phone"),
        ("email", normalize_email, "invalid_email"),
        ("tg_username", normalize_username, "invalid_username"),
    )
    for column, normalize, code in typed:
        if (value := row.get(column)) is not None:
            checked = value if _same(current, column, value) else normalize(value)
            if checked is None:
                bad.append((code, {"value": value}))
            else:
                parsed.fields[column] = checked
    if (value := row.get("tg_user_id")) is not None:
        tg_user_id = _parse_int(value, MAX_TG_ID)
        if tg_user_id is None:
            bad.append(("invalid_value", {"column": "tg_user_id", "value": value}))
        else:
            parsed.fields["tg_user_id"] = tg_user_id
    if (value := row.get("tags")) is not None:
        parsed.tags = split_tags(value)
        if len({t for t in map(normalize_tag, parsed.tags) if t}) > limits.TAG_MAX_COUNT:
            bad.append(("too_many_tags", {}))
    parsed.next_step = row.get("next_step")
    if (value := row.get("next_step_due")) is not None:
        # a day alone is due at the bot's usual hour (10:00 local), as a typed date is
        parsed.next_step_due = parse_moment(value, tz, DEFAULT_TIME)
        if parsed.next_step_due is None:
            bad.append(("invalid_date", {"column": "next_step_due", "value": value}))
    for column in ("verified_at", "created_at"):
        if (value := row.get(column)) is not None:
            try:
                setattr(parsed, column, _past(parsed, value, column, tz, now))
            except _Skip as skip:
                bad.append((skip.code, skip.details))
    if (value := row.get("archived")) is not None:
        parsed.archived = yes_no(value)
        if parsed.archived is None:
            bad.append(("invalid_value", {"column": "archived", "value": value}))
    if bad:
        (code, details), *also = bad
        raise _Skip(code, also=tuple(also), **details)
    return parsed


def is_archived(card: Any) -> bool:
    """A card (or a staged one, see :func:`_merged`) is in the archive."""
    staged = getattr(card, "archived", None)
    return staged if staged is not None else getattr(card, "archived_at", None) is not None


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
    if parsed.archived is not None and parsed.archived != (
        current is not None and is_archived(current)
    ):
        values["archived"] = parsed.archived  # staged apart (services.exchange.archiving)
    if current is None:
        if parsed.created_at is not None:  # staged apart: not a column an update may change
            values["created_at"] = parsed.created_at
        values.setdefault("status", Status.CONTACT.value)
        values.setdefault("stage", Stage.IDENTIFICATION.value)
        values.setdefault("icp_fit", IcpFit.UNKNOWN.value)
        values.setdefault("tags", "")
        values.setdefault("verified_at", now)
    return values


def _merged(current: Any, values: Mapping[str, Any]) -> SimpleNamespace:
    """``current`` (a card or a staged new card) with ``values`` applied, as a card-like object."""
    extra = ("no_next_step_reason", "archived_at", "archived")
    base = {c: getattr(current, c, None) for c in (*CARD_COLUMNS, *extra)}
    if current is None:
        base["tags"] = ""
    base.update({k: v for k, v in values.items() if v is not None})
    return SimpleNamespace(**base)
