"""Normalisation of contact details: phones, e-mails, Telegram usernames, tags, search keys."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers

MAX_TAG_LEN = 32

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9\u00a0-\uffff](?:[A-Za-z0-9\u00a0-\uffff-]{0,61}[A-Za-z0-9\u00a0-\uffff])?\.)+"
    r"[A-Za-z\u00a0-\uffff]{2,63}$"
)
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
_USERNAME_URL_RE = re.compile(
    r"^(?:https?://)?(?:www\.)?(?:t\.me|telegram\.me|telegram\.dog)/(?P<name>[^/?#\s]+)/?(?:[?#].*)?$",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\w")
# emoji: symbols (So), their skin-tone modifiers (Sk), variation selectors (Mn), the joiner
_EMOJI_CATEGORIES = frozenset({"So", "Sk", "Mn"})
_EMOJI_JOINERS = frozenset({"\u200d", "\ufe0f"})
_WS_RE = re.compile(r"\s+")

_TRANSLIT: dict[str, str] = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_TRANSLIT_TABLE = str.maketrans(
    {**_TRANSLIT, **{k.upper(): v.capitalize() for k, v in _TRANSLIT.items()}}
)


def is_name(text: str) -> bool:
    """A person's (or a company's) name has at least one letter: "12345" or "!!!" is a slip."""
    return any(ch.isalpha() for ch in text)


def digits_only(text: str) -> str:
    """Keep only the ASCII digits of ``text``."""
    return "".join(ch for ch in text if "0" <= ch <= "9")


# how a stored phone keeps its extension: RFC 3966's ";ext=" after the E.164 number
# ("+12125550100;ext=12"); a number without one is stored as plain E.164, as it always was
EXT_MARK = ";ext="
PHONE_MAX_LEN = 32  # contacts.phone is String(32)
# Russian extension labels phonenumbers does not read ("доб." it does): "доп.", "вн.",
# "внутр.", "добавочный" — each put as "ext" of the same length (offsets stay)
_RU_EXT_RE = re.compile(
    r"(?<!\w)(?:добавочн(?:ый|ого)|доп|внутр(?:енний)?|вн)(?!\w)\.?", re.IGNORECASE
)


def _english_ext(text: str) -> str:
    """ "+7 495 123-45-67 вн. 123" -> "+7 495 123-45-67 ext 123", of the same length."""
    return _RU_EXT_RE.sub(
        lambda m: ("ext" if len(m.group(0)) >= 3 else "x").ljust(len(m.group(0))), text
    )


def normalize_phone(raw: str, region: str) -> str | None:
    """Return the phone in E.164 form ("+79991234567"), or None if it is not a valid number.

    ``region`` is the ISO 3166 code used for numbers written without a country code
    (e.g. "RU" turns "8 (912) 345-67-89" into "+79123456789"). An extension, as phonenumbers
    reads it ("ext. 12", "x12", "доб. 123", "#12"; also "доп.", "вн."), is kept after
    :data:`EXT_MARK`: "+1 212 555 0100 ext. 12" is "+12125550100;ext=12".
    """
    text = _english_ext(raw.strip())
    if not text or len(digits_only(text)) < 5:
        return None
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not number.extension:
        return e164
    stored = f"{e164}{EXT_MARK}{number.extension}"
    return stored if len(stored) <= PHONE_MAX_LEN else None


def split_extension(stored: str) -> tuple[str, str | None]:
    """A stored phone's number and extension: ("+12125550100", "12") or (number, None)."""
    number, mark, extension = stored.partition(EXT_MARK)
    return (number, extension) if mark and extension else (stored, None)


def phone_end(text: str, start: int, end: int, region: str) -> int:
    """Where the phone found at ``text[start:end]`` ends with its extension, when one follows
    in the same part ("+1 212 555 0100 ext. 12", "(212) 555-0100 x12", "… (доб. 123)"), as
    phonenumbers' matcher reads it; else ``end``."""
    stop = min((i for i in (text.find(c, end) for c in ",;\n") if i >= 0), default=len(text))
    digits_end = start + max(i for i, ch in enumerate(text[start:end]) if ch.isdigit()) + 1
    tail = text[digits_end:stop].replace("(", " ").replace(")", " ")  # "… (доб. 123)"
    window = _english_ext(text[start:digits_end] + tail)
    region_code = (region or "").upper() or None
    for match in phonenumbers.PhoneNumberMatcher(window, region_code):
        after = window[match.end :].lstrip()[:1]
        if window[: match.start].strip(" (") or not match.number.extension or after.isdigit():
            return end  # no extension, or digits run on ("доп. 8 999 …": another number)
        return start + max(match.end, end - start)
    return end


