"""The chart of the digest and /stats: NPS by week and the funnel by stage, as a PNG.

Plain data in (services.reports.Chart), labels in the current language; matplotlib is imported
only when a chart is drawn.
"""

from __future__ import annotations

import asyncio
import io
import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_interval

from bot.i18n import _, current_language, ngettext
from core import metrics as m
from core.locales import babel_locale
from core.nps import format_nps
from views.labels import label_text

if TYPE_CHECKING:
    from services import metrics as mx
    from services import reports


def answers_count(n: int, lang: str = "en") -> str:
    return ngettext("{n} answer", "{n} answers", n).format(n=m.fmt_number(n, lang))


def chart_png(
    weeks: list[mx.WeekNps],
    funnel: list[tuple[str, int]],
    *,
    nps_title: str,
    funnel_title: str,
    no_answers: str,
    stage_labels: list[str],
    date_labels: list[str],
    point_labels: list[str | None] | None = None,
    nps_axes: tuple[str, str] = ("", ""),
    funnel_axes: tuple[str, str] = ("", ""),
) -> bytes:
    """NPS by week (a line; gaps for weeks without answers; each point labelled with its score
    and the answers behind it) and the funnel by stage (bars); ``*_axes`` are the (x, y) axis
    titles. Matplotlib's object API on the Agg canvas: no display, no global pyplot state —
    imported here, so a process that never draws never loads it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(10, 4.6), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    values = [w.figures.score for w in weeks]
    points = point_labels or [None if v is None else str(v) for v in values]
    ys = [math.nan if v is None else v for v in values]
    xs = list(range(len(weeks)))
    left.plot(xs, ys, marker="o", color="#2a7ae2")
    left.axhline(0, color="#999999", linewidth=0.8)
    left.set_ylim(-100, 125)  # room above +100 for a point's label
    left.set_yticks(range(-100, 101, 50))
    left.set_xticks(xs)
    left.set_xticklabels(date_labels, rotation=30, ha="right", fontsize=8)
    left.set_title(nps_title)
    left.set_xlabel(nps_axes[0])
    left.set_ylabel(nps_axes[1])
    left.grid(True, alpha=0.3)
    for x, v, text in zip(xs, values, points, strict=True):
        if v is not None and text:
            left.annotate(
                text, (x, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8
            )
    if all(v is None for v in values):
        left.text(0.5, 0.6, no_answers, ha="center", va="center", transform=left.transAxes)
    counts = [n for _, n in funnel]
    positions = list(range(len(funnel)))[::-1]
    right.barh(positions, counts, color="#5cb85c")
    right.set_yticks(positions)
    right.set_yticklabels(stage_labels, fontsize=9)
    right.set_title(funnel_title)
    right.set_xlabel(funnel_axes[0])
    right.set_ylabel(funnel_axes[1])
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    for y, n in zip(positions, counts, strict=True):
        right.annotate(str(n), (n, y), textcoords="offset points", xytext=(4, -3), fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def week_label(start: datetime, tz: str, lang: str) -> str:
    """A 7-day week as a reader names it, by its first and last local day: "Nov 16 – 23",
    "Oct 26 – Nov 2"; "16—23 нояб." in Russian."""
    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date()
    last = (start + timedelta(days=7) - timedelta(microseconds=1)).astimezone(zone).date()
    return format_interval(first, last, "MMMd", locale=babel_locale(lang))


def point_label(week: mx.WeekNps, lang: str) -> str | None:
    """An NPS point's label: the score and, under it, the answers behind it."""
    f = week.figures
    if f.score is None:
        return None
    return f"{format_nps(f.score)}\n{answers_count(f.answers, lang)}"


async def chart(data: reports.Chart, tz: str) -> bytes:
    """The chart with its labels in the current language; drawn off the event loop."""
    lang = current_language()
    return await asyncio.to_thread(
        chart_png,
        data.weeks,
        data.funnel,
        nps_title=_("NPS by week"),
        funnel_title=_("Funnel by stage"),
        no_answers=_("no answers yet"),
        stage_labels=[label_text("stage", s) for s, _n in data.funnel],
        date_labels=[week_label(w.start, tz, lang) for w in data.weeks],
        point_labels=[point_label(w, lang) for w in data.weeks],
        nps_axes=(_("Week"), _("NPS, −100 to +100")),
        funnel_axes=(_("Active cards"), _("Stage")),
    )


def chart_caption(scope: str | None = None) -> str:
    """The chart's caption: in the digest (no ``scope``), or for /stats (``scope`` escaped)."""
    if scope is None:
        return _("📈 NPS by week and the funnel by stage")
    return _("📈 NPS by week and the funnel by stage — {scope}").format(scope=scope)
