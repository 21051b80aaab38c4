"""Due times for next steps: dates as people write them, in English and Russian.

- ``reading``: :func:`read_when` and :func:`parse_when` (the rules of reading are in its
  docstring);
- ``vocabulary``: the words and regex pieces the rules are built from;
- ``clocktimes``: times of day as written; ``dates``: calendar dates, a day of the month
  alone, the weekend; ``moments``: a day at a time of day, what the rules
  share;
- ``showing``: :func:`format_local`, :func:`format_day`, :func:`is_past`, :func:`local_day`;
- ``splitting``: :func:`split_when`, a step and its time written in one message.
"""

from core.nextstep.dates import RECENT_DAYS
from core.nextstep.moments import DEFAULT_TIME
from core.nextstep.reading import (
    FUTURE_YEARS,
    MAX_TEXT,
    PAST_YEARS,
    Reading,
    When,
    parse_when,
    read_when,
    warm_up,
    window,
)
from core.nextstep.showing import (
    format_day,
    format_local,
    format_local_day,
    format_local_time,
    is_past,
    local_day,
)
from core.nextstep.splitting import Split, split_when

__all__ = [
    "DEFAULT_TIME",
    "FUTURE_YEARS",
    "MAX_TEXT",
    "PAST_YEARS",
    "RECENT_DAYS",
    "Reading",
    "Split",
    "When",
    "format_day",
    "format_local",
    "format_local_day",
    "format_local_time",
    "is_past",
    "local_day",
    "parse_when",
    "read_when",
    "split_when",
    "warm_up",
    "window",
]
