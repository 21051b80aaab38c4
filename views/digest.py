"""The digest, /stats and the section lists as the chat shows them: titles, message packing by
section, the buttons; the Monday chart comes from views.charts. Everything here takes plain data prepared by
services.digest and services.metrics (never a session); handlers/digest.py and the scheduled
digest (scheduler/digest.py) render through the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import N_, _, ngettext
from core import metrics as m
from core.nextstep import format_local
from core.textsplit import TELEGRAM_LIMIT, split_html, utf16_len
from views.charts import answers_count, chart, chart_caption
from views.deals import digest_section as deals_section
from views.keyboards import InlineKeyboard
from views.labels import label
from views.network import digest_section
from views.rendered import Composed, Rendered
from views.rendering import h

if TYPE_CHECKING:
    from services import digest as dg
    from services import metrics as mx
    from services import reports


class DigestCb(CallbackData, prefix="dg"):
    """A section's list: ``s`` the section, ``u`` the recipient's user id (checked on tap),
    ``t`` the start of the digest's period (Unix seconds)."""

    s: str
    u: int
    t: int


class StatsCb(CallbackData, prefix="st"):
    """/stats buttons: ``a`` pick (the rep picker) | rep (one rep's figures) | chart."""

    a: str
    r: int = 0
    p: str = "30d"


TITLES = {
    "touches": N_("📞 Touches"),
    "new": N_("🆕 New contacts"),
    "steps": N_("✅ Next steps"),
    "overdue": N_("🔴 Overdue now"),
    "funnel": N_("🔀 Stage moves and status changes"),
    "cold": N_("🥶 Going cold"),
    "stale": N_("🔎 Stale data"),
    "inbound": N_("📥 Inbound requests that missed the reply window"),
    "nps": N_("⭐ NPS"),
    "cases": N_("🚨 Open detractor cases"),
    "referrals": N_("🤝 Referrals received"),
    "reps": N_("👥 By rep"),
}
TEAMS_TITLE = N_("👥 By team")
WAITING_TITLE = N_("⏳ Waiting for a reply now")  # the inbound section's requests unanswered now
# the sections whose lists are states now, not the digest's period: no "since" in their heading
CURRENT = frozenset({"overdue", "cold", "stale", "cases"})
BUTTONS = {
    "touches": N_("📞 Touches"),
    "new": N_("🆕 New"),
    "steps": N_("✅ Steps"),
    "overdue": N_("🔴 Overdue"),
    "funnel": N_("🔀 Moves"),
    "cold": N_("🥶 Cold"),
    "stale": N_("🔎 Stale"),
    "inbound": N_("📥 Missed replies"),
    "nps": N_("⭐ NPS answers"),
    "cases": N_("🚨 Cases"),
    "referrals": N_("🤝 Referrals"),
    "reps": N_("👥 One rep's stats"),
}
CASE_STATUS = {"open": N_("not taken"), "taken": N_("taken"), "contacted": N_("client contacted")}
PERIOD_NAMES = {
    "7d": N_("the last 7 days"),
    "30d": N_("the last 30 days"),
    "90d": N_("the last 90 days"),
    "month": N_("this month"),
}


def period_name(period: str) -> str:
    """ "the last 30 days", "this month", "the last 3 months"; any other number of days with its
    plural form."""
    if period in PERIOD_NAMES:
        return _(PERIOD_NAMES[period])
    if (months := m.months_of(period)) is not None:
        return ngettext("the last {n} month", "the last {n} months", months).format(n=months)
    days = int(period[:-1]) if period[:-1].isdigit() else 0
    return ngettext("the last {n} day", "the last {n} days", days).format(n=days)


def title(key: str, everyone: bool = False) -> str:
    """A section's title, HTML-escaped."""
    return h(_(TEAMS_TITLE) if key == "reps" and everyone else _(TITLES[key]))


