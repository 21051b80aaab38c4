"""Fuzzy duplicate detection on name + company, across Cyrillic and Latin spellings."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

from core.contactdata import translit

CLOSE_MATCH_THRESHOLD = 88.0

# Legal forms that say nothing about which company it is.
_COMPANY_NOISE = frozenset(
    {
        "inc",
        "llc",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "plc",
        "sa",
        "bv",
        "oy",
        "ooo",
        "oao",
        "zao",
        "pao",
        "ao",
        "ip",
        "too",
        "the",
    }
)
_NON_WORD_RE = re.compile(r"[^\w]+")


def _key(text: str | None) -> str:
    """Casefold, ё->е, transliterate to Latin, drop accents and punctuation, collapse spaces."""
    if not text:
        return ""
    latin = translit(text.casefold().replace("ё", "е"))
    latin = "".join(
        ch for ch in unicodedata.normalize("NFKD", latin) if not unicodedata.combining(ch)
    )
    return " ".join(_NON_WORD_RE.sub(" ", latin).split())


def _company_key(text: str | None) -> str:
    words = [w for w in _key(text).split() if w not in _COMPANY_NOISE]
    return " ".join(words)


def _similarity(a: str, b: str) -> float:
    if not a and not b:
        return 100.0
    if not a or not b:
        return 0.0
    return float(fuzz.token_sort_ratio(a, b))


def name_similarity(name_a: str | None, name_b: str | None) -> float:
    """0-100 similarity of two person names, word order and script insensitive."""
    return _similarity(_key(name_a), _key(name_b))


def company_similarity(company_a: str | None, company_b: str | None) -> float:
    """0-100 similarity of two company names, ignoring legal forms (Inc, LLC, ООО...)."""
    a, b = _company_key(company_a), _company_key(company_b)
    if not a and not b:
        # Only legal forms (or nothing) on both sides: compare what there is.
        a, b = _key(company_a), _key(company_b)
    return _similarity(a, b)


def name_company_similarity(
    name_a: str | None, company_a: str | None, name_b: str | None, company_b: str | None
) -> float:
    """0-100 similarity of "name company" strings (token_sort_ratio on transliterated keys)."""
    left = f"{_key(name_a)} {_company_key(company_a)}".strip()
    right = f"{_key(name_b)} {_company_key(company_b)}".strip()
    return _similarity(left, right)


def is_close_match(
    name_a: str | None,
    company_a: str | None,
    name_b: str | None,
    company_b: str | None,
    threshold: float = CLOSE_MATCH_THRESHOLD,
    *,
    one_sided_company_matches: bool = False,
) -> bool:
    """Likely the same person: names close AND (both companies empty OR companies close).

    Legal forms are ignored ("Acme" ~ "ACME Inc"). With ``one_sided_company_matches`` a company
    known on one side only does not block a match ("Anna Smirnova" vs "Anna Smirnova, Acme").
    """
    if not _key(name_a) or not _key(name_b):
        return False
    if name_similarity(name_a, name_b) < threshold:
        return False
    has_a, has_b = bool(_key(company_a)), bool(_key(company_b))
    if not has_a and not has_b:
        return True
    if has_a != has_b:
        return one_sided_company_matches
    return company_similarity(company_a, company_b) >= threshold
