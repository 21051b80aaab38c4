"""/team as the chat shows it: each member's numbers, the team's buttons (rename, hand over a
rep's work), the pickers of that handover and its notices. Plain data in (services.team)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup

from bot.i18n import _, current_language, ngettext
from core import limits
from core.nextstep import format_local, format_local_day
from core.nps import format_nps
from core.roles import Role
from views.keyboards import InlineKeyboard
from views.labels import role_name
from views.rendered import Rendered
from views.rendering import h

if TYPE_CHECKING:
    from services.team import Handover, MemberLine, TeamView
    from storage.models import User


class TeamCb(CallbackData, prefix="tm"):
    """/team's buttons. ``a``: show (a team, for an admin) | name (rename) | off (whom to
    deactivate) | heir (``u`` leaves: to whom) | ask (``u`` to ``v``: confirm) | do | no.
    Every id is checked against the viewer's reach on the server."""

    a: str
    t: int = 0  # the team
    u: int = 0  # the person leaving
    v: int = 0  # the colleague taking over


def _role(code: str) -> str:
    try:
        return role_name(Role(code))
    except ValueError:
        return code


def team_text(view: TeamView, *, own: bool, tz: str, lang: str) -> str:
    head = (_("<b>Your team</b>: {name}") if own else _("<b>Team</b>: {name}")).format(
        name=h(view.name)
    )
    lines = [
        head,
        _(
            "Live contacts · touches since {since} · overdue next steps · going cold · "
            "NPS for 90 days"
        ).format(since=format_local(view.week_start, tz, lang)),
        "",
    ]
    if not view.members:
        lines.append(_("Nobody in the team yet. /invite adds a rep."))
    lines += [_member_line(m) for m in view.members]
    return "\n".join(lines)


def _member_line(m: MemberLine) -> str:
    answers = ngettext("{n} answer", "{n} answers", m.answers).format(n=m.answers)
    return _(
        "• <b>{name}</b> ({role}): contacts {contacts} · touches {touches} · overdue {overdue} · "
        "going cold {cold} · NPS {nps} ({answers})"
    ).format(
        name=h(m.name),
        role=_role(m.role),
        contacts=m.contacts,
        touches=m.touches,
        overdue=m.overdue,
        cold=m.cold,
        nps=format_nps(m.nps),
        answers=answers,
    )


def team_keyboard(team_id: int, *, can_hand_over: bool) -> InlineKeyboardMarkup:
    kb = InlineKeyboard()
    kb.button(text=_("✏️ Rename the team"), callback_data=TeamCb(a="name", t=team_id))
    if can_hand_over:
        kb.button(text=_("🚪 Deactivate a member…"), callback_data=TeamCb(a="off", t=team_id))
    kb.adjust(1)
    return kb.as_markup()


def team_message(view: TeamView, *, own: bool, tz: str, lang: str, can_hand_over: bool) -> Rendered:
    return team_text(view, own=own, tz=tz, lang=lang), team_keyboard(
        view.team_id, can_hand_over=can_hand_over
    )


def teams_list(teams: Sequence[tuple[int, str, int]]) -> Rendered:
    """An admin's /team: every team, one button each."""
    if not teams:
        return _("No teams yet. /invite manager creates one."), None
    lines = [_("<b>Teams</b>")]
    kb = InlineKeyboard()
    for team_id, name, count in teams[:50]:
        lines.append(
            _("{name}: {count}").format(
                name=h(name),
                count=ngettext("{n} member", "{n} members", count).format(n=count),
            )
        )
        kb.button(text=name[:40], callback_data=TeamCb(a="show", t=team_id))
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


def ask_name(current: str) -> str:
    return _("The team is called “{name}”. Send its new name. /cancel to leave.").format(
        name=h(current)
    )


def renamed(name: str, *, cut: bool = False) -> str:
    """The new name; one longer than a team's name may be is said to be saved cut (as a card's
    name is: views.adding.cut_notice)."""
    text = _("✅ The team is now called “{name}”.").format(name=h(name))
    if not cut:
        return text
    limit = limits.LIMITS["team_name"]
    return (
        ngettext(
            "✂️ {field} was longer than {limit} character: saved cut to fit.",
            "✂️ {field} was longer than {limit} characters: saved cut to fit.",
            limit,
        ).format(field=_("Team name"), limit=limit)
        + "\n"
        + text
    )


def bad_name() -> str:
    return _("The name must not be empty. Send the team's new name, or /cancel.")


