"""Turn what a person types ("Moscow", "Europe/Berlin", "UTC+3", "Москва") into an IANA zone."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from rapidfuzz import fuzz, process

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

RU_CITIES = {
    "москва": "Europe/Moscow",
    "санкт-петербург": "Europe/Moscow",
    "петербург": "Europe/Moscow",
    "спб": "Europe/Moscow",
    "казань": "Europe/Moscow",
    "нижний новгород": "Europe/Moscow",
    "самара": "Europe/Samara",
    "екатеринбург": "Asia/Yekaterinburg",
    "челябинск": "Asia/Yekaterinburg",
    "пермь": "Asia/Yekaterinburg",
    "уфа": "Asia/Yekaterinburg",
    "омск": "Asia/Omsk",
    "новосибирск": "Asia/Novosibirsk",
    "красноярск": "Asia/Krasnoyarsk",
    "иркутск": "Asia/Irkutsk",
    "владивосток": "Asia/Vladivostok",
    "хабаровск": "Asia/Vladivostok",
    "калининград": "Europe/Kaliningrad",
    "минск": "Europe/Minsk",
    "киев": "Europe/Kyiv",
    "алматы": "Asia/Almaty",
    "астана": "Asia/Almaty",
    "ташкент": "Asia/Tashkent",
    "тбилиси": "Asia/Tbilisi",
    "ереван": "Asia/Yerevan",
    "баку": "Asia/Baku",
    "дубай": "Asia/Dubai",
    "лондон": "Europe/London",
    "берлин": "Europe/Berlin",
    "нью-йорк": "America/New_York",
}

_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    """lower-case key -> canonical name, for full names and for city parts."""
    index: dict[str, str] = {}
    for name in sorted(zoneinfo.available_timezones()):
        if name.startswith(("Etc/", "SystemV/", "posix/", "right/")) and name != "Etc/UTC":
            continue
        index.setdefault(name.lower(), name)
        city = name.rsplit("/", 1)[-1].replace("_", " ").lower()
        index.setdefault(city, name)
    return index


def zone_label(name: str) -> str:
    """A zone as people write it: "Etc/GMT-3" (POSIX, sign inverted) is "UTC+3", the offset the
    person typed; any other zone by its name."""
    m = re.fullmatch(r"Etc/GMT([+-])(\d{1,2})", name)
    if m is None:
        return name
    return f"UTC{'+' if m.group(1) == '-' else '-'}{int(m.group(2))}"


def resolve_timezone(text: str) -> str | None:
    value = " ".join(text.strip().split())
    if not value or len(value) > 64:
        return None
    low = value.lower()
    if low in ("utc", "gmt", "z"):
        return "UTC"
    m = _OFFSET_RE.match(low)
    if m:
        sign, hours, minutes = m.group(1), int(m.group(2)), int(m.group(3) or 0)
        if minutes or hours > 14:
            return None
        if hours == 0:
            return "UTC"
        # POSIX Etc zones have the sign inverted: UTC+3 is Etc/GMT-3
        return f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    if low in RU_CITIES:
        return RU_CITIES[low]
    zones = _zones()
    if low in zones:
        return zones[low]
    match = process.extractOne(low, list(zones), scorer=fuzz.ratio, score_cutoff=85)
    if match is not None:
        return zones[match[0]]
    ru = process.extractOne(low, list(RU_CITIES), scorer=fuzz.ratio, score_cutoff=85)
    if ru is not None:
        return RU_CITIES[ru[0]]
    return None
