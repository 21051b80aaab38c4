"""`python -m bot sandbox`: the terminal chat, driven line by line."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import Settings
from bot.emulator.client import Reply
from bot.sandbox import YOU_ID, Sandbox, render_html, run_sandbox
from tests import schema


class Screen:
    """A capturing `write`: everything the sandbox shows, and what is new since the last look."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._seen = 0

    def __call__(self, text: str) -> None:
        self.lines.append(text)

    def new(self) -> str:
        text = "\n".join(self.lines[self._seen :])
        self._seen = len(self.lines)
        return text


def make_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        admin_ids=frozenset(),
        default_language="en",
        default_timezone="UTC",
    )


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 's.db'}"


def make_sandbox(tmp_path: Path, screen: Screen) -> Sandbox:
    """A sandbox on ``tmp_path``'s database (the same one each time), showing on ``screen``."""
    return Sandbox(
        make_settings(tmp_path),
        db_url=db_url(tmp_path),
        write=screen,
        color=False,
        files_dir=tmp_path / "files",
    )


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, Screen]]:
    screen = Screen()
    sb = make_sandbox(tmp_path, screen)
    await sb.start()
    emu = sb.emu
    try:
        yield sb, screen
    finally:
        await sb.stop()
    assert sb.emu is None and sb.runner is None
    # nothing is left running: no polling, no scheduler, no server
    await asyncio.sleep(0)
    leaked = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leaked == []
    assert emu is not None
    schema.assert_requests_valid(emu.requests)


async def test_banner_and_settings(sandbox, tmp_path) -> None:
    sb, screen = sandbox
    banner = screen.new()
    for command in (":as ID [Name]", ":share PHONE", ":file PATH", ":buttons", ":who", ":quit"):
        assert command in banner
    assert sb.settings.database_url == db_url(tmp_path)
    assert YOU_ID in sb.settings.admin_ids
    assert sb.prompt == "You (1001)> "


async def test_admin_invites_and_the_invitee_joins(sandbox) -> None:
    sb, screen = sandbox
    screen.new()
    assert await sb.handle_line("/start")
    assert "admin" in screen.new()

    assert await sb.handle_line("/invite")
    shown = screen.new()
    assert "[1] Manager (new team)" in shown
    assert "[2] Manager of a team" in shown and "[3] Sales rep" in shown

    assert await sb.handle_line(":buttons")
    assert "[1] Manager (new team)" in screen.new()

    assert await sb.handle_line("1")
    shown = screen.new()
    link = next(word for word in shown.split() if "?start=" in word)
    token = link.split("start=")[1]

    assert await sb.handle_line(":as 2002 Anna")
    assert "Anna (2002)" in screen.new()
    assert sb.prompt == "Anna (2002)> "
    assert await sb.handle_line(f"/start {token}")
    shown = screen.new()
    assert "Welcome, Anna" in shown
    # the inviter's notification is shown too, addressed to them
    assert "bot -> You (1001): Anna accepted your invite" in shown

    assert await sb.handle_line(":who")
    shown = screen.new()
    assert "You (1001)  [admin]" in shown
    assert "* Anna (2002)" in shown

    assert await sb.handle_line(":as 1001")
    assert sb.prompt == "You (1001)> "
    assert await sb.handle_line(":quit") is False


async def test_pasted_invite_link_opens_it(sandbox) -> None:
    sb, screen = sandbox
    screen.new()
    await sb.handle_line("/invite manager")
    link = next(word for word in screen.new().split() if "?start=" in word)
    await sb.handle_line(":as 3003 Rita Rep")
    await sb.handle_line(link)
    assert "Welcome, Rita Rep" in screen.new()


async def test_contact_file_and_sandbox_mistakes(sandbox, tmp_path) -> None:
    sb, screen = sandbox
    await sb.handle_line("/start")
    screen.new()
    await sb.handle_line("5")
    assert "no message with buttons" in screen.new()
    assert await sb.handle_line(":share +79991234567 Ivan")
    shown = screen.new()
    assert shown.startswith("bot: ") and len(shown) > len("bot: ")

    csv = tmp_path / "people.csv"
    csv.write_text("name,phone\nIvan,+79991234567\n")
    assert await sb.handle_line(f":file {csv}")
    shown = screen.new()
    assert "bot: " in shown and "cannot read" not in shown

    await sb.handle_line(f":file {tmp_path / 'missing.csv'}")
    assert "cannot read" in screen.new()
    await sb.handle_line(":nonsense")
    assert "unknown sandbox command" in screen.new()
    await sb.handle_line(":as Anna")
    assert "usage: :as" in screen.new()
    await sb.handle_line(":share +7999")
    assert "usage: :share" in screen.new()
    await sb.handle_line("/invite")
    await sb.handle_line("9")
    assert "there is no button 9" in screen.new()
    assert await sb.handle_line("   ")
    assert screen.new() == ""


