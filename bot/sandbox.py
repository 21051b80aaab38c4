"""`python -m bot sandbox`: the real bot against the local emulator, as a chat in the terminal.

No token and no network: the Bot API emulator listens on loopback, the bot polls it with its real
HTTP client, and every line typed here becomes an update from a Telegram user. The first user
(id 1001, "You") is an administrator; `:as` switches to other users, so invites, teams and
notifications can be played through end to end. The clockwork runs in real time, so reminders
and digests show up on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from bot.config import Settings, describe_validation_error
from bot.emulator.client import Reply, UserClient, buttons_of
from bot.emulator.server import FakeTelegram
from bot.sandbox_tools import (
    ShiftedClock,
    button_numbers,
    catch_up,
    invite_payload,
    parse_duration,
    read_line,
    render_html,
    restore_users,
    save_file,
    shown_offset,
)

if TYPE_CHECKING:
    from bot.emulator.runner import EmulatedBot

DEFAULT_DB_URL = "sqlite+aiosqlite:///data/sandbox.db"
DEFAULT_FILES_DIR = Path("data/sandbox-files")
YOU_ID = 1001
YOU_NAME = "You"
INDENT = "     "

COMMANDS = """\
  :as ID [Name]                     switch who is typing; a new ID creates the user (:as 2002 Anna)
  :share PHONE First [Last] [ID]    send a contact card (:share +79991234567 Ivan Petrov)
  :file PATH                        send a document, e.g. a CSV for /import
  :buttons                          show the latest message with buttons again
  N                                 tap button N of the latest message with buttons (a score's
                                    button by its score: 7 taps "7")
  :tap MSG N                        tap button N of an older message (its number: "#MSG")
  :pick ID [Name]                   answer "pick a person" with that Telegram user
  :later 2h                         move the clock on (30m, 2h, 1d) and deliver what is due, e.g.
                                    the NPS question after /delivered; the daily checks (going
                                    cold, stale data) run once per day crossed, as in real time
  :say TEXT                         send TEXT as it is (a bare number, or text starting with ':')
  :who                              list the users
  :help                             this list
  :quit                             leave (Ctrl-D and Ctrl-C work too)
