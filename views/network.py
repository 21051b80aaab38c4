"""Network intelligence in the chat: texts, keyboards, callback data and the picture.

Views take plain data (services.network's Overview, IntroResult, Picture) and return text and
markup; user text is HTML-escaped; nothing here reads the database or talks to Telegram.
"""

from __future__ import annotations

import io
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from babel.numbers import format_percent

from bot.i18n import _, current_language, ngettext
from core import metrics as m
from core.locales import babel_locale
from core.nextstep import format_local
from core.nps import format_nps
from services.network import Finding, IntroResult, Overview, Person, Picture
from views.callbacks import CardCb, RemindCb
from views.keyboards import InlineKeyboard
from views.labels import label
from views.rendering import h, quoted

Rendered = tuple[str, InlineKeyboardMarkup | None]


class NetCb(CallbackData, prefix="nw"):
    """/network buttons: ``a`` pic (the picture of the network) | run (analyse again)."""

    a: str


def _who(p: Person | None) -> str:
    if p is None:
        return "—"
    return f"<b>{h(p.name)}</b>" + (f", {h(p.company)}" if p.company else "")


def _short(name: str, n: int = 24) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def cluster_name(clusters: dict[int, dict[str, Any]], cid: int) -> str:
    c = clusters.get(cid)
    if c is None:
        return _("a group")
    if c["kind"] == "segment":
        return _("segment “{name}”").format(name=h(c["label"]))
    if c["kind"] == "company":
        return _("people of {name}").format(name=h(c["label"]))
    size = int(c["size"])
    return ngettext("a group of {n} person", "a group of {n} people", size).format(n=size)


def _pct(x: float) -> str:
    """A share in whole percent as the language writes it ("45%", ru "45\u00a0%")."""
    return format_percent(x, locale=babel_locale(current_language()))


def pattern_line(f: Finding, reps: dict[int, str]) -> str:
    d = f.data
    if d["dimension"] == "rep":
        who = h(reps.get(int(d["key"]), "—"))
    else:
        who = _("segment “{name}”").format(name=h(d["key"]))
    what = {
        "sparse": _("sparse touches before delivery (fewer than 3 in 90 days)"),
        "regular": _("regular touches before delivery (3 or more in 90 days)"),
        "slow": _("slow replies before delivery (over 24 hours)"),
        "fast": _("fast replies before delivery (within 24 hours)"),
    }[d["bucket"]]
    g, r = d["group"], d["rest"]

    def side(x: dict[str, Any]) -> str:
        n = int(x["n"])
        return ngettext(
            "NPS {nps} ({n} answer; detractors {share}, 95% CI {lo}–{hi})",
            "NPS {nps} ({n} answers; detractors {share}, 95% CI {lo}–{hi})",
            n,
        ).format(
            nps=format_nps(x["nps"]),
            n=n,
            share=_pct(x["det"] / n if n else 0),
            lo=_pct(x["lo"]),
            hi=_pct(x["hi"]),
        )

    return _("• {who}, {what}: {group} — versus {rest} for the other answers").format(
        who=who, what=what, group=side(g), rest=side(r)
    )


def _next_step_button(kb: InlineKeyboard, person: Person | None, label: str) -> None:
    """A button that plans a next step with ``person`` (``label`` names them as {name})."""
    assert person is not None
    kb.button(
        text=label.format(name=_short(person.name)),
        callback_data=RemindCb(a="next", id=person.id),
    )


