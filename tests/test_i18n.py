from __future__ import annotations

from bot.i18n import create_i18n, normalize_language
from bot.i18n_tools import extract, problems


def test_every_string_is_translated_with_the_same_placeholders() -> None:
    assert len(extract()) > 50
    assert problems() == []


def test_russian_is_served_and_english_is_the_source() -> None:
    i18n = create_i18n("en")
    assert i18n.gettext("Nothing to cancel.", locale="en") == "Nothing to cancel."
    ru = i18n.gettext("Nothing to cancel.", locale="ru")
    assert ru != "Nothing to cancel." and ru


def test_language_code_normalisation() -> None:
    assert normalize_language("ru-RU", "en") == "ru"
    assert normalize_language("en-GB", "ru") == "en"
    assert normalize_language("de", "en") == "en"
    assert normalize_language(None, "ru") == "ru"
