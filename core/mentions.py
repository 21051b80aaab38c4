"""Which cards a note names: "Позвонил Петру Сидорову, ждёт КП" names Пётр Сидоров.

A rep who types what happened, outside any dialogue, is offered to log it as a touch with the
card it names. Names in a Russian note are inflected ("Петру", "Анной", "в Ромашке"), so each
capitalised word is cut to a stem that the case endings leave alone (its last two letters off,
at least three kept) and a card is named when a word of its name or company starts with it.
Plain functions: services.contacts.mentioned asks the search for each stem.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_][^\W_]*(?:['’-][^\W\d_]+)*")
PROBES = 6  # stems asked for, at most (the search runs once for each)
MIN_STEM = 3


def fold(text: str) -> str:
    """Case and ё folded, as the search folds them."""
    return text.casefold().replace("ё", "е")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def stem(word: str) -> str:
    """ "Петру" -> "пет", "Сидорову" -> "сидоро", "Anna" -> "an"… kept at ``MIN_STEM`` letters."""
    folded = fold(word.split("'")[0].split("’")[0])
    return folded[: max(MIN_STEM, len(folded) - 2)]


def name_probes(text: str, *, limit: int = PROBES) -> list[str]:
    """The stems of a note's capitalised words of three letters or more, in order, once each."""
    found: list[str] = []
    for word in words(text):
        if len(word) < MIN_STEM or not word[0].isupper():
            continue
        probe = stem(word)
        if probe not in found:
            found.append(probe)
        if len(found) == limit:
            break
    return found


def named_by(probes: list[str], *names: str | None) -> int:
    """How many of ``probes`` start a word of ``names`` (a card's name, its company)."""
    card_words = [fold(w) for name in names if name for w in words(name)]
    return sum(1 for p in probes if any(w.startswith(p) for w in card_words))


def is_only_names(text: str, *names: str | None, exact: bool = False, whole: bool = False) -> bool:
    """Every word of ``text`` starts a word of ``names``: "Анна Кузнецова", "Вектор" — a lookup,
    not a note. Each word is cut to its stem, unless ``exact`` (the words as typed: "Anastasya"
    does not name Anastasia); with ``whole``, each is a whole word of them ("Петров" does not
    name Петрова)."""
    said = words(text)
    if not said or len(said) > 3:
        return False
    card_words = [fold(w) for name in names if name for w in words(name)]
    if whole:
        return all(fold(s) in card_words for s in said)
    cut = fold if exact else stem
    return all(any(w.startswith(cut(s)) for w in card_words) for s in said)


# what is said to the bot, not about a contact: "hello there", "добрый день", "спасибо"
SMALL_TALK = frozenset(
    {
        *("hello", "hi", "hey", "there", "good", "morning", "afternoon", "evening", "bot"),
        *("thanks", "thank", "you", "ok", "okay", "bye", "yes", "no", "test"),
        *("привет", "здравствуйте", "здравствуй", "добрый", "доброе", "день", "вечер", "утро"),
        *("спасибо", "благодарю", "ок", "окей", "пока", "да", "нет", "бот", "тест", "всем"),
    }
)


def is_small_talk(text: str) -> bool:
    """A greeting or a thank-you, every word of it, or a bare link (not a note to log)."""
    if re.fullmatch(r"(?:https?://|t\.me/|www\.)\S*", text.strip(), re.IGNORECASE):
        return True
    said = words(text)
    return bool(said) and all(w.lower() in SMALL_TALK for w in said)