# ------------------------------------------------------------------------------ formatting
def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return m.DASH
    days, hours, minutes = m.split_duration(seconds)
    if days:
        return _("{days} d {hours} h").format(days=days, hours=hours)
    if hours:
        return _("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    return _("{minutes} min").format(minutes=minutes)


def who(item: dg.Item) -> str:
    if item.forgotten:  # its name is gone (/forget): not "#12"
        return h(_("a forgotten contact"))
    return f"{h(item.name)}" + (f", {h(item.company)}" if item.company else "")


def referral(item: dg.Item) -> str:
    """A referral's line: who came, and who introduced them when that is known."""
    if item.by_forgotten:
        by = h(_("a forgotten contact"))
    elif item.extra:
        by = h(item.extra)
    else:
        return f"• {who(item)}"
    return _("• {who}, introduced by {by}").format(who=who(item), by=by)


def waiting_line(item: dg.Item, now: datetime, when: Callable[[datetime | None], str]) -> str:
    """A request waiting for a reply: who, for how long, since when, whose card."""
    age = (now - item.when).total_seconds() if item.when else None
    return _("• {who} — waiting {age}, since {when} ({rep})").format(
        who=who(item), age=fmt_duration(age), when=when(item.when), rep=h(item.extra)
    )


def _counts(
    pairs: Sequence[tuple[str | None, int]], group: str, none_label: str | None = None
) -> str:
    if not pairs:
        return _("none")
    return " · ".join(
        f"{label(group, code) if code else none_label or m.DASH} {n}" for code, n in pairs
    )


def _nps_line(f: mx.NpsFigures, lang: str) -> str:
    def num(n: int) -> str:
        return m.fmt_number(n, lang)

    if not f.answers:
        return answers_count(0, lang)  # "0 answers", not three zeros after it
    return _("{answers}: {promoters}, {passives}, {detractors}").format(
        answers=answers_count(f.answers, lang),
        promoters=ngettext("{n} promoter", "{n} promoters", f.promoters).format(n=num(f.promoters)),
        passives=ngettext("{n} passive", "{n} passives", f.passives).format(n=num(f.passives)),
        detractors=ngettext("{n} detractor", "{n} detractors", f.detractors).format(
            n=num(f.detractors)
        ),
    )


def section_texts(d: dg.Digest, tz: str, lang: str) -> list[tuple[str, str]]:
    """(section key, HTML) in the digest's order; every user-entered value is escaped."""

    def head(key: str, count: int | str | None = None) -> str:
        text = f"<b>{title(key, d.everyone)}</b>"
        if isinstance(count, int):
            count = m.fmt_number(count, lang)
        return text if count is None else f"{text}: {count}"

    def when(dt: datetime | None) -> str:
        return format_local(dt, tz, lang) if dt else m.DASH

    def with_counts(key: str, total: int, text: str) -> str:
        return head(key, total) + ("\n" + text if total else "")  # a zero says it all

    out: list[tuple[str, str]] = []
    out.append(("touches", with_counts("touches", d.touches_total, _counts(d.touches, "touch"))))
    out.append(("new", with_counts("new", d.new_total, _counts(d.new, "source", _("no source")))))
    steps = head("steps", _("{done} of {due} done").format(done=d.steps.done, due=d.steps.due))
    if d.steps.due or d.overdue:  # what the two counts take, when there is anything to read
        steps += "\n" + _(
            "Steps that fell due in this period. The overdue count below takes every open "
            "step past its date, however long ago it fell due."
        )
    out.append(("steps", steps))
    lines = [head("overdue", d.overdue)]
    if d.overdue_oldest:
        lines.append(_("The oldest:"))
    for item in d.overdue_oldest:
        lines.append(
            _("• {who} — due {when} ({rep})").format(
                who=who(item), when=when(item.when), rep=h(item.extra)
            )
        )
    out.append(("overdue", "\n".join(lines)))
    stages = " → ".join(f"{label('stage', s)} +{n}" for s, n in d.moves.stages) or _("none")
    statuses = " · ".join(f"{label('status', s)} +{n}" for s, n in d.moves.statuses) or _("none")
    if d.moves.stages or d.moves.statuses:
        funnel = (
            head("funnel")
            + "\n"
            + _("Into stages: {moves}").format(moves=stages)
            + "\n"
            + _("New statuses: {changes}").format(changes=statuses)
        )
    else:
        funnel = head("funnel", _("none"))
    out.append(("funnel", funnel))
    out.append(("cold", head("cold", d.cold)))
    out.append(("stale", head("stale", d.stale)))
    lines = [head("inbound", d.missed)]
    if d.waiting:  # a state, not the period's: every request still unanswered, until it is
        lines.append(f"{h(_(WAITING_TITLE))}: {m.fmt_number(d.waiting, lang)}")
        lines += [waiting_line(item, d.now, when) for item in d.waiting_oldest]
    out.append(("inbound", "\n".join(lines)))
    change = m.nps_change(d.nps_30.score, d.nps_prev.score)
    out.append(
        (
            "nps",
            head("nps")
            + "\n"
            + _("Since the last digest: {line}").format(line=_nps_line(d.nps_since, lang))
            + "\n"
            + _("Last 30 days: NPS {nps} ({answers}), {change} against the 30 days before").format(
                nps=m.fmt_nps(d.nps_30.score),
                answers=answers_count(d.nps_30.answers, lang),
                change=m.fmt_change(change),
            ),
        )
    )
    lines = [head("cases", d.cases)]
    for item in d.cases_oldest:
        age = (d.now - item.when).total_seconds() if item.when else None
        lines.append(
            _("• {who} — open for {age} ({status})").format(
                who=who(item),
                age=fmt_duration(age),
                status=h(_(CASE_STATUS.get(item.code or "", item.code or ""))),
            )
        )
    out.append(("cases", "\n".join(lines)))
    lines = [head("referrals", d.referrals)]
    lines += map(referral, d.referrals_latest)
    out.append(("referrals", "\n".join(lines)))
    if d.lines:
        out.append(("reps", "\n".join([head("reps"), *map(_rep_line, d.lines)])))
    return out


def _rep_line(line: dg.Line) -> str:
    """One rep's (or one team's) figures in the digest's "reps" section."""
    return _(
        "<b>{name}</b>: touches {touches}, new {new}, steps {done}/{due}, "
        "overdue {overdue}, cold {cold}, stale {stale}, missed replies {missed}"
    ).format(
        name=h(line.name),
        touches=line.touches,
        new=line.new,
        done=line.steps_done,
        due=line.steps_due,
        overdue=line.overdue,
        cold=line.cold,
        stale=line.stale,
        missed=line.missed,
    )


def header(d: dg.Digest, tz: str, lang: str) -> str:
    scope = (
        _("all teams")
        if d.everyone
        else _("team {name}").format(name=h(d.title))
        if d.title
        else _("your contacts")
    )
    return _("<b>📰 Digest</b> — {scope}\nSince {since}").format(
        scope=scope, since=format_local(d.since, tz, lang)
    )


def section_button(key: str, d: dg.Digest) -> tuple[str, str]:
    cb = DigestCb(s=key, u=d.user_id, t=int(d.since.timestamp()))
    return _(BUTTONS[key]), cb.pack()


def pack(
    head: str,
    sections: list[tuple[str, str]],
    button: Callable[[str], tuple[str, str]],
    limit: int = TELEGRAM_LIMIT,
) -> list[Rendered]:
    """Whole sections per message, as many as fit in ``limit``; a section alone too long is cut
    (split_html), its button on the last piece. Each message carries its sections' buttons."""

    def markup(keys: list[str]) -> InlineKeyboardMarkup | None:
        if not keys:
            return None
        kb = InlineKeyboard()
        for key in keys:
            text, data = button(key)
            kb.button(text=text, callback_data=data)
        kb.adjust(2)
        return kb.as_markup()

    messages: list[Rendered] = []
    texts: list[str] = [head] if head else []
    keys: list[str] = []

    def flush() -> None:
        if texts:
            messages.append(("\n\n".join(texts), markup(keys)))
        texts.clear()
        keys.clear()

    for key, text in sections:
        if utf16_len("\n\n".join([*texts, text])) <= limit:
            texts.append(text)
            keys.append(key)
            continue
        if keys or (texts and utf16_len(text) <= limit):
            flush()
        if utf16_len("\n\n".join([*texts, text])) <= limit:
            texts.append(text)
            keys.append(key)
            continue
        # a section that does not fit a message on its own: cut it, the button goes last
        pieces = split_html("\n\n".join([*texts, text]), limit)
        texts.clear()
        for piece in pieces[:-1]:
            messages.append((piece, None))
        texts.append(pieces[-1])  # the next sections may still join its last piece
        keys.append(key)
    flush()
    return messages


# ------------------------------------------------------------------------------ composing
async def compose(prepared: reports.Prepared, tz: str, lang: str) -> Composed:
    """The digest as messages (whole sections each, their buttons under them) and, when the
    service prepared one, the chart."""
    digest = prepared.digest
    parts = pack(
        header(digest, tz, lang),
        section_texts(digest, tz, lang),
        lambda key: section_button(key, digest),
    )
    if prepared.deals is not None and not prepared.deals.empty:  # views/deals.py
        parts.append((deals_section(prepared.deals, lang), None))
    if prepared.weekly:  # the weekly "Network" section (services/network.py)
        parts.append((digest_section(prepared.network), None))
    photo = None
    if prepared.chart is not None:
        photo = (await chart(prepared.chart, tz), chart_caption())
    return Composed(parts, photo)


# ---------------------------------------------------------------------------------- /stats
def scope_name(*, rep_name: str | None, team_name: str | None, own: bool) -> str:
    """Who the figures are about, HTML-escaped: one rep, a team, one's own cards, or all."""
    if rep_name is not None:
        return h(rep_name)
    if team_name is not None:
        return _("team {name}").format(name=h(team_name))
    if own:
        return _("your contacts")
    return _("all teams")


def stats_keyboard(period: str, *, with_picker: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    if with_picker:
        kb.button(text=_("👤 One rep…"), callback_data=StatsCb(a="pick", p=period))
    kb.button(text=_("📈 Chart"), callback_data=StatsCb(a="chart", p=period))
    return kb.as_markup()


def picker(reps: Sequence[tuple[int, str]], period: str, *, matched: str | None = None) -> Rendered:
    """Whose /stats to show: ``reps`` are (user id, display name) pairs; ``matched``: the name
    they all answer to ("/stats Anna" with two Annas)."""
    if not reps:
        return _("There is nobody in your team yet. /invite adds a rep."), None
    kb = InlineKeyboard()
    for rep_id, name in reps:
        kb.button(text=name[:40], callback_data=StatsCb(a="rep", r=rep_id, p=period))
    kb.adjust(2)
    if matched is not None:
        text = _("Several people in your team are called “{name}”. Whose metrics?")
        return text.format(name=h(matched[:64])), kb.as_markup()
    return _("Whose metrics?"), kb.as_markup()


def stats_text(
    s: mx.Stats, *, scope_name: str, period: str, tz: str, lang: str, reply_hours: float
) -> str:
    """The method's measures for /stats (``scope_name`` is already escaped); numbers and
    percentages as the language writes them ("1,3", "45 %" in Russian)."""

    def num(n: int | float) -> str:
        return m.fmt_number(n, lang)

    def pct(part: int, whole: int) -> str:
        return m.fmt_percent(part, whole, lang)

    def ratio(value: object) -> str:
        return m.fmt_ratio(value, lang=lang)  # type: ignore[arg-type]

    def _share(part: int, whole: int) -> dict[str, str]:
        """A share and its two counts: {share} ({a}/{b})."""
        return {"share": pct(part, whole), "a": num(part), "b": num(whole)}

    lines = [
        _("<b>📊 Metrics</b> — {scope}, {period}").format(
            scope=scope_name, period=h(period_name(period))
        ),
        _("{start} — {end}").format(
            start=format_local(s.start, tz, lang), end=format_local(s.end, tz, lang)
        ),
        "",
        _("<b>Reach</b>: {n} (distinct contacts touched)").format(n=num(s.reach)),
        _("<b>Touch frequency</b> (per contact reached, against the stage's cadence):"),
    ]
    for f in s.frequency:
        if not f.contacts and f.expected is None:
            continue
        lines.append(
            _("• {stage}: {actual} per contact, {contacts} reached, expected {expected}").format(
                stage=label("stage", f.stage),
                actual=ratio(f.per_contact),
                contacts=num(f.contacts),
                expected=ratio(f.expected),
            )
        )
    c = s.conversion
    lines += [
        ngettext(
            "<b>Conversion</b> of {n} new contact: to lead {lead}, to client {client}, "
            "to a meeting {meeting}",
            "<b>Conversion</b> of {n} new contacts: to lead {lead}, to client {client}, "
            "to a meeting {meeting}",
            c.cohort,
        ).format(
            n=num(c.cohort),
            lead=pct(c.lead, c.cohort),
            client=pct(c.client, c.cohort),
            meeting=pct(c.meeting, c.cohort),
        ),
        _(
            "<b>Referral share</b>: {new} of new contacts ({a}/{b}), {clients} of new clients "
            "({c}/{d})"
        ).format(
            new=pct(s.referral.new_referral, s.referral.new),
            a=num(s.referral.new_referral),
            b=num(s.referral.new),
            clients=pct(s.referral.clients_referral, s.referral.clients),
            c=num(s.referral.clients_referral),
            d=num(s.referral.clients),
        ),
        _("<b>Retention</b>: {share} of clients touched ({a}/{b})").format(
            **_share(s.retention.retained, s.retention.clients)
        ),
        _("<b>NPS</b>: {nps} ({answers}; response rate {rate})").format(
            nps=m.fmt_nps(s.nps.score),
            answers=answers_count(s.nps.answers, lang),
            rate=pct(s.nps.answers, s.nps.delivered),
        ),
        reply_line(s.reply, reply_hours, lang),
        _("<b>Fresh data</b>: {share} of active cards verified in time ({a}/{b})").format(
            **_share(s.freshness.fresh, s.freshness.active)
        ),
    ]
    return "\n".join(lines)


def reply_line(reply: mx.ReplySpeed, hours: float, lang: str) -> str:
    """The share answered within the window, over every inbound request but those still open
    (unanswered and younger than the window: neither in time nor late yet, said apart); the
    median, over the answered ones only, says how many those are (a median of 3 min beside "20%
    within 2 h" read as a contradiction)."""

    def num(n: int | float) -> str:
        return m.fmt_number(n, lang)

    line = _("<b>Reply to inbound</b>: within {hours} h: {share} ({a}/{b})").format(
        hours=num(hours),
        share=m.fmt_percent(reply.within, reply.decided, lang),
        a=num(reply.within),
        b=num(reply.decided),
    )
    if reply.answered:
        line += "; " + ngettext(
            "median of the {n} answered: {median}",
            "median of the {n} answered: {median}",
            reply.answered,
        ).format(n=num(reply.answered), median=fmt_duration(reply.median_seconds))
    elif reply.decided:
        line += "; " + _("none answered yet")
    if reply.open and reply.decided:
        line += "; " + ngettext(
            "{n} more waiting, still in time",
            "{n} more waiting, still in time",
            reply.open,
        ).format(n=num(reply.open))
    elif reply.open:
        line += "; " + ngettext(
            "{n} waiting, still in time", "{n} waiting, still in time", reply.open
        ).format(n=num(reply.open))
    return line
