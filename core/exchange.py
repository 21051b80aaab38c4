"""Contact import/export as CSV and vCard 3.0, on plain dicts (no database here).

Rows are dicts keyed by :data:`CSV_COLUMNS`. Writers accept str/int/datetime/enum values
(tags also as a list); readers return every column with a ``str`` value or ``None``.
Tags travel as one ";"-separated string of plain tags ("event;vip").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, tzinfo
from enum import Enum
from typing import Any

from core import csvheaders
from core.contactdata import digits_only
from core.contactfields import PROFILE_FIELDS, STATE_AND_REACH_FIELDS

CSV_COLUMNS: tuple[str, ...] = (
    "id",
    *PROFILE_FIELDS,
    "introduced_by",
    *STATE_AND_REACH_FIELDS,
    "tags",
    "notes",
    "next_step",
    "next_step_due",
    "verified_at",
    "created_at",
    "archived",
)
TAG_SEPARATOR = ";"
# several values in one cell, as Google Contacts writes them ("+1 650 555 0000 ::: +1 650 …"):
# the first is read, the others told (Record.others)
_MULTI = ":::"
MULTI_COLUMNS = ("phone", "email")
# what a yes/no cell ("archived"; "icp_fit" as "fits or not") may say, in either language
# ("-" is not "no": a spreadsheet's dash is as often "nothing to say")
YES_WORDS = frozenset({"yes", "y", "true", "1", "да"})
NO_WORDS = frozenset({"no", "n", "false", "0", "нет"})

# Values kept as written (whitespace is meaningful); everything else is stripped on import.
_UNSTRIPPED = frozenset({"notes"})
_CSV_DELIMITERS = (",", ";", "\t")

# vCard properties with a standard meaning; everything else goes into X-NETSALES-*.
_VCARD_STANDARD = frozenset(
    {"name", "company", "position", "phone", "email", "notes", "tags", "tg_username"}
)
_X_PREFIX = "X-NETSALES-"
_FOLD_OCTETS = 75


@dataclass(frozen=True, slots=True)
class RowError:
    """A row (CSV) or card (vCard) that could not be imported; ``line`` is 1-based."""

    line: int
    reason: str
    detail: str = ""


# --------------------------------------------------------------------------- common helpers


def _to_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return TAG_SEPARATOR.join(_to_text(item) for item in items if item is not None)
    return str(value)


# a day as Russian (and most European) spreadsheets write it, with the time or not:
# "01.09.2026", "1.9.26", "01.09.2026 10:00", "01.09.2026, 10:00:30"
_DOTTED = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
)
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}|\d{8}")  # a day alone, as date.fromisoformat reads it


def parse_moment(value: str, tz: tzinfo, day_time: time | None = None) -> datetime | None:
    """A date or a moment as a file gives it, in UTC: ISO 8601 ("2026-09-01",
    "2026-09-01 10:00", "2026-09-01T10:00:00+03:00", "…Z") or day.month.year ("01.09.2026",
    "01.09.2026 10:00"); without a zone it is in ``tz`` (a bare date: its midnight, or
    ``day_time`` when given). None when it is no such date (or no real one: "31.02.2026")."""
    raw = value.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    at = day_time or time(0, 0)
    try:
        if dotted := _DOTTED.fullmatch(raw):
            day, month, year, hour, minute, second = dotted.groups()
            if hour is not None:
                at = time(int(hour), int(minute), int(second or 0))
            moment = datetime.combine(
                date(int(year) + (2000 if len(year) == 2 else 0), int(month), int(day)),
                at,
                tzinfo=tz,
            )
        elif _ISO_DAY.fullmatch(raw):
            moment = datetime.combine(date.fromisoformat(raw), at, tzinfo=tz)
        else:
            moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def split_tags(value: str | None) -> list[str]:
    """ "event;vip" -> ["event", "vip"] (commas and spaces are accepted as separators too)."""
    if not value:
        return []
    return [part.lstrip("#") for part in re.split(r"[;,\s]+", value) if part.lstrip("#")]


def _empty_row() -> dict[str, str | None]:
    return dict.fromkeys(CSV_COLUMNS)


def _clean_value(key: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return value if key in _UNSTRIPPED else value.strip()


def yes_no(value: str | None) -> bool | None:
    """ "yes" / "да" / "1" is True, "no" / "нет" / "0" False; None for anything else."""
    word = " ".join((value or "").split()).casefold()
    return True if word in YES_WORDS else False if word in NO_WORDS else None


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 by its BOM (Excel's "Unicode text")
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # Excel in a Russian locale and old phones save in Windows-1251.
        return data.decode("cp1251", errors="replace")


# --------------------------------------------------------------------------------------- CSV

# A cell a spreadsheet would run: OWASP's list of leading characters (formula, DDE, tab, CR).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_TRIGGERED = re.compile(r"^'*[=+\-@\t\r]")  # what neutralize() quotes
_NEUTRALIZED = re.compile(r"^'+[=+\-@\t\r]")  # what restore() unquotes


def neutralize(cell: str) -> str:
    """A cell a spreadsheet would execute gets a leading single quote (OWASP, CSV injection).

    Cells that already start with quotes before such a character get one more, so that
    :func:`restore` is the exact inverse: ``restore(neutralize(x)) == x`` for every string.
    """
    return "'" + cell if _TRIGGERED.match(cell) else cell


def restore(cell: str) -> str:
    """Undo :func:`neutralize`: one leading quote comes off a quoted formula-like cell. A plain
    value ("+7 912…", "-", "O'Brien", "'s-Hertogenbosch") is left exactly as written."""
    return cell[1:] if _NEUTRALIZED.match(cell) else cell


def write_csv(
    rows: Iterable[Mapping[str, object]], columns: tuple[str, ...] = CSV_COLUMNS
) -> bytes:
    """CSV with a header of ``columns`` (the contacts' :data:`CSV_COLUMNS` by default), UTF-8
    with BOM (Excel-friendly), CRLF.

    Every cell is neutralized (:func:`neutralize`), whatever its column: a name or a note is
    typed by anyone, and even a phone keeps its "+" as text instead of becoming a number.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([neutralize(_to_text(row.get(column))) for column in columns])
    return buffer.getvalue().encode("utf-8-sig")


# a contact's history as exported: touches, changes on the card, NPS answers and deals (at
# their opening; ``type`` their status, ``amount`` a plain decimal in ``currency``), oldest first
HISTORY_COLUMNS: tuple[str, ...] = (
    "contact_id",
    "contact",
    "at",
    "what",
    "type",
    "direction",
    "text",
    "old",
    "new",
    "score",
    "amount",
    "currency",
    "close_on",
)


def _guess_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in _CSV_DELIMITERS}
    best = max(_CSV_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


@dataclass(frozen=True, slots=True)
class Record:
    """A row that parsed: ``line`` is the 1-based line it starts on (a card's BEGIN line);
    ``others``: (column, value) of the values the row gives beyond the one a card keeps (a
    second phone in the same cell, a vCard's second TEL), to be told."""

    line: int
    row: dict[str, str | None]
    others: tuple[tuple[str, str], ...] = ()


def _same_value(column: str, a: str, b: str) -> bool:
    """One phone written twice ("+1 650 555 0000", "+16505550000"), one address in two cases."""
    if column == "phone":
        return digits_only(a) == digits_only(b) and bool(digits_only(a))
    return a.casefold() == b.casefold()


def split_multi(
    row: dict[str, str | None], more: Mapping[str, Iterable[str]] | None = None
) -> tuple[tuple[str, str], ...]:
    """A phone or e-mail cell with several values ("a ::: b") keeps the first; the others are
    returned as (column, value). ``more``: the column's other cells, best first (a second
    phone column: Google's "Phone 2 - Value", Outlook's "Home Phone" after "Mobile Phone"),
    whose values come after the cell's own; a value given twice is told once, or not at all
    when it is the one kept."""
    others: list[tuple[str, str]] = []
    for column in MULTI_COLUMNS:
        cells = [row.get(column) or "", *(more or {}).get(column, ())]
        values: list[str] = []
        for cell in cells:
            for part in cell.split(_MULTI):
                part = part.strip()
                if part and not any(_same_value(column, part, v) for v in values):
                    values.append(part)
        row[column] = values[0] if values else None
        others += [(column, other) for other in values[1:]]
    return tuple(others)


# A value in quotes that spans lines is suspicious when a line inside it looks like a row of its
# own (as many fields as the header, a name): only with this many columns, so that an ordinary
# multi-line note with a comma or two in a small file is not taken for one.
_MIN_COLUMNS_FOR_ROW_SHAPE = 3


def _reader(text: str, delimiter: str) -> Any:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)