async def test_messages_the_bot_sends_on_its_own(sandbox, tmp_path) -> None:
    sb, screen = sandbox
    await sb.handle_line("/start")
    await sb.handle_line(":as 2002 Anna")
    screen.new()
    assert sb.runner is not None and sb.runner.app is not None
    bot = sb.runner.app.bot
    await bot.send_message(YOU_ID, "Reminder: <b>call Ivan</b>")
    await bot.send_document(
        YOU_ID, BufferedInputFile(b"a,b\n1,2\n", "export.csv"), caption="Your export"
    )
    shown = screen.new()
    assert "bot -> You (1001): Reminder: call Ivan" in shown
    assert "[document: export.csv, 8 bytes] saved to" in shown
    assert "Your export" in shown
    assert (tmp_path / "files" / "export.csv").read_bytes() == b"a,b\n1,2\n"


async def test_edits_callback_answers_and_which_buttons_a_number_taps(sandbox) -> None:
    sb, screen = sandbox
    await sb.handle_line("/invite")  # message A, with buttons
    assert sb.runner is not None and sb.runner.app is not None and sb.emu is not None
    bot = sb.runner.app.bot
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Open", url="https://example.com/")]]
    )
    await bot.send_message(YOU_ID, "Message B", reply_markup=keyboard)
    invite = next(m for m in sb.emu.chats[YOU_ID].messages.values() if "Whom" in m["text"])
    screen.new()

    async def edited_reply() -> Reply:
        # the bot edited the older message A (keeping its buttons) and answered the tap
        invite["text"] = "Whom now?"
        return Reply(edited=[invite, invite], answer={"text": "Saved.", "show_alert": False})

    await sb._act(edited_reply)
    shown = screen.new()
    assert shown.count("bot (edited): Whom now?") == 1
    assert "[1] Manager (new team)" in shown
    assert "(notice) Saved." in shown
    # A was edited last, so it is "the latest message with buttons"
    await sb.handle_line(":buttons")
    assert "bot (again): Whom now?" in screen.new()

    await sb._act(lambda: asyncio.sleep(0, Reply()))
    assert "(no reply)" in screen.new()
    await bot.send_message(YOU_ID, "Message C", reply_markup=keyboard)
    screen.new()
    await sb.handle_line("1")
    assert "opens https://example.com/" in screen.new()


def test_render_html() -> None:
    html = 'Hi <b>Ann</b> &amp; <a href="https://example.com/x?a=1&amp;b=2">site</a>'
    assert render_html(html) == "Hi Ann & site (https://example.com/x?a=1&b=2)"
    assert render_html('<a href="tg://user?id=5">Ann</a>') == "Ann"
    assert render_html("<b>Ann</b>", color=True) == "\033[1mAnn\033[22m"


async def test_run_sandbox_reads_until_eof(tmp_path) -> None:
    lines = iter(["/start", ":who"])
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    screen = Screen()
    code = await run_sandbox(
        make_settings(tmp_path), db_url=db_url(tmp_path), input_fn=read, write=screen
    )
    assert code == 0
    shown = screen.new()
    assert "admin" in shown and "Bye." in shown
    assert prompts == ["You (1001)> "] * 3


async def test_run_sandbox_rejects_a_bad_db_url(tmp_path) -> None:
    screen = Screen()
    code = await run_sandbox(make_settings(tmp_path), db_url="data.db", write=screen)
    assert code == 2
    assert "--db" in screen.new()


