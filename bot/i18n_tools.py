"""Keep the catalogues in step with the code: `python -m bot.i18n_tools` extracts every
translatable string and adds the new ones to each .po file (translations are kept).

`check()` is used by the tests: every string must be translated in every non-source language,
with the same {placeholders} and the same HTML tags.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("bot", "handlers", "services", "scheduler", "core", "views")
KEYWORDS = {"_": None, "__": None, "N_": None, "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
LOCALES = ROOT / "bot" / "locales"
SOURCE_LANGUAGE = "en"

_PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}")
_TAG = re.compile(r"</?[a-z-]+")


def extract() -> Catalog:
    catalog = Catalog(locale=SOURCE_LANGUAGE)
    for folder in SOURCE_DIRS:
        for filename, lineno, message, _comments, _ctx in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            if folder == "bot" and filename.startswith("emulator"):
                continue
            catalog.add(message, locations=[(f"{folder}/{filename}", lineno)])
    return catalog


def _po_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def load(lang: str) -> Catalog:
    with _po_path(lang).open("rb") as fp:
        return read_po(fp, locale=lang)


def update() -> None:
    template = extract()
    for lang_dir in sorted(LOCALES.iterdir()):
        lang = lang_dir.name
        catalog = load(lang)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with _po_path(lang).open("wb") as fp:
            write_po(fp, catalog, width=100, omit_header=False, no_location=True)
        print(f"{lang}: {len(catalog)} messages")


def problems() -> list[str]:
    template = extract()
    found: list[str] = []
    for lang_dir in sorted(LOCALES.iterdir()):
        lang = lang_dir.name
        if lang == SOURCE_LANGUAGE:
            continue
        catalog = load(lang)
        for message in template:
            if not message.id:
                continue
            translated = catalog.get(message.id)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            if (
                translated is None
                or not translated.string
                or (isinstance(translated.string, tuple) and not all(translated.string))
            ):
                found.append(f"{lang}: untranslated {ids[0]!r}")
                continue
            if translated.fuzzy:
                found.append(f"{lang}: fuzzy {ids[0]!r}")
            strings = (
                translated.string if isinstance(translated.string, tuple) else (translated.string,)
            )
            want_ph = set(_PLACEHOLDER.findall(ids[0]))
            want_tags = sorted(_TAG.findall(ids[0]))
            for s in strings:
                if set(_PLACEHOLDER.findall(s)) != want_ph:
                    found.append(f"{lang}: placeholders differ in {ids[0]!r}")
                if sorted(_TAG.findall(s)) != want_tags:
                    found.append(f"{lang}: HTML tags differ in {ids[0]!r}")
    return found


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        issues = problems()
        print("\n".join(issues) or "all translated")
        raise SystemExit(1 if issues else 0)
    update()
