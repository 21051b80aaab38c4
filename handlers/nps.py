"""The NPS loop in the chat: /delivered, the client's answers, detractor cases, /nps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.context import Ctx
from bot.filters import NotStaff, leads, staff
from bot.i18n import _
from bot.links import start_link
from bot.routing import FeatureRouter
from core.clock import Clock
from core.mentions import words
from core.nps import Category, typed_score
from core.roles import Role
from services import contacts as svc
from services import delivered, nps, nps_cards
from storage.models import Survey, User
from views import delivered as delivered_views
from views import nps as nps_views
from views.callbacks import CaseCb, NpsCb
from views.delivered import pick_delivered
from views.nps import (
    answered_survey,
    case_keyboard,
    case_text,
    cut_note,
    question,
    review_line,
    score_keyboard,
)
from views.rendering import answer_long, edit_text, h, quoted


class ResolveForm(StatesGroup):
    note = State()


class NpsLink(Filter):
    """A /start payload that is a survey token or a referral token."""

    async def __call__(self, message: Message, session: AsyncSession) -> bool | dict[str, Any]:
        parts = (message.text or "").split(maxsplit=1)
        if len(parts) < 2:
            return False
        token = parts[1].strip()
        if token.startswith(nps.REF_PREFIX):
            return {"ref_token": token}
        survey = await nps.survey_by_token(session, token)
        return {"survey": survey} if survey is not None else False


def _sla(settings: Settings) -> timedelta:
    return timedelta(hours=settings.nps_case_sla_hours)


async def route_answer(
    message: Message, result: nps.Answered, settings: Settings, bot: Bot
) -> None:
    """Thank the client and ask the one open question that fits their score."""
    survey = result.survey
    assert survey is not None
    if result.result is nps.Answer.CHANGED:
        if result.previous == survey.score:
            return  # the same number again
        await message.answer(
            _("Your answer is changed to {score}. Thank you!").format(score=survey.score)
        )
        if not result.category_changed:
            return
        # another category now (8 -> 10): its own follow-up, the referral link for a promoter
    said_already = result.first and bool(survey.comment)  # words came before the score
    if result.category is Category.PROMOTER:
        assert result.referral is not None
        link = await start_link(bot, result.referral.token)
        await message.answer(
            _(
                "Thank you so much! 🙏 If someone you know could use our help, share this personal link with them — we'll take good care of them:"
            )
            + f"\n{h(link)}"
            + review_line(settings.review_url)
        )
    elif said_already and result.category is Category.PASSIVE:
        await message.answer(_("Thank you! Your words have been passed on."))
    elif said_already:
        await message.answer(
            _(
                "We're sorry we let you down. Your words have been passed on — a manager will "
                "look into it right away."
            )
        )
    elif result.category is Category.PASSIVE:
        await message.answer(
            _("Thank you! What would make it a 10 for you? Just write a few words.")
        )
    else:
        await message.answer(
            _(
                "We're sorry we let you down. What went wrong? Write a few words — a manager will look into it right away."
            )
        )


async def typed_answer(
    message: Message,
    survey: Survey,
    score: int,
    *,
    session: AsyncSession,
    clock: Clock,
    settings: Settings,
    bot: Bot,
    role: Role | None,
) -> None:
    """A score typed: the answer, or its change, exactly as a tap on that number."""
    assert message.from_user is not None
    result = await nps.answer(
        session,
        survey_id=survey.id,
        score=score,
        client_tg_id=message.from_user.id,
        client_role=role,
        now=clock.now(),
        case_sla=_sla(settings),
        admin_ids=settings.admin_ids,
    )
    if result.survey is None or result.result not in (nps.Answer.OK, nps.Answer.CHANGED):
        await message.answer(_("Please tap a number from 0 to 10 above."))
        return
    if result.result is nps.Answer.OK or result.previous == score:
        # the first score (a change says so itself), or the same number again
        await message.answer(_("✅ Your answer: {score}/10").format(score=score))
    await route_answer(message, result, settings, bot)


def create_client_router() -> Router:
    """Deep links and taps that come from clients (and anyone who opens a referral link)."""
    router = FeatureRouter(name="nps-client")

    @router.message(CommandStart(deep_link=True), NpsLink())
    async def open_link(
        message: Message,
        session: AsyncSession,
        user: User,
        role: Role | None,
        clock: Clock,
        settings: Settings,
        state: FSMContext,
        survey: Survey | None = None,
        ref_token: str | None = None,
    ) -> None:
        await state.clear()
        now = clock.now()
        if ref_token is not None:
            if role in (Role.ADMIN, Role.MANAGER, Role.REP):
                await message.answer(
                    _("This is a client's referral link; it is meant for people outside the team.")
                )
                return
            referred = await nps.open_referral(session, ref_token, person=user, now=now)
            texts = {
                nps.Referral.NEW: _(
                    "Welcome! Thank you for coming on a friend's recommendation — we'll be in touch with you soon."
                ),
                nps.Referral.KNOWN: _(
                    "Welcome back! We already know each other — we'll be in touch."
                ),
                nps.Referral.SELF: _(
                    "This is your own referral link — share it with friends and colleagues who might need us."
                ),
                nps.Referral.INVALID: _("This link is not valid."),
            }
            await message.answer(texts[referred.result])
            return
        assert survey is not None
        opened = await nps.open_link(session, survey, client=user, client_role=role, now=now)
        if opened is nps.Open.OK:
            await message.answer(
                question(settings.company_name), reply_markup=score_keyboard(survey.id)
            )
            return
        texts = {
            nps.Open.NOT_YOURS: _("This link is personal and belongs to someone else."),
            nps.Open.STAFF: _(
                "This is your client's personal survey link: only the client can answer it. "
                "Nothing was changed."
            ),
            nps.Open.EXPIRED: _("This survey has expired. Thank you anyway!"),
            nps.Open.ANSWERED: _("You have already answered this survey. Thank you!"),
            nps.Open.CANCELLED: _("This survey is no longer active."),
        }
        await message.answer(texts[opened])

    @router.callback_query(NpsCb.filter())
    async def score(
        query: CallbackQuery,
        callback_data: NpsCb,
        session: AsyncSession,
        role: Role | None,
        clock: Clock,
        settings: Settings,
        bot: Bot,
    ) -> None:
        result = await nps.answer(
            session,
            survey_id=callback_data.s,
            score=callback_data.v,
            client_tg_id=query.from_user.id,
            client_role=role,
            now=clock.now(),
            case_sla=_sla(settings),
            admin_ids=settings.admin_ids,
        )
        refusals = {
            nps.Answer.BAD: _("Please choose a number from 0 to 10."),
            nps.Answer.NOT_YOURS: _("This survey is not yours."),
            nps.Answer.EXPIRED: _("This survey has expired. Thank you anyway!"),
            nps.Answer.TOO_LATE: _("You have already answered. Thank you!"),
        }
        if result.result in refusals:
            await query.answer(refusals[result.result], show_alert=True)
            return
        await query.answer(_("Thank you!"))
        survey = result.survey
        assert survey is not None and isinstance(query.message, Message)
        text, markup = answered_survey(settings.company_name, survey.id, callback_data.v)
        await edit_text(query.message, text, reply_markup=markup)
        await route_answer(query.message, result, settings, bot)

    @router.message(Command("stop"))
    async def stop(
        message: Message, session: AsyncSession, role: Role | None, clock: Clock
    ) -> None:
        if role in (Role.ADMIN, Role.MANAGER, Role.REP):
            await message.answer(_("/stop is for clients who want no more surveys."))
            return
        assert message.from_user is not None
        await nps.stop(session, message.from_user.id, now=clock.now())
        await message.answer(_("Done — you won't receive any more surveys from us. Thank you!"))

    @router.message(
        NotStaff(), StateFilter(None), F.text & ~F.text.startswith("/"), SurveyWaiting()
    )
    async def client_text(
        message: Message,
        session: AsyncSession,
        clock: Clock,
        settings: Settings,
        bot: Bot,
        role: Role | None,
        waiting: Survey | None,
        scoring: Survey | None = None,
        changing: Survey | None = None,
    ) -> None:
        """The open answer to a survey; a score typed instead of tapped ("9", "8 из 10"), or
        typed to change the one just tapped; or a nudge to tap a number."""
        assert message.text is not None and message.from_user is not None
        now = clock.now()
        typed = typed_score(message.text)
        if typed is not None:
            # a bare number is a score, not the comment: the first one, or a change while the
            # answer can still change (later, it is the comment the manager or the rep reads)
            if waiting is not None:
                target = waiting if nps.can_change(waiting, now) else None
            else:
                target = scoring or changing
            if target is not None:
                await typed_answer(
                    message,
                    target,
                    typed,
                    session=session,
                    clock=clock,
                    settings=settings,
                    bot=bot,
                    role=role,
                )
                return
        if waiting is None:
            if typed is None and scoring is not None and len(words(message.text)) >= 2:
                # words before the score ("it was OK, but slow"): kept as the comment; a
                # word alone ("hello?") is only nudged, so the question after the score stays
                cut = await nps.keep_early_comment(session, scoring, message.text, now=now)
                await message.answer(
                    _("Thank you, noted! And one tap, please: choose a number from 0 to 10 above.")
                    + cut_note(cut)
                )
                return
            await message.answer(_("Please tap a number from 0 to 10 above."))
            return
        kept = await nps.add_comment(
            session, waiting, message.text, now=now, admin_ids=settings.admin_ids
        )
        cat = kept.category
        gated = settings.review_gating and cat is not Category.PROMOTER
        review = "" if gated or cat is Category.PROMOTER else review_line(settings.review_url)
        await message.answer(
            _("Thank you for your answer — it has been passed on.") + cut_note(kept.cut) + review
        )

    return router


class SurveyWaiting(Filter):
    """A client's free text while a survey of theirs waits for a comment (``waiting``) or for
    a score (``waiting`` is None, ``scoring``); or a number typed while the score of one
    answered with its comment in may still change (``changing``); anything else is an ordinary
    inbound message."""

    async def __call__(
        self, message: Message, session: AsyncSession, clock: Clock
    ) -> bool | dict[str, Any]:
        if message.from_user is None:
            return False
        now = clock.now()
        waiting = await nps.awaiting_comment(session, message.from_user.id, now)
        if waiting is not None:
            return {"waiting": waiting}
        scoring = await nps.awaiting_score(session, message.from_user.id, now)
        if scoring is not None:
            return {"waiting": None, "scoring": scoring}
        if typed_score(message.text or "") is not None:
            changing = await nps.changeable(session, message.from_user.id, now)
            if changing is not None:
                return {"waiting": None, "changing": changing}
        return False


def create_staff_router() -> Router:
    router = FeatureRouter(name="nps-staff")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    @router.message(Command("delivered"))
    async def delivered_cmd(
        message: Message, command: CommandObject, ctx: Ctx, bot: Bot, state: FSMContext
    ) -> None:
        await state.clear()
        if not command.args:
            await message.answer(
                _("Whose service was delivered? /delivered Name — or use the button on the card.")
            )
            return
        # live and archived cards together (a rep often archives a card once the job is
        # done; an erased one, /forget, is never found): the card named exactly comes first
        query = command.args[:200]
        found = await svc.search(ctx.session, ctx.viewer.scope, query, limit=6, archived=True)
        found = delivered.pick_first(query, found)
        if not found:
            await message.answer(
                _("Nothing found for “{query}”.").format(query=h(command.args[:100]))
            )
            return
        contact = delivered.taken_at_once(query, found)
        if contact is None:
            # a survey goes to a client: a close spelling, a phone, a second match or an
            # archived card is confirmed with a tap, never taken on a guess
            if all(c.archived_at is not None for c in found):
                text, markup = delivered_views.only_archived(found, command.args[:100])
            elif len(found) == 1:
                text = _("Did you mean {name}?").format(name=h(found[0].name))
                markup = pick_delivered(found)
            else:
                text, markup = delivered_views.which_one(found), pick_delivered(found)
            await message.answer(text, reply_markup=markup)
            return
        done = await delivered.deliver(
            ctx.session, contact, actor=ctx.user, now=ctx.now(), rules=ctx.survey_rules
        )
        await message.answer(
            delivered_views.logged(contact), reply_markup=delivered_views.logged_keyboard(contact)
        )
        await delivered_views.tell(
            message, done, contact, bot=bot, settings=ctx.settings, lang=ctx.viewer.lang
        )

    @router.callback_query(CaseCb.filter(), leads())
    async def case_button(
        query: CallbackQuery, callback_data: CaseCb, ctx: Ctx, state: FSMContext
    ) -> None:
        session = ctx.session
        case_row = await nps.get_case_for(session, callback_data.id, ctx.user, ctx.viewer.role)
        if case_row is None or not isinstance(query.message, Message):
            await query.answer(_("Case not found."), show_alert=True)
            return
        if case_row.status == "resolved":
            await query.answer(_("This case is already resolved."), show_alert=True)
            return
        if callback_data.a == "res":
            await query.answer()
            await state.set_state(ResolveForm.note)
            await state.update_data(case_id=case_row.id)
            await query.message.answer(
                _("How was it resolved? Write a short note. /cancel to leave.")
            )
            return
        move = {"take": nps.CaseMove.TAKE, "cont": nps.CaseMove.CONTACTED}.get(callback_data.a)
        if move is None:
            await query.answer(_("This button is no longer valid."), show_alert=True)
            return
        await nps.move_case(
            session,
            case_row,
            move,
            actor=ctx.user,
            now=ctx.now(),
            admin_ids=ctx.settings.admin_ids,
        )
        await query.answer(_("Saved."))
        card = await nps_cards.case_card(session, case_row, later=True)
        await edit_text(query.message, case_text(card), reply_markup=case_keyboard(card))

    @router.callback_query(CaseCb.filter())
    async def case_button_denied(query: CallbackQuery) -> None:
        await query.answer(_("Case not found."), show_alert=True)

    @router.message(StateFilter(ResolveForm.note), F.text & ~F.text.startswith("/"), leads())
    async def resolve_note(message: Message, ctx: Ctx, state: FSMContext) -> None:
        session, user = ctx.session, ctx.user
        data = await state.get_data()
        case_row = await nps.get_case_for(
            session, int(data.get("case_id", 0)), user, ctx.viewer.role
        )
        await state.clear()
        if case_row is None:
            await message.answer(_("Case not found."))
            return
        await nps.move_case(
            session,
            case_row,
            nps.CaseMove.RESOLVE,
            actor=user,
            now=ctx.now(),
            admin_ids=ctx.settings.admin_ids,
            note=message.text,
        )
        card = await nps_cards.case_card(session, case_row, later=True)
        # the rep hears of it (services.nps.tell_about), unless the resolver is the card's owner
        done = (
            _("✅ Case resolved.")
            if case_row.rep_id == user.id
            else _("✅ Case resolved. The rep is informed.")
        )
        await message.answer(done + "\n\n" + case_text(card))

    @router.message(Command("nps"), leads())
    async def nps_cmd(message: Message, command: CommandObject, ctx: Ctx) -> None:
        session = ctx.session
        days = 90
        arg = (command.args or "").strip().lower().removesuffix("d")
        if arg:
            if not arg.isdigit() or not 1 <= int(arg) <= 3650:
                await message.answer(_("Use /nps, or /nps 30d for another period."))
                return
            days = int(arg)
        now = ctx.now()
        scope = ctx.viewer.scope
        start = now - timedelta(days=days)
        lines = [nps_views.report_head(days)]
        groups = [("all", None)]
        if ctx.viewer.role is Role.ADMIN:
            groups.append(("team", _("By team")))
        groups += [("rep", _("By rep")), ("segment", _("By segment")), ("kind", _("B2B / B2C"))]
        for group, title in groups:
            # the period is [start, end): end just after now, so answers given now count
            rows = await nps.summary(
                session, scope, start=start, end=now + timedelta(seconds=1), group=group
            )
            if title:
                if not rows:
                    continue
                lines += ["", f"<b>{title}</b>"]
            if not rows and group == "all":
                lines.append(_("No answers yet."))
                continue
            names = await nps.row_names(session, group, rows)
            for row in rows:
                label = (
                    None if group == "all" else h(names.get(row.label, row.label) or _("not set"))
                )
                lines.append(nps_views.summary_line(row, label))
        comments = await nps.latest_comments(session, scope)
        if comments:
            lines += ["", _("<b>Latest comments</b>")]
            for s, c in comments:
                comment = nps.clip(s.comment or "", 300)
                lines.append(f"{s.score}/10 · {h(c.name)}: {quoted(comment)}")
        await answer_long(message, "\n".join(lines))

    return router