def is_phone_with_extension(text: str, region: str) -> bool:
    """The whole text is one phone number with its extension ("+1 212 555 0100 ext. 12")."""
    window = _english_ext(text.strip())
    found = list(phonenumbers.PhoneNumberMatcher(window, (region or "").upper() or None))
    return (
        len(found) == 1
        and found[0].start == 0
        and found[0].end == len(window)
        and bool(found[0].number.extension)
    )


def display_phone(stored: str, ext: str = "ext.") -> str:
    """A stored (E.164) phone in international format, "+7 999 123-45-67", which Telegram
    shows as a tappable number, with its extension named by ``ext`` (the reader's word for it:
    "+1 212-555-0100 ext. 12", "… доб. 12"); anything unreadable is returned as it is."""
    try:
        number = phonenumbers.parse(stored, None)
    except phonenumbers.NumberParseException:
        return stored
    if not phonenumbers.is_possible_number(number):
        return stored
    extension, number.extension = number.extension, None
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{shown} {ext} {extension}" if extension else shown


def normalize_email(raw: str) -> str | None:
    """Strip, lower-case and validate; None if it is not an e-mail address. The local part is
    lower-cased too (no mail service tells "Ann@" from "ann@"), so one address is one card:
    "ANN@x.com" on a second card was not seen as the first card's "ann@x.com"."""
    text = raw.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :]
    if text.count("@") != 1 or len(text) > 254:
        return None
    local, domain = text.split("@")
    if not local or len(local) > 64:
        return None
    email = f"{local}@{domain}".lower()
    if not _EMAIL_RE.match(email):
        return None
    return email


def normalize_username(raw: str) -> str | None:
    """Accept "@name", "name", "t.me/name", "https://t.me/name"; return "name" or None.

    Telegram usernames are [A-Za-z0-9_] starting with a letter; regular ones are 5-32 chars,
    collectible ones (Fragment) may be 4 chars, so 4-32 chars are accepted.
    """
    text = raw.strip()
    match = _USERNAME_URL_RE.match(text)
    if match:
        text = match.group("name")
    elif text.startswith("@"):
        text = text[1:]
    if not _USERNAME_RE.match(text):
        return None
    return text


def _tag_char(ch: str) -> bool:
    """Letters (any script), digits, "_", "-", and emoji (with their joiners and modifiers)."""
    if ch == "-" or _WORD_RE.match(ch):
        return True
    return unicodedata.category(ch) in _EMOJI_CATEGORIES or ch in _EMOJI_JOINERS


def normalize_tag(raw: str) -> str | None:
    """ "#Event" -> "event", "#🔥Hot" -> "🔥hot". Letters (any script), digits, "_", "-" and
    emoji; 1-32 characters."""
    text = raw.strip().lstrip("#").strip().casefold()
    if not 1 <= len(text) <= MAX_TAG_LEN or not all(_tag_char(ch) for ch in text):
        return None
    return text


def translit(text: str) -> str:
    """Transliterate Russian Cyrillic to Latin ("Щука" -> "Shchuka"); other text is unchanged."""
    return text.translate(_TRANSLIT_TABLE)


def _normalize(text: str) -> str:
    return _WS_RE.sub(" ", text.casefold().replace("ё", "е")).strip()


def search_key(text: str) -> str:
    """A normalised string to store for searching: casefolded text plus its transliteration.

    "Анна  Смирнова" -> "анна смирнова anna smirnova"; "Anna" -> "anna".
    """
    base = _normalize(text)
    latin = translit(base)
    if latin != base:
        return f"{base} {latin}"
    return base


