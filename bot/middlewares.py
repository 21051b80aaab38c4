"""Outer middlewares: a read session per update, then the current user and their role.

The update's session only reads. A use case writes inside ``storage.uow.writing(session)`` — one
short write transaction, committed before the handler says anything about it — and before every
Telegram request the update's read transaction is ended (bot.reliability), so no snapshot or
pooled connection is held across a round trip to Telegram.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from aiogram import BaseMiddleware
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.types import User as TgUser
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.context import Ctx
from bot.i18n import _
from core.roles import effective_role
from services import contacts as contacts_svc
from services.viewer import Viewer
from storage import uow
from storage.repo import users as users_repo

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# the session of the update being handled in this task (ended before each Telegram request)
update_session: ContextVar[AsyncSession | None] = ContextVar("update_session", default=None)

# "last seen" is kept to this resolution: reading the bot must not write on every update
LAST_SEEN_RESOLUTION = timedelta(minutes=15)


class DbSessionMiddleware(BaseMiddleware):
    """One read session per update. Changes made to ORM objects outside a write block would be
    lost silently, so they are an error here rather than a surprise later."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self.session_factory = session_factory

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.session_factory() as session:
            data["session"] = session
            token = update_session.set(session)
            try:
                result = await handler(event, data)
                if uow.has_pending_changes(session):
                    raise uow.UnsavedChanges(
                        "the handler changed ORM objects outside storage.uow.writing()"
                    )
                return result
            finally:
                update_session.reset(token)


class UserMiddleware(BaseMiddleware):
    """Loads the Telegram user and resolves their role on the server side. Writes only when
    something changed (a new person, a new name or language, back after blocking the bot) or
    "last seen" is older than :data:`LAST_SEEN_RESOLUTION`."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        tg_user: TgUser | None = data.get("event_from_user")
        data["user"] = None
        data["role"] = None
        data["first_visit"] = False  # True: this update is the first the bot has of them
        if tg_user is not None and not tg_user.is_bot:
            session: AsyncSession = data["session"]
            settings = data["settings"]
            now = data["clock"].now()
            user = await users_repo.get_by_tg_id(session, tg_user.id)
            data["first_visit"] = user is None
            if user is None or users_repo.is_outdated(
                user, tg_user, now=now, resolution=LAST_SEEN_RESOLUTION
            ):
                user = await _record(session, tg_user, now)
            data["user"] = user
            data["role"] = effective_role(user.role, user.tg_id, settings.admin_ids)
        return await handler(event, data)


async def _record(session: AsyncSession, tg_user: TgUser, now: Any) -> Any:
    fields = {
        "tg_id": tg_user.id,
        "first_name": tg_user.first_name,
        "last_name": tg_user.last_name,
        "username": tg_user.username,
        "language_code": tg_user.language_code,
        "now": now,
    }
    try:
        async with uow.writing(session):
            return await users_repo.upsert_from_telegram(session, **fields)
    except IntegrityError:
        # the same new person's other update recorded them a moment ago
        async with uow.writing(session):
            return await users_repo.upsert_from_telegram(session, **fields)


class UpdateLogMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update):
            log.debug("update %s (%s)", event.update_id, event.event_type)
        return await handler(event, data)


def kept_dialogue(state: FSMContext) -> FSMContext:
    """Where a dialogue a command left is kept: a slot of the user's FSM storage of its own (its
    own destiny), so no dialogue's ``state.clear()`` touches it."""
    return FSMContext(storage=state.storage, key=replace(state.key, destiny="left"))


async def take_back(state: FSMContext, n: int) -> tuple[str | None, dict[str, Any]] | None:
    """The dialogue a command left (its state and answers), out of keeping, when ``n`` names
    the one left last; None for an older note's button (that dialogue is gone)."""
    kept = kept_dialogue(state)
    left = await kept.get_data()
    if left.get("n") != n:
        return None
    await kept.clear()
    # the dialogue taken back remembers the note it came from: its button tapped again finds it
    return left.get("state"), {**(left.get("data") or {}), RESUMED: n}


RESUMED = "resumed_by"  # in a dialogue's answers: the note (its number) that took it back


async def back_already(state: FSMContext, n: int) -> bool:
    """The dialogue the note ``n`` kept was taken back and is the one open now: its button
    tapped again (a double tap, or an older copy of it) has nothing left to do."""
    return await state.get_state() is not None and (await state.get_data()).get(RESUMED) == n


