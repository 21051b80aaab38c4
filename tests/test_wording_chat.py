"""Numbers, percentages and plurals as each language writes them, in /stats, /nps and the digest;
and the charts' axis titles, answer counts and week labels — through the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.i18n import create_i18n
from services.metrics import ReplySpeed
from storage.models import User
from storage.uow import write_session
from tests.helpers import team_with_rep
from views.digest import reply_line

NBSP = "\u00a0"
THIN = "\u2009"  # Babel's date intervals: "Nov 9 – 16"


async def speak(tg, person, language: str) -> None:
    async with write_session(tg.app.session_factory) as s:
        user = await s.scalar(select(User).where(User.tg_id == person.id))
        user.language = language


async def add_and_log(rep, name: str, kind: str = "call") -> None:
    await rep.send(f"/add {name}")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click(kind)
    await rep.click("outbound")
    await rep.send("talked")
    await rep.click("No next step")
    await rep.click("other")


async def answered(tg, clock, rep, client_id: int, name: str, score: int) -> None:
    """A client on the rep's card who gets the survey and answers ``score``."""
    client = tg.user(client_id, name)
    await client.send("/start")
    await rep.share_contact(f"+7999555{client_id:04d}", name, "Client", user_id=client_id)
    await rep.send(f"/delivered {name}")
    clock.advance(hours=2)
    await tg.app.clockwork.tick()
    await client.click(str(score))
    await tg.app.clockwork.tick()


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        (
            "en",
            [
                "identification: 1.0 per contact, 2 reached, expected —",
                "connection: — per contact, 0 reached, expected 4.3",
                "Conversion of 3 new contacts: to lead 0%, to client 0%, to a meeting 33%",
                "Referral share: 0% of new contacts (0/3), — of new clients (0/0)",
                "NPS: — (0 answers; response rate —)",
                "Reply to inbound: within 2 h: — (0/0)\n",
                "Fresh data: 100% of active cards verified in time (3/3)",
            ],
        ),
        (
            "ru",
            [
                "идентификация: 1,0 на контакт, охвачено 2, ожидается —",
                "установление связи: — на контакт, охвачено 0, ожидается 4,3",
                f"Конверсия 3 новых контактов: в лиды 0{NBSP}%, в клиенты 0{NBSP}%, "
                f"во встречу 33{NBSP}%",
                f"0{NBSP}% новых контактов (0/3)",
                "NPS: — (0 ответов; отклик —)",
                f"Актуальность данных: 100{NBSP}% активных карточек",
            ],
        ),
    ],
)
async def test_stats_numbers_and_percentages_follow_the_language(
    tg, clock, language, lines
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await add_and_log(rep, "Anna, Acme", "meeting")
    await add_and_log(rep, "Boris, Beta")
    await rep.send("/add Clara, Gamma")
    clock.advance(timedelta(hours=1))
    await speak(tg, manager, language)
    reply = await manager.send("/stats 30d")
    for line in lines:
        assert line in reply.text
    assert "1.0 per" not in reply.text if language == "ru" else "1,0" not in reply.text


@pytest.mark.parametrize(
    ("language", "one", "few"),
    [
        ("en", "Conversion of 1 new contact: to lead 0%", "Conversion of 2 new contacts"),
        ("ru", f"Конверсия 1 нового контакта: в лиды 0{NBSP}%", "Конверсия 2 новых контактов"),
    ],
)
async def test_stats_counts_new_contacts_in_plural_forms(tg, clock, language, one, few) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await rep.send("/add Anna, Acme")
    clock.advance(timedelta(hours=1))
    await speak(tg, manager, language)
    reply = await manager.send("/stats")
    assert one in reply.text
    await rep.send("/add Boris, Beta")
    clock.advance(timedelta(minutes=1))
    reply = await manager.send("/stats")
    assert few in reply.text


@pytest.mark.parametrize(
    ("language", "heads", "one", "three"),
    [
        (
            "en",
            ["NPS, last 90 days", "NPS, last 1 day", "NPS, last 2 days", "NPS, last 21 days"],
            "NPS +100 · 1 answer: 1 promoter, 0 passives, 0 detractors · response rate 100%",
            "NPS +33 · 3 answers: 2 promoters, 0 passives, 1 detractor · response rate 100%",
        ),
        (
            "ru",
            [
                "NPS за последние 90 дней",
                "NPS за последний 1 день",
                "NPS за последние 2 дня",
                "NPS за последний 21 день",
            ],
            f"NPS +100 · 1 ответ: 1 промоутер, 0 нейтралов, 0 критиков · отклик 100{NBSP}%",
            f"NPS +33 · 3 ответа: 2 промоутера, 0 нейтралов, 1 критик · отклик 100{NBSP}%",
        ),
    ],
)
async def test_nps_counts_in_plural_forms_and_percent_by_locale(
    tg, clock, language, heads, one, three
) -> None:
    _admin, manager, rep = await team_with_rep(tg)
    await speak(tg, manager, language)
    await answered(tg, clock, rep, 9001, "Carl", 10)
    reply = await manager.send("/nps")
    assert heads[0] in reply.text and one in reply.text
    for arg, head in zip(("1d", "2", "21d"), heads[1:], strict=True):
        reply = await manager.send(f"/nps {arg}")
        assert head in reply.text
    await answered(tg, clock, rep, 9002, "Dora", 9)
    await answered(tg, clock, rep, 9003, "Eve", 2)
    reply = await manager.send("/nps")
    assert three in reply.text


@pytest.mark.parametrize(
    ("language", "days", "text"),
    [
        ("en", 90, "had a survey less than 90 days ago"),
        ("en", 1, "had a survey less than 1 day ago"),
        ("ru", 90, "опрос уже был менее 90 дней назад"),
        ("ru", 21, "опрос уже был менее 21 дня назад"),
    ],
)
async def test_the_survey_interval_in_plural_forms(
    tg, clock, monkeypatch, language, days, text
) -> None:
    monkeypatch.setattr(tg.app.settings, "nps_min_interval_days", days)
    *_, rep = await team_with_rep(tg, language=language)
    await rep.send("/add Sasha Client, Acme")
    await rep.send("/delivered Sasha")
    clock.advance(timedelta(hours=12))
    reply = await rep.send("/delivered Sasha")
    assert text in reply.text


@pytest.mark.parametrize(
    ("language", "days", "text"),
    [
        ("en", 7, "expires in 7 days"),
        ("en", 1, "expires in 1 day:"),
        ("ru", 7, "действует 7 дней"),
        ("ru", 3, "действует 3 дня"),
        ("ru", 1, "действует 1 день"),
    ],
)
async def test_the_invites_lifetime_in_plural_forms(tg, monkeypatch, language, days, text) -> None:
    monkeypatch.setattr(tg.app.settings, "invite_ttl_days", days)
    _admin, manager, _rep = await team_with_rep(tg)
    await speak(tg, manager, language)
    reply = await manager.send("/invite")
    assert text in reply.text


@pytest.mark.parametrize(
    ("language", "size", "text"),
    [
        ("en", 4_091, "This summary has 4091 characters"),
        ("ru", 4_091, "В этом описании 4091 символ,"),
        ("ru", 4_092, "В этом описании 4092 символа,"),
        ("ru", 4_095, "В этом описании 4095 символов,"),
    ],
)
async def test_a_too_long_summary_counts_characters_in_plural_forms(
    tg, language, size, text
) -> None:
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Tom Touch, Acme")
    await rep.click("Open card")
    await rep.click("Log touch")
    await rep.click("call")
    await rep.click("outbound")
    await speak(tg, rep, language)
    reply = await rep.send("x" * size)
    assert text in reply.text


@pytest.mark.parametrize(
    ("language", "axes", "weeks", "point"),
    [
        (
            "en",
            (("Week", "NPS, −100 to +100"), ("Active cards", "Stage")),
            [f"Sep 28{THIN}–{THIN}Oct 5", f"Nov 9{THIN}–{THIN}16", f"Nov 16{THIN}–{THIN}23"],
            "+100\n1 answer",
        ),
        (
            "ru",
            (("Неделя", "NPS, от −100 до +100"), ("Активные карточки", "Этап")),
            ["28 сент. — 5 окт.", "9—16 нояб.", "16—23 нояб."],
            "+100\n1 ответ",
        ),
    ],
)
async def test_the_chart_has_axis_titles_answer_counts_and_weeks_by_their_dates(
    tg, clock, monkeypatch, language, axes, weeks, point
) -> None:
    import sys

    import views.charts as charts

    drawn: list[dict] = []
    real = charts.chart_png

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        drawn.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "chart_png", spy)
    _admin, manager, rep = await team_with_rep(tg)
    await answered(tg, clock, rep, 9001, "Carl", 10)  # Monday 23 Nov, 11:00 UTC
    clock.advance(hours=1)
    await speak(tg, manager, language)
    reply = await manager.send("/stats chart")
    assert reply.photos
    [kwargs] = drawn
    assert (kwargs["nps_axes"], kwargs["funnel_axes"]) == axes
    labels = kwargs["date_labels"]  # eight 7-day weeks, the last ending now (Mon 12:00)
    assert len(labels) == 8 and [labels[0], labels[-2], labels[-1]] == weeks
    assert kwargs["point_labels"] == [None] * 7 + [point]
    # matplotlib is loaded only to draw
    assert "matplotlib" in sys.modules