def query_variants(q: str) -> list[str]:
    """Distinct normalised variants of a search query to match against :func:`search_key`."""
    variants: list[str] = []
    base = _normalize(q)
    for variant in (base, translit(base)):
        if variant and variant not in variants:
            variants.append(variant)
    return variants


# --------------------------------------------------------------------------------- /find
TRIGRAM = 3  # the text indexes (SQLite FTS5 trigram, PostgreSQL pg_trgm) work on 3-grams


@dataclass(frozen=True)
class SearchQuery:
    """What a /find query asks for.

    ``kind``: "phone" (mostly digits), "email" (an address), "tag" (#tag), "username"
    (@name) or "text". ``variants`` are the normalised forms to look for in a card's search
    text (the query and its transliteration for text).
    """

    kind: str
    variants: tuple[str, ...]
    tag: str | None = None
    email: str | None = None
    phone: str | None = None  # "+<digits>", for an exact match on the stored E.164 number


_PHONE_PIECE_RE = re.compile(r"[\d\s\-().+]+")


def parse_query(query: str) -> SearchQuery | None:
    """Classify a /find query; None when there is nothing to look for."""
    q = " ".join(query.split())
    if not q:
        return None
    digits = digits_only(q)
    if len(digits) >= 5 and len(digits) >= len(q.replace(" ", "")) * 0.6:
        # "+1 212 555 0100 ext. 12" is looked for as stored, with its extension
        stored = normalize_phone(q, "")
        exact = stored if stored and EXT_MARK in stored else f"+{digits}"
        return SearchQuery("phone", (digits[-10:],), phone=exact)
    if len(digits) >= TRIGRAM and _PHONE_PIECE_RE.fullmatch(q):
        # the end of a number as cards show it ("45-67", "(912) 1"): its digits are searched
        return SearchQuery("text", (digits,))
    if q.startswith("#"):
        tag = normalize_tag(q)
        return SearchQuery("tag", (tag,), tag=tag) if tag else None
    if q.startswith("@"):
        name = q[1:].casefold()
        return SearchQuery("username", (name,)) if name else None
    email = normalize_email(q) if "@" in q else None
    if email is not None:
        return SearchQuery("email", (email.casefold(),), email=email)
    variants = tuple(query_variants(q))
    return SearchQuery("text", variants) if variants else None


def typo_pieces(variants: tuple[str, ...] | list[str], size: int | None = None) -> set[str]:
    """Pieces of the query's words that survive one typo: each word's head and tail.

    ``size`` None: half the word (at least a trigram), which a single edit leaves intact on one
    side for most words and which is selective; ``size=3``: the first and last three letters
    (what the LIKE-based search used)."""
    pieces: set[str] = set()
    for v in variants:
        for word in v.split():
            if len(word) >= 4:
                n = size or max(TRIGRAM, len(word) // 2)
                pieces.add(word[:n])
                pieces.add(word[-n:])
    return pieces


def name_tier(name: str, variants: tuple[str, ...] | list[str]) -> int:
    """How a card's name answers the query: 0 the name itself, 1 the name starts with it, 2 a
    word of the name starts with it, 3 it is inside the name, 4 elsewhere on the card."""
    keys = [k for k in dict.fromkeys([_normalize(name), translit(_normalize(name))]) if k]
    best = 4
    for v in variants:
        for key in keys:
            if key == v:
                return 0
            if key.startswith(v):
                best = min(best, 1)
            elif any(w.startswith(v) for w in key.split()) or f" {v}" in key:
                best = min(best, 2)
            elif v in key:
                best = min(best, 3)
    return best


def phone_or_email(text: str, region: str) -> tuple[str, str] | None:
    """("phone", E.164) or ("email", address) when the whole text is one and nothing else — a
    phone typed where a company was asked for is a phone; "3M" or "Room 101" is not."""
    if "@" in text and (email := normalize_email(text)) is not None:
        return "email", email
    lettered = any(ch.isalpha() for ch in text)  # a phone's only letters: its extension's
    if sum(ch.isdigit() for ch in text) >= 7 and (
        not lettered or is_phone_with_extension(text, region)
    ):
        phone = normalize_phone(text, region)
        return ("phone", phone) if phone is not None else None
    return None
