"""What a view hands back to whoever sends it: one message, or several and a picture."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.types import InlineKeyboardMarkup

Rendered = tuple[str, InlineKeyboardMarkup | None]


@dataclass
class Composed:
    """Several messages (text + keyboard each) and an optional photo (PNG bytes, caption)."""

    parts: list[Rendered] = field(default_factory=list)
    photo: tuple[bytes, str | None] | None = None
