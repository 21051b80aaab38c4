"""The registry of due-work renderers: what a kind of due work becomes as a message, which kinds
write, what runs after a send; and the recipient's time zone and language for a renderer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram.types import InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import user_language
from bot.sender import SendStatus
from services import duework, followups
from storage.models import User

if TYPE_CHECKING:
    from scheduler import Clockwork

# a message that goes out this long after its due time is marked late
LATE_AFTER = timedelta(minutes=15)
Rendered = tuple[str, InlineKeyboardMarkup | None]


@dataclass
class Composed:
    """Several messages (text + keyboard each) and an optional photo (PNG bytes, caption)."""

    parts: list[Rendered] = field(default_factory=list)
    photo: tuple[bytes, str | None] | None = None


Renderer = Callable[
    [AsyncSession, duework.Claimed, User | None, "Clockwork"],
    Awaitable[Rendered | Composed | None],
]
RENDERERS: dict[str, Renderer] = {}
# kinds whose renderer writes (fans out into other rows): it runs inside a write block
WRITING_KINDS: set[str] = set()
# what happens after a send, by kind: (session, item, status, cw) — e.g. a survey marked delivered
AfterSend = Callable[[AsyncSession, duework.Claimed, SendStatus, "Clockwork"], Awaitable[None]]
AFTER_SEND: dict[str, AfterSend] = {}


def renderer(kind: str, *, writes: bool = False) -> Callable[[Renderer], Renderer]:
    """Register the renderer of a kind of due work. Renderers read (a read session, no write
    block, before the send); one that writes — a fan-out into other rows — says ``writes=True``
    and runs in a write block that first checks the claim is still held."""

    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        if writes:
            WRITING_KINDS.add(kind)
        else:
            WRITING_KINDS.discard(kind)
        return fn

    return register


def _tz(user: User | None, cw: Clockwork) -> str:
    default = cw.settings.default_timezone
    return followups.user_tz(user, default) if user is not None else default


def _lang(user: User | None, cw: Clockwork) -> str:
    if user is None:
        return cw.settings.default_language
    return user_language(user.language, user.tg_language, cw.settings.default_language)
