"""vCard 3.0 in and out: the cards a phone exports and imports (fields beyond the standard as
X-NETSALES- properties, long lines folded)."""

from __future__ import annotations

import quopri
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from core.contactdata import split_extension
from core.exchange import (
    _FOLD_OCTETS,
    _VCARD_STANDARD,
    _X_PREFIX,
    CSV_COLUMNS,
    TAG_SEPARATOR,
    Record,
    RowError,
    _clean_value,
    _decode,
    _empty_row,
    _to_text,
    split_tags,
)


def _escape(value: str) -> str:
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


def _unescape(value: str) -> str:
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append("\n" if nxt in ("n", "N") else nxt if nxt else "\\")
    return "".join(out)


def _split_unescaped(value: str, separator: str) -> list[str]:
    """Split on ``separator`` not preceded by a backslash escape; parts stay escaped."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _fold(line: str) -> str:
    """Fold a content line so that no physical line exceeds 75 octets (UTF-8 safe)."""
    if len(line.encode("utf-8")) <= _FOLD_OCTETS:
        return line
    pieces: list[str] = []
    current: list[str] = []
    size, limit = 0, _FOLD_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            current, size, limit = [], 0, _FOLD_OCTETS - 1
        current.append(ch)
        size += width
    pieces.append("".join(current))
    return "\r\n ".join(pieces)


def _split_name(name: str) -> tuple[str, str]:
    """ "Anna Maria Smirnova" -> ("Smirnova", "Anna Maria"): (family, given) for the N property."""
    words = name.split()
    if len(words) < 2:
        return name.strip(), ""
    return words[-1], " ".join(words[:-1])


def _x_property(key: str) -> str:
    return _X_PREFIX + key.upper().replace("_", "-")


def _tel_line(phone: str) -> str:
    """The card's phone; one with an extension ("+12125550100;ext=12") as a phone dials it, the
    extension after a pause ("+12125550100,12", read back as the same extension), at work."""
    number, extension = split_extension(phone)
    if extension is None:
        return f"TEL;TYPE=CELL:{_escape(phone)}"
    return f"TEL;TYPE=WORK,VOICE:{_escape(number)},{_escape(extension)}"


def _card_lines(row: Mapping[str, object]) -> Iterator[str]:
    values = {column: _to_text(row.get(column)) for column in CSV_COLUMNS}
    yield "BEGIN:VCARD"
    yield "VERSION:3.0"
    name = values["name"]
    family, given = _split_name(name)
    yield f"FN:{_escape(name)}"
    yield f"N:{_escape(family)};{_escape(given)};;;"
    if values["company"]:
        yield f"ORG:{_escape(values['company'])}"
    if values["position"]:
        yield f"TITLE:{_escape(values['position'])}"
    if values["phone"]:
        yield _tel_line(values["phone"])
    if values["email"]:
        yield f"EMAIL;TYPE=INTERNET:{_escape(values['email'])}"
    if values["tg_username"]:
        yield f"X-TELEGRAM:{_escape(values['tg_username'])}"
    tags = split_tags(values["tags"])
    if tags:
        yield "CATEGORIES:" + ",".join(_escape(tag) for tag in tags)
    if values["notes"]:
        yield f"NOTE:{_escape(values['notes'])}"
    for column in CSV_COLUMNS:
        if column not in _VCARD_STANDARD and values[column]:
            yield f"{_x_property(column)}:{_escape(values[column])}"
    yield "END:VCARD"


def write_vcard(rows: Iterable[Mapping[str, object]]) -> bytes:
    """vCard 3.0 (UTF-8, CRLF, folded at 75 octets); app-specific fields as X-NETSALES-*."""
    lines = [_fold(line) for row in rows for line in _card_lines(row)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8") if lines else b""


@dataclass(slots=True)
class _Prop:
    name: str
    params: dict[str, list[str]]
    value: str


def _unfold(text: str) -> list[tuple[int, str]]:
    """Logical lines with the 1-based physical line number they start on."""
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    logical: list[tuple[int, str]] = []
    qp_open = False
    for number, line in enumerate(physical, start=1):
        if logical and (qp_open or (line[:1] in (" ", "\t"))):
            start, previous = logical[-1]
            if qp_open:
                logical[-1] = (start, previous[:-1] + line)
            else:
                logical[-1] = (start, previous + line[1:])
        elif line.strip():
            logical.append((number, line))
        else:
            continue
        last = logical[-1][1]
        head = last.split(":", 1)[0].upper()
        qp_open = "QUOTED-PRINTABLE" in head and last.endswith("=")
    return logical


def _parse_line(line: str) -> _Prop | None:
    head, sep, value = line.partition(":")
    if not sep:
        return None
    name, *raw_params = _split_unescaped(head, ";")
    name = name.rsplit(".", 1)[-1].strip().upper()  # drop "item1." groups
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, eq, param_value = raw.partition("=")
        if eq:
            values = [v.strip().strip('"') for v in param_value.split(",")]
            params.setdefault(key.strip().upper(), []).extend(values)
        else:  # vCard 2.1 bare parameter: "TEL;CELL:..." or "NOTE;QUOTED-PRINTABLE:..."
            bare = key.strip().upper()
            group = "ENCODING" if bare in ("QUOTED-PRINTABLE", "BASE64", "B", "8BIT") else "TYPE"
            params.setdefault(group, []).append(bare)
    encoding = {e.upper() for e in params.get("ENCODING", [])}
    if "QUOTED-PRINTABLE" in encoding:
        charset = (params.get("CHARSET") or ["utf-8"])[0]
        raw_bytes = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            value = raw_bytes.decode(charset, errors="replace")
        except LookupError:
            value = raw_bytes.decode("utf-8", errors="replace")
    return _Prop(name, params, value)


def _types(prop: _Prop) -> set[str]:
    return {t.upper() for t in prop.params.get("TYPE", [])}


def _pick(props: list[_Prop], preferred: str) -> _Prop | None:
    for prop in props:
        if preferred in _types(prop):
            return prop
    for prop in props:
        if "PREF" in _types(prop) or "1" in prop.params.get("PREF", []):
            return prop
    return props[0] if props else None


def _others(props: list[_Prop], row: Mapping[str, str | None]) -> tuple[tuple[str, str], ...]:
    """(column, value) of the card's phones and e-mails beyond the one its row keeps."""
    out: list[tuple[str, str]] = []
    for prop in props:
        column = {"TEL": "phone", "EMAIL": "email"}.get(prop.name)
        if column is None:
            continue
        value = _clean_value(column, _unescape(prop.value))
        if value and prop.name == "TEL" and value.lower().startswith("tel:"):
            value = value[4:]
        if value and value != row[column] and (column, value) not in out:
            out.append((column, value))
    return tuple(out)