Note = tuple[str, Any] | None  # a message's text and reply markup, or nothing to say
LeftNote = Callable[[str, dict[str, Any], int], Note]  # state, answers, the leaving message


class CommandLeavesDialogue(BaseMiddleware):
    """A command sent in the middle of a dialogue leaves the dialogue and runs: it is never
    taken as the answer to the step (a name of "/contacts"). /cancel says so itself.

    ``kept`` names the dialogues (by their states group, e.g. "AddForm") whose typed answers
    are worth keeping, with what to say about them: when that says something, the dialogue's
    state and answers are kept (:func:`kept_dialogue`; a Continue button goes back to
    them) and the note is sent before the command runs, so nothing typed is lost unannounced.
    The command that starts the same dialogue again, on its own, is taken as meaning to start
    over; with words after it (``/add Maria, Acme`` halfway through adding Ivan) it is another
    dialogue's start, and the one left is kept as for any other command."""

    def __init__(self, kept: dict[str, tuple[str, LeftNote]] | None = None) -> None:
        self.kept = kept or {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state = data.get("state")
        command = _command_of(event)
        if state is not None and command is not None and command != "cancel":
            current = await state.get_state()
            if current is not None:
                log.debug("/%s leaves the dialogue in %s", command, current)
                answers = await state.get_data()
                await state.clear()
                data["raw_state"] = None  # what the state filters of this update look at
                starts, note_of = self.kept.get(current.split(":", 1)[0], ("", None))
                over = command == starts and not _has_arguments(event)
                # a member deactivated mid-dialogue has nothing to go back to
                gone = data.get("role") is None
                if note_of is not None and not over and not gone and isinstance(event, Message):
                    note = note_of(current, answers, event.message_id)
                    if note is not None:
                        kept = {"state": current, "data": answers, "n": event.message_id}
                        await kept_dialogue(state).set_data(kept)
                        await event.answer(note[0], reply_markup=note[1])
        return await handler(event, data)


class TapLeavesDialogue(BaseMiddleware):
    """A button of another flow — a reminder's, a card's on an older message — tapped in the
    middle of a dialogue, whose handler leaves it (a new question asked, the answers cleared):
    the typed answers are kept and said, as a command's are (:class:`CommandLeavesDialogue`,
    with the same ``kept``), before the button's own reply. A dialogue's own buttons (handlers
    filtered by its state, the cards offered for its typed note) and buttons that leave it
    alone (Open card, a list's page, a Back button of the dialogue taken back already) change
    nothing. An inner middleware of every callback query: it knows which handler the tap
    reached."""

    def __init__(self, kept: dict[str, tuple[str, LeftNote]] | None = None) -> None:
        self.kept = kept or {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state = data.get("state")
        if (
            not isinstance(event, CallbackQuery)
            or not isinstance(state, FSMContext)
            or data.get("role") is None  # a member deactivated: nothing to go back to
            or _filtered_by_state(data.get("handler"))
        ):
            return await handler(event, data)
        current = data.get("raw_state")  # read once by aiogram for the state filters
        note_of = self.kept.get((current or "").split(":", 1)[0], ("", None))[1]
        if current is None or note_of is None:
            return await handler(event, data)
        answers = await state.get_data()
        if _on_own_offer(answers, event):
            return await handler(event, data)
        update = data.get("event_update")
        # the note's number: the update's id, which no other note (a message's id) is likely
        # to share in practice, and no later tap repeats
        n = update.update_id if isinstance(update, Update) else 0
        left = LeavingState(state, event, Left(current, answers, n, note_of))
        data["state"] = left
        result = await handler(event, data)
        await left.say()  # a note held back by a write block
        return result


@dataclass(frozen=True)
class Left:
    """The dialogue open when a button was tapped: its state, its answers, the number its note
    gets, and what says it was not saved."""

    state: str
    answers: dict[str, Any]
    n: int
    note_of: LeftNote


class LeavingState(FSMContext):
    """The FSM context a tapped button's handler gets while a dialogue is open: the first change
    that leaves the dialogue (another state; its answers replaced or cleared) keeps it and says
    so first — once the write block it happens in has closed, if it happens in one (nothing is
    sent while a write is open): then after the handler's own reply."""

    def __init__(self, state: FSMContext, query: CallbackQuery, left: Left) -> None:
        super().__init__(storage=state.storage, key=state.key)
        self.query = query
        self.left: Left | None = left
        self.note: Note = None

    async def set_state(self, state: StateType = None) -> None:
        new = state.state if isinstance(state, State) else state
        if self.left is not None and new != self.left.state:
            await self._leave(self.left)
        await super().set_state(state)

    async def set_data(self, data: Mapping[str, Any]) -> None:
        if self.left is not None and dict(data) != self.left.answers:
            await self._leave(self.left)
        await super().set_data(data)

    async def _leave(self, left: Left) -> None:
        self.left = None  # said once
        # the flow the button starts begins afresh, as a command's does (no answer of the
        # dialogue left is taken as its own)
        await super().set_data({})
        self.note = tapped_note(left.note_of, left.state, left.answers, left.n)
        if self.note is None:
            return
        await kept_dialogue(self).set_data({"state": left.state, "data": left.answers, "n": left.n})
        if not uow.in_write():
            await self.say()

    async def say(self) -> None:
        """Send the note, if there is one not sent yet."""
        note, self.note = self.note, None
        if note is None:
            return
        message = self.query.message
        if isinstance(message, Message):
            await message.answer(note[0], reply_markup=note[1])
        elif self.query.bot is not None:
            await self.query.bot.send_message(
                self.query.from_user.id, note[0], reply_markup=note[1]
            )


def tapped_note(note_of: LeftNote, state: str, answers: dict[str, Any], n: int) -> Note:
    """What a dialogue left by a tap says: its note told of the tap (``tap=True``) when it
    takes one; else its note with the first line (the one naming a command as the cause,
    views.keyboards.way_back) said of a button instead."""
    if "tap" in inspect.signature(note_of).parameters:
        return note_of(state, answers, n, tap=True)  # type: ignore[call-arg]
    note = note_of(state, answers, n)
    if note is None:
        return None
    text, markup = note
    rest = text.partition("\n")[2]
    head = _("✋ Not saved: a button of another message ends the dialogue.")
    return (head + "\n" + rest if rest else head), markup


def _on_own_offer(answers: dict[str, Any], query: CallbackQuery) -> bool:
    """A button of the message that offers the dialogue's typed note its cards (the answers'
    "note" names it): the dialogue's own, going on with the note, not another flow."""
    mid = (answers.get("note") or {}).get("mid")
    return query.message is not None and mid == query.message.message_id


def _filtered_by_state(handler: Any) -> bool:
    """A handler that runs in given states only: a dialogue's own (a Skip, a Confirm)."""
    filters = getattr(handler, "filters", None) or ()
    return any(isinstance(f.callback, (StateFilter, State)) for f in filters)


def _has_arguments(event: TelegramObject) -> bool:
    return len((getattr(event, "text", None) or "").split(maxsplit=1)) > 1


def _command_of(event: TelegramObject) -> str | None:
    text = getattr(event, "text", None)
    entities = getattr(event, "entities", None) or ()
    if not text or not text.startswith("/"):
        return None
    if not any(e.type == "bot_command" and e.offset == 0 for e in entities):
        return None
    return text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower()


class ViewerMiddleware(BaseMiddleware):
    """Builds the request's :class:`~services.viewer.Viewer` once (after the user, the role and
    the language are known) and injects it as ``viewer``; ``None`` for someone with no role."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user, role = data.get("user"), data.get("role")
        viewer = (
            Viewer.of(
                user,
                role,
                default_tz=data["settings"].default_timezone,
                lang=data["i18n"].current_locale,
            )
            if user is not None and role is not None
            else None
        )
        data["viewer"] = viewer
        data["ctx"] = (
            Ctx(data["session"], viewer, data["clock"], data["settings"])
            if viewer is not None
            else None
        )
        return await handler(event, data)


class CardInScope(BaseMiddleware):
    """For a router's card buttons: loads the card named by the callback data's ``id`` within
    the viewer's scope (an id in callback data is never trusted), injects it as ``contact``,
    and answers "Contact not found." for a card the viewer may not see (or that is gone)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        callback_data = data.get("callback_data")
        if not isinstance(event, CallbackQuery) or callback_data is None:
            return await handler(event, data)
        if not isinstance(event.message, Message):
            await event.answer()
            return None
        viewer: Viewer | None = data.get("viewer")
        contact = (
            await contacts_svc.get(data["session"], viewer.scope, callback_data.id)
            if viewer is not None
            else None
        )
        if contact is None:
            gone = viewer is not None and await contacts_svc.erased(
                data["session"], viewer.scope, callback_data.id
            )
            note = _("This card's data was erased: nothing more can be added to it.")
            await event.answer(note if gone else _("Contact not found."), show_alert=True)
            return None
        data["contact"] = contact
        return await handler(event, data)