def pick_leaving(team_id: int, people: Sequence[Any]) -> Rendered:
    """Whom to deactivate (``people``: users with ``id`` and ``display_name``)."""
    if not people:
        return _("There is nobody you can deactivate in this team."), None
    kb = InlineKeyboard()
    for p in people:
        kb.button(text=p.display_name[:40], callback_data=TeamCb(a="heir", t=team_id, u=p.id))
    kb.button(text=_("Cancel"), callback_data=TeamCb(a="no", t=team_id))
    kb.adjust(2)
    return _(
        "Who leaves the team? Their contacts and due work go to a colleague you choose next."
    ), (kb.as_markup())


def pick_heir(team_id: int, leaving: Any, people: Sequence[Any]) -> Rendered:
    name = h(leaving.display_name)
    if not people:
        return _(
            "There is nobody in the team to take over from {name}. /invite a rep first."
        ).format(name=name), None
    kb = InlineKeyboard()
    for p in people:
        kb.button(
            text=p.display_name[:40], callback_data=TeamCb(a="ask", t=team_id, u=leaving.id, v=p.id)
        )
    kb.button(text=_("Cancel"), callback_data=TeamCb(a="no", t=team_id))
    kb.adjust(2)
    return _("Who takes over {name}'s contacts and due work?").format(name=name), kb.as_markup()


@dataclass(frozen=True)
class _Counts:
    contacts: int
    steps: int
    due: int
    cases: int


def _what(done: Handover | _Counts) -> str:
    return _("{contacts}, {steps}, {due}, {cases}").format(
        contacts=ngettext("{n} contact", "{n} contacts", done.contacts).format(n=done.contacts),
        steps=ngettext("{n} open next step", "{n} open next steps", done.steps).format(
            n=done.steps
        ),
        due=ngettext(
            "{n} pending reminder or notice", "{n} pending reminders and notices", done.due
        ).format(n=done.due),
        cases=ngettext("{n} open case", "{n} open cases", done.cases).format(n=done.cases),
    )


def confirm(
    team_id: int, leaving: Any, heir: Any, preview: Handover, *, no_manager: bool = False
) -> Rendered:
    kb = InlineKeyboard()
    kb.button(
        text=_("✅ Deactivate and hand over"),
        callback_data=TeamCb(a="do", t=team_id, u=leaving.id, v=heir.id),
    )
    kb.button(text=_("Cancel"), callback_data=TeamCb(a="no", t=team_id))
    kb.adjust(1)
    text = _(
        "Deactivate {leaving}? {heir} gets {what}. {leaving} can no longer use the bot."
    ).format(leaving=h(leaving.display_name), heir=h(heir.display_name), what=_what(preview))
    if no_manager:
        text += "\n\n" + _(
            "⚠️ The team will have no manager: its detractor cases and unanswered requests will "
            "alert the administrators until a new one joins (/invite → Manager of a team)."
        )
    return text, kb.as_markup()


def handed_over(leaving: str, heir: str, done: Handover, *, heir_is_you: bool = False) -> str:
    if heir_is_you:  # no notice to the one who did it: what they got is said here
        return _("✅ {leaving} is deactivated. You got {what}.").format(
            leaving=h(leaving), what=_what(done)
        )
    return _("✅ {leaving} is deactivated. {heir} got {what} and is told.").format(
        leaving=h(leaving), heir=h(heir), what=_what(done)
    )


def cancelled() -> str:
    return _("Nothing changed.")


def notice(payload: dict[str, Any]) -> Rendered | None:
    """The handover's notice to the colleague (``heir``) or to the person leaving (``off``)."""
    what = payload.get("what")
    done = _Counts(*(int(payload.get(k, 0)) for k in ("contacts", "steps", "due", "cases")))
    if what == "heir":
        return _(
            "📦 {by} handed you {leaving}'s work: {what}. /contacts and /today show them."
        ).format(by=h(payload.get("by")), leaving=h(payload.get("leaving")), what=_what(done)), None
    if what == "off":
        return _(
            "{by} deactivated your access to the team; your contacts are now with {heir}."
        ).format(by=h(payload.get("by")), heir=h(payload.get("heir"))), None
    return None


def no_team() -> str:
    return _("You are not in a team.")


def not_found() -> str:
    return _("This button is no longer valid.")


def left_access(user: User | None, *, default_tz: str) -> str | None:
    """To someone a manager deactivated, whatever they send: why the bot no longer works for
    them (they were taken for a stranger: "Access is by invitation"). None for anyone else."""
    if user is None or user.role is not None or user.left_at is None:
        return None
    day = format_local_day(user.left_at, user.timezone or default_tz, current_language())
    return _(
        "Your access to the team was turned off on {day}: your contacts and reminders went to a "
        "colleague. If that is a mistake, ask your manager for a new invite link."
    ).format(day=day)