Anything else is sent as a message from the current user; a pasted t.me/...?start= link opens it."""


class Sandbox:
    """The terminal chat: feed it lines with `handle_line`; everything shown goes to `write`."""

    def __init__(
        self,
        settings: Settings,
        *,
        db_url: str | None = None,
        write: Callable[[str], None] | None = None,
        color: bool | None = None,
        files_dir: Path | str = DEFAULT_FILES_DIR,
        start_clockwork: bool = True,
    ) -> None:
        self.db_url = db_url or DEFAULT_DB_URL
        self.settings = settings.model_copy(
            update={
                "admin_ids": settings.admin_ids | {YOU_ID},
                # the sandbox is self-contained: memory FSM, never a shared Redis
                "redis_url": None,
            }
        )
        # validated like the real setting, so a bad --db is one clear line, not a traceback
        Settings.__pydantic_validator__.validate_assignment(
            self.settings, "database_url", self.db_url
        )
        self.write = write or print
        self.color = (write is None and sys.stdout.isatty()) if color is None else color
        self.files_dir = Path(files_dir)
        self.start_clockwork = start_clockwork
        self.clock = ShiftedClock()
        self.emu: FakeTelegram | None = None
        self.runner: EmulatedBot | None = None
        self.current: UserClient | None = None
        self.waiting_for_input = False
        """True while the terminal waits at the prompt (set by the input loop)."""
        self.reprompt: Callable[[], None] | None = None
        """Called after output that arrived while waiting at the prompt, to show it again."""
        self._shown = 0
        self._focus: dict[int, int] = {}
        """Per chat: the message whose buttons were shown last (sent or edited) - what N taps."""

    # ------------------------------------------------------------------ lifecycle
    @property
    def prompt(self) -> str:
        if self.current is None:
            return "> "
        return f"{self.current.info['first_name']} ({self.current.id})> "

    async def start(self) -> None:
        self.write("Starting the sandbox: the bot and a local Telegram emulator...")
        # imported here: it pulls in the app and Alembic, which log on import
        from bot.emulator.runner import EmulatedBot

        emu = FakeTelegram()
        await emu.start()
        self.emu = emu
        emu.listeners.append(self._on_bot_message)
        try:
            self.runner = EmulatedBot(
                self.settings, emu, clock=self.clock, start_clockwork=self.start_clockwork
            )
            await self.runner.start()
            assert self.runner.app is not None
            await restore_users(self.runner, self.runner.app.session_factory, emu)
        except BaseException:
            await self.stop()
            raise
        self.current = self.runner.user(
            YOU_ID, YOU_NAME, language_code=self.settings.default_language
        )
        self._banner()

    async def stop(self) -> None:
        runner, emu = self.runner, self.emu
        self.runner = self.emu = None
        if emu is not None:
            with contextlib.suppress(ValueError):
                emu.listeners.remove(self._on_bot_message)
        try:
            if runner is not None:
                await runner.stop()
        finally:
            if emu is not None:
                await emu.stop()

    def _banner(self) -> None:
        assert self.emu is not None
        db = make_url(self.db_url).render_as_string(hide_password=True)
        self.write(
            "NetSales sandbox: the real bot talking to a local Telegram emulator "
            "(no token, no network).\n"
            f"Bot @{self.emu.bot_user['username']}, database {db}. You are {YOU_NAME} "
            f"(id {YOU_ID}), an administrator; reminders arrive in real time.\n\n"
            f"{COMMANDS}\n\nTry /start, then /invite."
        )

    # ------------------------------------------------------------------ input
    async def handle_line(self, line: str) -> bool:
        """Act on one typed line. False means: leave the sandbox."""
        assert self.runner is not None and self.current is not None, "call start() first"
        line = line.strip()
        if not line:
            return True
        if line.startswith(":"):
            name, _, rest = line[1:].partition(" ")
            rest = rest.strip()
            name = name.lower()
            if name in ("quit", "q", "exit"):
                return False
            handlers = {
                "as": self._cmd_as,
                "share": self._cmd_share,
                "file": self._cmd_file,
                "buttons": self._cmd_buttons,
                "tap": self._cmd_tap,
                "pick": self._cmd_pick,
                "later": self._cmd_later,
                "who": self._cmd_who,
                "help": self._cmd_help,
                "say": self._cmd_say,
            }
            handler = handlers.get(name)
            if handler is None:
                self._notice(f"unknown sandbox command :{name}; :help lists them")
                return True
            await handler(rest)
            return True
        if line.isdigit():
            await self._tap(int(line))
            return True
        assert self.emu is not None
        payload = invite_payload(line, self.emu.bot_user["username"])
        await self._send(f"/start {payload}" if payload else line)
        return True

    async def _act(self, action: Callable[[], Any]) -> None:
        """Run one user action and show what the listener did not: edits, answers, errors."""
        before = self._shown
        try:
            reply: Reply = await action()
        except TimeoutError:
            self._notice("the bot did not finish handling this within 10 s")
            return
        await self._deliver_due()  # what is due "at once" (a notice to the owner) comes now
        seen: dict[int, dict[str, Any]] = {}
        for message in reply.edited:
            seen[message["message_id"]] = message
        for message in seen.values():
            self._show_message(message, edited=True)
        if reply.answer and reply.answer.get("text"):
            kind = "alert" if reply.answer.get("show_alert") else "notice"
            self.write(f"  ({kind}) {reply.answer['text']}")
            self._shown += 1
        for error in reply.errors:
            self._notice(f"the bot's request failed: {error}")
        if self._shown == before:
            self._notice("no reply")

    async def _send(self, text: str) -> None:
        client = self.current
        assert client is not None
        await self._act(lambda: client.send(text))

    async def _deliver_due(self) -> None:
        app = self.runner.app if self.runner is not None else None
        if app is None:
            return
        await app.clockwork.tick()  # plans what is due; delivers it when no loop runs
        pool = app.clockwork.pool
        if pool.running:  # the loop would look again only after its poll interval
            await pool.drain()
            if pool.inflight:
                await asyncio.wait(set(pool.inflight), timeout=10)

    async def _tap(self, number: int, target: dict[str, Any] | None = None) -> None:
        client = self.current
        assert client is not None
        target = target or self._buttons_message(client)
        found = buttons_of(self._with_keyboard(target))
        if target is None or not found:
            self._notice("no message with buttons in this chat yet")
            return
        numbers = button_numbers(found)
        if number not in numbers:
            self._notice(f"there is no button {number}; the latest message has {len(found)}")
            return
        button = found[numbers.index(number)]
        if "callback_data" in button:
            await self._act(lambda: client.tap_data(button["callback_data"], target))
        elif "url" in button:
            self._notice(f"this button opens {button['url']}")
        elif set(button) == {"text"} and "keyboard" in (
            self._with_keyboard(target).get("reply_markup") or {}
        ):
            # a reply-keyboard button just sends its text
            await self._send(button["text"])
        else:
            kinds = ", ".join(sorted(set(button) - {"text"}))
            self._notice(f"the sandbox cannot tap a {kinds} button; try :share or :say")

    def _buttons_message(self, client: UserClient) -> dict[str, Any] | None:
        """The latest message with buttons as the person saw it: an edit that added buttons to
        an older message counts as latest; if its buttons are gone, the newest one that has some."""
        focused = client.chat.messages.get(self._focus.get(client.id, -1))
        if focused is not None and buttons_of(self._with_keyboard(focused)):
            return focused
        for message in reversed(client.bot_messages):
            if buttons_of(self._with_keyboard(message)):
                return message
        return None

    def _with_keyboard(self, message: dict[str, Any] | None) -> dict[str, Any]:
        """The message as the person sees it: with the reply keyboard it brought, if that is
        still on the screen (the emulator keeps reply keyboards on the chat, not the message)."""
        if message is None:
            return {}
        chat = self.emu.chats.get(message["chat"]["id"]) if self.emu is not None else None
        if chat and chat.reply_keyboard and chat.reply_keyboard_of == message.get("message_id"):
            return {**message, "reply_markup": chat.reply_keyboard}
        return message

    # ------------------------------------------------------------------ sandbox commands
    async def _cmd_as(self, rest: str) -> None:
        assert self.runner is not None and self.emu is not None
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            self._notice("usage: :as ID [Name], e.g. :as 2002 Anna")
            return
        user_id = int(parts[0])
        chat = self.emu.chats.get(user_id)
        if parts[1:]:
            first, last = parts[1], " ".join(parts[2:]) or None
            language = chat.user.get("language_code") if chat else self.settings.default_language
            self.current = self.runner.user(user_id, first, last_name=last, language_code=language)
        elif chat is not None:
            self.current = UserClient(self.emu, user_id)
        else:
            self.current = self.runner.user(
                user_id, f"User{user_id}", language_code=self.settings.default_language
            )
        what = "new user" if chat is None else "existing user"
        self._notice(f"now typing as {self._name(user_id)} ({what})")

    async def _cmd_share(self, rest: str) -> None:
        client = self.current
        assert client is not None
        parts = rest.split()
        user_id: int | None = None
        if len(parts) >= 3 and parts[-1].isdigit():
            user_id = int(parts.pop())
        if len(parts) < 2:
            self._notice("usage: :share PHONE First [Last] [user_id]")
            return
        phone, first, last = parts[0], parts[1], " ".join(parts[2:]) or None
        await self._act(lambda: client.share_contact(phone, first, last, user_id))

    async def _cmd_file(self, rest: str) -> None:
        client = self.current
        assert client is not None
        if not rest:
            self._notice("usage: :file PATH")
            return
        if len(rest) > 1 and rest[0] == rest[-1] and rest[0] in "'\"":
            rest = rest[1:-1]
        path = Path(rest)
        try:
            content = await asyncio.to_thread(lambda: path.expanduser().read_bytes())
        except OSError as exc:
            self._notice(f"cannot read {path}: {exc.strerror or exc}")
            return
        if not content:
            self._notice(f"{path} is empty; Telegram does not send empty files")
            return
        await self._act(lambda: client.send_document(path.name, content))

    async def _cmd_tap(self, rest: str) -> None:
        client = self.current
        assert client is not None
        parts = rest.lstrip("#").split()
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            self._notice("usage: :tap MSG N, e.g. :tap 12 3 (the message's number is shown as #12)")
            return
        message = client.chat.messages.get(int(parts[0]))
        if message is None or message["from"]["id"] != self.emu.bot_id:  # type: ignore[union-attr]
            self._notice(f"there is no message #{parts[0]} from the bot in this chat")
            return
        if not buttons_of(self._with_keyboard(message)):
            self._notice(f"message #{parts[0]} has no buttons (any more)")
            return
        await self._tap(int(parts[1]), message)

    async def _cmd_pick(self, rest: str) -> None:
        """Answer a "pick a person" (request_users) button with a Telegram user."""
        client = self.current
        assert client is not None and self.emu is not None
        parts = rest.split()
        if not parts or not parts[0].isdigit():
            self._notice("usage: :pick ID [Name], e.g. :pick 5005 Boris")
            return
        keyboard = client.chat.reply_keyboard or {}
        requests = [
            b["request_users"]["request_id"]
            for row in keyboard.get("keyboard", [])
            for b in row
            if isinstance(b, dict) and "request_users" in b
        ]
        if not requests:
            self._notice("no 'pick a person' button on the screen; /add shows one")
            return
        known = self.emu.chats.get(int(parts[0]))
        first = " ".join(parts[1:]) or (known.user["first_name"] if known else f"User{parts[0]}")
        person = {"id": int(parts[0]), "first_name": first}
        await self._act(lambda: client.pick_users(requests[0], person))

    async def _cmd_later(self, rest: str) -> None:
        delta = parse_duration(rest)
        if delta is None or delta <= timedelta():
            self._notice("usage: :later DURATION, e.g. :later 2h (m, h and d can be combined)")
            return
        start, target = self.clock.now(), self.clock.offset + delta
        self._notice(f"the clock is now {shown_offset(target)} ahead of real time")
        await self._catch_up(start, start + delta)
        self.clock.offset = target
        await self._deliver_due()

    async def _catch_up(self, start: datetime, end: datetime) -> None:
        """What the real scheduler would have done from ``start`` to ``end`` (sandbox_tools)."""
        if self.runner is not None and self.runner.app is not None:
            await catch_up(self.clock, self.runner.app.clockwork, start, end, self._deliver_due)

    async def _cmd_buttons(self, rest: str) -> None:
        assert self.current is not None
        message = self._buttons_message(self.current)
        if message is None:
            self._notice("no message with buttons in this chat yet")
            return
        self._show_message(message, again=True)

    async def _cmd_who(self, rest: str) -> None:
        assert self.emu is not None and self.current is not None
        for user_id in sorted(self.emu.chats):
            marks = []
            if user_id in self.settings.admin_ids:
                marks.append("admin")
            if self.emu.chats[user_id].blocked:
                marks.append("blocked")
            mine = "*" if user_id == self.current.id else " "
            extra = f"  [{', '.join(marks)}]" if marks else ""
            self.write(f"  {mine} {self._name(user_id)}{extra}")

    async def _cmd_help(self, rest: str) -> None:
        self.write(COMMANDS)

    async def _cmd_say(self, rest: str) -> None:
        if not rest:
            self._notice("usage: :say TEXT")
            return
        await self._send(rest)

    # ------------------------------------------------------------------ output
    def _name(self, user_id: int) -> str:
        assert self.emu is not None
        user = self.emu.chats[user_id].user
        name = " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)
        return f"{name} ({user_id})"

    def _notice(self, text: str) -> None:
        self.write(f"  ({text})")

    def _on_bot_message(self, chat_id: int, message: dict[str, Any]) -> None:
        """Emulator listener: every message the bot sends, to anyone, as it is sent."""
        idle = self.waiting_for_input
        if idle:
            # the prompt is on screen: start on a fresh line
            self.write("\r\033[K" if self.color else "")
        self._show_message(message)
        if idle and self.reprompt is not None:
            self.reprompt()

    def _show_message(
        self, message: dict[str, Any], *, edited: bool = False, again: bool = False
    ) -> None:
        chat_id = message["chat"]["id"]
        label = "bot"
        if self.current is None or chat_id != self.current.id:
            label += f" -> {self._name(chat_id)}"
        if edited:
            label += " (edited)"
        if again:
            label += " (again)"
        lines: list[str] = []
        if "document" in message:
            lines.append(self._save_file("document", message["document"]))
        if "voice" in message:
            lines.append(self._save_file("voice", message["voice"]))
        if "photo" in message:
            lines.append(self._save_file("photo", message["photo"][-1]))
        body = message.get("text") or message.get("caption")
        if body:
            lines.extend(render_html(body, color=self.color).splitlines() or [""])
        rows = self._button_rows(self._with_keyboard(message))
        if rows and not again:
            self._focus[chat_id] = message["message_id"]
        if rows:
            rows[-1] += f"  · #{message['message_id']}"
        lines.extend(rows)
        if self.color:
            label = f"\033[2m{label}:\033[22m"
        else:
            label += ":"
        first, *more = lines or [""]
        text = "\n".join([f"{label} {first}", *(f"{INDENT}{line}".rstrip() for line in more)])
        self.write(text)
        self._shown += 1

    def _save_file(self, kind: str, file: dict[str, Any]) -> str:
        assert self.emu is not None
        return save_file(self.files_dir, self.emu.files.get(file.get("file_id", "")), kind, file)

    def _button_rows(self, message: dict[str, Any]) -> list[str]:
        markup = message.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        numbers = iter(button_numbers(buttons_of(message)))
        out = []
        for row in rows:
            cells = []
            for button in row:
                button = button if isinstance(button, dict) else {"text": button}
                cell = f"[{next(numbers)}] {button.get('text', '')}"
                if "url" in button:
                    cell += f" ({button['url']})"
                if "request_users" in button:
                    cell += " (:pick ID [Name])"
                elif "request_contact" in button:
                    cell += " (:share PHONE First)"
                cells.append(cell)
            out.append("  ".join(cells))
        return out


# ---------------------------------------------------------------------- the terminal loop
async def run_sandbox(
    settings: Settings,
    db_url: str | None = None,
    *,
    input_fn: Callable[[str], str] | None = None,
    write: Callable[[str], None] | None = None,
) -> int:
    """The `python -m bot sandbox` command; returns the process exit code."""
    interactive = input_fn is None and write is None and sys.stdin.isatty()
    if interactive:
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
    read = input_fn or input
    echo = input_fn is None and not sys.stdin.isatty()
    out = write or print
    try:
        sandbox = Sandbox(settings, db_url=db_url, write=write)
    except ValidationError as exc:
        out(describe_validation_error(exc).replace("DATABASE_URL", "--db"))
        return 2

    # keep the chat readable: per-update and scheduler INFO logs go away unless DEBUG is asked for
    root = logging.getLogger()
    old_level = root.level
    if root.getEffectiveLevel() > logging.DEBUG:
        root.setLevel(max(old_level, logging.WARNING))

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    on_sigint = False
    if task is not None and threading.current_thread() is threading.main_thread():
        # Ctrl-C: leave cleanly (stop the bot, close the database) instead of a traceback
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, task.cancel)
            on_sigint = True

    if write is None and sys.stdout.isatty():

        def reprompt() -> None:
            sys.stdout.write(sandbox.prompt)
            sys.stdout.flush()

        sandbox.reprompt = reprompt

    code = 0
    try:
        await sandbox.start()
        while True:
            sandbox.waiting_for_input = True
            try:
                line = await read_line(read, sandbox.prompt)
            except (EOFError, KeyboardInterrupt):
                out("")
                break
            finally:
                sandbox.waiting_for_input = False
            if echo:
                out(line)  # piped input: show what was "typed" after the prompt
            if not await sandbox.handle_line(line):
                break
    except asyncio.CancelledError:
        if task is None or task.uncancel() > 0:
            raise
        out("")
    except OSError as exc:
        out(f"The sandbox could not start: {exc}")
        code = 1
    finally:
        sandbox.waiting_for_input = False
        try:
            await sandbox.stop()
        finally:
            if on_sigint:
                loop.remove_signal_handler(signal.SIGINT)
            root.setLevel(old_level)
    if code == 0:
        out("Bye. The sandbox database is kept; delete it to start over.")
    return code