def _lines_inside_quotes(lines: list[str], delimiter: str) -> list[int]:
    """Indexes of the lines (after the first) of one record that lie wholly inside a quoted
    value: they start inside quotes and hold no quote character (csv's own state machine)."""
    inside: list[int] = []
    state = "start"  # start of a field | in a plain field | in quotes | a quote seen in quotes
    for index, line in enumerate(lines):
        if index and state == "quoted" and '"' not in line:
            inside.append(index)
            continue
        for ch in line:
            if ch in "\r\n":
                if state != "quoted":
                    state = "start"
                continue
            if state == "start":
                state = "quoted" if ch == '"' else "start" if ch == delimiter else "plain"
            elif state == "plain":
                if ch == delimiter:
                    state = "start"
            elif state == "quoted":
                if ch == '"':
                    state = "quote"
            else:  # a quote inside quotes: doubled, or the value's end
                state = "quoted" if ch == '"' else "start" if ch == delimiter else "plain"
    return inside


def _header(text: str) -> list[str]:
    try:
        return next(_reader(text, _guess_delimiter(text)), [])
    except csv.Error:
        return []


# the columns that tell the history /export writes (history.csv) from a file of contacts
_HISTORY_MARKS = frozenset(HISTORY_COLUMNS[:4])
_SAMPLE = 65536  # characters looked at to tell text from a binary file
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")


