"""Contacts: quick add, the /add dialogue, shared contacts, forwards, duplicates, cards, lists."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    KeyboardButtonRequestUsers,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import CardCb, DupCb, ListCb, PickCb
from bot.config import Settings
from bot.filters import staff
from bot.i18n import N_, _
from bot.labels import LABELS, label, label_text
from bot.rendering import answer_long, drop_keyboard, edit_text, h, tap_of
from bot.teamcards import duplicate_prompt, left_out_text, refused_as_taken
from bot.views import (
    card_keyboard,
    card_text,
    contact_line,
    edit_prompt_value,
    full_notes_text,
    notes_are_long,
    timeline_text,
)
from core.clock import Clock
from core.contactdata import normalize_email, normalize_phone, normalize_tag, normalize_username
from core.enums import Influence, InfluenceSource, Kind, Source, Stage, Status
from core.quickadd import parse_quick_add
from core.roles import LEADS, Role, effective_role
from services import contacts as svc
from services import followups, taps
from storage.models import Contact, Touch, User
from storage.uow import writing

log = logging.getLogger(__name__)

PICK_USERS_REQUEST_ID = 1
PAGE_SIZE = 8
ENUM_FIELDS: dict[str, tuple[str, ...]] = {
    "kind": tuple(k.value for k in Kind),
    "source": tuple(s.value for s in Source),
    "status": tuple(s.value for s in Status),
    "stage": tuple(s.value for s in Stage),
    "influence": tuple(i.value for i in Influence),
    "icp_fit": ("fits", "not_fit", "unknown"),
}
LABEL_GROUP = {"influence": "influence", "icp_fit": "icp_fit"}
B2C_INFLUENCE = tuple(i.value for i in InfluenceSource)


def enum_choices(field: str, kind: str | None = None) -> tuple[str, ...]:
    """The values offered for a field: a B2C contact's influence is its source of influence."""
    if field == "influence" and kind == Kind.B2C.value:
        return B2C_INFLUENCE
    return ENUM_FIELDS[field]


def is_valid_choice(field: str, value: str) -> bool:
    return value in ENUM_FIELDS.get(field, ()) or (field == "influence" and value in B2C_INFLUENCE)


TEXT_FIELDS = (
    "name",
    "company",
    "position",
    "phone",
    "email",
    "tg_username",
    "segment",
    "icp_criterion",
    "source_detail",
    "notes",
    "tags",
)


# typed fields that are normalised before saving: (normaliser(raw, phone region), problem text)
FIELD_CHECKS: dict[str, tuple[Callable[[str, str], str | None], str]] = {
    "phone": (normalize_phone, N_("“{value}” is not a valid phone number. Try again, or /cancel.")),
    "email": (
        lambda raw, _region: normalize_email(raw),
        N_("“{value}” is not a valid e-mail. Try again, or /cancel."),
    ),
    "tg_username": (
        lambda raw, _region: normalize_username(raw),
        N_("“{value}” is not a valid Telegram username. Try again, or /cancel."),
    ),
}


class AddForm(StatesGroup):
    name = State()
    company = State()
    position = State()
    phone = State()
    email = State()
    kind = State()
    source = State()
    influence = State()


class EditForm(StatesGroup):
    value = State()


class FindForm(StatesGroup):
    query = State()


class MergeForm(StatesGroup):
    query = State()


def scope_of(user: User, role: Role) -> svc.Scope:
    return svc.Scope.of(user, role)


def user_tz(user: User, settings: Settings) -> str:
    return followups.user_tz(user, settings.default_timezone)


async def last_touch(session: AsyncSession, contact_id: int) -> Touch | None:
    return await session.scalar(
        select(Touch)
        .where(Touch.contact_id == contact_id)
        .order_by(Touch.occurred_at.desc(), Touch.id.desc())
        .limit(1)
    )


