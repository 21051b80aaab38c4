"""/contacts' filter: what narrows the list (status, stage, source, #tag, segment, owner and one
of overdue / due today / going cold / waiting for a reply / archived, all at once), its short
form in a button's callback data (Telegram allows 64 bytes), and the words a rep types for it
("/contacts lead #vip overdue"). Plain data and functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from core.contactdata import normalize_tag
from core.contactfields import ENUM_FIELDS, LIST_FILTERS

# one at a time: they are the /today's sections (and the archive), not narrowing one another
FLAGS = ("overdue", "today", "cold", "waiting", "archived")


@dataclass(frozen=True)
class ContactFilter:
    status: str | None = None
    stage: str | None = None
    source: str | None = None
    tag: str | None = None
    segment: str | None = None  # as stored on the cards
    flag: str | None = None  # one of FLAGS
    owner_id: int | None = None  # one owner's cards (within the viewer's scope)
    by_touch: bool = False  # sorted by last touch, the longest untouched first

    def narrows(self) -> bool:
        """Whether anything narrows the list (its order aside)."""
        return self != ContactFilter(by_touch=self.by_touch)

    def with_value(self, field: str, value: object) -> ContactFilter:
        """The filter with ``field`` (a field of LIST_FILTERS, "tag", "segment", "owner_id" or
        "flag") set to ``value`` (None: any), the rest kept."""
        return replace(self, **{field: value})


# ------------------------------------------------------------------------- the short form
# "s1g2r0" status, stage, source (their index in ENUM_FIELDS), one flag letter, "t" sorted by
# last touch, "u12" the owner, then "#tag" and "$segment" (a tag holds neither "$" nor "#"; the
# segment, last, may hold anything but the callback data's ":")
ENUM_KEYS = {"status": "s", "stage": "g", "source": "r"}
FLAG_KEYS = {"overdue": "o", "today": "d", "cold": "c", "waiting": "w", "archived": "a"}
_BY_KEY = {key: field for field, key in ENUM_KEYS.items()}
_FLAG_BY_KEY = {key: flag for flag, key in FLAG_KEYS.items()}
# the screens of the list's buttons: "" the list, "+" the list in a message of its own (from
# another message: /today's), "?" the filter menu, "=" + a field's key the choice of its value
NEW = "+"
MENU = "?"
PICK = "="
PICK_KEYS = {**ENUM_KEYS, "owner": "u", "tag": "#", "segment": "$"}
_PICK_BY_KEY = {key: field for field, key in PICK_KEYS.items()}
# the form of the buttons sent before filters combined: "status=lead~t", "menu", "stage=?"
_LEGACY = re.compile(r"(status|stage|source|tag|archived|overdue|cold|owner)=(.*?)(~t)?")


def pack(flt: ContactFilter) -> str:
    out = [
        key + str(ENUM_FIELDS[field].index(value))
        for field, key in ENUM_KEYS.items()
        if (value := getattr(flt, field)) in ENUM_FIELDS[field]
    ]
    if flt.flag in FLAG_KEYS:
        out.append(FLAG_KEYS[flt.flag])
    if flt.by_touch:
        out.append("t")
    if flt.owner_id is not None:
        out.append(f"u{flt.owner_id}")
    if flt.tag:
        out.append("#" + flt.tag)
    if flt.segment:
        out.append("$" + flt.segment)
    return "".join(out)


def unpack(packed: str) -> ContactFilter:
    """The filter of a button (the older "field=value" form too); what it does not understand
    (a forged button) is left out."""
    if legacy := _LEGACY.fullmatch(packed):
        return _unpack_legacy(legacy[1], legacy[2], by_touch=bool(legacy[3]))
    head, _sep, segment = packed.partition("$")
    head, _sep, tag = head.partition("#")
    values: dict[str, str | int | bool | None] = {
        "tag": normalize_tag(tag) if tag else None,
        "segment": segment or None,
    }
    for key, number in re.findall(r"([a-z])(\d*)", head):
        if key in _BY_KEY and number:
            field = _BY_KEY[key]
            if int(number) < len(ENUM_FIELDS[field]):
                values[field] = ENUM_FIELDS[field][int(number)]
        elif key in _FLAG_BY_KEY:
            values["flag"] = _FLAG_BY_KEY[key]
        elif key == "t":
            values["by_touch"] = True
        elif key == "u" and number:
            values["owner_id"] = int(number)
    return ContactFilter(**values)  # type: ignore[arg-type]


def _unpack_legacy(field: str, value: str, *, by_touch: bool) -> ContactFilter:
    flt = ContactFilter(by_touch=by_touch)
    if field in LIST_FILTERS and value in ENUM_FIELDS[field]:
        return flt.with_value(field, value)
    if field == "tag":
        return flt.with_value("tag", normalize_tag(value))
    if field in FLAGS:
        return flt.with_value("flag", field)
    if field == "owner" and value.isdigit():
        return flt.with_value("owner_id", int(value))
    return flt


def screen(data: str) -> tuple[str, str | None, ContactFilter]:
    """What a list's button opens: ("list", None, filter), ("new", None, filter) — the list
    in a new message, ("menu", None, filter) or ("pick", field, filter) — the choice of a
    field's value (status, stage, source, owner, tag, segment) for the filter."""
    if data == "menu":
        return "menu", None, ContactFilter()
    if (legacy := _LEGACY.fullmatch(data)) and legacy[2] == "?":
        return "pick", legacy[1], ContactFilter()
    if data.startswith(NEW):
        return "new", None, unpack(data[len(NEW) :])
    if data.startswith(MENU):
        return "menu", None, unpack(data[len(MENU) :])
    if data.startswith(PICK) and data[1:2] in _PICK_BY_KEY:
        return "pick", _PICK_BY_KEY[data[1]], unpack(data[2:])
    return "list", None, unpack(data)