def refusal(data: bytes) -> str | None:
    """Why a file sent as a CSV of contacts is no such file, before anything is read from it:
    "binary" (no text: a picture, an archive, a spreadsheet renamed .csv) or "history" (the
    history /export writes, whose "contact" column would make a card of every entry); else
    None."""
    text = _decode(data)
    sample = text[:_SAMPLE]
    if "\x00" in sample or len(_CONTROL.findall(sample)) * 100 > len(sample):
        return "binary"
    if _HISTORY_MARKS <= {csvheaders.key(cell) for cell in _header(text)}:
        return "history"
    return None


def check_csv(data: bytes) -> list[RowError]:
    """The file's structure, before anything is read from it: an unclosed quote, text after a
    closing quote, a row with more fields than the header, or a quoted value that runs over
    lines that look like rows of their own. Each problem names the line its row starts on.

    An unclosed quote is what silently glues the rest of a file into one cell; a file with any
    of these problems should be imported not at all rather than wrongly.
    """
    text = _decode(data)
    if not text.strip():
        return []
    delimiter = _guess_delimiter(text)
    physical = list(io.StringIO(text, newline=""))
    reader = _reader(text, delimiter)
    problems: list[RowError] = []
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        return [RowError(1, "bad_csv", str(exc))]
    width = len(header)
    named = csvheaders.plan(header, CSV_COLUMNS)
    name_at = (named.columns.get("name") or named.name_parts or (None,))[0]
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            message = str(exc)
            if "unexpected end of data" in message or "field larger than field limit" in message:
                problems.append(RowError(line, "unclosed_quote"))
            elif "expected after" in message:
                detail = str(reader.line_num) if reader.line_num > line else ""
                problems.append(RowError(line, "bad_quote", detail))
            else:
                problems.append(RowError(line, "bad_csv", message))
            break  # the reader cannot find its footing again after a broken quote
        start, line = line, reader.line_num + 1
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            problems.append(RowError(start, "too_many_fields", f"{len(cells)}/{width}"))
        if line - start > 1 and width >= _MIN_COLUMNS_FOR_ROW_SHAPE:
            record_lines = physical[start - 1 : line - 1]
            suspicious = []
            for index in _lines_inside_quotes(record_lines, delimiter):
                parts = record_lines[index].rstrip("\r\n").split(delimiter)
                if len(parts) == width and (name_at is None or parts[name_at].strip()):
                    suspicious.append(start + index)
            if suspicious:
                span = (
                    f"{suspicious[0]}-{suspicious[-1]}"
                    if len(suspicious) > 1
                    else str(suspicious[0])
                )
                problems.append(RowError(start, "swallowed_rows", span))
    return problems


