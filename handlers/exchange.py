"""/export and /import: the user's contacts as CSV and vCard, both ways.

Import is all-or-nothing: the whole file runs inside one SAVEPOINT, so an error half-way leaves
the database as it was. A row is matched to an existing card by its ``id`` (within the user's
scope), else by an exact phone / e-mail / Telegram id; otherwise a new card is created. Only the
cells that have a value are applied: an import never erases a field.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, Document, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.filters import staff
from bot.i18n import _
from bot.rendering import answer_long, h
from core import limits
from core.clock import Clock
from core.contactdata import normalize_email, normalize_phone, normalize_tag, normalize_username
from core.enums import IcpFit, Influence, InfluenceSource, Kind, Source, Stage, Status
from core.exchange import (
    CSV_COLUMNS,
    RowError,
    read_csv,
    read_vcard,
    split_tags,
    write_csv,
    write_vcard,
)
from core.roles import Role
from handlers.contacts import user_tz
from services import contacts as contacts_svc
from storage.models import Contact, User
from storage.uow import writing

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
CSV_EXTENSIONS = (".csv",)
VCARD_EXTENSIONS = (".vcf", ".vcard")
CSV_MIME = frozenset({"text/csv"})
VCARD_MIME = frozenset({"text/vcard", "text/x-vcard"})
SPREADSHEET_EXTENSIONS = (".xlsx", ".xls", ".ods", ".numbers")

TEXT_FIELDS = ("company", "position", "segment", "icp_criterion", "source_detail", "notes")
ENUM_FIELDS: dict[str, tuple[type[StrEnum], ...]] = {
    "kind": (Kind,),
    "icp_fit": (IcpFit,),
    "influence": (Influence, InfluenceSource),  # B2B role or B2C influence source
    "source": (Source,),
    "status": (Status,),
    "stage": (Stage,),
}
MAX_LISTED_PROBLEMS = 200


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


# ------------------------------------------------------------------------------------ import


class _Skip(Exception):
    """A row that cannot be imported; ``reason`` is translated, user values already escaped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Parsed:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)  # EDITABLE name -> value
    tags: list[str] | None = None
    next_step: str | None = None
    next_step_due: datetime | None = None
    verified_at: datetime | None = None


@dataclass
class _Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    notes: list[tuple[str, str]] = field(default_factory=list)


def _quoted(value: str) -> str:
    return "“" + h(value[:80]) + "”"


MAX_ROW_ID = 2**31 - 1  # an INTEGER key on PostgreSQL
MAX_TG_ID = 2**63 - 1


def _parse_int(value: str, limit: int = MAX_ROW_ID) -> int | None:
    """A positive integer that fits the column, else None (so no query can overflow)."""
    text = value.strip().removeprefix("+")
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= limit else None