def new_data(flt: ContactFilter) -> str:
    return NEW + pack(flt)


def menu_data(flt: ContactFilter) -> str:
    return MENU + pack(flt)


def pick_data(field: str, flt: ContactFilter) -> str:
    return PICK + PICK_KEYS[field] + pack(flt)


# ------------------------------------------------------------------------- typed words
# what a typed phrase may be, in order of preference: (LIST_FILTERS' field, code),
# ("flag", one of FLAGS) or ("keyword", "segment" | "owner"), a word naming what follows
Meaning = tuple[str, str]
LONGEST_PHRASE = 4  # words ("удержание и рекомендации")
_QUOTES = {'"': '"', "«": "»", "“": "”", "„": "“"}


def fold(text: str) -> str:
    """A typed word as it is compared: any case, "ё" read as "е" ("партнер" is "партнёр")."""
    return text.casefold().replace("ё", "е")


@dataclass(frozen=True)
class Typed:
    flt: ContactFilter
    unknown: tuple[str, ...]  # what was not understood, as typed
    # two words for one thing (two lists, two statuses): (its key — "flag", a field of
    # LIST_FILTERS, "tag", "segment" or "owner_id" —, the first as typed, the other as typed)
    conflict: tuple[str, str, str] | None = None
    missing_segment: str | None = None  # a segment named that none of ``segments`` is


