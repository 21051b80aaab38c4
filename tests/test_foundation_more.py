"""More of the foundation, played as chats: settings, language, /cancel, fallbacks, errors, menus."""

from __future__ import annotations

import gettext
import json
import logging
import re
from collections.abc import AsyncIterator

import pytest
from aiogram import F, Router
from aiogram.types import CallbackQuery, Message

import bot.i18n
from bot.config import Settings
from bot.emulator import FakeTelegram, Reply
from bot.emulator.runner import EmulatedBot
from core.clock import FrozenClock
from storage.repo import users as users_repo
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep, token_of

CYRILLIC = re.compile("[а-яА-ЯёЁ]")


class PseudoRussian(gettext.NullTranslations):
    """Every string marked "РУ·", so a test can tell which language was served."""

    def gettext(self, message: str) -> str:
        return "РУ·" + message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return "РУ·" + (singular if n == 1 else plural)


@pytest.fixture
async def tg_ru(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[EmulatedBot]:
    """The bot with a stand-in Russian catalogue: tests the language choice, not the wording."""
    real = bot.i18n.compile_catalogs
    monkeypatch.setattr(
        bot.i18n, "compile_catalogs", lambda *a: {**real(*a), "ru": PseudoRussian()}
    )
    runner = EmulatedBot(settings, emu, clock=clock, extra_routers=[exploding_router()])
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def db_user(tg: EmulatedBot, tg_id: int):  # noqa: ANN201
    assert tg.app is not None
    async with tg.app.session_factory() as s:
        user = await users_repo.get_by_tg_id(s, tg_id)
    assert user is not None
    return user


def default_scope(lang: str) -> str:
    return json.dumps({"type": "default"}, sort_keys=True) + "|" + lang


def chat_scope(chat_id: int) -> str:
    return json.dumps({"type": "chat", "chat_id": chat_id}, sort_keys=True) + "|"


def names(commands: list[dict]) -> list[str]:
    return [c["command"] for c in commands]


# ---------------------------------------------------------------------- language


async def test_switching_to_russian_in_settings(tg_ru) -> None:
    user = tg_ru.user(5005, "Stan")
    await user.send("/start")
    reply = await user.send("/settings")
    assert "Language: English" in reply.text and "РУ·" not in reply.text
    assert reply.buttons == ["Language", "Time zone"]

    reply = await user.click("Language")
    assert "Choose a language" in reply.text
    assert reply.buttons == ["English", "Русский"]

    reply = await user.click("Русский")
    assert reply.answer is not None and reply.answer["text"] == "РУ·Language saved."
    menu = reply.edited[-1]["text"]
    assert "РУ·Language: Русский" in menu and "РУ·Time zone" in menu
    assert reply.buttons == ["РУ·Language", "РУ·Time zone"]
    assert (await db_user(tg_ru, 5005)).language == "ru"

    # later replies are Russian too
    assert (await user.send("/help")).text.startswith("РУ·")
    assert (await user.send("/nonsense")).text.startswith("РУ·")

    # and back to English
    await user.send("/settings")
    await user.click(1)
    reply = await user.click("English")
    assert "Language: English" in reply.text and "РУ·" not in reply.text
    reply = await user.send("/help")
    assert "invitation" in reply.text and "РУ·" not in reply.text


async def test_russian_telegram_user_is_answered_in_russian(tg_ru, emu) -> None:
    ivan = tg_ru.user(5006, "Ivan", language_code="ru-RU")
    reply = await ivan.send("/start")
    assert reply.text.startswith("РУ·Hello!")
    # a choice in /settings wins over Telegram's language
    await ivan.send("/settings")
    await ivan.click(1)
    await ivan.click("English")
    assert "РУ·" not in (await ivan.send("/start")).text
    # the default menu in Russian
    menu = emu.commands[default_scope("ru")]
    assert all(c["description"].startswith("РУ·") for c in menu)
    assert not any(c["description"].startswith("РУ·") for c in emu.commands[default_scope("en")])


async def test_apology_is_in_the_users_language(tg_ru) -> None:
    reply = await tg_ru.user(5006, "Ivan", language_code="ru").send("boom")
    assert reply.text == "РУ·Sorry, something went wrong on my side. Please try again."
    john = tg_ru.user(5007, "John", language_code="en")
    reply = await john.send("boom")
    assert reply.text == "Sorry, something went wrong on my side. Please try again."
    # the language chosen in /settings counts, not Telegram's
    await john.send("/settings")
    await john.click("Language")
    await john.click("Русский")
    reply = await john.send("boom")
    assert reply.text == "РУ·Sorry, something went wrong on my side. Please try again."


async def test_language_choice_is_saved_and_menu_updated(tg, emu) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    await user.click("Language")
    await user.click("Русский")
    assert (await db_user(tg, 5005)).language == "ru"
    # the chat's own command menu follows the chosen language
    assert chat_scope(5005) in emu.commands


async def test_real_russian_catalogue_is_served(tg) -> None:
    ivan = tg.user(5006, "Ivan", language_code="ru")
    reply = await ivan.send("/start")
    assert CYRILLIC.search(reply.text), reply.text
    assert "invitation" not in reply.text
    assert CYRILLIC.search((await ivan.send("/nonsense")).text)


async def test_english_telegram_user_gets_english(tg) -> None:
    reply = await tg.user(5007, "John", language_code="en").send("/start")
    assert "invitation" in reply.text and not CYRILLIC.search(reply.text)
    # a language the bot does not speak falls back to the default
    reply = await tg.user(5008, "Hans", language_code="de").send("/start")
    assert "invitation" in reply.text


# ---------------------------------------------------------------------- time zone


async def test_timezone_typed_as_a_city(tg, clock) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    reply = await user.click("Time zone")
    assert "type a city" in reply.text
    assert "Novosibirsk, UTC+7" in reply.buttons  # a city and its offset, not "Asia/…"

    reply = await user.send("Novosibirsk")
    assert "Time zone saved" in reply.text
    assert "Time zone: Novosibirsk, UTC+7 (now 16:00)" in reply.text  # 09:00 UTC is 16:00
    assert (await db_user(tg, 5005)).timezone == "Asia/Novosibirsk"
    # the dialogue is over
    assert "Nothing to cancel" in (await user.send("/cancel")).text


async def test_timezone_typed_as_russians_write_it(tg) -> None:
    """ "мск" is Moscow (it was taken for Omsk, three hours off), "Томск" is Tomsk (not Omsk)."""
    user = tg.user(5005, "Stan", language_code="ru")
    for typed, zone, shown in (
        ("мск", "Europe/Moscow", "Москва, UTC+3 (сейчас 12:00)"),
        ("Томск", "Asia/Tomsk", "Томск, UTC+7 (сейчас 16:00)"),
    ):
        await user.send("/settings")
        await user.click("Часовой пояс")
        reply = await user.send(typed)
        assert shown in reply.text
        assert (await db_user(tg, 5005)).timezone == zone


async def test_timezone_from_a_button(tg) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    await user.click("Time zone")
    reply = await user.click("Berlin, UTC+1")
    assert "Time zone saved" in reply.text
    assert (await db_user(tg, 5005)).timezone == "Europe/Berlin"


async def test_unknown_timezone_is_explained_and_step_stays(tg) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    await user.click("Time zone")
    reply = await user.send("Atlantis <b>")
    assert "don't know the time zone" in reply.text
    assert "Atlantis <b>" in reply.text  # shown back, safely escaped
    assert (await db_user(tg, 5005)).timezone is None
    # still in the step: a valid answer now works
    reply = await user.send("UTC+3")
    assert "Time zone saved" in reply.text
    assert (await db_user(tg, 5005)).timezone is not None


async def test_a_close_spelling_is_asked_about_never_saved_on_a_guess(tg) -> None:
    """ "Atlantis" was saved as Canada/Atlantic: a made-up place moved every reminder."""
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    await user.click("Time zone")
    reply = await user.send("Atlantis")
    assert "Did you mean Halifax, UTC-4?" in reply.text  # Canada/Atlantic, as people say it
    assert reply.buttons == ["✅ Halifax, UTC-4"]
    assert (await db_user(tg, 5005)).timezone is None
    reply = await user.send("New Yrok")  # still in the step: typed again
    assert "Did you mean New York, UTC-5?" in reply.text
    reply = await user.click("New York, UTC-5")
    assert "Time zone saved" in reply.text and "New York, UTC-5" in reply.text
    assert (await db_user(tg, 5005)).timezone == "America/New_York"
    # a forged button with a guess in it is refused
    reply = await user.tap_data("tz:Novosibirks")
    assert reply.answer is not None and "Unknown time zone" in reply.answer["text"]
    assert (await db_user(tg, 5005)).timezone == "America/New_York"


async def test_a_close_spelling_in_russian_asks_too(tg) -> None:
    user = tg.user(5005, "Stan", language_code="ru")
    await user.send("/settings")
    await user.click("Часовой пояс")
    reply = await user.send("Екатеринбрг")
    assert "Вы имели в виду Екатеринбург, UTC+5?" in reply.text
    await user.click("Екатеринбург, UTC+5")
    assert (await db_user(tg, 5005)).timezone == "Asia/Yekaterinburg"


async def test_cancel_leaves_the_timezone_step(tg) -> None:
    user = tg.user(5005, "Stan")
    assert "Nothing to cancel" in (await user.send("/cancel")).text
    await user.send("/settings")
    await user.click("Time zone")
    reply = await user.send("/cancel")
    assert "Cancelled" in reply.text
    # the city is no longer taken as a time zone
    reply = await user.send("Novosibirsk")
    assert "Time zone saved" not in reply.text
    assert "invitation" in reply.text
    assert (await db_user(tg, 5005)).timezone is None
    assert "Nothing to cancel" in (await user.send("/cancel")).text


def assert_harmless(reply: Reply) -> None:
    # Telegram refuses the identical edit; the bot shrugs it off
    assert all("message is not modified" in e for e in reply.errors), reply.errors
    assert "Sorry" not in reply.text
    assert reply.answer is not None  # the button's spinner stops


async def test_double_taps_on_menus_are_harmless(tg) -> None:
    """A quick second tap reaches the bot after the menu already changed: no error, no apology."""
    user = tg.user(5005, "Stan")
    menu = (await user.send("/settings")).last
    await user.tap_data("set:lang", menu)
    reply = await user.tap_data("set:lang", menu)
    assert_harmless(reply)

    await user.click("English")
    reply = await user.tap_data("lang:en", user.last)
    assert_harmless(reply)

    await user.tap_data("set:tz", user.last)
    await user.tap_data("set:tz", user.last)
    await user.tap_data("tz:UTC", user.last)
    reply = await user.tap_data("tz:UTC", user.last)
    assert_harmless(reply)

    admin = tg.user(ADMIN_ID, "Ada")
    reply = await admin.send("/invite manager")
    await tg.user(2002, "Maria").send(f"/start {token_of(reply.text)}")
    menu = (await admin.send("/invite")).last
    await admin.tap_data("inv:rep:0", menu)
    reply = await admin.tap_data("inv:rep:0", menu)
    assert_harmless(reply)


async def test_sticker_during_the_timezone_step(tg) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/settings")
    await user.click("Time zone")
    reply = await user.send_sticker()
    assert "expected a text answer" in reply.text


# ---------------------------------------------------------------------- fallbacks


async def test_fallbacks_for_a_stranger(tg) -> None:
    stranger = tg.user(5005, "Stan")
    assert "don't know this command" in (await stranger.send("/frobnicate")).text
    assert "invitation" in (await stranger.send("Hi, can I use this?")).text
    assert "can't use this here" in (await stranger.send_sticker()).text
    assert "can't use this here" in (await stranger.send_photo()).text
    assert "not available" in (await stranger.send("/invite")).text
    assert "not available" in (await stranger.send("/team")).text
    assert "not available" in (await stranger.send("/invite@netsales_test_bot manager")).text


async def test_fallbacks_for_a_rep(tg) -> None:
    _, _, rep = await team_with_rep(tg)
    assert "not available" in (await rep.send("/invite")).text
    assert "not available" in (await rep.send("/team")).text
    assert "don't know this command" in (await rep.send("/frobnicate")).text
    assert "didn't understand" in (await rep.send("hello there")).text
    assert "can't use this here" in (await rep.send_sticker()).text


async def test_forged_callback_data(tg) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/start")
    reply = await user.tap_data("zzz")
    assert reply.answer is not None and "no longer valid" in reply.answer["text"]
    assert reply.answer["show_alert"] is True
    assert reply.errors == []


async def test_forged_invite_callback_for_an_admin(tg) -> None:
    admin = tg.user(ADMIN_ID, "Ada")
    await admin.send("/invite")
    for forged in ("inv:zzz", "inv:rep:abc", "inv:boss:0", "lang:xx", "tz:Mars/Base"):
        reply = await admin.tap_data(forged)
        assert reply.answer is not None, forged
        assert "no longer valid" in reply.text or "Unknown" in reply.text, (forged, reply.text)
        assert reply.errors == []


# ---------------------------------------------------------------------- invites and teams


async def test_manager_invite_puts_rep_into_managers_team(tg) -> None:
    admin, manager, rep = await team_with_rep(tg)
    m, r = await db_user(tg, 2002), await db_user(tg, 3003)
    assert m.role == "manager" and m.team_id is not None
    assert r.role == "rep" and r.team_id == m.team_id
    # the manager was told
    assert "Rita" in (manager.last or {}).get("text", "")

    reply = await manager.send("/team")
    assert "Your team" in reply.text
    assert "Maria (manager)" in reply.text and "Rita (sales rep)" in reply.text

    reply = await admin.send("/team")
    assert "Teams" in reply.text and "2 members" in reply.text


async def test_admin_invites_rep_into_a_team_chosen_by_button(tg) -> None:
    admin = tg.user(ADMIN_ID, "Ada")
    reply = await admin.send("/invite rep")
    assert "no teams yet" in reply.text.lower()

    for manager_id, name in ((2002, "Maria"), (2004, "Boris")):
        reply = await admin.send("/invite manager")
        await tg.user(manager_id, name).send(f"/start {token_of(reply.text)}")
    boris_team = (await db_user(tg, 2004)).team_id

    reply = await admin.send("/invite rep")
    assert "Into which team" in reply.text
    assert len(reply.buttons) == 2 and all("(1)" in b for b in reply.buttons)
    boris_button = next(b for b in reply.buttons if "Boris" in b)
    reply = await admin.click(boris_button)
    assert "Invite for a sales rep" in reply.text

    rep = tg.user(3005, "Rosa")
    reply = await rep.send(f"/start {token_of(reply.text)}")
    assert "Welcome, Rosa" in reply.text
    assert (await db_user(tg, 3005)).team_id == boris_team

    # the same through the role buttons
    await admin.send("/invite")
    reply = await admin.click("Sales rep")
    assert "Into which team" in reply.text and len(reply.buttons) == 2


async def test_manager_cannot_invite_managers(tg) -> None:
    _, manager, _ = await team_with_rep(tg)
    assert "Only an administrator" in (await manager.send("/invite manager")).text
    assert "Use /invite" in (await manager.send("/invite boss")).text


# ---------------------------------------------------------------------- command menus


async def test_command_menus_by_language_and_role(tg, emu) -> None:
    for lang in ("", "en", "ru"):
        assert names(emu.commands[default_scope(lang)]) == ["start", "help", "settings"]

    await team_with_rep(tg)
    rep_menu = names(emu.commands[chat_scope(3003)])
    assert "add" in rep_menu and "invite" not in rep_menu and "team" not in rep_menu
    manager_menu = names(emu.commands[chat_scope(2002)])
    assert "invite" in manager_menu and "team" in manager_menu and "add" in manager_menu


async def test_russian_default_menu_is_russian(tg, emu) -> None:
    descriptions = [c["description"] for c in emu.commands[default_scope("ru")]]
    assert all(CYRILLIC.search(d) for d in descriptions), descriptions


async def test_bot_starts_although_set_my_commands_is_refused(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    emu.fail_next("setMyCommands", 400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
    runner = EmulatedBot(settings, emu, clock=clock)
    with caplog.at_level(logging.WARNING):
        await runner.start()
    try:
        reply = await runner.user(5005, "Stan").send("/start")
        assert "invitation" in reply.text
    finally:
        await runner.stop()
    refused = [r for r in caplog.records if "setMyCommands" in r.getMessage()]
    assert refused and "BOT_COMMANDS_TOO_MUCH" in refused[0].getMessage()
    # the other languages still got their menus
    assert default_scope("en") in emu.commands and default_scope("ru") in emu.commands


# ---------------------------------------------------------------------- errors and blocking


def exploding_router() -> Router:
    router = Router(name="boom")

    @router.message(F.text == "boom")
    async def boom(message: Message) -> None:
        raise RuntimeError("kaboom")

    @router.callback_query(F.data == "boom")
    async def boom_button(query: CallbackQuery) -> None:
        raise RuntimeError("kaboom button")

    @router.callback_query(F.data == "boom-after-answer")
    async def boom_after_answer(query: CallbackQuery) -> None:
        await query.answer()
        raise RuntimeError("kaboom after answering")

    @router.callback_query(F.data == "same-again")
    async def edit_without_change(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(query.message.text or "-")  # changes nothing

    return router


async def test_an_edit_that_changes_nothing_is_no_error(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock
) -> None:
    runner = EmulatedBot(settings, emu, clock=clock, extra_routers=[exploding_router()])
    await runner.start()
    try:
        user = runner.user(5007, "Nina")
        await user.send("/start")
        reply = await user.tap_data("same-again", user.last)
        assert any("message is not modified" in e for e in reply.errors)  # Telegram refused it
        assert "Sorry" not in reply.text  # … and the user gets no apology for it
    finally:
        await runner.stop()


async def test_handler_error_is_logged_and_user_gets_apology(
    settings: Settings, emu: FakeTelegram, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    runner = EmulatedBot(settings, emu, clock=clock, extra_routers=[exploding_router()])
    await runner.start()
    try:
        user = runner.user(5005, "Stan")
        with caplog.at_level(logging.ERROR, logger="bot.errors"):
            update_id, _ = await emu.user_message(5005, text="boom")
            start = len(emu.requests)
            await emu.wait_processed(update_id)
        reply = user._collect(start)
        assert "Sorry, something went wrong" in reply.text
        logged = [r for r in caplog.records if r.name == "bot.errors"]
        assert logged and f"update {update_id}" in logged[0].getMessage()
        assert "kaboom" in logged[0].getMessage()
        assert logged[0].exc_info is not None

        # a button that fails: the spinner is stopped and the apology sent
        reply = await user.tap_data("boom")
        assert reply.answer is not None
        assert "Sorry, something went wrong" in reply.text
        # also when the handler had answered the button before it failed
        reply = await user.tap_data("boom-after-answer")
        assert reply.answer is not None
        assert "Sorry, something went wrong" in reply.text

        # the bot lives on
        assert "invitation" in (await user.send("/start")).text
    finally:
        await runner.stop()


async def test_blocking_the_bot_marks_user_unreachable(tg, emu) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/start")
    assert (await db_user(tg, 5005)).reachable is True

    await emu.set_blocked(5005)
    await emu.wait_processed(emu.next_update_id - 1)
    assert (await db_user(tg, 5005)).reachable is False

    # writing again unblocks
    await user.send("/start")
    assert (await db_user(tg, 5005)).reachable is True


async def test_sender_marks_blocked_user_unreachable(tg, emu) -> None:
    user = tg.user(5005, "Stan")
    await user.send("/start")
    await emu.set_blocked(5005, notify=False)  # Telegram said nothing; the next send finds out
    result = await tg.app.sender.send(5005, "Your digest")
    assert result.status == "unreachable"
    assert (await db_user(tg, 5005)).reachable is False