def _parse_when(value: str, column: str, tz: tzinfo) -> datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _Skip(
            _("invalid date in {column}: {value}").format(column=column, value=_quoted(value))
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _same(current: Contact | None, attr: str, value: str) -> bool:
    """The cell repeats what the card already holds (exported as is): nothing to check."""
    if current is None:
        return False
    stored = getattr(current, attr)
    return stored is not None and str(stored) == value


def _parse_row(
    row: Mapping[str, str | None], *, region: str, tz: tzinfo, current: Contact | None
) -> _Parsed:
    name = (row.get("name") or "").strip()
    if not name:
        raise _Skip(_("no name"))
    parsed = _Parsed(name=name)
    parsed.fields["name"] = name
    for column in TEXT_FIELDS:
        if row.get(column) is not None:
            parsed.fields[column] = row[column]
    for column, enums in ENUM_FIELDS.items():
        value = row.get(column)
        if value is None:
            continue
        code = value.strip().lower()
        if not _same(current, column, value) and not any(code in set(e) for e in enums):
            raise _Skip(_("invalid {column}: {value}").format(column=column, value=_quoted(value)))
        parsed.fields[column] = value if _same(current, column, value) else code
    if (value := row.get("introduced_by")) is not None:
        ref = _parse_int(value)
        if ref is None:
            raise _Skip(
                _("invalid {column}: {value}").format(column="introduced_by", value=_quoted(value))
            )
        parsed.fields["introduced_by_id"] = ref
    if (value := row.get("phone")) is not None:
        phone = value if _same(current, "phone", value) else normalize_phone(value, region)
        if phone is None:
            raise _Skip(_("invalid phone {value}").format(value=_quoted(value)))
        parsed.fields["phone"] = phone
    if (value := row.get("email")) is not None:
        email = value if _same(current, "email", value) else normalize_email(value)
        if email is None:
            raise _Skip(_("invalid e-mail {value}").format(value=_quoted(value)))
        parsed.fields["email"] = email
    if (value := row.get("tg_username")) is not None:
        username = value if _same(current, "tg_username", value) else normalize_username(value)
        if username is None:
            raise _Skip(_("invalid Telegram username {value}").format(value=_quoted(value)))
        parsed.fields["tg_username"] = username
    if (value := row.get("tg_user_id")) is not None:
        tg_user_id = _parse_int(value, MAX_TG_ID)
        if tg_user_id is None:
            raise _Skip(
                _("invalid {column}: {value}").format(column="tg_user_id", value=_quoted(value))
            )
        parsed.fields["tg_user_id"] = tg_user_id
    if (value := row.get("tags")) is not None:
        parsed.tags = split_tags(value)
        if len({t for t in map(normalize_tag, parsed.tags) if t}) > limits.TAG_MAX_COUNT:
            raise _Skip(_("too many tags"))
    parsed.next_step = row.get("next_step")
    if (value := row.get("next_step_due")) is not None:
        parsed.next_step_due = _parse_when(value, "next_step_due", tz)
    if (value := row.get("verified_at")) is not None:
        parsed.verified_at = _parse_when(value, "verified_at", tz)
    return parsed


def _keys_of(parsed: _Parsed) -> dict[str, Any]:
    return {k: parsed.fields[k] for k in ("phone", "email", "tg_user_id") if parsed.fields.get(k)}


async def _apply_extras(
    session: AsyncSession, contact: Contact, parsed: _Parsed, *, actor: User, now: datetime
) -> bool:
    """Next step and verification date (not plain editable fields). True if anything changed."""
    changed = False
    if parsed.next_step is not None or parsed.next_step_due is not None:
        text = parsed.next_step if parsed.next_step is not None else contact.next_step
        text = (text or "").strip()[:512] or None
        due = parsed.next_step_due if parsed.next_step_due is not None else contact.next_step_due
        if (text, due) != (contact.next_step, contact.next_step_due):
            await contacts_svc.set_next_step(
                session,
                contact,
                actor=actor,
                text=text,
                due=due,
                reason=contact.no_next_step_reason,
                now=now,
            )
            changed = True
    if parsed.verified_at is not None and parsed.verified_at != contact.verified_at:
        contact.verified_at = parsed.verified_at
        contact.updated_at = now
        changed = True
    return changed


async def _import_rows(
    session: AsyncSession,
    rows: list[tuple[str, dict[str, str | None]]],
    *,
    user: User,
    scope: contacts_svc.Scope,
    region: str,
    tz: tzinfo,
    now: datetime,
    report: _Report,
) -> None:
    for line, row in rows:
        where = f"{line} ({h(row['name'][:40])})" if row.get("name") else line
        current: Contact | None = None
        try:
            # an id that is not one of ours (another system's) is simply not a match
            ref = _parse_int(row["id"]) if row.get("id") else None
            if ref is not None:
                current = await contacts_svc.get(session, scope, ref)
            parsed = _parse_row(row, region=region, tz=tz, current=current)
            if current is None and (keys := _keys_of(parsed)):
                found = await contacts_svc.duplicates(session, scope, name=None, **keys)
                if len(found) > 1:
                    names = ", ".join(f"{h(c.name)} (#{c.id})" for c in found)
                    raise _Skip(_("matches several existing contacts: {names}").format(names=names))
                current = found[0] if found else None
        except _Skip as skip:
            report.skipped.append((where, skip.reason))
            continue
        introduced = parsed.fields.get("introduced_by_id")
        if introduced is not None and (
            (current is not None and introduced == current.id)
            or await contacts_svc.get(session, scope, introduced) is None
        ):
            del parsed.fields["introduced_by_id"]
            report.notes.append(
                (
                    where,
                    _("introduced_by #{id} is not one of your contacts; left out").format(
                        id=introduced
                    ),
                )
            )
        if current is None:
            contact = await contacts_svc.create(
                session, owner=user, data=parsed.fields, now=now, tags=parsed.tags or ()
            )
            await _apply_extras(session, contact, parsed, actor=user, now=now)
            report.created += 1
            continue
        changes = dict(parsed.fields)
        if parsed.tags is not None:
            changes["tags"] = parsed.tags
        changed = await contacts_svc.change(session, current, actor=user, now=now, **changes)
        extra = await _apply_extras(session, current, parsed, actor=user, now=now)
        report.updated += 1
        if not changed and not extra:
            report.unchanged += 1


# ------------------------------------------------------------------------ row line numbers


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def _csv_candidate_lines(data: bytes) -> list[int]:
    """Start lines of the non-blank records after the header, as core.exchange.read_csv counts."""
    text = _decode(data)
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    delimiter = max(counts, key=lambda d: counts[d])
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter if counts[delimiter] else ","
    )
    starts: list[int] = []
    try:
        next(reader)
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if any(cell.strip() for cell in cells):
                starts.append(start)
    except (StopIteration, csv.Error):
        pass
    return starts