def parse_words(
    text: str,
    meanings: Callable[[str], Sequence[Meaning]],
    *,
    segments: Mapping[str, str] | None = None,
    owners: Mapping[str, int] | None = None,
) -> Typed:
    """ "lead #vip overdue", "лид установление связи", "segment retail", "owner rita": the
    filter they make. ``meanings`` tells what a phrase means; the longest phrase that means
    something wins, and a word meaning two things ("partner": a status and a source) takes the
    one not given yet (moving an earlier such word to its other meaning if need be). Two words
    for one thing ("overdue cold", "lead client", "#a #b") are a ``conflict``, not the last
    one's. After "segment" ("owner") come the words of one of ``segments`` (``owners``),
    folded names (:func:`fold`) to the stored segment (the owner's id); a segment not found
    runs to the next filter word (or is quoted) and is the ``missing_segment``."""
    words = text.split()
    values: dict[str, str | int | None] = {}
    said: dict[str, tuple[str, Sequence[Meaning]]] = {}  # key -> (as typed, what it may mean)
    unknown: list[str] = []
    conflicts: list[tuple[str, str, str]] = []
    missing: str | None = None

    def put(key: str, value: str | int, typed: str, found: Sequence[Meaning] = ()) -> None:
        if key in values and values[key] != value:
            conflicts.append((key, said[key][0], typed))
            return
        values[key], said[key] = value, (typed, found)

    def means(phrase: str) -> Sequence[Meaning]:
        return meanings(phrase) if not phrase.startswith("#") else (("tag", "#"),)

    at = 0
    while at < len(words):
        word = words[at]
        if word.startswith("#"):
            if tag := normalize_tag(word):
                put("tag", tag, word)
            else:
                unknown.append(word)
            at += 1
            continue
        found: Sequence[Meaning] = ()
        size = min(LONGEST_PHRASE, len(words) - at)
        while size and not (found := meanings(" ".join(words[at : at + size]))):
            size -= 1
        if not found:
            unknown.append(word)
            at += 1
            continue
        phrase = " ".join(words[at : at + size])
        at += size
        kind, code = found[0]
        if kind == "keyword":
            rest = words[at:]
            known = (segments if code == "segment" else owners) or {}
            quoted = code == "segment" and bool(rest) and rest[0][:1] in _QUOTES
            name, used = (None, 0) if quoted else _longest_known(rest, known)
            if name is None and code == "segment" and rest:
                name, used = _segment_name(rest, means)
                if name is not None and fold(name) not in known:
                    missing = missing or name
            if name is None:
                unknown.append(" ".join(words[at - size : at + 1]))
                at += 1
                continue
            put(_key((kind, code)), known.get(fold(name), name), name)
            at += used
            continue
        _take(values, said, phrase, found, put)
    return Typed(
        ContactFilter(**values),  # type: ignore[arg-type]
        tuple(unknown),
        conflicts[0] if conflicts else None,
        missing if missing is not None and values.get("segment") == missing else None,
    )


def _take(
    values: dict[str, str | int | None],
    said: dict[str, tuple[str, Sequence[Meaning]]],
    phrase: str,
    found: Sequence[Meaning],
    put: Callable[[str, str | int, str, Sequence[Meaning]], None],
) -> None:
    """A status, stage, source or list typed as ``phrase``: the meaning not given yet; when
    each is given, an earlier word meaning two things takes its other one ("partner client":
    the source partner, the status client); a value given again is nothing new."""
    found = [m for m in found if m[0] != "keyword"]
    free = next((m for m in found if m[0] not in values), None)
    if free is None and any(values.get(kind) == code for kind, code in found):
        return
    if free is None:
        for kind, _code in found:
            earlier, could = said[kind]
            other = next((m for m in could if m[0] not in values and m[0] != "keyword"), None)
            if other is not None:
                del values[kind]
                values[other[0]], said[other[0]] = other[1], (earlier, could)
                free = next(m for m in found if m[0] == kind)
                break
    kind, code = free or found[0]
    put(kind, code, phrase, found)


def _segment_name(
    words: list[str], means: Callable[[str], Sequence[Meaning]]
) -> tuple[str | None, int]:
    """A segment none of the cards has: the quoted words (“foo lead”), or the words up to the
    next filter word ("foo" of "foo lead")."""
    closing = _QUOTES.get(words[0][:1])
    if closing is not None:
        for used in range(1, len(words) + 1):
            name = " ".join(words[:used])
            if len(name) > 1 and name.endswith(closing):
                return name[1:-1].strip() or None, used
    used = next((i for i in range(1, len(words)) if means(words[i])), len(words))
    return " ".join(words[:used]).strip("".join(_QUOTES.values())) or None, used


def _key(meaning: Meaning) -> str:
    kind, code = meaning
    if kind == "keyword":
        return "owner_id" if code == "owner" else "segment"
    return kind


def _longest_known(words: list[str], known: Mapping[str, object]) -> tuple[str | None, int]:
    for size in range(len(words), 0, -1):
        name = " ".join(words[:size])
        if fold(name) in known:
            return name, size
    return None, 0
