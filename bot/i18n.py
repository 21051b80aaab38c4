"""Translations: aiogram's gettext I18n, fed from the .po catalogues under bot/locales.

The .po files are compiled in memory at start-up (Babel), so no binary .mo files live in the repo
and a catalogue can never be out of date with its compiled form.
"""

from __future__ import annotations

import gettext as std_gettext
import io
from pathlib import Path
from typing import Any

from aiogram.types import TelegramObject
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18n, I18nMiddleware, get_i18n
from aiogram.utils.i18n import gettext as _gettext
from aiogram.utils.i18n import lazy_gettext as _lazy_gettext
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
LANGUAGES = ("en", "ru")

_ = _gettext
__ = _lazy_gettext


def gettext_noop(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


N_ = gettext_noop


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for ``n`` in the current language (Russian has three)."""
    return _gettext(singular, plural, n)


def current_language(default: str = "en") -> str:
    """The language the current update (or scheduled message) is rendered in."""
    try:
        return get_i18n().current_locale
    except LookupError:
        return default


def compile_catalogs(path: Path = LOCALES_DIR) -> dict[str, std_gettext.GNUTranslations]:
    translations: dict[str, std_gettext.GNUTranslations] = {}
    for lang_dir in sorted(path.iterdir()):
        po_path = lang_dir / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.exists():
            continue
        with po_path.open("rb") as fp:
            catalog = read_po(fp, locale=lang_dir.name)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        translations[lang_dir.name] = std_gettext.GNUTranslations(buf)
    return translations


def create_i18n(default_locale: str = "en") -> I18n:
    # I18n itself only loads compiled .mo files; point it at a folder without locales (the
    # `en` catalogue's own folder) and hand it the catalogues compiled from .po instead.
    # (Subclassing would give the subclass its own context variable, unseen by `gettext`.)
    i18n = I18n(
        path=LOCALES_DIR / "en" / "LC_MESSAGES", default_locale=default_locale, domain=DOMAIN
    )
    i18n.path = LOCALES_DIR
    i18n.locales = compile_catalogs(LOCALES_DIR)
    return i18n


def normalize_language(code: str | None, default: str) -> str:
    if code:
        short = code.split("-")[0].split("_")[0].lower()
        if short in LANGUAGES:
            return short
        if short in ("uk", "be", "kk"):
            return "ru"
    return default


def user_language(language: str | None, tg_language: str | None, default: str) -> str:
    """A person's language: their choice in /settings, else their Telegram language."""
    return language or normalize_language(tg_language, default)


class LocaleMiddleware(I18nMiddleware):
    """The user's own choice from /settings first, then Telegram's language_code."""

    def __init__(self, i18n: I18n, default_language: str) -> None:
        super().__init__(i18n)
        self.default_language = default_language

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("user")
        tg_user: TgUser | None = data.get("event_from_user")
        return user_language(
            user.language if user is not None else None,
            tg_user.language_code if tg_user else None,
            self.default_language,
        )