def _vcard_candidate_lines(data: bytes) -> list[int]:
    lines = _decode(data).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [n for n, line in enumerate(lines, 1) if line.strip().upper() == "BEGIN:VCARD"]


def _locate(
    rows: list[dict[str, str | None]], errors: list[RowError], candidates: list[int], noun: str
) -> list[tuple[str, dict[str, str | None]]]:
    """Pair each parsed row with "line N" (falls back to "row N" if the counts disagree)."""
    failed = {e.line for e in errors}
    lines = [n for n in candidates if n not in failed]
    if len(lines) == len(rows):
        return [(_("line {line}").format(line=n), row) for n, row in zip(lines, rows, strict=True)]
    return [(noun.format(number=i), row) for i, row in enumerate(rows, 1)]


def _row_error_reason(error: RowError) -> str:
    reasons = {
        "missing_name": _("no name"),
        "empty": _("the file is empty"),
        "no_header": _("no header row with a “name” column"),
        "bad_csv": _("broken CSV, reading stopped here"),
        "unterminated": _("the card has no END:VCARD"),
        "no_vcard": _("no vCard found in the file"),
    }
    reason = reasons.get(error.reason, h(error.reason))
    if error.detail:
        reason += f" ({h(error.detail[:120])})"
    return reason


# ----------------------------------------------------------------------------------- router


def _file_kind(document: Document) -> str | None:
    """ "csv", "vcard" or None, by the file name's extension, else by its MIME type."""
    name = (document.file_name or "").lower()
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    if name.endswith(VCARD_EXTENSIONS):
        return "vcard"
    mime = (document.mime_type or "").lower()
    if mime in CSV_MIME:
        return "csv"
    if mime in VCARD_MIME:
        return "vcard"
    return None


def _timezone(user: User, settings: Settings) -> tzinfo:
    try:
        return ZoneInfo(user_tz(user, settings))
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _format_report(report: _Report, filename: str) -> str:
    lines = [
        _("<b>Import finished</b> ({file})").format(file=h(filename)),
        _("Created: {count}").format(count=report.created),
        _("Updated: {count}").format(count=report.updated),
    ]
    if report.unchanged:
        lines[-1] += " " + _("({count} without changes)").format(count=report.unchanged)
    lines.append(_("Skipped: {count}").format(count=len(report.skipped)))
    if report.skipped:
        lines += ["", _("<b>Skipped rows</b>")]
        for where, reason in report.skipped[:MAX_LISTED_PROBLEMS]:
            lines.append(f"• {where}: {reason}")
        if len(report.skipped) > MAX_LISTED_PROBLEMS:
            more = len(report.skipped) - MAX_LISTED_PROBLEMS
            lines.append(_("…and {count} more").format(count=more))
    if report.notes:
        lines += ["", _("<b>Notes</b>")]
        for where, note in report.notes[:MAX_LISTED_PROBLEMS]:
            lines.append(f"• {where}: {note}")
    return "\n".join(lines)