@pytest.mark.parametrize(
    ("language", "decimal"),
    [
        ("en", r"\(constraint 0\.\d\d, effective size \d+\.\d\)"),
        ("ru", r"\(ограничение 0,\d\d, эффективный размер \d+,\d\)"),
    ],
)
async def test_network_figures_follow_the_language(tg, clock, language, decimal) -> None:
    import re

    from bot.emulator.client import plain
    from tests.test_network_chat import seed_network

    _admin, manager, rep = await team_with_rep(tg)
    await seed_network(tg, rep.id, clock.now())
    await speak(tg, manager, language)
    reply = await manager.send("/network")
    assert re.search(decimal, plain(reply.text))


@pytest.mark.parametrize(
    ("language", "speed", "expected"),
    [
        (
            "en",
            (5, 1, 1, 180.0),
            "<b>Reply to inbound</b>: within 2 h: 20% (1/5); median of the 1 answered: 3 min",
        ),
        (
            "en",
            (5, 3, 1, 7200.0),
            "<b>Reply to inbound</b>: within 2 h: 20% (1/5); median of the 3 answered: 2 h 0 min",
        ),
        ("en", (2, 0, 0, None), "<b>Reply to inbound</b>: within 2 h: 0% (0/2); none answered yet"),
        ("en", (0, 0, 0, None), "<b>Reply to inbound</b>: within 2 h: — (0/0)"),
        # still open (unanswered, younger than the window): not counted as late, said apart
        (
            "en",
            (1, 0, 0, None, 1),
            "<b>Reply to inbound</b>: within 2 h: — (0/0); 1 waiting, still in time",
        ),
        (
            "en",
            (6, 1, 1, 180.0, 2),
            "<b>Reply to inbound</b>: within 2 h: 25% (1/4); median of the 1 answered: 3 min; "
            "2 more waiting, still in time",
        ),
        (
            "ru",
            (3, 0, 0, None, 1),
            f"<b>Ответ на входящие</b>: в пределах 2 ч: 0{NBSP}% (0/2); отвеченных пока нет; "
            "ещё 1 ждёт ответа, срок не вышел",
        ),
        (
            "ru",
            (5, 0, 0, None, 5),
            "<b>Ответ на входящие</b>: в пределах 2 ч: — (0/0); 5 ждут ответа, срок не вышел",
        ),
        (
            "ru",
            (5, 1, 1, 180.0),
            f"<b>Ответ на входящие</b>: в пределах 2 ч: 20{NBSP}% (1/5); медиана по 1 отвеченному: "
            "3 мин",
        ),
        (
            "ru",
            (7, 5, 1, 180.0),
            f"<b>Ответ на входящие</b>: в пределах 2 ч: 14{NBSP}% (1/7); медиана по 5 отвеченным: "
            "3 мин",
        ),
    ],
)
def test_the_reply_median_says_over_how_many_answered_requests(language, speed, expected) -> None:
    """ "median 3 min; within 2 h: 20%" read as a contradiction: the median is over the answered
    requests only, the share over all of them."""
    i18n = create_i18n("en")
    with i18n.context(), i18n.use_locale(language):
        assert reply_line(ReplySpeed(*speed[:4], 2, *speed[4:]), 2, language) == expected
