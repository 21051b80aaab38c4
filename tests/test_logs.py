"""No secret reaches a log, at any level: the bot token, invite, survey and referral tokens, and
SQL parameters (tokens and contact data)."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import logs
from bot.config import Settings
from bot.emulator import FakeTelegram, UserClient
from bot.logs import MARK, Redactor, redact_record
from core.clock import FrozenClock
from core.tokens import new_token
from services.nps import REF_PREFIX
from storage.db import create_engine
from storage.migrate import upgrade
from storage.models import Invite, ReferralLink, Survey, Team, User
from tests import schema
from tests.conftest import ADMIN_ID, START
from tests.logcapture import capture_logs
from tests.test_startup import FakeSleep, Front, serving

BOT_TOKEN = "7012345678:AAH-secretPartOfTheBotToken_0123456"
BOT_SECRET = BOT_TOKEN.split(":")[1]


# ---------------------------------------------------------------------- the whole bot, at DEBUG


def _link_token(reply_text: str) -> str:
    return reply_text.split("start=")[1].split()[0]


async def test_a_full_chat_at_debug_leaves_no_secret_in_any_log(
    fresh_sqlite_url: str, clock: FrozenClock, capfd: pytest.CaptureFixture[str]
) -> None:
    """The real start-up at LOG_LEVEL=DEBUG, then invites, a survey link and a referral link:
    every record, everything written to stderr: no token of any kind, no contact's phone."""
    emu = await FakeTelegram(token=BOT_TOKEN).start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(BOT_TOKEN),
        telegram_api_base=emu.base_url,
        database_url=fresh_sqlite_url,
        admin_ids=frozenset({ADMIN_ID}),
        log_level="DEBUG",
        review_url="https://g.page/r/acme-review",
    )
    phone = "+79995550123"

    def user(user_id: int, name: str) -> UserClient:
        emu.add_user(user_id, name, language_code="en")
        return UserClient(emu, user_id)

    try:
        with capture_logs(settings.log_level, secrets=[BOT_TOKEN]) as captured:
            async with serving(settings, FakeSleep(), clock) as app:
                admin = user(ADMIN_ID, "Ada")
                await admin.send("/start")
                reply = await admin.send("/invite manager")
                manager = user(2002, "Maria")
                assert "Welcome" in (await manager.send(f"/start {_link_token(reply.text)}")).text
                reply = await manager.send("/invite")
                rep = user(3003, "Rita")
                assert "Welcome" in (await rep.send(f"/start {_link_token(reply.text)}")).text
                await rep.send("/add Paula Passive, Beta")
                await rep.send(f"/add Carl Client, {phone}")
                reply = await rep.send("/delivered Paula")
                survey_token = _link_token(reply.text)
                client = user(9002, "Paula")
                reply = await client.send(f"/start {survey_token}")
                assert "How likely are you to recommend" in reply.text
                reply = await client.click("10")
                ref_token = _link_token(reply.text)
                assert ref_token.startswith(REF_PREFIX)
                friend = user(9100, "Fiona")
                assert "recommendation" in (await friend.send(f"/start {ref_token}")).text
                # someone else's (forged) link, and an invite link opened twice
                await user(9200, "Sam").send("/start " + new_token())
                async with app.session_factory() as session:
                    tokens = [
                        *await session.scalars(select(Invite.token)),
                        *await session.scalars(select(Survey.token)),
                        *await session.scalars(select(ReferralLink.token)),
                    ]
    finally:
        await emu.stop()
    schema.assert_requests_valid(emu.requests)
    assert len(tokens) == 4  # two invites, a survey, a referral link
    assert survey_token in tokens and ref_token in tokens
    out = capfd.readouterr()
    everything = "\n".join([captured.everything(), out.err, out.out])
    # the capture is real: DEBUG records of the bot, aiogram's and the database's were taken
    assert any(r.levelno == logging.DEBUG and r.name == "bot.middlewares" for r in captured.records)
    assert any(r.name.startswith("aiogram") for r in captured.records)
    # the migrations ran in a child process logging to the same stderr, as the bot does
    assert "alembic.runtime.migration" in out.err
    for secret in [BOT_TOKEN, BOT_SECRET, *tokens, phone, phone.lstrip("+")]:
        assert secret not in everything


