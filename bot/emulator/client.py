"""Chat-like access to the emulator: a user sends, shares, forwards and taps buttons.

rep = tg.user(2002, "Anna")
reply = await rep.send("/start")
assert "invitation" in reply.text
await rep.click("Language")
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from bot.emulator.server import FakeTelegram
from bot.emulator.wire import present

_TAG = re.compile(r"<[^>]+>")

SEND_METHODS = {"sendMessage", "sendDocument", "sendPhoto", "sendVoice"}
EDIT_METHODS = {"editMessageText", "editMessageReplyMarkup"}


def plain(text: str | None) -> str:
    """What the person sees: HTML tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", text or ""))


def buttons_of(message: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not message:
        return []
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [b if isinstance(b, dict) else {"text": b} for row in rows for b in row]


@dataclass
class Reply:
    """What the bot did in this chat in answer to one action."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    edited: list[dict[str, Any]] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    sent: dict[str, Any] | None = None  # the user's own message that this answers, if one

    @property
    def all(self) -> list[dict[str, Any]]:
        return self.messages + self.edited

    @property
    def text(self) -> str:
        parts = [plain(m.get("text") or m.get("caption")) for m in self.all]
        if self.answer and self.answer.get("text"):
            parts.append(self.answer["text"])
        return "\n".join(p for p in parts if p)

    @property
    def html(self) -> str:
        return "\n".join(m.get("text") or m.get("caption") or "" for m in self.all)

    @property
    def last(self) -> dict[str, Any] | None:
        return self.all[-1] if self.all else None

    @property
    def buttons(self) -> list[str]:
        for message in reversed(self.all):
            found = buttons_of(message)
            if found:
                return [b["text"] for b in found]
        return []

    @property
    def documents(self) -> list[dict[str, Any]]:
        return [m["document"] for m in self.messages if "document" in m]

    @property
    def photos(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if "photo" in m]

    def __contains__(self, needle: str) -> bool:
        return needle in self.text


class UserClient:
    def __init__(self, emu: FakeTelegram, user_id: int) -> None:
        self.emu = emu
        self.id = user_id

    @property
    def chat(self):  # noqa: ANN201
        return self.emu.chats[self.id]

    @property
    def info(self) -> dict[str, Any]:
        return self.chat.user

    # ------------------------------------------------------------------ what the user does
    async def _run(self, update_id: int) -> Reply:
        start = len(self.emu.requests)
        await self.emu.wait_processed(update_id)
        return self._collect(start)

    async def _message(self, **content: Any) -> Reply:
        """The user sends a message of ``content``; the bot's answers to it."""
        start = len(self.emu.requests)
        update_id, sent = await self.emu.user_message(self.id, **content)
        await self.emu.wait_processed(update_id)
        reply = self._collect(start)
        reply.sent = sent
        return reply

    def _collect(self, start: int) -> Reply:
        reply = Reply()
        for rec in self.emu.requests[start:]:
            if rec.params.get("chat_id") != self.id and rec.method != "answerCallbackQuery":
                continue
            if not rec.ok:
                reply.errors.append(f"{rec.method}: {rec.error}")
                continue
            if rec.method in SEND_METHODS:
                reply.messages.append(rec.result)
            elif rec.method in EDIT_METHODS and isinstance(rec.result, dict):
                reply.edited.append(rec.result)
        return reply

    async def send(self, text: str, **extra: Any) -> Reply:
        content: dict[str, Any] = {"text": text, **extra}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return await self._message(**content)

    async def edit(self, sent: dict[str, Any], text: str) -> Reply:
        """Edit a message this user sent (as returned in ``Reply.sent``) to ``text``."""
        start = len(self.emu.requests)
        update_id = await self.emu.user_edit(self.id, sent["message_id"], text)
        await self.emu.wait_processed(update_id)
        return self._collect(start)

    async def share_contact(
        self,
        phone: str,
        first_name: str,
        last_name: str | None = None,
        user_id: int | None = None,
        vcard: str | None = None,
    ) -> Reply:
        contact: dict[str, Any] = {
            "phone_number": phone,
            "first_name": first_name,
            **present(last_name=last_name, user_id=user_id, vcard=vcard),
        }
        return await self._message(contact=contact)

    async def pick_users(self, request_id: int, *users: dict[str, Any]) -> Reply:
        """Answer a request_users keyboard button."""
        shared = {"request_id": request_id, "users": [{"user_id": u["id"], **u} for u in users]}
        for u in shared["users"]:
            u.pop("id", None)
        return await self._message(users_shared=shared)

    async def send_document(
        self, filename: str, content: bytes, caption: str | None = None
    ) -> Reply:
        document = self.emu.upload(filename, content)
        extra: dict[str, Any] = {"document": document}
        if caption:
            extra["caption"] = caption
        return await self._message(**extra)

    async def send_sticker(self) -> Reply:
        sticker = {
            "file_id": "STK1",
            "file_unique_id": "STK1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        return await self._message(sticker=sticker)

    async def send_photo(self, caption: str | None = None) -> Reply:
        """A photo (stored, so the bot can send it again by its file id)."""
        stored = self.emu.upload("photo.jpg", b"\xff\xd8 a photo")
        photo = [
            {
                "file_id": stored["file_id"],
                "file_unique_id": stored["file_unique_id"],
                "width": 90,
                "height": 90,
            }
        ]
        extra: dict[str, Any] = {"photo": photo}
        if caption:
            extra["caption"] = caption
        return await self._message(**extra)

    async def send_voice(self, seconds: int = 3) -> Reply:
        """A voice note (stored, so the bot can send it again by its file id)."""
        stored = self.emu.upload("voice.ogg", b"OggS a voice note")
        voice = {
            "file_id": stored["file_id"],
            "file_unique_id": stored["file_unique_id"],
            "duration": seconds,
        }
        return await self._message(voice=voice)

    async def forward(
        self, text: str, *, origin: UserClient | None = None, hidden_name: str | None = None
    ) -> Reply:
        if origin is not None:
            forward_origin: dict[str, Any] = {"type": "user", "date": 0, "sender_user": origin.info}
        else:
            forward_origin = {
                "type": "hidden_user",
                "date": 0,
                "sender_user_name": hidden_name or "?",
            }
        return await self._message(text=text, forward_origin=forward_origin)

    async def click(self, button: str | int, message: dict[str, Any] | None = None) -> Reply:
        """Tap an inline button by (part of) its text, or by its number counted from 1."""
        target = message or self.last_with_buttons()
        if target is None:
            raise AssertionError("no message with buttons in this chat")
        found = buttons_of(target)
        chosen: dict[str, Any] | None = None
        if isinstance(button, int):
            chosen = found[button - 1] if 0 < button <= len(found) else None
        else:
            exact = [b for b in found if b["text"] == button]
            partial = [b for b in found if button.lower() in b["text"].lower()]
            chosen = (exact or partial or [None])[0]
        if chosen is None or "callback_data" not in chosen:
            raise AssertionError(f"no button {button!r}; buttons are {[b['text'] for b in found]}")
        return await self.tap_data(chosen["callback_data"], target)

    async def tap_data(self, data: str, message: dict[str, Any] | None = None) -> Reply:
        """Send raw callback data (a forged button, for tests of bad input)."""
        target = message or self.last_with_buttons() or self.last
        assert target is not None, "no message to attach the callback to"
        start = len(self.emu.requests)
        update_id = await self.emu.user_callback(self.id, target, data)
        query_id = str(int(max(self.emu.callback_answers, key=int)))
        await self.emu.wait_processed(update_id)
        reply = self._collect(start)
        reply.answer = self.emu.callback_answers.get(query_id)
        return reply

    # ------------------------------------------------------------------ what the user sees
    @property
    def bot_messages(self) -> list[dict[str, Any]]:
        return [
            m for _, m in sorted(self.chat.messages.items()) if m["from"]["id"] == self.emu.bot_id
        ]

    @property
    def last(self) -> dict[str, Any] | None:
        msgs = self.bot_messages
        return msgs[-1] if msgs else None

    def last_with_buttons(self) -> dict[str, Any] | None:
        for message in reversed(self.bot_messages):
            if buttons_of(message):
                return message
        return None
