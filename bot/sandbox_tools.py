"""The sandbox's helpers (bot.sandbox): bot HTML as terminal text, a pasted invite link, the
clock ``:later`` moves on (and when the daily jobs would have run meanwhile), what number taps
which button, and reading a line without blocking."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.emulator.client import plain

if TYPE_CHECKING:
    from bot.emulator.runner import EmulatedBot
    from bot.emulator.server import FakeTelegram
    from scheduler import Clockwork

_DURATION = re.compile(r"(\d+)\s*([mhd])", re.I)
_NUMBERED = re.compile(r"^\D{0,3}?(\d{1,2})\D{0,3}$")


class ShiftedClock:
    """Real time plus what ``:later`` added: due work comes when the sandbox is told it is late."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


# the minute of every hour at which the real scheduler runs the daily jobs (scheduler.Clockwork:
# the first run of a UTC day claims the day's run, the others find it claimed)
DAILY_MINUTE = 5


def daily_moments(start: datetime, end: datetime) -> list[datetime]:
    """When the real scheduler would have run the daily jobs in (start, end]: at the first
    hh:05 (today's run, unless it is claimed already), then at 00:05 UTC of every day crossed."""
    first = start.astimezone(UTC).replace(minute=DAILY_MINUTE, second=0, microsecond=0)
    if first <= start:
        first += timedelta(hours=1)
    moments = [first] if first <= end else []
    day = first.replace(hour=0) + timedelta(days=1)
    while day <= end:
        moments.append(day)
        day += timedelta(days=1)
    return moments


async def next_due(session_factory: Any, after: datetime, until: datetime) -> datetime | None:
    """The earliest moment in (after, until] at which pending due work falls due (None: none)."""
    from sqlalchemy import func, select

    from storage.models import DueWork  # the models: loaded with the app, not before

    async with session_factory() as session:
        found = await session.scalar(
            select(func.min(DueWork.due_at)).where(
                DueWork.status == "pending", DueWork.due_at > after, DueWork.due_at <= until
            )
        )
    if isinstance(found, str):  # an aggregate comes back as text on SQLite
        found = datetime.fromisoformat(found)
    if found is not None and found.tzinfo is None:
        found = found.replace(tzinfo=UTC)
    return found


CATCH_UP_STOPS = 1_000  # moments `:later` stops at on its way (then it jumps to the end)


async def catch_up(
    clock: ShiftedClock,
    clockwork: Clockwork,
    start: datetime,
    end: datetime,
    deliver: Callable[[], Awaitable[None]],
) -> None:
    """What the real scheduler would have done between ``start`` and ``end``, in order: the
    clock stops at each moment due work falls due (a reminder, a digest at 09:00) and where the
    daily jobs would have run (going cold, stale data: once a day, the day's run is claimed),
    and ``deliver`` delivers what is due then. The caller moves the clock to ``end`` last."""
    daily = daily_moments(start, end)
    for _stop in range(CATCH_UP_STOPS):
        due = await next_due(clockwork.session_factory, clock.now(), end)
        moment = min([t for t in (due, daily[0] if daily else None) if t is not None] or [end])
        if moment >= end and not daily:
            return
        clock.offset += moment - clock.now()
        await deliver()
        if daily and moment >= daily[0]:
            daily.pop(0)
            await clockwork.run_daily()
            await deliver()


def parse_duration(text: str) -> timedelta | None:
    """ "2h", "30m", "1d 4h" as a timedelta; None if that is not what it says."""
    found = _DURATION.findall(text)
    if not found or _DURATION.sub("", text).strip():
        return None
    units = {"m": "minutes", "h": "hours", "d": "days"}
    total = timedelta()
    for amount, unit in found:
        total += timedelta(**{units[unit.lower()]: int(amount)})
    return total


def button_numbers(buttons: list[dict[str, Any]]) -> list[int]:
    """What each button is tapped by: its place (1, 2, …), or its number when every button is
    one distinct number, like a survey's 0–10 scores ("7" taps the score 7)."""
    found = [_NUMBERED.match(b.get("text", "")) for b in buttons]
    scores = [int(m.group(1)) for m in found if m]
    if len(buttons) > 2 and len(scores) == len(buttons) and len(set(scores)) == len(scores):
        return scores
    return list(range(1, len(buttons) + 1))