def iter_csv(data: bytes) -> Iterator[Record | RowError]:
    """Rows of a CSV produced by :func:`write_csv` or a spreadsheet (",", ";" or tab delimited),
    one at a time, with the line each starts on; cells are :func:`restore`-d.

    A header row is required (case-insensitive; unknown columns are ignored; other usual
    headings — Russian ones, Google's and Outlook's exports — are read as
    :mod:`core.csvheaders` maps them). A row without a
    name is ``RowError(line, "missing_name")``; blank rows are skipped; a broken quote ends the
    reading with ``RowError(line, "bad_csv")`` (:func:`check_csv` finds it before).
    """
    text = _decode(data)
    if not text.strip():
        yield RowError(1, "empty")
        return
    reader = _reader(text, _guess_delimiter(text))
    try:
        header = next(reader)
    except csv.Error as exc:
        yield RowError(1, "bad_csv", str(exc))
        return
    columns = csvheaders.plan(header, CSV_COLUMNS)
    if not columns.has_name:
        yield RowError(1, "no_header", ", ".join(header))
        return
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(line, "bad_csv", str(exc))
            return
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        row = _empty_row()
        for key in columns.taken:
            value = columns.value(key, cells)
            row[key] = _clean_value(key, restore(value)) if value is not None else None
        if row["name"] is None:
            yield RowError(start, "missing_name")
            continue
        more = {key: [restore(cell) for cell in columns.rest(key, cells)] for key in MULTI_COLUMNS}
        yield Record(start, row, split_multi(row, more))


def csv_headings(data: bytes) -> dict[str, str]:
    """Each column :func:`iter_csv` reads from the file, as the file's header names it
    ({"stage": "Этап"}): messages about a cell name its column so."""
    return csvheaders.plan(_header(_decode(data)), CSV_COLUMNS).headings


def read_csv(data: bytes) -> tuple[list[dict[str, str | None]], list[RowError]]:
    """All of :func:`iter_csv` at once: (rows, errors)."""
    rows: list[dict[str, str | None]] = []
    errors: list[RowError] = []
    for item in iter_csv(data):
        if isinstance(item, Record):
            rows.append(item.row)
        else:
            errors.append(item)
    return rows, errors


# ----------------------------------------------------------------------- files sent to import
CSV_EXTENSIONS = (".csv",)
VCARD_EXTENSIONS = (".vcf", ".vcard")
CSV_MIME = frozenset({"text/csv"})
VCARD_MIME = frozenset({"text/vcard", "text/x-vcard"})
SPREADSHEET_EXTENSIONS = (".xlsx", ".xls", ".ods", ".numbers")


def file_kind(file_name: str | None, mime_type: str | None) -> str | None:
    """ "csv", "vcard" or None, by the file name's extension, else by its MIME type."""
    name = (file_name or "").lower()
    if name.endswith(CSV_EXTENSIONS):
        return "csv"
    if name.endswith(VCARD_EXTENSIONS):
        return "vcard"
    mime = (mime_type or "").lower()
    if mime in CSV_MIME:
        return "csv"
    if mime in VCARD_MIME:
        return "vcard"
    return None


def for_import(file_name: str | None, mime_type: str | None) -> bool:
    """A CSV or vCard to import, or a spreadsheet meant as one (/import says how to save it)."""
    name = (file_name or "").lower()
    return file_kind(file_name, mime_type) is not None or name.endswith(SPREADSHEET_EXTENSIONS)