def test_no_token_prints_botfather_help(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() != "BOT_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "@BotFather" in proc.stderr
    assert "python -m bot sandbox" in proc.stderr
    # your own Telegram id into ADMIN_IDS, and how to find it
    assert "ADMIN_IDS=" in proc.stderr and "@userinfobot" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


async def test_reply_keyboards_scores_older_messages_notices_and_later(sandbox) -> None:
    """Issue 14: the sandbox shows reply keyboards ("pick a person"), numbers a survey's buttons
    by their score, taps a button of an older message, delivers "at once" notices at once, and
    `:later` brings the NPS question now."""
    sb, screen = sandbox
    await sb.handle_line("/start")
    await sb.handle_line(":as 9004 Dan")
    await sb.handle_line("/start")
    await sb.handle_line(":as 1001")
    screen.new()
    await sb.handle_line("/add")
    shown = screen.new()
    assert "[1] 👤 Pick from Telegram (:pick ID [Name])" in shown
    await sb.handle_line(":pick 5005 Boris")
    assert "Person picked" in screen.new()

    await sb.handle_line(":share +79995550011 Dan Client 9004")
    screen.new()
    # "at once": Dan writes, and the owner's notice is shown in answer to that very line
    await sb.handle_line(":as 9004")
    await sb.handle_line("Hello, any news?")
    shown = screen.new()
    assert "bot -> You (1001): 💬 Dan Client wrote to me:" in shown
    await sb.handle_line(":as 1001")

    # an older message's button: the invite's first message, after newer ones with buttons
    await sb.handle_line("/invite")
    invite = next(line for line in screen.new().splitlines() if "[3] Sales rep" in line)
    older = int(invite.rsplit("#", 1)[1])
    await sb.handle_line("/find Dan")
    screen.new()
    await sb.handle_line(f":tap {older} 1")  # Manager (new team)
    assert "?start=" in screen.new()

    await sb.handle_line("/delivered Dan")
    screen.new()
    await sb.handle_line(":later 1d")
    shown = screen.new()
    assert "ahead of real time" in shown
    assert "bot -> Dan (9004):" in shown
    assert "[0] 0  [1] 1" in shown and "[10] 10" in shown  # numbered by score
    await sb.handle_line(":as 9004")
    await sb.handle_line("7")
    assert "7" in screen.new()
    assert sb.runner is not None and sb.runner.app is not None
    from sqlalchemy import select

    from storage.models import Survey

    async with sb.runner.app.session_factory() as session:
        survey = await session.scalar(select(Survey))
        assert survey is not None and survey.score == 7
    await sb.handle_line(":later soon")
    assert "usage: :later" in screen.new()
    await sb.handle_line(":tap 999 1")
    assert "no message #999" in screen.new()


async def test_a_second_session_on_the_same_database_keeps_its_taps(tmp_path) -> None:
    """The emulator numbered each session's messages from 1 again while the database kept the
    taps of the last session: the same button on "the same" message was taken for a second tap
    and silently dropped (a confirmed next step never saved). Message ids now go on per chat."""

    async def session(lines: list[str]) -> str:
        screen = Screen()
        sb = make_sandbox(tmp_path, screen)
        await sb.start()
        try:
            for line in lines:
                await sb.handle_line(line)
        finally:
            await sb.stop()
        return screen.new()

    first = await session(["/invite", "1"])
    link = "https://t.me/" + first.split("https://t.me/")[1].split()[0]
    await session([":as 2002 Mary", link, "/add Ann, Acme"])
    plan = [":as 2002 Mary", "/find Ann", "2", "call back", "tomorrow 10:00", "1"]
    assert "✅ Next step saved." in await session(plan)
    shown = await session([*plan[:3], "send the deck", "friday 15:00", "1"])  # the same ids
    assert "✅ Next step saved." in shown
    shown = await session([":as 2002 Mary", "/find Ann"])
    assert "Next step: send the deck" in shown


def test_daily_moments_are_where_the_scheduler_would_run_the_daily_jobs() -> None:
    from datetime import UTC, datetime

    from bot.sandbox_tools import daily_moments

    def t(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 11, day, hour, minute, tzinfo=UTC)

    # the first hh:05 (today's run, if it is not claimed yet), then 00:05 of every day crossed
    assert daily_moments(t(23, 14, 30), t(26, 1)) == [t(23, 15, 5), t(24, 0, 5), t(25, 0, 5),
                                                     t(26, 0, 5)]  # fmt: skip
    assert daily_moments(t(23, 14, 30), t(23, 15)) == []
    assert daily_moments(t(23, 23, 10), t(24, 0, 5)) == [t(24, 0, 5)]
    assert daily_moments(t(23, 14, 5), t(23, 15, 5)) == [t(23, 15, 5)]


async def test_later_runs_the_daily_checks_and_what_falls_due_on_the_way(sandbox) -> None:
    """`:later` ran only the tick: the daily scan (going cold, stale data) never came in the
    sandbox. It now goes through the skipped time as the real scheduler would have: each day's
    checks once, and what falls due in order (each working day's digest)."""
    sb, screen = sandbox
    screen.new()
    await sb.handle_line("/start")
    await sb.handle_line("/invite")
    await sb.handle_line("1")  # a manager: their cards get the checks (an admin's do not)
    link = next(word for word in screen.new().split() if "?start=" in word)
    await sb.handle_line(":as 2002 Mary")
    await sb.handle_line(link)
    await sb.handle_line("/add Anna Smirnova, Acme")
    await sb.handle_line("6")  # Stage
    await sb.handle_line("4")  # commercial: cold after 3 days without a touch or a step
    assert "Stage: commercial" in screen.new()
    await sb.handle_line(":later 8d")
    shown = screen.new()
    assert "the clock is now 8d ahead of real time" in shown
    assert shown.count("🥶 Going cold: no touch within the stage's rhythm") == 1, shown
    assert shown.count("📰 Digest") >= 4, shown  # one a working day, not only the last one
    assert sb.runner is not None and sb.runner.app is not None
    from sqlalchemy import func, select

    from storage.models import JobRun

    async with sb.runner.app.session_factory() as session:
        runs = await session.scalar(select(func.count()).select_from(JobRun))
    assert runs >= 8  # the daily jobs of every day crossed, once each