def _card_to_row(props: list[_Prop]) -> dict[str, str | None]:
    row = _empty_row()
    by_name: dict[str, list[_Prop]] = {}
    for prop in props:
        by_name.setdefault(prop.name, []).append(prop)

    def first(name: str) -> str | None:
        found = by_name.get(name)
        return _unescape(found[0].value) if found else None

    name = first("FN")
    if not (name and name.strip()) and "N" in by_name:
        parts = [_unescape(p).strip() for p in _split_unescaped(by_name["N"][0].value, ";")]
        parts += [""] * (5 - len(parts))
        family, given, additional, prefix, suffix = parts[:5]
        name = " ".join(p for p in (prefix, given, additional, family, suffix) if p)
    row["name"] = name
    if "ORG" in by_name:
        units = [_unescape(p).strip() for p in _split_unescaped(by_name["ORG"][0].value, ";")]
        row["company"] = ", ".join(unit for unit in units if unit)
    row["position"] = first("TITLE")
    tel = _pick(by_name.get("TEL", []), "CELL")
    if tel is not None:
        phone = _unescape(tel.value).strip()
        row["phone"] = phone[4:] if phone.lower().startswith("tel:") else phone
    email = _pick(by_name.get("EMAIL", []), "INTERNET")
    if email is not None:
        row["email"] = _unescape(email.value)
    row["notes"] = first("NOTE")
    row["tg_username"] = first("X-TELEGRAM")
    tags: list[str] = []
    for prop in by_name.get("CATEGORIES", []):
        tags += [_unescape(t).strip() for t in _split_unescaped(prop.value, ",")]
    row["tags"] = TAG_SEPARATOR.join(tag for tag in tags if tag)
    for column in CSV_COLUMNS:
        if column not in _VCARD_STANDARD:
            value = first(_x_property(column))
            if value is not None:
                row[column] = value
    return {key: _clean_value(key, value) for key, value in row.items()}


def iter_vcard(data: bytes) -> Iterator[Record | RowError]:
    """One or more vCards (3.0 from :func:`write_vcard`, or 2.1/4.0 from phones), one at a time.

    Rows are keyed like :data:`CSV_COLUMNS`, with the line of the card's BEGIN; a card without
    FN/N is ``RowError(line_of_BEGIN, "missing_name")``, a card without END "unterminated".
    vCard values are taken as written (no spreadsheet ever runs them, so nothing is quoted).
    """
    seen = False
    card: list[_Prop] | None = None
    card_line = 0
    for number, line in _unfold(_decode(data)):
        prop = _parse_line(line)
        if prop is None:
            continue
        if prop.name == "BEGIN" and prop.value.strip().upper() == "VCARD":
            if card is not None:
                seen = True
                yield RowError(card_line, "unterminated")
            card, card_line = [], number
        elif prop.name == "END" and prop.value.strip().upper() == "VCARD":
            if card is None:
                continue
            seen = True
            row = _card_to_row(card)
            if row["name"] is None:
                yield RowError(card_line, "missing_name")
            else:
                yield Record(card_line, row, _others(card, row))
            card = None
        elif card is not None:
            card.append(prop)
    if card is not None:
        yield RowError(card_line, "unterminated")
    elif not seen:
        yield RowError(1, "no_vcard")


def read_vcard(data: bytes) -> tuple[list[dict[str, str | None]], list[RowError]]:
    """All of :func:`iter_vcard` at once: (rows, errors)."""
    rows: list[dict[str, str | None]] = []
    errors: list[RowError] = []
    for item in iter_vcard(data):
        if isinstance(item, Record):
            rows.append(item.row)
        else:
            errors.append(item)
    return rows, errors