def create_router() -> Router:
    router = Router(name="exchange")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    @router.message(Command("export"))
    async def export(message: Message, session: AsyncSession, user: User, role: Role) -> None:
        scope = contacts_svc.Scope.of(user, role)
        rows = [contact_row(c) async for c in contacts_svc.all_for_export(session, scope)]
        if not rows:
            await message.answer(_("You have no contacts to export yet. /add creates one."))
            return
        count = len(rows)
        await message.answer_document(
            BufferedInputFile(write_csv(rows), filename="contacts.csv"),
            caption=_(
                "{count} contacts as CSV (UTF-8). Edit it in a spreadsheet and send it back: "
                "/import explains how."
            ).format(count=count),
        )
        await message.answer_document(
            BufferedInputFile(write_vcard(rows), filename="contacts.vcf"),
            caption=_("{count} contacts as vCard, for a phone or a mail app.").format(count=count),
        )

    @router.message(Command("import"))
    async def import_help(message: Message) -> None:
        await message.answer(
            _(
                "<b>Import contacts</b>\n"
                "Send a .csv or .vcf file as a document (up to 5 MB).\n\n"
                "CSV: the first row holds the column names, the same as in /export: {columns}. "
                "Only “name” is required; unknown columns are ignored; empty cells change nothing.\n\n"
                "A row with the id of one of your contacts, or with the same phone, e-mail or "
                "Telegram id, updates that contact; any other row creates a new one. "
                "Rows with an invalid phone or e-mail are skipped and listed. "
                "If anything goes wrong, nothing is imported."
            ).format(columns=h(", ".join(CSV_COLUMNS)))
        )

    @router.message(F.document)
    async def import_file(
        message: Message,
        session: AsyncSession,
        user: User,
        role: Role,
        clock: Clock,
        settings: Settings,
        bot: Bot,
    ) -> None:
        document = message.document
        assert document is not None
        filename = document.file_name or "file"
        kind = _file_kind(document)
        if kind is None:
            if filename.lower().endswith(SPREADSHEET_EXTENSIONS):
                await message.answer(
                    _(
                        "I can't read spreadsheet files. Save it as CSV (UTF-8) and send "
                        "the .csv file. /import explains the columns."
                    )
                )
            else:
                await message.answer(
                    _(
                        "I can import only .csv and .vcf files; “{file}” is neither. "
                        "/import explains the format."
                    ).format(file=h(filename[:100]))
                )
            return
        if document.file_size is not None and document.file_size > MAX_FILE_BYTES:
            await message.answer(
                _("The file is too large (over {size} MB). Split it and send the parts.").format(
                    size=MAX_FILE_BYTES // (1024 * 1024)
                )
            )
            return
        buffer = await bot.download(document)
        data = buffer.read() if buffer is not None else b""
        if len(data) > MAX_FILE_BYTES:
            await message.answer(
                _("The file is too large (over {size} MB). Split it and send the parts.").format(
                    size=MAX_FILE_BYTES // (1024 * 1024)
                )
            )
            return

        if kind == "csv":
            rows, errors = read_csv(data)
            located = _locate(rows, errors, _csv_candidate_lines(data), _("row {number}"))
        else:
            rows, errors = read_vcard(data)
            located = _locate(rows, errors, _vcard_candidate_lines(data), _("card {number}"))

        report = _Report()
        for error in errors:
            report.skipped.append(
                (_("line {line}").format(line=error.line), _row_error_reason(error))
            )
        if not rows:
            await answer_long(
                message,
                _("Nothing to import from “{file}”.").format(file=h(filename))
                + "\n"
                + "\n".join(f"• {where}: {reason}" for where, reason in report.skipped),
            )
            return

        scope = contacts_svc.Scope.of(user, role)
        now = clock.now()
        try:
            async with writing(session):
                await _import_rows(
                    session,
                    located,
                    user=user,
                    scope=scope,
                    region=settings.default_phone_region,
                    tz=_timezone(user, settings),
                    now=now,
                    report=report,
                )
        except Exception as exc:
            log.exception("import of %s by user %s failed", filename, scope.user_id)
            await message.answer(
                _(
                    "The import failed, so nothing was imported and your contacts are as they "
                    "were. Error: {error}"
                ).format(error=h(f"{type(exc).__name__}: {exc}"[:300]))
            )
            return
        report.skipped.sort(key=lambda item: _line_key(item[0]))
        await answer_long(message, _format_report(report, filename))

    return router


def _line_key(where: str) -> int:
    digits = "".join(ch for ch in where if ch.isdigit())
    return int(digits) if digits else 0
