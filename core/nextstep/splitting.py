"""A next step written with its time in one message: "call back tomorrow 10:00", "завтра
позвонить", "send the proposal on friday".

:func:`split_when` finds the words at the end (or else at the start) of the text that read as a
due time on their own (:func:`~core.nextstep.reading.read_when`, the same rules as the "When?"
question) and leaves the rest as what to do. The longest such run wins ("позвонить завтра в 10"
is "позвонить" at "завтра в 10", not "позвонить завтра в" at "10"). Nothing is split out of the
middle of a sentence, and a text that is only a date has nothing left to say what: both give
None, and the dialogue asks as before. The caller shows the due time for confirmation, so a
reading it got wrong costs the rep one tap on "Change".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.nextstep.reading import IMPOSSIBLE, read_when

MAX_WHEN_WORDS = 6  # "next friday at 3 pm", "5 декабря 2026 в 15:00": a date is never longer
_JOINERS = " ,;:—–-"  # "позвонить — завтра", "call back, tomorrow"
# left dangling by a date it belonged to ("call by | friday"): not part of what to do
_PREPOSITIONS = frozenset("on at by in till until before до в во к ко на с со по".split())


@dataclass(frozen=True, slots=True)
class Split:
    what: str
    when: str  # the words that read as the due time, as the rep wrote them
    # aware, UTC; None: the words name a day with a time no clock shows ("завтра в 25:00") or
    # a day no calendar has ("31 февраля"),
    # which the caller asks about again rather than take the rest of the message for the step
    due: datetime | None


def split_when(text: str, *, now: datetime, tz: str, lang_hint: str | None = None) -> Split | None:
    """What to do and when, from one message; None when no run of words at its end or start
    reads as a due time with something left over to say what. Never raises."""
    words = text.split()
    whole = read_when(text, now=now, tz=tz, lang_hint=lang_hint)
    if len(words) < 2 or whole.due is not None or whole.status in IMPOSSIBLE:
        return None  # one word, or only a date: nothing says what to do
    for n in range(min(MAX_WHEN_WORDS, len(words) - 1), 0, -1):
        for at_end in (True, False):
            when_words, what_words = (words[-n:], words[:-n]) if at_end else (words[:n], words[n:])
            while at_end and what_words and what_words[-1].casefold() in _PREPOSITIONS:
                what_words = what_words[:-1]
            what = " ".join(what_words).strip(_JOINERS)
            when = " ".join(when_words).strip(_JOINERS)
            if not any(ch.isalpha() for ch in what) or not when:
                continue
            reading = read_when(when, now=now, tz=tz, lang_hint=lang_hint)
            if reading.due is not None or reading.status in IMPOSSIBLE:
                return Split(what, when, reading.due)
    return None