async def test_a_redirect_loop_while_polling_logs_no_token(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    """aiogram logs a failed getUpdates with its error, whose text has the full URL."""
    front = await Front(emu).start()
    cfg = settings.model_copy(
        update={"bot_token": SecretStr(emu.token), "telegram_api_base": front.base_url}
    )
    try:
        with capture_logs("INFO", secrets=[emu.token]) as captured:
            async with serving(cfg, FakeSleep(), clock):
                front.fail_next("getUpdates", "loop")
                emu.add_user(ADMIN_ID, "Ada")
                await emu.user_message(ADMIN_ID, text="hello")  # the long poll returns
                for _ in range(500):
                    if captured.lines("aiogram.dispatcher", logging.ERROR):
                        break
                    await asyncio.sleep(0.01)
    finally:
        await front.stop()
    [error] = captured.lines("aiogram.dispatcher", logging.ERROR)
    assert "TooManyRedirects" in error and "/bot123456789:[redacted]/getUpdates" in error
    assert emu.token.split(":")[1] not in captured.everything()


# ---------------------------------------------------------------------- SQL parameters


async def test_sql_parameters_are_never_logged_even_at_debug(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    secret_name = "Zelda-Personal-Name-7781"
    token = new_token()
    assert engine.sync_engine.hide_parameters
    try:
        with capture_logs("DEBUG") as captured:
            async with engine.connect() as conn:
                await conn.execute(
                    text("SELECT :name, :token"), {"name": secret_name, "token": token}
                )
                await conn.execute(insert(Team).values(id=1, name=secret_name, created_at=START))
                with pytest.raises(IntegrityError) as failed:  # the message has no values
                    await conn.execute(
                        insert(Team).values(id=1, name=secret_name, created_at=START)
                    )
                await conn.rollback()
    finally:
        await engine.dispose()
    assert secret_name not in str(failed.value) and "hidden" in str(failed.value)
    everything = captured.everything()
    assert secret_name not in everything and token not in everything
    # the libraries that would log parameters and rows are held above DEBUG
    assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)


# ---------------------------------------------------------------------- the redactor


def test_shapes_are_redacted_without_knowing_the_token() -> None:
    r = Redactor()
    token = new_token()
    cases = {
        f"sent https://t.me/bot?start={token} to 12": "sent https://t.me/bot?start=[redacted] to 12",
        f"url=https%3A%2F%2Ft.me%2Fbot%3Fstart%3D{token}": (
            "url=https%3A%2F%2Ft.me%2Fbot%3Fstart%3D[redacted]"
        ),
        f"text='/start {token}'": "text='/start [redacted]'",
        f'{{"text":"\\/start@netsales_bot  {token}"}}': '{"text":"\\/start@netsales_bot  [redacted]"}',
        f"payload ref_{token}.": "payload ref_[redacted].",
        f"xref_{token}": "xref_[redacted]",
    }
    for given_text, expected in cases.items():
        assert r.redact(given_text) == expected
    # nothing else is touched
    for plain in ["/start", "Start polling", "restarting in 5 s", "preferences=on", "start="]:
        assert r.redact(plain) == plain


def test_registered_tokens_and_the_bot_token_are_redacted_anywhere() -> None:
    r = Redactor()
    token = new_token(18)
    r.add_token(token)
    r.add_secret(BOT_TOKEN)
    assert r.redact(f"survey {token} expired") == "survey [redacted] expired"
    assert r.redact(f"x{token}y and '{token}'") == "x[redacted]y and '[redacted]'"
    assert r.redact(f"https://api.telegram.org/bot{BOT_TOKEN}/getMe") == (
        "https://api.telegram.org/bot7012345678:[redacted]/getMe"
    )
    assert BOT_SECRET not in r.redact(BOT_TOKEN.replace(":", "%3A"))
    assert r.redact(f"only the secret: {BOT_SECRET}") == "only the secret: [redacted]"
    assert r.redact(r.redact(f"{token} {BOT_TOKEN}")) == r.redact(f"{token} {BOT_TOKEN}")
    assert r.redact("ordinary words stay") == "ordinary words stay"


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
_TOKENS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
    min_size=8,
    max_size=64,
)


