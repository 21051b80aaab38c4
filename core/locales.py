"""Babel's locale for a language code, for numbers, percentages and dates as people write them."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

# the languages the bot speaks (bot.i18n.LANGUAGES): numbers and dates follow the text's language
SPOKEN = ("en", "ru")


@lru_cache(maxsize=16)
def babel_locale(lang: str | None) -> Locale:
    """Babel's locale for a language code ("ru", "ru-RU"); English for any other."""
    short = (lang or "").replace("_", "-").split("-")[0].lower()
    return Locale.parse(short if short in SPOKEN else "en")
