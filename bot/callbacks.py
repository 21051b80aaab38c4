"""CallbackData factories. Every packed value is checked to fit Telegram's 64-byte limit."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

MAX_CALLBACK_BYTES = 64


class InviteCb(CallbackData, prefix="inv"):
    role: str
    team_id: int = 0


class LangCb(CallbackData, prefix="lang"):
    code: str


class TzCb(CallbackData, prefix="tz"):
    name: str


class SettingsCb(CallbackData, prefix="set"):
    action: str


def packed(cb: CallbackData) -> str:
    data = cb.pack()
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data