async def show_card(
    target: Message,
    session: AsyncSession,
    contact: Contact,
    user: User,
    settings: Settings,
    i18n: I18n,
    *,
    edit: bool = False,
    prefix: str = "",
) -> None:
    owner = await session.get(User, contact.owner_id) if contact.owner_id != user.id else None
    introducer = (
        await session.get(Contact, contact.introduced_by_id) if contact.introduced_by_id else None
    )
    text = prefix + card_text(
        contact,
        await last_touch(session, contact.id),
        user_tz(user, settings),
        i18n.current_locale,
        owner=owner.display_name if owner else None,
        introduced_by=introducer.name if introducer else None,
    )
    can_forget = effective_role(user.role, user.tg_id, settings.admin_ids) in LEADS
    markup = card_keyboard(contact, can_forget=can_forget)
    if edit and len(text) <= 4000:
        try:
            await edit_text(target, text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:  # e.g. too old to edit: send the card anew
            log.debug("card edit refused: %s", exc.message)
    await answer_long(target, text, reply_markup=markup)


def missing_fields_keyboard(c: Contact) -> InlineKeyboardMarkup | None:
    kb = InlineKeyboardBuilder()
    labels = {
        "source": _("Source"),
        "influence": _("Role"),
        "kind": _("B2B / B2C"),
        "icp_fit": _("ICP fit"),
    }
    for name in ("source", "influence", "kind"):
        if getattr(c, name) is None:
            kb.button(text=labels[name], callback_data=CardCb(a="ask", id=c.id, v=name))
    if c.icp_fit == "unknown":
        kb.button(text=labels["icp_fit"], callback_data=CardCb(a="ask", id=c.id, v="icp_fit"))
    kb.button(text=_("Status"), callback_data=CardCb(a="ask", id=c.id, v="status"))
    kb.button(text=_("Stage"), callback_data=CardCb(a="ask", id=c.id, v="stage"))
    kb.button(text=_("Open card"), callback_data=CardCb(a="open", id=c.id))
    kb.adjust(3)
    return kb.as_markup()


def enum_keyboard(contact_id: int, field: str, kind: str | None) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    group = LABEL_GROUP.get(field, field)
    for value in enum_choices(field, kind):
        kb.button(
            text=label_text(group, value),
            callback_data=CardCb(a="set", id=contact_id, v=f"{field}={value}"),
        )
    kb.button(text=_("« Back"), callback_data=CardCb(a="open", id=contact_id))
    kb.adjust(2)
    return kb.as_markup()


def problems_text(problems: tuple[tuple[str, str], ...]) -> str:
    texts = {
        "bad_phone": _("⚠️ “{value}” is not a valid phone number; it was not saved."),
        "bad_email": _("⚠️ “{value}” is not a valid e-mail; it was not saved."),
        "bad_username": _("⚠️ “{value}” is not a valid Telegram username; it was not saved."),
        "bad_tag": _("⚠️ “{value}” is not a valid tag; it was not saved."),
        "extra_phone": _("⚠️ A second phone “{value}” was ignored."),
        "extra_email": _("⚠️ A second e-mail “{value}” was ignored."),
        "extra_username": _("⚠️ A second username “{value}” was ignored."),
    }
    lines = [texts[code].format(value=h(raw)) for code, raw in problems if code in texts]
    return "\n".join(lines)


def duplicate_text_and_keyboard(found: list[Contact]) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("<b>Possible duplicate</b>:")]
    kb = InlineKeyboardBuilder()
    for c in found[:3]:
        lines.append("• " + contact_line(c) + (f" · {h(c.phone)}" if c.phone else ""))
        kb.button(
            text=_("Open {name}").format(name=c.name[:30]), callback_data=DupCb(a="open", id=c.id)
        )
        kb.button(
            text=_("Merge into {name}").format(name=c.name[:30]),
            callback_data=DupCb(a="merge", id=c.id),
        )
    kb.button(text=_("Add anyway"), callback_data=DupCb(a="add"))
    kb.adjust(2)
    return "\n".join(lines), kb.as_markup()


async def save_or_ask_duplicate(
    target: Message,
    *,
    session: AsyncSession,
    user: User,
    role: Role,
    data: dict[str, Any],
    tags: list[str],
    state: FSMContext,
    clock: Clock,
    settings: Settings,
    i18n: I18n,
    notice: str = "",
) -> None:
    """Every add goes through here: a possible duplicate, or a card of the team with the same
    phone, e-mail or Telegram id, is shown before anything is saved."""
    scope = scope_of(user, role)
    conflicts = await svc.team_conflicts(
        session, team_id=user.team_id, owner_id=user.id, values=data, viewer=scope
    )
    found = await svc.duplicates(
        session,
        scope,
        name=data.get("name"),
        company=data.get("company"),
        phone=data.get("phone"),
        email=data.get("email"),
        tg_user_id=data.get("tg_user_id"),
    )
    added = None
    if not conflicts and not found:
        added = await svc.add(
            session, owner=user, data=data, tags=tags, now=clock.now(), viewer=scope
        )
        conflicts = added.conflicts  # a card with its phone was saved a moment before
    if added is None or added.contact is None:
        await state.set_state(None)
        await state.update_data(pending=data, pending_tags=tags)
        text, kb = duplicate_prompt(conflicts, found)
        await target.answer((notice + "\n\n" if notice else "") + text, reply_markup=kb)
        return
    contact = added.contact
    await state.clear()
    await target.answer(
        (notice + "\n\n" if notice else "")
        + _("✅ Saved: {contact}").format(contact=contact_line(contact))
        + "\n"
        + _("Fill in the key fields, or open the card:"),
        reply_markup=missing_fields_keyboard(contact),
    )