@given(
    prefix=_TEXT,
    suffix=_TEXT,
    token=_TOKENS,
    shape=st.sampled_from(["?start={}", "start%3D{}", "/start {}", "\\/start\t{}", "ref_{}", "{}"]),
)
def test_a_token_never_survives_redaction(prefix: str, suffix: str, token: str, shape: str) -> None:
    """Whatever surrounds it: by shape when it is in a link or a /start payload, by value when
    it is registered (the bare ``{}`` shape)."""
    assume(token not in prefix and token not in suffix and token not in MARK)
    r = Redactor()
    if shape == "{}":
        r.add_token(token)
    out = r.redact(prefix + shape.format(token) + suffix)
    assert token not in out


def test_records_are_redacted_at_creation_whatever_the_handler() -> None:
    token = new_token()
    logs.REDACTOR.add_token(token)
    with capture_logs("DEBUG", secrets=[BOT_TOKEN]) as captured:
        log = logging.getLogger("tests.anything")
        log.debug("invite %s for %s", token, BOT_TOKEN)
        try:
            raise RuntimeError(f"failed on https://t.me/x?start={new_token()} with {token}")
        except RuntimeError:
            log.exception("boom")
        log.info("bad args %s %s", token)  # a format error must not print the raw arguments
        log.warning("with stack", stack_info=True)
        thread = threading.Thread(target=lambda: (_ for _ in ()).throw(ValueError(BOT_TOKEN)))
        thread.start()
        thread.join()
    records = [r for r in captured.records if r.name in {"tests.anything", "bot"}]
    assert len(records) == 5
    assert records[0].getMessage() == "invite [redacted] for 7012345678:[redacted]"
    assert records[1].exc_info is None and "RuntimeError: failed on" in (records[1].exc_text or "")
    assert records[2].args is None
    assert records[4].getMessage() == "uncaught in thread " + thread.name + (
        ": ValueError: 7012345678:[redacted]"
    )
    everything = captured.everything()
    assert token not in everything and BOT_SECRET not in everything
    assert "start=[redacted]" in everything


def test_redact_record_leaves_nothing_raw() -> None:
    token = new_token()
    r = Redactor()
    r.add_token(token)
    try:
        raise KeyError(token)
    except KeyError as exc:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "%s", (token,), (KeyError, exc, None)
        )
    redact_record(record, r)
    assert token not in repr(vars(record))
    assert record.getMessage() == MARK and record.exc_info is None


async def test_tokens_read_from_the_database_are_known(tmp_path: Path) -> None:
    """A token written by another process (no ORM event here) is registered once it is loaded."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    await upgrade(engine)
    logs.watch_tokens()
    token = new_token()
    now = START
    try:
        async with engine.connect() as conn:
            await conn.execute(insert(User).values(id=1, tg_id=1, created_at=now, last_seen_at=now))
            await conn.execute(
                insert(Invite).values(
                    token=token, role="rep", created_by_id=1, created_at=now, expires_at=now
                )
            )
            await conn.commit()
        async with AsyncSession(engine) as session:
            invite = await session.scalar(select(Invite))
            assert invite is not None and invite.token == token
        assert logs.redact(f"bare {token}") == "bare [redacted]"
        created = new_token()
        Invite(token=created)
        assert logs.redact(f"bare {created}") == "bare [redacted]"
    finally:
        await engine.dispose()


def test_tokens_are_read_as_entities_only() -> None:
    """Layer 2 of bot.logs sees tokens through the ORM's events, which a column-only read
    (``select(Invite.token)``) would bypass: the application code has none."""
    root = Path(__file__).resolve().parent.parent
    column_read = re.compile(r"select\(\s*(?:[\w.]+\s*,\s*)*\w+\.token\b")
    offenders = [
        f"{path.relative_to(root)}: {match.group()}"
        for package in ("bot", "handlers", "services", "scheduler", "storage", "core", "views")
        for path in (root / package).rglob("*.py")
        if path.name != "logs.py"  # which explains the rule
        for match in column_read.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert column_read.search("select(Invite.token)") and column_read.search(
        "select(A.id, B.token)"
    )
    assert not column_read.search("select(Invite).where(Invite.token == token)")
