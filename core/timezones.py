"""Turn what a person types ("Moscow", "Europe/Berlin", "UTC+3", "Москва") into an IANA zone."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import lru_cache

from rapidfuzz import fuzz, process

from core.locales import babel_locale

COMMON_ZONES = (
    "Europe/Moscow",
    "Europe/London",
    "Europe/Berlin",
    "Asia/Dubai",
    "Asia/Almaty",
    "Asia/Yekaterinburg",
    "Asia/Novosibirsk",
    "America/New_York",
    "UTC",
)

# What people type that is not a zone's own city (Babel names those, in every language):
# abbreviations, nicknames, and big cities that share another city's zone.
ALIASES = {
    "мск": "Europe/Moscow",
    "msk": "Europe/Moscow",
    "по мск": "Europe/Moscow",
    "московское время": "Europe/Moscow",
    "moscow time": "Europe/Moscow",
    "moskva": "Europe/Moscow",
    "спб": "Europe/Moscow",
    "spb": "Europe/Moscow",
    "питер": "Europe/Moscow",
    "piter": "Europe/Moscow",
    "санкт-петербург": "Europe/Moscow",
    "санкт петербург": "Europe/Moscow",
    "петербург": "Europe/Moscow",
    "st petersburg": "Europe/Moscow",
    "st. petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "казань": "Europe/Moscow",
    "нижний новгород": "Europe/Moscow",
    "нн": "Europe/Moscow",
    "сочи": "Europe/Moscow",
    "краснодар": "Europe/Moscow",
    "ростов": "Europe/Moscow",
    "ростов-на-дону": "Europe/Moscow",
    "воронеж": "Europe/Moscow",
    "тула": "Europe/Moscow",
    "ярославль": "Europe/Moscow",
    "екб": "Asia/Yekaterinburg",
    "ekb": "Asia/Yekaterinburg",
    "челябинск": "Asia/Yekaterinburg",
    "пермь": "Asia/Yekaterinburg",
    "уфа": "Asia/Yekaterinburg",
    "тюмень": "Asia/Yekaterinburg",
    "нск": "Asia/Novosibirsk",
    "nsk": "Asia/Novosibirsk",
    "новосиб": "Asia/Novosibirsk",
    "кемерово": "Asia/Novokuznetsk",
    "хабаровск": "Asia/Vladivostok",
    "астана": "Asia/Almaty",
    "алма-ата": "Asia/Almaty",
    "дубаи": "Asia/Dubai",
    "пхукет": "Asia/Bangkok",
    "бали": "Asia/Makassar",
    "bali": "Asia/Makassar",
    "лимассол": "Asia/Nicosia",
    "тель-авив": "Asia/Jerusalem",
    "tel aviv": "Asia/Jerusalem",
    "ny": "America/New_York",
    "nyc": "America/New_York",
    "нью йорк": "America/New_York",
    "la": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles",
    "сан-франциско": "America/Los_Angeles",
}
# abbreviations people write for a zone that keeps summer time (the fixed "EST" zone does not)
ALIASES.update(
    {
        **dict.fromkeys(("pst", "pdt", "pt", "pacific time"), "America/Los_Angeles"),
        **dict.fromkeys(("mst", "mdt", "mt", "mountain time"), "America/Denver"),
        **dict.fromkeys(("cst", "cdt", "ct", "central time"), "America/Chicago"),
        **dict.fromkeys(("est", "edt", "et", "eastern time"), "America/New_York"),
        **dict.fromkeys(("cet", "cest"), "Europe/Paris"),
        **dict.fromkeys(("bst", "uk"), "Europe/London"),
        **dict.fromkeys(("ist", "india time"), "Asia/Kolkata"),
        **dict.fromkeys(("jst",), "Asia/Tokyo"),
        **dict.fromkeys(("камчатка", "kamchatka"), "Asia/Kamchatka"),
        **dict.fromkeys(
            ("мумбаи", "мумбай", "бомбей", "дели", "нью-дели", "бангалор"), "Asia/Kolkata"
        ),
        **dict.fromkeys(
            ("mumbai", "bombay", "delhi", "new delhi", "bangalore", "bengaluru"), "Asia/Kolkata"
        ),
    }
)
# an offset of whole hours is an Etc zone; one with minutes is the zone that keeps it
HALF_HOURS = {
    "+3:30": "Asia/Tehran",
    "+4:30": "Asia/Kabul",
    "+5:30": "Asia/Kolkata",
    "+5:45": "Asia/Kathmandu",
    "+6:30": "Asia/Yangon",
    "+8:45": "Australia/Eucla",
    "+9:30": "Australia/Darwin",
    "+10:30": "Australia/Lord_Howe",
    "+12:45": "Pacific/Chatham",
    "-2:30": "America/St_Johns",
    "-3:30": "America/St_Johns",
    "-9:30": "Pacific/Marquesas",
}
FUZZY_MIN_LENGTH = 5  # "мск" is one letter from "омск": short words are matched exactly only

_OFFSET_RE = re.compile(
    r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?:(:?)(\d{2})|[.,](\d{1,2}))?$", re.IGNORECASE
)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """lower-case key -> canonical name: full names, their city parts, and each zone's city as
    Babel names it in English and Russian ("Томск" is Asia/Tomsk, not Omsk)."""
    from babel.dates import get_timezone_location  # locale data: loaded when first asked

    index: dict[str, str] = {}
    names = sorted(zoneinfo.available_timezones())
    for name in names:
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")) and name != "Etc/UTC":
            continue
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        index.setdefault(city, name)
    for name in names:
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        for locale in ("ru", "en"):
            try:
                city = get_timezone_location(name, locale=locale, return_city=True)
            except (LookupError, ValueError):
                continue
            index.setdefault(city.lower().replace("ё", "е"), name)
    return index


def zone_label(name: str) -> str:
    """A zone as people write it: "Etc/GMT-3" (POSIX, sign inverted) is "UTC+3", the offset the
    person typed; any other zone by its name."""
    m = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", name)
    if m is None:
        return name
    return f"UTC{'+' if m.group(1) == '-' else '-'}{int(m.group(2))}"


def zone_name(name: str, lang: str, at: datetime) -> str:
    """A zone as a person reads it in their language, with its offset at ``at``: "Новосибирск,
    UTC+7", "New York, UTC-5"; an offset zone or UTC as :func:`zone_label` gives it."""
    from babel.dates import get_timezone_location  # locale data: loaded when first asked

    label = zone_label(name)
    if label != name or "/" not in name:
        return label
    if name.startswith("Etc/"):  # Etc/UTC, Etc/GMT, Etc/Zulu: the offsets are above
        return "UTC"
    try:
        city = get_timezone_location(name, locale=babel_locale(lang), return_city=True)
        offset = at.astimezone(zoneinfo.ZoneInfo(name)).utcoffset()
    except (LookupError, ValueError, zoneinfo.ZoneInfoNotFoundError):
        return name
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    shown = f"{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")
    return f"{city}, UTC{sign}{shown}"


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    """A country's name (English, Russian: CLDR through Babel) -> its zone, for the countries
    that have one zone (India, France; not Russia or the USA), from the tz database's own
    table of zones by country."""
    from importlib.resources import files

    from babel import Locale

    by_country: dict[str, list[str]] = {}
    for line in files("tzdata.zoneinfo").joinpath("zone.tab").read_text().splitlines():
        if line and not line.startswith("#"):
            code, _coords, zone = line.split("\t")[:3]
            by_country.setdefault(code, []).append(zone)
    index: dict[str, str] = {}
    for locale in ("en", "ru"):
        for code, name in Locale(locale).territories.items():
            zones = by_country.get(code, [])
            if zones and len({_offsets(z) for z in zones}) == 1:  # Germany's two keep one time
                index.setdefault(name.lower().replace("ё", "е"), zones[0])
    return index