def overview_text(ov: Overview, *, scope: str, tz: str, lang: str) -> Rendered:
    """The /network answer: brokers and strong ties, ties to reactivate, accounts missing roles,
    touch patterns; each with a one-tap action."""
    when = format_local(ov.computed_at, tz, lang)
    contacts = ngettext("{n} contact", "{n} contacts", ov.contacts).format(n=ov.contacts)
    if ov.edges is None:  # a rep: their own cards, not the team's size
        analysed = _("Analysed {when}: {contacts}.").format(when=when, contacts=contacts)
    else:
        links = ngettext("{n} link", "{n} links", ov.edges).format(n=ov.edges)
        analysed = _("Analysed {when}: {contacts}, {links}.").format(
            when=when, contacts=contacts, links=links
        )
    lines = [_("<b>🕸 Network</b> — {scope}").format(scope=scope), analysed]
    kb = InlineKeyboard()
    sizes: list[int] = []
    if ov.brokers:
        lines += [
            "",
            _(
                "<b>🌉 Brokers</b> — they bridge groups that are otherwise apart. Keep them warm; ask them for introductions."
            ),
        ]
        for f in ov.brokers:
            bridged = [cluster_name(ov.clusters, c) for c in f.data["clusters"]]
            line = _("• {who} — bridges {groups}").format(
                who=_who(f.person), groups=_(" and ").join(bridged)
            )
            if f.data.get("constraint") is not None:
                line += " " + _("(constraint {c}, effective size {e})").format(
                    c=m.fmt_ratio(f.data["constraint"], 2, lang),
                    e=m.fmt_ratio(f.data.get("effective_size") or 0.0, 1, lang),
                )
            if f.person and f.person.owner:
                line += f" · {h(f.person.owner)}"
            lines.append(line)
            _next_step_button(kb, f.person, _("🤝 Ask {name} for an intro"))
        sizes += [1] * len(ov.brokers)
    if ov.strong:
        lines += [
            "",
            _("<b>💪 Strong ties</b> — close, frequent relationships: cohesion wins deals too."),
        ]
        for f in ov.strong:
            shared = int(f.data.get("shared", 0))
            extra = (
                " "
                + ngettext(
                    "(close to {n} more of your strong ties)",
                    "(close to {n} more of your strong ties)",
                    shared,
                ).format(n=shared)
                if shared
                else ""
            )
            lines.append(f"• {_who(f.person)}{extra}")
    if ov.dormant:
        lines += [
            "",
            _(
                "<b>💤 Ties to reactivate</b> — once went well, now quiet, and they lead into ICP segments where you have few clients."
            ),
        ]
        for f in ov.dormant:
            days = int(f.data["days"])
            segs = ", ".join(quoted(s) for s in f.data["segments"] if s)
            why = _("a step done") if f.data["reason"] == "step" else _("NPS 7 or higher")
            lines.append(
                _("• {who} — quiet for {days}; {why}; leads into {segments}").format(
                    who=_who(f.person),
                    days=ngettext("{n} day", "{n} days", days).format(n=days),
                    why=why,
                    segments=segs or "—",
                )
            )
            _next_step_button(kb, f.person, _("📅 Plan a touch: {name}"))
        sizes += [1] * len(ov.dormant)
    if ov.accounts:
        lines += ["", _("<b>🧩 Accounts in the commercial stage missing roles</b>")]
        for f in ov.accounts:
            d = f.data
            flags = []
            if d["missing"]:
                flags.append(
                    _("missing: {roles}").format(
                        roles=", ".join(label("influence", r) for r in d["missing"])
                    )
                )
            if d["single"]:
                flags.append(_("single-threaded (one contact)"))
            if d["moved"]:
                flags.append(_("a champion may have changed jobs"))
            lines.append(f"• <b>{h(d['company'])}</b> — " + "; ".join(flags))
            if f.person is not None:
                kb.button(
                    text=_("Open: {name}").format(name=_short(d["company"])),
                    callback_data=CardCb(action="open", id=f.person.id),
                )
        sizes += [2] * ((len(ov.accounts) + 1) // 2)
    if ov.patterns:
        lines += [
            "",
            _(
                "<b>📊 Touch patterns and later NPS</b> — an association in past answers, not proof of a cause:"
            ),
        ]
        lines += [pattern_line(f, ov.reps) for f in ov.patterns]
    if ov.empty:
        lines += [
            "",
            _(
                "Nothing stands out yet. Record who introduced whom, companies and events on the cards: the analysis gets sharper with them."
            ),
        ]
    kb.button(text=_("🖼 Picture of the network"), callback_data=NetCb(a="pic"))
    kb.adjust(*sizes, 1)
    return "\n".join(lines), kb.as_markup()


def computing_text() -> str:
    return _("⏳ Analysing the network — this may take a moment…")


def no_run_text() -> str:
    return _("The network has not been analysed yet: /network analyses it now.")


def digest_section(ov: Overview | None) -> str:
    """The Monday digest's "Network" section: the top of each list, in a few lines."""
    title = _("<b>🕸 Network</b> (weekly)")
    if ov is None:
        return title + "\n" + no_run_text()
    lines = [title]
    for f in ov.brokers[:3]:
        bridged = [cluster_name(ov.clusters, c) for c in f.data["clusters"]]
        lines.append(
            _("🌉 Broker: {who} — bridges {groups}").format(
                who=_who(f.person), groups=_(" and ").join(bridged)
            )
        )
    for f in ov.dormant[:3]:
        days = int(f.data["days"])
        lines.append(
            _("💤 Reactivate: {who} — quiet for {days}").format(
                who=_who(f.person), days=ngettext("{n} day", "{n} days", days).format(n=days)
            )
        )
    for f in ov.accounts[:3]:
        missing = ", ".join(label("influence", r) for r in f.data["missing"]) or "—"
        lines.append(
            _("🧩 {company}: missing {roles}").format(company=h(f.data["company"]), roles=missing)
        )
    for f in ov.patterns[:1]:
        lines.append(pattern_line(f, ov.reps))
    if len(lines) == 1:
        lines.append(_("Nothing stands out this week."))
    lines.append(_("Details and one-tap actions: /network"))
    return "\n".join(lines)


def intro_usage() -> str:
    return _(
        "Whom do you want to reach? E.g. <code>/intro Acme</code> or <code>/intro Anna Smirnova</code>."
    )


def intro_text(query: str, result: IntroResult) -> Rendered:
    kinds = {
        "intro": _("introduced"),
        "colleague": _("colleagues"),
        "event": _("met at the same event"),
    }
    q = h(query)
    if result.targets == 0:
        return _("Nobody matching “{q}” is in the analysed network.").format(q=q), None
    lines = [_("<b>🔗 Warm paths to “{q}”</b>").format(q=q)]
    kb = InlineKeyboard()
    for p in result.already:
        lines.append(_("• You already have a strong tie with {who}.").format(who=_who(p)))
    for i, intro in enumerate(result.paths, 1):
        first = intro.path[0]
        chain = _who(first)
        for kind, person in zip(intro.kinds, intro.path[1:], strict=True):
            chain += f" —<i>{kinds.get(kind, kind)}</i>→ {_who(person)}"
        hops = len(intro.kinds)
        lines.append(f"{i}. " + chain)
        lines.append(
            "   "
            + ngettext("{n} step", "{n} steps", hops).format(n=hops)
            + " · "
            + _("ask {name} ({owner}'s strong tie) for an introduction").format(
                name=h(first.name), owner=h(first.owner or "—")
            )
        )
        kb.button(
            text=_("📅 Plan a touch: {name}").format(name=_short(first.name)),
            callback_data=RemindCb(a="next", id=first.id),
        )
    if not result.paths and not result.already:
        lines.append(
            _(
                "No warm path found within four steps: none of the people linked to them is a strong tie of the team yet."
            )
        )
    kb.adjust(1)
    return "\n".join(lines), (kb.as_markup() if result.paths else None)


def picture_caption(contacts: int) -> str:
    return ngettext(
        "🕸 The network: clusters in colour, brokers as stars ({n} contact shown)",
        "🕸 The network: clusters in colour, brokers as stars ({n} contacts shown)",
        contacts,
    ).format(n=contacts)


def picture_png(pic: Picture, *, title: str, broker_label: str) -> bytes:
    """Clusters coloured, brokers marked as stars. Matplotlib's object API on Agg; imported
    lazily (only when someone asks for the picture)."""
    import networkx as nx
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    graph = nx.Graph()
    graph.add_nodes_from(pic.nodes)
    graph.add_edges_from(pic.edges)
    pos = nx.spring_layout(graph, seed=7, iterations=50) if len(graph) else {}
    fig = Figure(figsize=(8, 8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_axis_off()
    ax.set_title(title)
    palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    for a, b in pic.edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        ax.plot([x1, x2], [y1, y2], color="#cccccc", linewidth=0.5, zorder=1)
    clusters = sorted({c for c in pic.nodes.values()})
    colour = {c: palette[i % len(palette)] if c >= 0 else "#999999" for i, c in enumerate(clusters)}
    plain = [v for v in pic.nodes if v not in pic.brokers]
    if plain:
        ax.scatter(
            [pos[v][0] for v in plain],
            [pos[v][1] for v in plain],
            c=[colour[pic.nodes[v]] for v in plain],
            s=18,
            zorder=2,
        )
    if pic.brokers:
        bs = sorted(pic.brokers)
        ax.scatter(
            [pos[v][0] for v in bs],
            [pos[v][1] for v in bs],
            c=[colour[pic.nodes[v]] for v in bs],
            s=260,
            marker="*",
            edgecolors="black",
            linewidths=1.0,
            zorder=3,
            label=broker_label,
        )
        ax.legend(loc="lower right")
    for c in clusters:
        if c not in pic.labels:
            continue
        members = [pos[v] for v, cl in pic.nodes.items() if cl == c]
        x = sum(p[0] for p in members) / len(members)
        y = sum(p[1] for p in members) / len(members)
        ax.annotate(pic.labels[c][:30], (x, y), fontsize=8, ha="center", color=colour[c])
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
