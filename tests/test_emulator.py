"""The Bot API emulator itself, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.emulator import FakeTelegram
from bot.emulator.runner import EmulatedBot
from tests import schema
from tests.conftest import ADMIN_ID

USER = 777


def client_for(emu: FakeTelegram) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(emu.base_url))
    return Bot(emu.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


@pytest.fixture
async def bot(emu: FakeTelegram) -> AsyncIterator[Bot]:
    bot = client_for(emu)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def user(emu: FakeTelegram) -> int:
    emu.add_user(USER, "Uma", started=True)
    return USER


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data=data)]]
    )


async def test_get_me(bot: Bot, emu: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.id == emu.bot_id
    assert me.is_bot
    assert me.username == "netsales_test_bot"


async def test_get_updates_honours_offset(bot: Bot, emu: FakeTelegram, user: int) -> None:
    for text in ("one", "two", "three"):
        await emu.user_message(user, text=text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    first = updates[0].update_id

    updates = await bot.get_updates(offset=first + 1)
    assert [u.message.text for u in updates if u.message] == ["two", "three"]
    # the confirmed update is gone for good, even without an offset
    assert [u.update_id for u in await bot.get_updates()] == [first + 1, first + 2]

    assert await bot.get_updates(offset=first + 3, timeout=0) == []
    assert emu.confirmed_offset == first + 3


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    assert not poll.done(), "a long poll with nothing to deliver must wait"
    await emu.user_message(user, text="ping")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert time.monotonic() - started < 1.5


async def test_text_length_is_counted_in_utf16_after_html(bot: Bot, user: int) -> None:
    await bot.send_message(user, "a" * 4096)
    await bot.send_message(user, "<b>" + "a" * 4096 + "</b>")  # tags do not count
    await bot.send_message(user, "&amp;" * 4096)  # an entity is one character
    await bot.send_message(user, "😀" * 2048)  # 4096 UTF-16 code units
    for too_long in ("a" * 4097, "<b>" + "a" * 4097 + "</b>", "😀" * 2048 + "a", "я" * 4097):
        with pytest.raises(TelegramBadRequest, match="too long"):
            await bot.send_message(user, too_long)


async def test_callback_data_over_64_bytes_refused(bot: Bot, user: int) -> None:
    await bot.send_message(user, "ok", reply_markup=keyboard("x" * 64))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user, "no", reply_markup=keyboard("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user, "no", reply_markup=keyboard("я" * 33))  # 66 bytes


@pytest.mark.parametrize(
    "text",
    ["<b>unclosed", "<blink>x</blink>", "Tom & Jerry", "1 < 2", "<b>x</i>", "&nbsp;"],
    ids=["unclosed", "unknown-tag", "bare-amp", "bare-lt", "mismatched", "named-entity"],
)
async def test_malformed_html_refused(bot: Bot, user: int, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="(?i)can't parse entities"):
        await bot.send_message(user, text)


async def test_well_formed_html_accepted(bot: Bot, user: int, emu: FakeTelegram) -> None:
    text = (
        '<b>bold</b> <i>it</i> <a href="https://e.com/?a=1&amp;b=2">link</a> '
        "<code>1 &lt; 2</code> &#128512; <tg-spoiler>s</tg-spoiler>"
    )
    sent = await bot.send_message(user, text)
    assert sent.text == text  # the emulator echoes what was sent
    assert emu.chats[user].messages[sent.message_id]["text"] == text


async def test_plain_text_that_looks_like_a_boolean_stays_text(bot: Bot, user: int) -> None:
    sent = await bot.send_message(user, "true")
    assert sent.text == "true"


async def test_cannot_write_first_or_to_a_blocker(bot: Bot, emu: FakeTelegram) -> None:
    emu.add_user(801, "Never")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(801, "hello")

    emu.add_user(802, "Blocker", started=True)
    await bot.send_message(802, "hello")
    await emu.set_blocked(802, notify=False)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(802, "hello again")

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(803, "nobody")


async def test_fail_next_answers_429_with_retry_after(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    emu.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user, "now")
    assert caught.value.retry_after == 3
    # only the next call fails
    assert (await bot.send_message(user, "later")).text == "later"


async def test_edit_unchanged_text_is_not_modified(bot: Bot, user: int) -> None:
    sent = await bot.send_message(user, "same", reply_markup=keyboard("k"))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=user, message_id=sent.message_id, reply_markup=keyboard("k")
        )
    edited = await bot.edit_message_text("changed", chat_id=user, message_id=sent.message_id)
    assert edited.text == "changed"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("changed", chat_id=user, message_id=sent.message_id)


async def test_a_reply_quotes_its_message_and_a_missing_one_is_refused(bot: Bot, user: int) -> None:
    from aiogram.types import ReplyParameters

    first = await bot.send_message(user, "first")
    reply = await bot.send_message(
        user, "second", reply_parameters=ReplyParameters(message_id=first.message_id)
    )
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "first"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user, "third", reply_parameters=ReplyParameters(message_id=9999))
    kept = await bot.send_message(
        user,
        "fourth",
        reply_parameters=ReplyParameters(message_id=9999, allow_sending_without_reply=True),
    )
    assert kept.reply_to_message is None


async def test_answer_callback_query(bot: Bot, emu: FakeTelegram, user: int) -> None:
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_callback_query("999")
    sent = await bot.send_message(user, "tap", reply_markup=keyboard("k"))
    await emu.user_callback(user, emu.chats[user].messages[sent.message_id], "k")
    query_id = max(emu.callback_answers, key=int)
    assert await bot.answer_callback_query(query_id, text="done")
    assert emu.callback_answers[query_id] == {"text": "done", "show_alert": False}
    with pytest.raises(TelegramBadRequest):  # a query is answered once
        await bot.answer_callback_query(query_id)


async def test_documents_and_photos_are_stored_and_downloadable(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    doc = await bot.send_document(
        user, BufferedInputFile(b"name,phone\nAnna,+7\n", "contacts.csv"), caption="<b>CSV</b>"
    )
    assert doc.document is not None and doc.document.file_name == "contacts.csv"
    assert doc.caption == "<b>CSV</b>"
    file = await bot.get_file(doc.document.file_id)
    assert file.file_size == len(b"name,phone\nAnna,+7\n")
    data = await bot.download(doc.document.file_id)
    assert data is not None and data.read() == b"name,phone\nAnna,+7\n"

    photo = await bot.send_photo(user, BufferedInputFile(b"\x89PNG fake", "p.png"))
    assert photo.photo
    data = await bot.download(photo.photo[-1].file_id)
    assert data is not None and data.read() == b"\x89PNG fake"

    # a non-ASCII file name survives the round trip through the download URL
    doc = await bot.send_document(user, BufferedInputFile(b"vcard", "Контакты 1.vcf"))
    assert doc.document is not None
    data = await bot.download(doc.document.file_id)
    assert data is not None and data.read() == b"vcard"

    # a file the user uploaded is downloadable too
    uploaded = emu.upload("in.csv", b"x,y\n")
    data = await bot.download(uploaded["file_id"])
    assert data is not None and data.read() == b"x,y\n"

    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


async def test_send_document_by_file_id(bot: Bot, user: int) -> None:
    first = await bot.send_document(user, BufferedInputFile(b"abc", "a.txt"))
    assert first.document is not None
    again = await bot.send_document(user, first.document.file_id)
    assert again.document is not None and again.document.file_id == first.document.file_id


async def test_requests_are_recorded(bot: Bot, emu: FakeTelegram, user: int) -> None:
    await bot.send_message(user, "hi")
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(user, "<b>")
    sent, refused = [r for r in emu.requests if r.method == "sendMessage"]
    assert sent.ok and sent.params["chat_id"] == user and sent.params["parse_mode"] == "HTML"
    assert not refused.ok and "can't parse entities" in (refused.error or "").lower()


# ---------------------------------------------------------------------- a bad network on demand


def bot_texts(emu: FakeTelegram, chat_id: int) -> list[str]:
    return [
        m.get("text", "")
        for _, m in sorted(emu.chats[chat_id].messages.items())
        if m["from"]["id"] == emu.bot_id
    ]


async def timed(coro):  # noqa: ANN001, ANN201
    started = time.monotonic()
    result = await coro
    return result, time.monotonic() - started


async def test_round_trip_delays_every_request_and_changes_at_run_time(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    _, fast = await timed(bot.send_message(user, "no delay by default"))
    assert fast < 0.1

    emu.set_round_trip(0.2)
    called = time.time()
    sent, took = await timed(bot.send_message(user, "far away"))
    assert 0.2 <= took < 0.6
    # half of the round trip passes before the message lands in the chat, half on the way back
    record = emu.requests[-1]
    assert record.ok and record.result["message_id"] == sent.message_id
    assert 0.09 <= record.at - called < 0.2
    _, took = await timed(bot.get_me())  # every method, not only sends
    assert 0.2 <= took < 0.6

    emu.set_round_trip(0)
    _, took = await timed(bot.send_message(user, "near again"))
    assert took < 0.1
    with pytest.raises(ValueError):
        emu.set_round_trip(-0.1)


async def test_round_trip_and_jitter_set_at_construction() -> None:
    emu = FakeTelegram(round_trip=0.05, jitter=0.05, seed=7)
    await emu.start()
    bot = client_for(emu)
    try:
        took = [(await timed(bot.get_me()))[1] for _ in range(6)]
    finally:
        await bot.session.close()
        await emu.stop()
    assert all(0.05 <= t < 0.3 for t in took), took
    # the jitter is drawn per request (seeded): the round trips are not all the same
    draws = [0.05 + x for x in _uniforms(7, 6, 0.05)]
    assert max(draws) - min(draws) > 0.02
    assert max(took) - min(took) > 0.01, took


def _uniforms(seed: int, n: int, upto: float) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0, upto) for _ in range(n)]


async def test_long_poll_still_works_with_a_round_trip(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    emu.set_round_trip(0.2)
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.35)
    assert not poll.done(), "a long poll with nothing to deliver must wait"
    pushed = time.monotonic()
    await emu.user_message(user, text="ping")
    updates = await asyncio.wait_for(poll, 2)
    arrived = time.monotonic() - pushed
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert 0.09 <= arrived < 0.5  # the answer's half of the round trip, not the poll's timeout


async def test_real_bot_answers_through_a_round_trip(tg: EmulatedBot, emu: FakeTelegram) -> None:
    emu.set_round_trip(0.05)
    admin = tg.user(ADMIN_ID, "Ada")
    reply = await admin.send("/start")
    assert "Hello" in reply.text and not reply.errors


async def test_lost_answer_delivers_the_message_but_the_bot_gets_an_html_page(
    bot: Bot, emu: FakeTelegram, user: int
) -> None:
    """The answer is lost after the effect: the message IS in the chat, yet the bot sees an
    nginx 502 page. aiogram cannot parse it as JSON and raises ClientDecodeError — not a
    TelegramAPIError, not a TelegramNetworkError — so a retry would send the message twice."""
    emu.lose_answer_next("sendMessage")
    with pytest.raises(ClientDecodeError) as caught:
        await bot.send_message(user, "invoice paid")
    assert not isinstance(caught.value, TelegramAPIError | TelegramNetworkError)
    assert "502 Bad Gateway" in str(caught.value.data)
    assert bot_texts(emu, user) == ["invoice paid"]  # delivered all the same
    record = emu.requests[-1]
    assert record.ok and record.lost and record.chat_id == user
    # only the next call
    assert (await bot.send_message(user, "receipt")).text == "receipt"
    assert bot_texts(emu, user) == ["invoice paid", "receipt"]

    # on the wire: an HTML page with the status, not JSON
    emu.lose_answer_next("sendMessage", status=504)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.base_url}/bot{emu.token}/sendMessage", json={"chat_id": user, "text": "x"}
        ) as resp:
            assert resp.status == 504
            assert resp.content_type == "text/html"
            assert "<title>504 Gateway Timeout</title>" in await resp.text()
    assert bot_texts(emu, user)[-1] == "x"


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_html_error_page_instead_of_the_answer(
    bot: Bot, emu: FakeTelegram, user: int, status: int
) -> None:
    """A proxy's HTML error page (no effect behind it). Whatever the status, aiogram first
    parses the body as JSON, so it raises ClientDecodeError, never TelegramServerError."""
    emu.html_error_next("sendMessage", status)
    with pytest.raises(ClientDecodeError) as caught:
        await bot.send_message(user, "lost on the way")
    assert not isinstance(caught.value, TelegramAPIError | TelegramNetworkError)
    assert f"<h1>{status} " in str(caught.value.data)
    assert bot_texts(emu, user) == []  # nothing was delivered
    record = emu.requests[-1]
    assert not record.ok and not record.lost and f"HTML {status}" in (record.error or "")
    assert (await bot.send_message(user, "next one")).text == "next one"

    # the long poll gets one too
    emu.html_error_next("getUpdates", status)
    with pytest.raises(ClientDecodeError):
        await bot.get_updates(timeout=0)


async def test_json_5xx_is_a_server_error_unlike_an_html_page(bot: Bot, user: int, emu) -> None:
    """The contrast: the same 502 as a JSON answer (fail_next) is TelegramServerError."""
    emu.fail_next("sendMessage", 502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(user, "x")
    emu.fail_next("sendMessage", 503)
    with pytest.raises(TelegramServerError, match="Service Unavailable"):
        await bot.send_message(user, "x")


async def test_a_hanging_chat_holds_only_its_own_requests(bot: Bot, emu: FakeTelegram) -> None:
    emu.add_user(901, "Slow", started=True)
    emu.add_user(902, "Quick", started=True)
    emu.hang_chat(901)
    stuck = asyncio.create_task(bot.send_message(901, "are you there?"))
    await emu.wait_hanging(901)
    _, took = await timed(bot.send_message(902, "hello"))  # another chat goes on at once
    assert took < 0.2
    await asyncio.sleep(0.1)
    assert not stuck.done() and bot_texts(emu, 901) == []
    emu.release_chat(901)
    sent = await asyncio.wait_for(stuck, 2)
    assert sent.text == "are you there?" and bot_texts(emu, 901) == ["are you there?"]
    _, took = await timed(bot.send_message(901, "released"))  # no longer held
    assert took < 0.2


async def test_a_chat_can_hang_for_a_set_time_including_its_callback_answers(
    bot: Bot, emu: FakeTelegram
) -> None:
    emu.add_user(901, "Slow", started=True)
    emu.add_user(902, "Quick", started=True)
    sent = await bot.send_message(901, "tap", reply_markup=keyboard("k"))
    await emu.user_callback(901, emu.chats[901].messages[sent.message_id], "k")
    query_id = max(emu.callback_answers, key=int)
    emu.hang_chat(901, seconds=0.3)
    slow = asyncio.create_task(timed(bot.send_message(901, "slow")))
    answer = asyncio.create_task(timed(bot.answer_callback_query(query_id)))
    await emu.wait_hanging(901, count=2)
    _, quick = await timed(bot.send_message(902, "quick"))
    assert quick < 0.2
    (_, took_send), (_, took_answer) = await asyncio.gather(slow, answer)
    assert 0.3 <= took_send < 0.8 and 0.3 <= took_answer < 0.8
    assert emu.callback_answers[query_id] is not None
    assert emu.hanging[901] == 0
    answered = [r for r in emu.requests if r.method == "answerCallbackQuery"]
    assert [r.chat_id for r in answered] == [901]  # addressed to the user who tapped


async def test_stop_releases_hanging_requests() -> None:
    emu = FakeTelegram()
    await emu.start()
    emu.add_user(901, "Slow", started=True)
    bot = client_for(emu)
    try:
        emu.hang_chat(901)
        stuck = asyncio.create_task(bot.send_message(901, "x"))
        await emu.wait_hanging(901)
        _, took = await timed(emu.stop())
        assert took < 1
        await asyncio.wait_for(stuck, 1)
    finally:
        await bot.session.close()


# ---------------------------------------------------------------------- the schema check itself


@pytest.fixture
def api() -> dict:
    loaded = schema.load_schema()
    if loaded is None:
        pytest.skip("Bot API schema not found")
    return loaded


def test_schema_accepts_a_valid_request(api: dict) -> None:
    schema.validate_request(
        "sendMessage",
        {
            "chat_id": 1,
            "text": "hi",
            "parse_mode": "HTML",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]},
        },
        api,
    )


def test_schema_flags_unknown_and_missing_fields(api: dict) -> None:
    with pytest.raises(schema.SchemaError, match="unknown field 'colour'"):
        schema.validate_request("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}, api)
    with pytest.raises(schema.SchemaError, match="missing required field 'text'"):
        schema.validate_request("sendMessage", {"chat_id": 1}, api)
    with pytest.raises(schema.SchemaError, match="reply_markup"):  # a button without its text
        schema.validate_request(
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"url": "u"}]]}},
            api,
        )
    with pytest.raises(schema.SchemaError, match="expected Integer"):
        schema.validate_request("sendMessage", {"chat_id": True, "text": "x"}, api)
    with pytest.raises(schema.SchemaError, match="no such Bot API method"):
        schema.validate_request("sendTelegram", {}, api)


def test_assert_requests_valid_reports_bad_requests(api: dict) -> None:
    from bot.emulator.server import Recorded

    good = Recorded("sendMessage", {"chat_id": 1, "text": "x"}, ok=True)
    bad = Recorded("sendMessage", {"chat_id": 1, "txt": "x"}, ok=True)
    schema.assert_requests_valid([good])
    with pytest.raises(AssertionError, match="txt"):
        schema.assert_requests_valid([good, bad])
