"""Daily use, polished (issue 14): tappable contact details, a readable timeline, archived cards
out of the way, a client after the service, /contacts filters, wording and the client's side."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.emulator.client import buttons_of
from storage.models import Contact, ContactEvent
from tests.conftest import ADMIN_ID
from tests.helpers import team_with_rep


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_card_phone_email_and_telegram_are_tappable(tg, language) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Anna Smirnova, Acme, 8 999 123-45-67, anna&co@acme.io, @anna_s")
    reply = await rep.send("/find Anna")
    # the phone in international format (Telegram makes it a link), e-mail and username links
    assert "+7 999 123-45-67" in reply.text
    assert '<a href="mailto:anna&amp;co@acme.io">anna&amp;co@acme.io</a>' in reply.html
    assert '<a href="https://t.me/anna_s">@anna_s</a>' in reply.html
    assert "+79991234567" not in reply.text


async def _detractor_with_resolved_case(tg, clock, rep, manager) -> None:
    """Dan, a client on the rep's card, answers 3 with a comment; the manager resolves the case."""
    client = tg.user(9004, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    await rep.send("/delivered Dan")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await client.click("3")
    await client.send("Nobody called me back")
    await tg.app.clockwork.tick()
    await manager.click(1)  # Take it
    await manager.click(2)  # Resolve
    await manager.send("Called, refunded the visit")
    await tg.app.clockwork.tick()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            [
                "⭐ NPS answer: 3",
                "💬 NPS comment:\nNobody called me back",
                "🩹 Detractor case: resolved — Called, refunded the visit",
                "⏭ Next step: send the proposal, due Wed, 25 Nov 2026, 12:00",
            ],
        ),
        (
            "ru",
            [
                "⭐ Оценка NPS: 3",
                "💬 Комментарий к NPS:\nNobody called me back",
                "🩹 Кейс недовольного клиента: решён — Called, refunded the visit",
                "⏭ Следующий шаг: send the proposal, срок ср, 25 нояб. 2026, 12:00",
            ],
        ),
    ],
)
async def test_timeline_shows_nps_answers_cases_and_local_due_dates(
    tg, clock, language, expected
) -> None:
    _admin, manager, rep = await team_with_rep(tg, language=language)
    await _detractor_with_resolved_case(tg, clock, rep, manager)
    await rep.send("/find Dan")
    await rep.click("⏭")
    await rep.send("send the proposal")
    await rep.send("25.11 12:00")
    await rep.click("✅")
    await rep.send("/find Dan")
    reply = await rep.click("🕓")
    for line in expected:
        assert line in reply.text
    assert "+00:00" not in reply.text and "2026-11-25" not in reply.text


@pytest.mark.parametrize(
    ("language", "hint", "help_line"),
    [
        (
            "en",
            "Nothing active found for “Olga”, but 1 archived card matches: /find -a Olga",
            "/find -a text",
        ),
        (
            "ru",
            "Среди активных карточек «Olga» не нашлось, но есть 1 архивная: /find -a Olga",
            "/find -a текст",
        ),
    ],
)
async def test_find_leaves_archived_cards_out_unless_asked(tg, language, hint, help_line) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Olga Old, Beta")
    await rep.send("/find Olga")
    await rep.click("🗄")
    reply = await rep.send("/find Olga")
    assert reply.text == hint and reply.buttons == []
    reply = await rep.send("/find -a Olga")
    assert "Olga Old" in reply.text and "🗄" in reply.text  # the card, marked archived
    reply = await rep.send("/find Nobody")
    assert "/find -a" not in reply.text
    reply = await rep.send("/help")
    assert help_line in reply.text


async def test_digest_does_not_count_archived_cards_as_new(tg, clock) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Boris Petrov, Beta")
    await rep.send("/add Olga Old, Omega")
    await rep.send("/find Olga")
    await rep.click("🗄")
    clock.advance(hours=1)
    reply = await manager.send("/digest")
    assert "🆕 New contacts: 1" in reply.text
    assert "Rita: touches 0, new 1" in reply.text
    listing = await manager.click("🆕 New")
    assert "Boris Petrov" in listing.text and "Olga" not in listing.text