def _offsets(zone: str) -> tuple[object, object]:
    """A zone's offsets in winter and in summer (of one year): zones that keep the same time."""
    tz = zoneinfo.ZoneInfo(zone)
    return tuple(datetime(2026, m, 15, 12, tzinfo=tz).utcoffset() for m in (1, 7))  # type: ignore[return-value]


def resolve_timezone(text: str) -> str | None:
    """The zone ``text`` names, a slip of the finger forgiven (see :func:`find_timezone`)."""
    found = find_timezone(text)
    return found[0] if found else None


def find_timezone(text: str) -> tuple[str, bool] | None:
    """The zone ``text`` names and whether it names it exactly; False when only a close spelling
    was found ("Novosibirks", but also "Atlantis" for Canada/Atlantic): the person is asked."""
    value = " ".join(text.strip().split())
    if not value or len(value) > 64:
        return None
    low = value.lower()
    if low in ("utc", "gmt", "z"):
        return "UTC", True
    m = _OFFSET_RE.match(low)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(4) or 0)
        if m.group(5):  # "+5.5": hours and a decimal part
            minutes = round(float("0." + m.group(5)) * 60)
        if minutes:
            found = HALF_HOURS.get(f"{sign}{hours}:{minutes:02d}")
            return (found, True) if found else None
        if hours > 14:
            return None
        if hours == 0:
            return "UTC", True
        # POSIX Etc zones have the sign inverted: UTC+3 is Etc/GMT-3
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}", True
    low = low.replace("ё", "е")
    if low in ALIASES:
        return ALIASES[low], True
    zones = _zones()
    if low in zones:
        return zones[low], True
    if (country := _countries().get(low)) is not None:
        return country, True
    if "," in low:  # "Paris, France": the city, else the country
        for part in (p.strip() for p in low.split(",")):
            if (found := find_timezone(part)) is not None and found[1]:
                return found
    if len(low) < FUZZY_MIN_LENGTH:
        return None
    keys = [*zones, *ALIASES]
    match = process.extractOne(low, keys, scorer=fuzz.ratio, score_cutoff=85)
    if match is None:
        return None
    return zones.get(match[0]) or ALIASES[match[0]], False