_BOLD = re.compile(r"<(b|strong)(\s[^>]*)?>(.*?)</\1>", re.S)
_ITALIC = re.compile(r"<(i|em)(\s[^>]*)?>(.*?)</\1>", re.S)
_LINK = re.compile(r"<a\s+href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.S)


def render_html(text: str | None, *, color: bool = False) -> str:
    """Bot HTML as terminal text: tags dropped, link targets shown, bold/italic in ANSI if asked."""

    def link(match: re.Match[str]) -> str:
        href, label = match.group(1), match.group(2)
        shown, target = plain(label), plain(href)
        if not target or target == shown or target.startswith("tg://"):
            return label
        return f"{label} ({href})"

    text = _LINK.sub(link, text or "")
    if color:
        text = _BOLD.sub(lambda m: f"\033[1m{m.group(3)}\033[22m", text)
        text = _ITALIC.sub(lambda m: f"\033[3m{m.group(3)}\033[23m", text)
    return plain(text)


def invite_payload(line: str, bot_username: str) -> str | None:
    """A pasted deep link to this bot, as Telegram would open it: the /start payload."""
    match = re.fullmatch(
        rf"(?:https?://)?t\.me/{re.escape(bot_username)}\?start=([\w-]+)", line, re.I
    )
    return match.group(1) if match else None


def shown_offset(offset: timedelta) -> str:
    hours, rest = divmod(int(offset.total_seconds()) // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{rest}m" if rest else ""]
    return " ".join(p for p in parts if p) or "0m"


async def read_line(read: Callable[[str], str], prompt: str) -> str:
    """`read(prompt)` in a daemon thread: the event loop keeps running, and a read still blocked
    at exit (Ctrl-C at the prompt) does not hold the process open as a pool thread would."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value or "")

    def worker() -> None:
        try:
            value, error = read(prompt), None
        except Exception as exc:  # noqa: BLE001 - handed over to the awaiting task
            value, error = None, exc
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=worker, name="sandbox-input", daemon=True).start()
    return await future


def save_file(
    files_dir: Path, stored: tuple[str, bytes] | None, kind: str, file: dict[str, Any]
) -> str:
    """A file the bot sent, saved under ``files_dir``; the line that says so."""
    size = file.get("file_size") or (len(stored[1]) if stored else 0)
    name = file.get("file_name") or (
        Path(stored[0]).name if stored else f"{file.get('file_id')}.jpg"
    )
    name = Path(name).name or "file"
    if kind == "photo" and not Path(name).suffix:
        name += ".jpg"
    shown = f"[{kind}: {name}, {size} bytes]" if kind == "document" else f"[{kind}, {size} bytes]"
    if stored is None:
        return shown
    try:
        files_dir.mkdir(parents=True, exist_ok=True)
        path = files_dir / name
        stem, suffix, n = path.stem, path.suffix, 1
        while path.exists():
            path = files_dir / f"{stem}-{n}{suffix}"
            n += 1
        path.write_bytes(stored[1])
    except OSError as exc:
        return f"{shown} (not saved: {exc.strerror or exc})"
    return f"{shown} saved to {path}"


async def restore_users(runner: EmulatedBot, session_factory: Any, emu: FakeTelegram) -> None:
    """People from earlier sandbox sessions are still in the database: let them get messages.
    Their chats' message ids go on after the last one the database knows of (a tapped
    button's), as Telegram's do: a new session's message 7 is not the last session's, whose
    tap is kept (services.taps) and would make this one's look like a second tap."""
    from sqlalchemy import func, select

    from storage.models import ButtonTap, User  # the models: loaded with the app, not before

    async with session_factory() as session:
        rows = await session.execute(
            select(User.tg_id, User.first_name, User.last_name, User.username, User.tg_language)
        )
        for tg_id, first, last, username, lang in rows:
            runner.user(
                tg_id,
                first or str(tg_id),
                last_name=last,
                username=username,
                language_code=lang,
                started=True,
            )
        last_ids = await session.execute(
            select(ButtonTap.chat_id, func.max(ButtonTap.message_id)).group_by(ButtonTap.chat_id)
        )
    for chat_id, last_id in last_ids.all():
        if (chat := emu.chats.get(chat_id)) is not None:  # every tapper is a user
            chat.next_message_id = max(chat.next_message_id, last_id + 1)