def create_router() -> Router:
    router = Router(name="contacts")
    router.message.filter(staff())
    router.callback_query.filter(staff())

    # ------------------------------------------------------------------ quick add and wizard
    @router.message(Command("add"))
    async def add(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        await state.clear()
        if command.args:
            parsed = parse_quick_add(command.args, settings.default_phone_region)
            if not parsed.name:
                await message.answer(
                    _(
                        "A contact needs a name first: /add Anna Smirnova, Acme, CTO, +7 999 123-45-67"
                    )
                )
                return
            data = {
                "name": parsed.name,
                "company": parsed.company,
                "position": parsed.position,
                "phone": parsed.phone,
                "email": parsed.email,
                "tg_username": parsed.username,
                "notes": parsed.notes,
            }
            await save_or_ask_duplicate(
                message,
                session=session,
                user=user,
                role=role,
                data=data,
                tags=list(parsed.tags),
                state=state,
                clock=clock,
                settings=settings,
                i18n=i18n,
                notice=problems_text(parsed.problems),
            )
            return
        await state.set_state(AddForm.name)
        await state.update_data(form={})
        keyboard = ReplyKeyboardMarkup(
            keyboard=[
                [
                    KeyboardButton(
                        text=_("👤 Pick from Telegram"),
                        request_users=KeyboardButtonRequestUsers(
                            request_id=PICK_USERS_REQUEST_ID,
                            user_is_bot=False,
                            max_quantity=1,
                            request_name=True,
                            request_username=True,
                        ),
                    )
                ]
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await message.answer(
            _(
                "New contact. Send the name, share a Telegram contact, or pick a person below. "
                "/cancel to leave.\n\nTip: next time try /add Anna Smirnova, Acme, CTO, "
                "+7 999 123-45-67, anna@acme.io #event"
            ),
            reply_markup=keyboard,
        )

    def skip_keyboard() -> InlineKeyboardMarkup:
        kb = InlineKeyboardBuilder()
        kb.button(text=_("Skip"), callback_data=PickCb(f="skip", v="1"))
        return kb.as_markup()

    def enum_pick_keyboard(field: str, kind: str | None = None) -> InlineKeyboardMarkup:
        kb = InlineKeyboardBuilder()
        group = LABEL_GROUP.get(field, field)
        for value in enum_choices(field, kind):
            kb.button(text=label_text(group, value), callback_data=PickCb(f=field, v=value))
        kb.button(text=_("Skip"), callback_data=PickCb(f="skip", v=field))
        kb.adjust(3)
        return kb.as_markup()

    questions = {
        AddForm.company.state: lambda: _("Company? (or Skip)"),
        AddForm.position.state: lambda: _("Position? (or Skip)"),
        AddForm.phone.state: lambda: _("Phone? (or Skip)"),
        AddForm.email.state: lambda: _("E-mail? (or Skip)"),
    }
    order = [
        AddForm.name,
        AddForm.company,
        AddForm.position,
        AddForm.phone,
        AddForm.email,
        AddForm.kind,
        AddForm.source,
        AddForm.influence,
    ]

    async def next_step(target: Message, state: FSMContext, current: State, **deps: Any) -> None:
        nxt = order[order.index(current) + 1] if current is not order[-1] else None
        if nxt is None:
            form = (await state.get_data()).get("form", {})
            await save_or_ask_duplicate(target, data=form, tags=[], state=state, **deps)
            return
        await state.set_state(nxt)
        if nxt.state in questions:
            await target.answer(questions[nxt.state](), reply_markup=skip_keyboard())
        elif nxt is AddForm.kind:
            await target.answer(_("B2B or B2C?"), reply_markup=enum_pick_keyboard("kind"))
        elif nxt is AddForm.source:
            await target.answer(
                _("Where does the contact come from?"), reply_markup=enum_pick_keyboard("source")
            )
        elif nxt is AddForm.influence:
            kind = (await state.get_data()).get("form", {}).get("kind")
            question = (
                _("What influences their choice?")
                if kind == Kind.B2C.value
                else _("Role in the decision?")
            )
            await target.answer(question, reply_markup=enum_pick_keyboard("influence", kind))

    @router.message(StateFilter(AddForm.name), F.text & ~F.text.startswith("/"))
    async def wizard_name(message: Message, state: FSMContext, **deps: Any) -> None:
        assert message.text is not None
        name = " ".join(message.text.split())[:256]
        await state.update_data(form={"name": name})
        await message.answer(
            _("Name: {name}").format(name=h(name)), reply_markup=ReplyKeyboardRemove()
        )
        await next_step(message, state, AddForm.name, **_deps(deps))

    @router.message(
        StateFilter(AddForm.company, AddForm.position, AddForm.phone, AddForm.email),
        F.text & ~F.text.startswith("/"),
    )
    async def wizard_text(
        message: Message, state: FSMContext, settings: Settings, **deps: Any
    ) -> None:
        assert message.text is not None
        current = await state.get_state()
        step = next(s for s in order if s.state == current)
        value: str | None = " ".join(message.text.split())
        if step is AddForm.phone:
            value = normalize_phone(message.text, settings.default_phone_region)
            if value is None:
                await message.answer(
                    _(
                        "“{value}” is not a valid phone number. Send it with the country code, "
                        "e.g. +7 999 123-45-67, or Skip."
                    ).format(value=h(message.text[:64])),
                    reply_markup=skip_keyboard(),
                )
                return
        if step is AddForm.email:
            value = normalize_email(message.text)
            if value is None:
                await message.answer(
                    _("“{value}” is not a valid e-mail. Try again, or Skip.").format(
                        value=h(message.text[:64])
                    ),
                    reply_markup=skip_keyboard(),
                )
                return
        form = (await state.get_data()).get("form", {})
        form[step.state.split(":")[1]] = value
        await state.update_data(form=form)
        await next_step(message, state, step, settings=settings, **_deps(deps))

    @router.callback_query(
        StateFilter(
            AddForm.company,
            AddForm.position,
            AddForm.phone,
            AddForm.email,
            AddForm.kind,
            AddForm.source,
            AddForm.influence,
        ),
        PickCb.filter(),
    )
    async def wizard_pick(
        query: CallbackQuery, callback_data: PickCb, state: FSMContext, **deps: Any
    ) -> None:
        await query.answer()
        current = await state.get_state()
        step = next(s for s in order if s.state == current)
        field = step.state.split(":")[1]
        if callback_data.f != "skip":
            if callback_data.f != field or not is_valid_choice(field, callback_data.v):
                return  # a button from an earlier step: ignore
            form = (await state.get_data()).get("form", {})
            form[field] = callback_data.v
            await state.update_data(form=form)
        if isinstance(query.message, Message):
            await drop_keyboard(query.message)
            await next_step(query.message, state, step, **_deps(deps))

    def _deps(deps: dict[str, Any]) -> dict[str, Any]:
        keys = ("session", "user", "role", "clock", "settings", "i18n")
        return {k: deps[k] for k in keys if k in deps}

    # ------------------------------------------------------------------ shared contacts, picks
    @router.message(F.contact)
    async def shared_contact(
        message: Message, state: FSMContext, settings: Settings, **deps: Any
    ) -> None:
        assert message.contact is not None
        c = message.contact
        name = " ".join(x for x in (c.first_name, c.last_name) if x)
        data = {
            "name": name,
            "phone": normalize_phone(c.phone_number, settings.default_phone_region),
            "tg_user_id": c.user_id,
        }
        await message.answer(_("Contact card received."), reply_markup=ReplyKeyboardRemove())
        await save_or_ask_duplicate(
            message, data=data, tags=[], state=state, settings=settings, **_deps(deps)
        )

    @router.message(F.users_shared)
    async def picked_user(message: Message, state: FSMContext, **deps: Any) -> None:
        assert message.users_shared is not None
        shared = message.users_shared.users[0]
        name = " ".join(x for x in (shared.first_name, shared.last_name) if x) or (
            f"@{shared.username}" if shared.username else str(shared.user_id)
        )
        data = {"name": name, "tg_user_id": shared.user_id, "tg_username": shared.username}
        await message.answer(_("Person picked."), reply_markup=ReplyKeyboardRemove())
        await save_or_ask_duplicate(message, data=data, tags=[], state=state, **_deps(deps))

    # ------------------------------------------------------------------ forwarded messages
    @router.message(F.forward_origin)
    async def forwarded(
        message: Message, session: AsyncSession, user: User, role: Role, state: FSMContext
    ) -> None:
        origin = message.forward_origin
        data: dict[str, Any]
        if origin.type == "user":  # type: ignore[union-attr]
            sender = origin.sender_user  # type: ignore[union-attr]
            name = " ".join(x for x in (sender.first_name, sender.last_name) if x)
            data = {"name": name, "tg_user_id": sender.id, "tg_username": sender.username}
        elif origin.type == "hidden_user":  # type: ignore[union-attr]
            data = {"name": origin.sender_user_name}  # type: ignore[union-attr]
        else:
            await message.answer(_("Forward a message from a person to add them or log a touch."))
            return
        summary = (message.text or message.caption or "")[:1000]
        await state.clear()
        await state.update_data(pending=data, pending_tags=[], fwd_summary=summary)
        existing = await svc.duplicates(
            session, scope_of(user, role), name=data["name"], tg_user_id=data.get("tg_user_id")
        )
        kb = InlineKeyboardBuilder()
        for c in existing[:3]:
            kb.button(
                text=_("Log touch: {name}").format(name=c.name[:40]),
                callback_data=CardCb(a="fwdlog", id=c.id),
            )
        kb.button(
            text=_("➕ Add {name}").format(name=data["name"][:40]), callback_data=DupCb(a="add")
        )
        kb.adjust(1)
        await message.answer(
            _("Message from <b>{name}</b>. What shall I do?").format(name=h(data["name"])),
            reply_markup=kb.as_markup(),
        )

    # ------------------------------------------------------------------ duplicates
    @router.callback_query(DupCb.filter())
    async def duplicate_choice(
        query: CallbackQuery,
        callback_data: DupCb,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        data = await state.get_data()
        pending = data.get("pending")
        scope = scope_of(user, role)
        if callback_data.a == "open":
            contact = await svc.get(session, scope, callback_data.id)
            if contact is None:
                await query.message.answer(_("Contact not found."))
                return
            await show_card(query.message, session, contact, user, settings, i18n)
            return
        if not pending:
            await query.message.answer(_("This choice has expired. Add the contact again."))
            return
        now = clock.now()
        if callback_data.a == "add":
            async with writing(session):
                if fresh := await taps.first(session, **tap_of(query), now=now):
                    added = await svc.add(
                        session,
                        owner=user,
                        data=pending,
                        tags=data.get("pending_tags", []),
                        now=now,
                        viewer=scope,
                        anyway=True,
                    )
            if not fresh:
                return  # added by the first tap
            await state.clear()
            contact = added.contact
            assert contact is not None
            left_out = left_out_text(added.left_out, pending)
            await edit_text(
                query.message,
                _("✅ Saved: {contact}").format(contact=contact_line(contact))
                + ("\n" + left_out if left_out else "")
                + "\n"
                + _("Fill in the key fields, or open the card:"),
                reply_markup=missing_fields_keyboard(contact),
            )
            return
        if callback_data.a == "merge":
            keep = await svc.get(session, scope, callback_data.id)
            if keep is None:
                await query.message.answer(_("Contact not found."))
                return
            async with writing(session):
                if fresh := await taps.first(session, **tap_of(query), now=now):
                    await followups.merge_into(
                        session,
                        keep,
                        pending,
                        tags=data.get("pending_tags", []),
                        actor=user,
                        now=now,
                        rules=followups.Rules.of(settings),
                    )
            if not fresh:
                return  # merged by the first tap
            await state.clear()
            await show_card(
                query.message, session, keep, user, settings, i18n, prefix=_("Merged.") + "\n\n"
            )

    # ------------------------------------------------------------------ card actions
    @router.callback_query(CardCb.filter())
    async def card_action(
        query: CallbackQuery,
        callback_data: CardCb,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
        bot: Bot,
    ) -> None:
        if not isinstance(query.message, Message):
            await query.answer()
            return
        msg = query.message
        contact = await svc.get(session, scope_of(user, role), callback_data.id)
        if contact is None:
            await query.answer(_("Contact not found."), show_alert=True)
            return
        a, now = callback_data.a, clock.now()
        rules = followups.Rules.of(settings)
        if a == "open":
            await query.answer()
            await show_card(msg, session, contact, user, settings, i18n)
        elif a in ("status", "stage", "ask"):
            field = a if a != "ask" else callback_data.v
            if field not in ENUM_FIELDS:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            await query.answer()
            await msg.answer(
                _("{field} for {name}:").format(field=_field_title(field), name=h(contact.name)),
                reply_markup=enum_keyboard(contact.id, field, contact.kind),
            )
        elif a == "set":
            field, _sep, value = callback_data.v.partition("=")
            if not is_valid_choice(field, value):
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            await followups.change(
                session, contact, actor=user, now=now, rules=rules, **{field: value}
            )
            await query.answer(_("Saved."))
            await show_card(msg, session, contact, user, settings, i18n, edit=True)
        elif a in ("arch", "restore"):
            try:
                async with writing(session):
                    fresh = await taps.first(session, **tap_of(query), now=now)
                    if fresh and a == "arch":
                        await followups.archive(session, contact, actor=user, now=now, rules=rules)
                    elif fresh:
                        await followups.restore(session, contact, actor=user, now=now, rules=rules)
            except svc.AlreadyInTeam as taken:
                await query.answer()
                await msg.answer(refused_as_taken(taken.cards))
                return
            if not fresh:
                await query.answer(_("Already done."))
                return
            await query.answer(_("Archived.") if a == "arch" else _("Restored."))
            await show_card(msg, session, contact, user, settings, i18n, edit=True)
        elif a == "tl":
            await query.answer()
            page = int(callback_data.v or 0) if (callback_data.v or "0").isdigit() else 0
            items, more = await svc.timeline(session, contact.id, page)
            names = await _actor_names(session, {i.actor_id for i in items if i.actor_id})
            text = timeline_text(
                contact, items, names, user_tz(user, settings), i18n.current_locale
            )
            kb = InlineKeyboardBuilder()
            if page > 0:
                kb.button(
                    text=_("« Newer"), callback_data=CardCb(a="tl", id=contact.id, v=str(page - 1))
                )
            if more:
                kb.button(
                    text=_("Older »"), callback_data=CardCb(a="tl", id=contact.id, v=str(page + 1))
                )
            kb.button(text=_("Open card"), callback_data=CardCb(a="open", id=contact.id))
            kb.adjust(2, 1)
            await answer_long(msg, text, reply_markup=kb.as_markup())
        elif a == "edit":
            await query.answer()
            kb = InlineKeyboardBuilder()
            for name in TEXT_FIELDS:
                kb.button(
                    text=_field_title(name), callback_data=CardCb(a="ef", id=contact.id, v=name)
                )
            kb.button(text=_("🔀 Merge with…"), callback_data=CardCb(a="mrg", id=contact.id))
            if role in LEADS:
                kb.button(text=_("👤 Owner"), callback_data=CardCb(a="own", id=contact.id))
            kb.button(text=_("« Back"), callback_data=CardCb(a="open", id=contact.id))
            kb.adjust(3)
            await msg.answer(_("What do you want to change?"), reply_markup=kb.as_markup())
        elif a == "mrg":
            await query.answer()
            await state.set_state(MergeForm.query)
            await state.update_data(cid=contact.id)
            await msg.answer(
                _(
                    "Which card is the same person as {name}? Send a name, phone or e-mail. "
                    "Its touches and history move into this card. /cancel to leave."
                ).format(name=h(contact.name))
            )
        elif a == "mrgw":
            other_id = int(callback_data.v) if callback_data.v.isdigit() else 0
            other = await svc.get(session, scope_of(user, role), other_id)
            if other is None or other.id == contact.id:
                await query.answer(_("Contact not found."), show_alert=True)
                return
            await query.answer()
            await followups.merge(session, contact, other, actor=user, now=now, rules=rules)
            await state.clear()
            await show_card(
                msg, session, contact, user, settings, i18n, prefix=_("Merged.") + "\n\n"
            )
        elif a == "own":
            people = await svc.owner_candidates(session, scope_of(user, role), contact)
            if role not in LEADS or not people:
                await query.answer(_("There is nobody to hand this card to."), show_alert=True)
                return
            await query.answer()
            kb = InlineKeyboardBuilder()
            for person in people:
                mark = "✓ " if person.id == contact.owner_id else ""
                kb.button(
                    text=(mark + person.display_name)[:60],
                    callback_data=CardCb(a="ownto", id=contact.id, v=str(person.id)),
                )
            kb.button(text=_("« Back"), callback_data=CardCb(a="open", id=contact.id))
            kb.adjust(1)
            await msg.answer(
                _("Who owns {name} from now on?").format(name=h(contact.name)),
                reply_markup=kb.as_markup(),
            )
        elif a == "ownto":
            people = await svc.owner_candidates(session, scope_of(user, role), contact)
            chosen = next((p for p in people if str(p.id) == callback_data.v), None)
            if role not in LEADS or chosen is None:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            try:
                await followups.change_owner(
                    session, contact, chosen, actor=user, now=now, rules=rules
                )
            except svc.AlreadyInTeam as taken:
                await query.answer()
                await msg.answer(refused_as_taken(taken.cards))
                return
            await query.answer(_("Saved."))
            await show_card(
                msg,
                session,
                contact,
                user,
                settings,
                i18n,
                prefix=_("{name} now owns this card.").format(name=h(chosen.display_name)) + "\n\n",
            )
        elif a == "ef":
            if callback_data.v not in TEXT_FIELDS:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            await query.answer()
            await state.set_state(EditForm.value)
            await state.update_data(cid=contact.id, field=callback_data.v)
            current = (
                getattr(contact, callback_data.v)
                if callback_data.v != "tags"
                else " ".join("#" + t for t in svc.tag_list(contact.tags))
            )
            await msg.answer(
                _(
                    "Send the new {field}. Now: {value}\nSend “-” to clear it. /cancel to leave."
                ).format(field=_field_title(callback_data.v), value=edit_prompt_value(current))
            )
        elif a == "notes":
            await query.answer()
            await answer_long(msg, full_notes_text(contact))
        elif a == "verify":
            async with writing(session):
                if fresh := await taps.first(session, **tap_of(query), now=now):
                    await followups.mark_verified(
                        session, contact, actor=user, now=now, rules=rules
                    )
            await query.answer(_("Marked as verified.") if fresh else _("Already done."))
        else:
            await query.answer()
            # touch logging and next steps live in handlers.touches
            from handlers.touches import start_next_step, start_touch_log

            if a == "deliv":
                from handlers.nps import mark_delivered

                await mark_delivered(
                    msg,
                    contact,
                    session=session,
                    user=user,
                    clock=clock,
                    settings=settings,
                    i18n=i18n,
                    bot=bot,
                    tap=tap_of(query),
                )
            elif a in ("log", "fwdlog"):
                summary = (await state.get_data()).get("fwd_summary", "") if a == "fwdlog" else ""
                await start_touch_log(msg, state, contact, summary=summary)
            elif a == "next":
                await start_next_step(msg, state, contact)

    @router.message(StateFilter(MergeForm.query), F.text & ~F.text.startswith("/"))
    async def merge_pick(
        message: Message, session: AsyncSession, user: User, role: Role, state: FSMContext
    ) -> None:
        cid = int((await state.get_data()).get("cid", 0))
        found = [
            c
            for c in await svc.search(session, scope_of(user, role), (message.text or "")[:200])
            if c.id != cid
        ]
        if not found:
            await message.answer(
                _("Nothing found for “{query}”. Try again, or /cancel.").format(
                    query=h((message.text or "")[:100])
                )
            )
            return
        kb = InlineKeyboardBuilder()
        for c in found[:6]:
            title = c.name + (f" · {c.company}" if c.company else "")
            kb.button(text=title[:60], callback_data=CardCb(a="mrgw", id=cid, v=str(c.id)))
        kb.adjust(1)
        await message.answer(_("Merge which one into this card?"), reply_markup=kb.as_markup())

    @router.message(StateFilter(EditForm.value), F.text)
    async def edit_value(
        message: Message,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
        clock: Clock,
        settings: Settings,
        i18n: I18n,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        contact = await svc.get(session, scope_of(user, role), int(data.get("cid", 0)))
        field = data.get("field", "")
        if contact is None or field not in TEXT_FIELDS:
            await state.clear()
            await message.answer(_("Contact not found."))
            return
        raw = message.text.strip()
        value: Any = None if raw == "-" else raw
        if field == "name" and value is None:
            await message.answer(_("The name cannot be empty. Send a name, or /cancel."))
            return
        check = FIELD_CHECKS.get(field)
        if value is not None and check is not None:
            normalise, problem = check
            value = normalise(raw, settings.default_phone_region)
            if value is None:
                await message.answer(_(problem).format(value=h(raw[:64])))
                return
        if field == "tags":
            value = [t for t in raw.replace(",", " ").split() if t] if value else []
        try:
            await followups.change(
                session,
                contact,
                actor=user,
                now=clock.now(),
                rules=followups.Rules.of(settings),
                **{field: value},
            )
        except svc.AlreadyInTeam as taken:
            await state.clear()
            await message.answer(refused_as_taken(taken.cards))
            return
        await state.clear()
        if field == "notes" and notes_are_long(contact.notes):
            await answer_long(message, full_notes_text(contact))  # what was saved, in full
        await show_card(
            message, session, contact, user, settings, i18n, prefix=_("Saved.") + "\n\n"
        )

    # ------------------------------------------------------------------ list and search
    @router.message(Command("contacts"))
    async def list_contacts(
        message: Message,
        command: CommandObject,
        session: AsyncSession,
        user: User,
        role: Role,
        state: FSMContext,
    ) -> None:
        await state.clear()
        arg = (command.args or "").strip()
        flt = ""
        if arg:
            flt = _filter_from_text(arg)
            if flt and not _fits_button(flt):
                await message.answer(_("This tag is too long to filter by; try /find #tag."))
                return
            if not flt:
                await message.answer(
                    _(
                        "Filter with a #tag or a status, stage or source code, e.g. "
                        "/contacts #event, /contacts lead, /contacts webinar."
                    )
                )
                return
        text, kb = await _list_view(session, scope_of(user, role), 0, flt)
        await message.answer(text, reply_markup=kb)

    @router.callback_query(ListCb.filter())
    async def list_page(
        query: CallbackQuery, callback_data: ListCb, session: AsyncSession, user: User, role: Role
    ) -> None:
        await query.answer()
        if not isinstance(query.message, Message):
            return
        if callback_data.f == "menu":
            await edit_text(query.message, _("Filter by:"), reply_markup=_filter_menu())
            return
        if callback_data.f.endswith("=?"):
            field = callback_data.f[:-2]
            if field not in ("status", "stage", "source"):
                return
            kb = InlineKeyboardBuilder()
            for value in ENUM_FIELDS[field]:
                kb.button(
                    text=label_text(field, value),
                    callback_data=ListCb(page=0, f=f"{field}={value}"),
                )
            kb.button(text=_("« Back"), callback_data=ListCb(page=0, f=""))
            kb.adjust(2)
            await edit_text(query.message, _("Choose:"), reply_markup=kb.as_markup())
            return
        text, kb = await _list_view(
            session, scope_of(user, role), max(0, callback_data.page), callback_data.f
        )
        await edit_text(query.message, text, reply_markup=kb)

    @router.message(Command("find"))
    async def find(
        message: Message, command: CommandObject, state: FSMContext, **deps: Any
    ) -> None:
        if not command.args:
            await state.set_state(FindForm.query)
            await message.answer(
                _(
                    "Whom are you looking for? Send a name, company, phone, e-mail, @username or #tag."
                )
            )
            return
        await state.clear()
        await _search_and_show(message, command.args, **deps)

    @router.message(StateFilter(FindForm.query), F.text & ~F.text.startswith("/"))
    async def find_text(message: Message, state: FSMContext, **deps: Any) -> None:
        await state.clear()
        await _search_and_show(message, message.text or "", **deps)

    return router


async def _search_and_show(
    message: Message,
    query: str,
    session: AsyncSession,
    user: User,
    role: Role,
    settings: Settings,
    i18n: I18n,
    **_rest: Any,
) -> None:
    found = await svc.search(session, scope_of(user, role), query[:200])
    if not found:
        await message.answer(
            _("Nothing found for “{query}”. /add creates a contact.").format(query=h(query[:100]))
        )
        return
    if len(found) == 1:
        await show_card(message, session, found[0], user, settings, i18n)
        return
    kb = InlineKeyboardBuilder()
    for c in found:
        title = c.name + (f" · {c.company}" if c.company else "")
        kb.button(text=title[:60], callback_data=CardCb(a="open", id=c.id))
    kb.adjust(1)
    await message.answer(_("Found {count}:").format(count=len(found)), reply_markup=kb.as_markup())


def _field_title(field: str) -> str:
    titles = {
        "name": _("Name"),
        "company": _("Company"),
        "position": _("Position"),
        "phone": _("Phone"),
        "email": _("E-mail"),
        "tg_username": _("Telegram"),
        "segment": _("Segment"),
        "icp_criterion": _("ICP criterion"),
        "source_detail": _("Source detail"),
        "notes": _("Notes"),
        "tags": _("Tags"),
        "status": _("Status"),
        "stage": _("Stage"),
        "source": _("Source"),
        "kind": _("B2B / B2C"),
        "influence": _("Role"),
        "icp_fit": _("ICP fit"),
    }
    return titles.get(field, field)


def _filter_menu() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Status"), callback_data=ListCb(page=0, f="status=?"))
    kb.button(text=_("Stage"), callback_data=ListCb(page=0, f="stage=?"))
    kb.button(text=_("Source"), callback_data=ListCb(page=0, f="source=?"))
    kb.button(text=_("Archived"), callback_data=ListCb(page=0, f="archived=1"))
    kb.button(text=_("All"), callback_data=ListCb(page=0, f=""))
    kb.adjust(3, 2)
    return kb.as_markup()


def _fits_button(flt: str) -> bool:
    """Whether a filter still fits the list's page buttons (64 bytes of callback data)."""
    try:
        ListCb(page=99_999, f=flt).pack()
    except ValueError:
        return False
    return True


def _filter_from_text(arg: str) -> str:
    """ "#event" -> "tag=event"; "lead" -> "status=lead"; "" when it is neither."""
    if arg.startswith("#"):
        tag = normalize_tag(arg)
        return f"tag={tag}" if tag else ""
    code = arg.lower()
    for field in ("status", "stage", "source"):
        if code in ENUM_FIELDS[field]:
            return f"{field}={code}"
    return ""


def _parse_filter(f: str) -> svc.ContactFilter:
    flt = svc.ContactFilter()
    field, _sep, value = f.partition("=")
    if field in ("status", "stage", "source") and value in ENUM_FIELDS.get(field, ()):
        setattr(flt, field, value)
    elif field == "tag" and value:
        flt.tag = value
    elif field == "archived":
        flt.archived = True
    return flt


async def _list_view(
    session: AsyncSession, scope: svc.Scope, page: int, f: str
) -> tuple[str, InlineKeyboardMarkup]:
    flt = _parse_filter(f)
    rows, total = await svc.list_page(session, scope, flt, page, PAGE_SIZE)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    title = _("<b>Contacts</b>: {total}").format(total=total)
    if f:
        fld, _sep, value = f.partition("=")
        shown = (
            _("archived")
            if fld == "archived"
            else (label(fld, value) if fld in LABELS else h(value))
        )
        title += " · " + shown
    if total:
        title += " · " + _("page {page} of {pages}").format(page=page + 1, pages=pages)
    else:
        title += "\n" + _("No contacts here yet. /add creates one.")
    kb = InlineKeyboardBuilder()
    for c in rows:
        text = c.name + (f" · {c.company}" if c.company else "")
        kb.row(_button(text[:60], CardCb(a="open", id=c.id)))
    nav = []
    if page > 0:
        nav.append(_button("«", ListCb(page=page - 1, f=f)))
    if page + 1 < pages:
        nav.append(_button("»", ListCb(page=page + 1, f=f)))
    if nav:
        kb.row(*nav)
    kb.row(_button(_("🔎 Filter"), ListCb(page=0, f="menu")))
    return title, kb.as_markup()


def _button(text: str, cb: Any) -> Any:
    from aiogram.types import InlineKeyboardButton

    return InlineKeyboardButton(text=text, callback_data=cb.pack())


async def _actor_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(ids)))
    return {u.id: u.display_name for u in rows}