@pytest.mark.parametrize(
    ("language", "button", "done", "again", "status"),
    [
        (
            "en",
            "⭐ Mark as client",
            "⭐ Boris Petrov is a client now, at the stage “retention & referral”",
            "Boris Petrov is client already.",
            "Status: client · Stage: retention & referral",
        ),
        (
            "ru",
            "⭐ Отметить как клиента",
            "⭐ Boris Petrov теперь клиент, на этапе «удержание и рекомендации»",
            "Boris Petrov — уже клиент.",
            "Статус: клиент · Этап: удержание и рекомендации",
        ),
    ],
)
async def test_service_delivered_offers_to_mark_the_contact_a_client(
    tg, language, button, done, again, status
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Boris Petrov, Beta")
    await rep.send("/find Boris")
    reply = await rep.click("🤝")
    card = rep.last_with_buttons()  # the card, shown again with the offer on top
    assert buttons_of(card)[0]["text"] == button and card in reply.edited
    assert all(not buttons_of(m) for m in reply.messages)  # "logged" and the survey plan
    data = buttons_of(card)[0]["callback_data"]
    reply = await rep.click(button, card)
    assert status in reply.text and button not in reply.buttons
    async with tg.app.session_factory() as s:
        c = await s.scalar(select(Contact))
        assert c.status == "client"
        assert (c.status, c.stage) == ("client", "retention")
        event = await s.scalar(select(ContactEvent).where(ContactEvent.field == "status"))
        assert (event.old_value, event.new_value) == ("contact", "client")
        event = await s.scalar(select(ContactEvent).where(ContactEvent.field == "stage"))
        assert (event.old_value, event.new_value) == ("identification", "retention")
    reply = await rep.tap_data(data, card)  # a second tap (another copy)
    assert reply.answer["text"] == again
    # a client is not offered it again; /delivered offers it on its message
    reply = await rep.send("/delivered Boris")
    assert all(button not in (b["text"] for b in buttons_of(m)) for m in reply.messages)
    await rep.send("/add Vera Lead, Gamma")
    reply = await rep.send("/delivered Vera")
    assert reply.buttons == [button]
    reply = await rep.click(button)
    assert done.replace("Boris Petrov", "Vera Lead") in reply.text and reply.buttons == []


def names_in(reply) -> list[str]:
    """The cards listed by /contacts, in order (their buttons)."""
    return [b.split(" · ")[0] for b in reply.buttons if b.split(" · ")[0] in NAMES]


NAMES = {"Anna Active", "Boris Late", "Carl Quiet", "Mike Manager"}


@pytest.mark.parametrize(
    ("language", "overdue", "cold", "sorted_", "owner"),
    [
        ("en", "overdue", "going cold", "by last touch", "owner Rita"),
        ("ru", "просрочено", "остывают", "по последнему касанию", "владелец Rita"),
    ],
)
async def test_contacts_filter_overdue_cold_owner_and_sort_by_last_touch(
    tg, clock, language, overdue, cold, sorted_, owner
) -> None:
    _admin, manager, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Carl Quiet, Gamma")
    await rep.click(6)  # Stage (the missing-fields keyboard)
    reply = await rep.click(2)  # connection: 7 days without a touch is going cold
    assert "Carl Quiet" in reply.text
    await rep.send("/add Boris Late, Beta")
    await rep.send("/find Boris")
    await rep.click("⏭")
    await rep.send("call back")
    await rep.send("25.11 10:00")
    await rep.click("✅")
    await rep.send("/add Anna Active, Acme")
    await rep.send("/find Anna")
    await rep.click("📝")
    await rep.click(1)  # call
    await rep.click(1)  # outbound
    await rep.send("said hello")
    await rep.send("/cancel")
    await manager.send("/add Mike Manager, Mu")
    clock.advance(days=10)

    reply = await rep.send("/contacts overdue")
    assert names_in(reply) == ["Boris Late"] and overdue in reply.text
    reply = await rep.send("/contacts cold")
    assert names_in(reply) == ["Carl Quiet"] and cold in reply.text
    reply = await rep.send("/contacts")
    assert names_in(reply) == ["Anna Active", "Boris Late", "Carl Quiet"]
    reply = await rep.click("🕓")
    assert names_in(reply) == ["Carl Quiet", "Boris Late", "Anna Active"]  # untouched first
    assert sorted_ in reply.text
    reply = await rep.click("🔎")
    assert "🔴" in " ".join(reply.buttons) and "👤" not in " ".join(reply.buttons)
    reply = await rep.click("🥶")
    assert names_in(reply) == ["Carl Quiet"]

    reply = await manager.send("/contacts")
    assert names_in(reply) == ["Anna Active", "Boris Late", "Carl Quiet", "Mike Manager"]
    await manager.click("🔎")
    reply = await manager.click("👤")
    assert {"Maria", "Rita"} <= set(reply.buttons)
    reply = await manager.click("Rita")
    assert names_in(reply) == ["Anna Active", "Boris Late", "Carl Quiet"]
    reply = await manager.click("🕓")
    assert names_in(reply) == ["Carl Quiet", "Boris Late", "Anna Active"]


@pytest.mark.parametrize(
    ("language", "welcome", "again"),
    [
        ("en", "Hello and welcome! You are signed in as admin.", "Hello again!"),
        (
            "ru",
            "Здравствуйте и добро пожаловать! Вы вошли как администратор.",
            "Снова здравствуйте!",
        ),
    ],
)
async def test_the_admins_first_start_is_a_welcome(tg, language, welcome, again) -> None:
    admin = tg.user(ADMIN_ID, "Ada", language_code=language)
    reply = await admin.send("/start")
    assert welcome in reply.text and again not in reply.text
    reply = await admin.send("/start")
    assert again in reply.text and welcome not in reply.text


@pytest.mark.parametrize(
    ("language", "button", "shown"),
    [("en", "Time zone", "Time zone: UTC+3 (now 12:00)"), ("ru", "Часовой пояс", "UTC+3")],
)
async def test_a_time_zone_typed_as_an_offset_is_shown_as_typed(
    tg, language, button, shown
) -> None:
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/settings")
    await rep.click(button)
    reply = await rep.send("UTC+3")
    assert shown in reply.text and "Etc/GMT" not in reply.text
    reply = await rep.send("/settings")
    assert shown in reply.text and "Etc/GMT" not in reply.text


async def test_an_emoji_tag_is_a_tag(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add Hanna Hot, Acme #🔥hot #event.")
    assert "not a valid tag" not in reply.text
    reply = await rep.send("/find #🔥HOT")
    assert "Hanna Hot" in reply.text and "#🔥hot #event" in reply.text
    reply = await rep.send("/contacts #🔥hot")
    assert "Hanna Hot" in " ".join(reply.buttons)


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "1 answer: 1 promoter, 0 passives, 0 detractors"),
        ("ru", "1 ответ: 1 промоутер, 0 нейтралов, 0 критиков"),
    ],
)
async def test_digest_counts_answers_in_plural_forms(tg, clock, language, line) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    client = tg.user(9001, "Carl")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Carl", "Client", user_id=client.id)
    await rep.send("/delivered Carl")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await client.click("10")
    await tg.app.clockwork.tick()
    clock.advance(minutes=5)
    await manager.send("/settings")
    await manager.click("Language")
    await manager.click({"en": "English", "ru": "Русский"}[language])
    reply = await manager.send("/digest")
    assert line in reply.text


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_help_names_every_command_of_the_menu(tg, clock, language) -> None:
    """/help is where a user learns the bot: every command in their menu is in it (/network
    and /intro were in the menu only)."""
    from core.roles import Role, allowed_commands
    from tests.helpers import speak

    admin, manager, rep = await team_with_rep(tg)
    client = tg.user(9004, "Dan")
    await client.send("/start")
    await rep.share_contact("+79995550011", "Dan", "Client", user_id=client.id)
    await rep.send("/delivered Dan")  # the survey makes Dan a client
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    stranger = tg.user(5005, "Stan")
    await stranger.send("/start")
    people = [
        (admin, Role.ADMIN),
        (manager, Role.MANAGER),
        (rep, Role.REP),
        (client, Role.CLIENT),
        (stranger, None),
    ]
    for user, role in people:
        await speak(user, language)
        text = (await user.send("/help")).text
        missing = [
            name
            for name in allowed_commands(role)
            if name not in ("start", "help") and f"/{name}" not in text
        ]
        assert missing == [], (role, missing, text)
