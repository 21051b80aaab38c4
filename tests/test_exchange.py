"""/export and /import, played as a chat through the emulator."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import services.contacts as contacts_svc
import services.exchange as exchange_svc
import services.exchange.staging as exchange_staging
import services.exchange.swap as exchange_swap
from bot.config import Settings
from bot.emulator.client import UserClient
from bot.emulator.runner import EmulatedBot
from core.clock import FrozenClock
from core.roles import Role
from handlers.exchange import ImportCb
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Contact, ContactEvent, DueWork, Import, ImportRow, Team, User
from storage.repo import users as users_repo
from storage.uow import writing
from tests.conftest import START, fast_limiter

REP_ID = 3003
OTHER_REP_ID = 3004
MANAGER_ID = 2002


async def _team(tg) -> tuple[UserClient, UserClient, UserClient]:  # noqa: ANN001
    """A manager and two reps in her team, as /invite makes them (put in the database directly,
    so that these tests exercise only /export and /import)."""
    async with tg.app.session_factory() as session, writing(session):
        team = Team(name="Maria's team", created_at=START)
        session.add(team)
        await session.flush()
        for tg_id, name, role in (
            (MANAGER_ID, "Maria", "manager"),
            (REP_ID, "Rita", "rep"),
            (OTHER_REP_ID, "Roman", "rep"),
        ):
            session.add(
                User(
                    tg_id=tg_id,
                    first_name=name,
                    role=role,
                    team_id=team.id,
                    created_at=START,
                    last_seen_at=START,
                )
            )
    return tg.user(MANAGER_ID, "Maria"), tg.user(REP_ID, "Rita"), tg.user(OTHER_REP_ID, "Roman")


NOTE = "First met at the expo.\nWants a demo, call after 15:00;\n  budget — Q1"
SAMPLES: list[tuple[dict[str, Any], list[str]]] = [
    (
        {
            "name": "<b>Bold</b> & Sons, Ltd",
            "company": "A&B <Trading>",
            "phone": "+79123456789",
            "email": "bold@example.com",
            "notes": NOTE,
            "status": "lead",
            "stage": "connection",
            "source": "event",
        },
        ["expo", "vip"],
    ),
    (
        {
            "name": "Анна Смирнова 🚀",
            "company": "ООО «Ромашка»",
            "position": "Директор, по развитию",
            "phone": "+79161112233",
            "tg_username": "anna_smirnova",
            "kind": "b2b",
            "influence": "decision_maker",
        },
        ["горячий"],
    ),
    ({"name": 'Bob "the builder", Jr.', "email": "bob@builder.io", "tg_user_id": 777000}, []),
]


async def _seed(tg, owner_tg_id: int, samples=SAMPLES) -> list[int]:  # noqa: ANN001
    async with tg.app.session_factory() as session, writing(session):
        owner = await users_repo.get_by_tg_id(session, owner_tg_id)
        assert owner is not None
        ids = []
        for data, tags in samples:
            c = await contacts_svc.create(session, owner=owner, data=data, now=START, tags=tags)
            ids.append(c.id)
    return ids


async def _snapshot(tg, owner_tg_id: int) -> list[dict[str, Any]]:  # noqa: ANN001
    async with tg.app.session_factory() as session:
        owner = await users_repo.get_by_tg_id(session, owner_tg_id)
        assert owner is not None
        rows = await session.scalars(
            select(Contact).where(Contact.owner_id == owner.id).order_by(Contact.id)
        )
        return [{col.key: getattr(c, col.key) for col in Contact.__table__.columns} for c in rows]


async def _count(tg, model: Any = Contact) -> int:  # noqa: ANN001
    async with tg.app.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _file(emu, document: dict[str, Any]) -> bytes:  # noqa: ANN001
    return emu.files[document["file_id"]][1]


async def _export(rep: UserClient, emu) -> tuple[bytes, bytes]:  # noqa: ANN001
    reply = await rep.send("/export")
    assert not reply.errors
    docs = reply.documents
    assert [d["file_name"] for d in docs] == ["contacts.csv", "contacts.vcf", "history.csv"]
    return _file(emu, docs[0]), _file(emu, docs[1])


def reminders_to(emu, chat_id: int) -> list[dict[str, Any]]:  # noqa: ANN001
    return [
        r.params
        for r in emu.requests
        if r.method == "sendMessage"
        and r.ok
        and r.params["chat_id"] == chat_id
        and "⏰ <b>Next step</b>" in r.params["text"]
    ]


# ------------------------------------------------------------------------------------ export


async def test_export_with_no_contacts_answers_text(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    reply = await rep.send("/export")
    assert reply.documents == []
    assert "no contacts" in reply.text


async def test_export_then_import_round_trip_changes_nothing(tg, emu, clock) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    ids = await _seed(tg, REP_ID)
    # a card that refers to another (introduced_by) and has a next step
    async with tg.app.session_factory() as session, writing(session):
        c = await session.get(Contact, ids[2])
        assert c is not None
        c.introduced_by_id = ids[0]
        c.next_step = "Send the offer"
        c.next_step_due = START + timedelta(days=2, hours=3, microseconds=1500)

    csv_bytes, vcf_bytes = await _export(rep, emu)
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    rows = _csv_rows(csv_bytes)
    assert [r["id"] for r in rows] == [str(i) for i in ids]
    assert rows[0]["name"] == "<b>Bold</b> & Sons, Ltd"
    assert rows[0]["notes"] == NOTE
    assert rows[0]["tags"] == "expo;vip"
    assert rows[0]["phone"] == "'+79123456789"  # kept as text in a spreadsheet, not a number
    assert rows[1]["name"] == "Анна Смирнова 🚀"
    assert rows[1]["tags"] == "горячий"
    assert rows[2]["introduced_by"] == str(ids[0])
    assert rows[2]["tg_user_id"] == "777000"
    assert rows[2]["next_step_due"].startswith("2026-11-25T12:00:00.001500")
    assert b"BEGIN:VCARD" in vcf_bytes and "Анна".encode() in vcf_bytes
    assert b"TEL;TYPE=CELL:+79123456789" in vcf_bytes  # a vCard is no spreadsheet

    before = await _snapshot(tg, REP_ID)
    events_before = await _count(tg, ContactEvent)
    clock.advance(hours=1)

    reply = await rep.send_document("contacts.csv", csv_bytes)
    assert not reply.errors
    assert "Nothing to change: 3 rows of “contacts.csv” already match your contacts." in reply
    assert reply.buttons == []
    assert await _snapshot(tg, REP_ID) == before
    assert await _count(tg, ContactEvent) == events_before

    reply = await rep.send_document("contacts.vcf", vcf_bytes)
    assert "Nothing to change: 3 rows" in reply.text, reply.text
    assert await _snapshot(tg, REP_ID) == before


async def test_import_updates_changed_cells_only(tg, emu) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    ids = await _seed(tg, REP_ID)
    csv_bytes, _vcf = await _export(rep, emu)
    rows = _csv_rows(csv_bytes)
    rows[0]["company"] = "New & Co"
    rows[0]["status"] = "client"
    rows[1]["status"] = "bogus"

    reply = await rep.send_document("edited.csv", _csv(rows))
    assert "Ready to import “edited.csv”" in reply.text, reply.text
    assert "0 new, 1 update, 1 skipped" in reply.text
    assert "1 more row already matches its card" in reply.text
    # the first row's note spans three lines, so the second row starts on line 5
    assert "line 5 (Анна Смирнова 🚀): invalid status: “bogus”" in reply.text
    assert reply.buttons == ["✅ Import", "Cancel"]

    reply = await rep.click("Import")
    assert "Imported “edited.csv”" in reply.text and "0 new, 1 update, 1 skipped" in reply.text
    async with tg.app.session_factory() as session:
        first = await session.get(Contact, ids[0])
        second = await session.get(Contact, ids[1])
        assert first is not None and second is not None
        assert (first.company, first.status) == ("New & Co", "client")
        assert second.status == "contact"
        events = await session.execute(
            select(ContactEvent.field, ContactEvent.old_value, ContactEvent.new_value).where(
                ContactEvent.contact_id == ids[0], ContactEvent.field == "status"
            )
        )
        assert events.all() == [("status", "lead", "client")]
        assert await session.scalar(select(func.count()).select_from(ImportRow)) == 0


async def test_import_vcard_from_a_phone(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    vcard = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Петров;Иван;;;\r\nTEL;TYPE=CELL:8 (912) 345-67-80\r\n"
        "EMAIL:ivan@Example.COM\r\nCATEGORIES:event,vip\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jane Roe\r\nORG:Acme\\, Inc.\r\nTEL;CELL:+44 20 7946 0958\r\n"
        "END:VCARD\r\n"
    ).encode()
    reply = await rep.send_document("phone.vcf", vcard)
    assert "2 new, 0 updates, 0 skipped" in reply.text, reply.text
    await rep.click("Import")
    contacts = await _snapshot(tg, REP_ID)
    by_name = {c["name"]: c for c in contacts}
    assert by_name["Иван Петров"]["phone"] == "+79123456780"
    assert by_name["Иван Петров"]["email"] == "ivan@example.com"
    assert by_name["Иван Петров"]["tags"] == ";event;vip;"
    assert by_name["Jane Roe"]["company"] == "Acme, Inc."
    assert by_name["Jane Roe"]["phone"] == "+442079460958"
    # sending it again matches by phone: nothing new
    reply = await rep.send_document("phone.vcf", vcard)
    assert "Nothing to change: 2 rows" in reply.text, reply.text


async def test_broken_rows_are_skipped_with_reasons(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    data = (
        b"name;phone;email;notes\n"
        b"Good One;+7 912 000-11-22;good@example.com;fine\n"
        b"<i>Bad</i> phone;12-34-567;;\n"
        b";+79120001123;nobody@example.com;no name here\n"
        b"Bad mail;;not-an-email;\n"
        b"\n"
        b'Good Two;;two@example.com;"multi\nline"\n'
    )
    reply = await rep.send_document("people.csv", data)
    assert not reply.errors
    text = reply.text
    assert "2 new, 0 updates, 3 skipped" in text, text
    assert "line 3 (<i>Bad</i> phone): invalid phone “12-34-567”" in text
    assert "line 4: no name" in text
    assert "line 5 (Bad mail): invalid e-mail “not-an-email”" in text
    assert "&lt;i&gt;Bad&lt;/i&gt;" in reply.html  # escaped for HTML, shown as typed
    assert await _count(tg) == 0  # nothing is written before Import
    await rep.click("Import")
    names = sorted(c["name"] for c in await _snapshot(tg, REP_ID))
    assert names == ["Good One", "Good Two"]


async def test_rows_of_one_file_about_one_person_make_one_card(tg, monkeypatch) -> None:  # noqa: ANN001
    """Matching also looks at the file's earlier rows, across staging batches."""
    monkeypatch.setattr(exchange_staging, "STAGE_BATCH", 2)
    _manager, rep, _other = await _team(tg)
    [anna_id] = await _seed(tg, REP_ID, [({"name": "Anna", "phone": "+79120000001"}, [])])
    data = (
        b"name,phone,email,company\n"
        b"Boris,+79120000002,,\n"
        b"Anna,+79120000001,,Acme\n"  # an existing card
        b"Vera,,vera@example.com,\n"
        b"Boris B.,+79120000002,boris@example.com,\n"  # the new card of line 2 again
        b"Anna S.,,,Acme Group\n"  # no key: a new card
        b"Anna,+79120000001,anna@example.com,\n"  # the existing card, changed again
        b"Vera V.,+79120000003,vera@example.com,Zeta\n"  # line 4 again, two batches later
    )
    reply = await rep.send_document("dupes.csv", data)
    assert "3 new, 1 update, 0 skipped" in reply.text, reply.text
    # a row taken for another under a name of its own is said; under the same name too
    assert reply.text.endswith(
        "Notes\n"
        "• line 5 (Boris B.): the same phone as line 2: taken as that contact, "
        "and “Boris” becomes “Boris B.”\n"
        "• line 7 (Anna): the same contact as line 3: merged into one card\n"
        "• line 8 (Vera V.): the same e-mail as line 4: taken as that contact, "
        "and “Vera” becomes “Vera V.”\n\n"
        "Nothing is written until you tap Import."
    ), reply.text
    await rep.click("Import")
    cards = {c["name"]: c for c in await _snapshot(tg, REP_ID)}
    assert sorted(cards) == ["Anna", "Anna S.", "Boris B.", "Vera V."]
    assert (cards["Anna"]["id"], cards["Anna"]["company"]) == (anna_id, "Acme")
    assert cards["Anna"]["email"] == "anna@example.com"
    assert (cards["Boris B."]["phone"], cards["Boris B."]["email"]) == (
        "+79120000002",
        "boris@example.com",
    )
    assert (cards["Vera V."]["phone"], cards["Vera V."]["company"]) == ("+79120000003", "Zeta")


async def test_a_card_taken_by_its_phone_under_another_name_is_said_in_russian(tg) -> None:  # noqa: ANN001
    """Two people behind one office phone: the second row would rename the first's card; the
    preview says so before anything is written, and Cancel leaves the card as it was."""
    await _team(tg)
    rep = tg.user(REP_ID, "Rita", language_code="ru")
    [anna_id] = await _seed(tg, REP_ID, [({"name": "Анна", "phone": "+79120000001"}, [])])
    data = "name,phone,company\nКарл,+7 912 000-00-01,Ромашка\n".encode()
    reply = await rep.send_document("люди.csv", data)
    assert "0 новых карточек, 1 обновление" in reply.text, reply.text
    assert (
        f"строка 2 (Карл): тот же телефон, что у карточки «Анна» (#{anna_id}): строка взята "
        "как этот контакт, и «Анна» станет «Карл»"
    ) in reply.text
    await rep.click("Отмена")
    assert [c["name"] for c in await _snapshot(tg, REP_ID)] == ["Анна"]


async def test_a_row_skipped_for_a_teammates_card_is_not_also_said_to_rename(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    await _seed(tg, REP_ID, [({"name": "Anna", "phone": "+79120000001"}, [])])
    await _seed(tg, OTHER_REP_ID, [({"name": "Roman's Bob", "email": "bob@example.com"}, [])])
    data = b"name,phone,email\nKarl,+79120000001,bob@example.com\nVera,,vera@example.com\n"
    reply = await rep.send_document("people.csv", data)
    assert "1 new, 0 updates, 1 skipped" in reply.text
    assert "line 2 (Karl): already in the team: Roman's Bob, owned by Roman" in reply.text
    assert "becomes" not in reply.text, reply.text


# ------------------------------------------------------------------ the file's structure (1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'name,phone\nAnna,+79120000001\n"Boris Petrov,+79120000002\n'
            b"Vera,+79120000003\nGleb,+79120000004\n",
            'line 3: a quote (") opened in this row is never closed',
        ),
        (
            b"name,company,phone\nAnna,Acme,+79120000001\nBoris,Acme, Inc,+79120000002\n",
            "line 3: 4 fields, but the header has 3",
        ),
        (
            b'name,company,notes\nAnna,Acme,"call her\nBoris,Zeta,met at expo\n'
            b'Vera,Initech,likes golf"\nGleb,Umbrella,\n',
            "line 2: a value in quotes runs over line(s) 3, which look like rows of their own",
        ),
        (
            b'name,company\nAnna,"Acme\nBoris,"Zeta"\n',
            "line 2: a value in quotes runs on to line 3 and is followed by more text",
        ),
    ],
    ids=["unclosed quote", "too many fields", "swallowed rows", "quote closed too late"],
)
async def test_a_structurally_broken_csv_imports_nothing(tg, data: bytes, expected: str) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    reply = await rep.send_document("broken.csv", data)
    assert "The file is broken, so nothing was imported" in reply.text, reply.text
    assert expected in reply.text
    assert reply.buttons == []
    assert await _count(tg) == 0
    assert await _count(tg, ImportRow) == 0


async def test_a_file_with_too_many_rows_is_refused(tg, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(exchange_staging, "MAX_ROWS", 3)
    monkeypatch.setattr(exchange_staging, "STAGE_BATCH", 2)
    _manager, rep, _other = await _team(tg)
    reply = await rep.send_document("four.csv", b"name\nAnna\nBoris\nVera\nGleb\n")
    assert "“four.csv” has more than 3 rows, so nothing was imported." in reply.text, reply.text
    assert reply.buttons == []
    assert (await _count(tg), await _count(tg, ImportRow)) == (0, 0)
    reply = await rep.send_document("three.csv", b"name\nAnna\nBoris\nVera\n")
    assert "3 new" in reply.text


async def test_a_multi_line_note_with_commas_is_no_broken_file(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    data = b'name,company,notes\nAnna,Acme,"call her, then\nwrite, or visit"\nBoris,Zeta,\n'
    reply = await rep.send_document("notes.csv", data)
    assert "2 new, 0 updates, 0 skipped" in reply.text, reply.text


# ----------------------------------------------------------------- preview and buttons (2)


async def test_nothing_is_written_before_import_and_cancel_writes_nothing(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    data = b"name,phone\nAnna,+79120000001\nBoris,+79120000002\n"
    reply = await rep.send_document("two.csv", data)
    assert "2 new, 0 updates, 0 skipped" in reply.text
    assert "Nothing is written until you tap Import." in reply.text
    assert await _count(tg) == 0

    reply = await rep.click("Cancel")
    assert "Import cancelled: nothing was written." in reply.text
    assert reply.buttons == []
    assert await _count(tg) == 0
    assert await _count(tg, ImportRow) == 0


async def test_a_second_tap_does_nothing_and_another_user_cannot_tap(tg, emu) -> None:  # noqa: ANN001
    _manager, rep, other = await _team(tg)
    reply = await rep.send_document("two.csv", b"name,phone\nAnna,+79120000001\nBoris,\n")
    preview = rep.last_with_buttons()
    assert preview is not None
    go = next(b["callback_data"] for b in preview["reply_markup"]["inline_keyboard"][0])
    assert ImportCb.unpack(go).a == "go"

    # Roman forges Rita's button in his own chat: not his import
    await other.send("/export")
    reply = await other.tap_data(go, other.last)
    assert "Import not found." in reply.text
    assert await _count(tg) == 0

    reply = await rep.tap_data(go, preview)
    assert "Imported “two.csv”" in reply.text
    assert await _count(tg) == 2
    events = await _count(tg, ContactEvent)
    reply = await rep.tap_data(go, preview)  # the same button again
    assert reply.messages == [] and reply.edited == []
    assert (await _count(tg), await _count(tg, ContactEvent)) == (2, events)
    reply = await rep.tap_data(ImportCb(a="no", id=ImportCb.unpack(go).id).pack(), preview)
    assert await _count(tg) == 2  # too late to cancel: nothing undone, nothing more written


async def test_a_newer_file_replaces_the_preview(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    await rep.send_document("one.csv", b"name\nAnna\n")
    first = rep.last_with_buttons()
    await rep.send_document("two.csv", b"name\nBoris\n")
    reply = await rep.click("Import", first)
    assert reply.buttons == []
    assert await _count(tg) == 0
    await rep.click("Import")
    assert [c["name"] for c in await _snapshot(tg, REP_ID)] == ["Boris"]


async def test_a_stale_preview_never_overwrites_newer_work(tg, clock) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    [anna_id] = await _seed(tg, REP_ID, [({"name": "Anna", "phone": "+79120000001"}, [])])
    await rep.send_document("one.csv", f"id,name,company\n{anna_id},Anna,Acme\n".encode())
    preview = rep.last_with_buttons()
    clock.advance(minutes=5)
    async with tg.app.session_factory() as session, writing(session):
        anna = await session.get(Contact, anna_id)
        user = await users_repo.get_by_tg_id(session, REP_ID)
        assert anna is not None and user is not None
        await contacts_svc.change(session, anna, actor=user, now=clock.now(), company="Zeta")
    reply = await rep.click("Import", preview)
    assert "Your contacts changed after this preview, so nothing was imported." in reply.text
    assert [c["company"] for c in await _snapshot(tg, REP_ID)] == ["Zeta"]

    await rep.send_document("one.csv", f"id,name,company\n{anna_id},Anna,Acme\n".encode())
    clock.advance(hours=25)
    reply = await rep.click("Import")
    assert "This preview has expired" in reply.text
    assert [c["company"] for c in await _snapshot(tg, REP_ID)] == ["Zeta"]


async def test_a_long_list_of_skipped_rows_stays_one_short_message(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    bad = "".join(f"Person {i} {'x' * 60},{'9' * 3}-{i}\n" for i in range(3000))
    reply = await rep.send_document("bad.csv", ("name,phone\nGood,\n" + bad).encode())
    assert len(reply.messages) == 1
    assert len(reply.messages[0]["text"]) < 4096
    assert "1 new, 0 updates, 3000 skipped" in reply.text
    assert "line 3 (Person 0" in reply.text
    assert "…and 2985 more" in reply.text
    assert reply.buttons == ["✅ Import", "Cancel"]


async def test_the_preview_and_its_buttons_in_russian(tg) -> None:  # noqa: ANN001
    await _team(tg)
    rep = tg.user(REP_ID, "Rita", language_code="ru")
    data = "name,phone\nАнна,+79120000001\nБорис,+79120000002\nВера,12\n".encode()
    reply = await rep.send_document("люди.csv", data)
    assert "<b>Готово к импорту</b>: «люди.csv»" in reply.html
    assert "2 новые карточки, 0 обновлений, 1 строка пропущена" in reply.text, reply.text
    assert "строка 4 (Вера): некорректный телефон «12»" in reply.text
    assert reply.buttons == ["✅ Импортировать", "Отмена"]
    reply = await rep.click("Импортировать")
    assert "Импортировано" in reply.text and "2 новые карточки" in reply.text


async def test_a_russian_spreadsheet_with_labels_for_the_picked_fields(tg) -> None:  # noqa: ANN001
    """Russian headings, and the picked fields written as people say them ("мероприятие",
    "Лид", "ЛПР"), in either language whatever the rep's own: imported as their codes."""
    await _team(tg)
    rep = tg.user(REP_ID, "Rita", language_code="ru")
    data = (
        "Имя;Компания;B2B/B2C;Роль в закупке;Источник;Статус;Этап\n"
        "Глеб Орлов;Бета;B2B;ЛПР;мероприятие;Лид;развитие\n"
        "Дина Юн;Гамма;b2c;reviews;Referral;client;retention & referral\n"
        "Ева Ли;Дельта;;;на выставке;;\n"
    ).encode("cp1251")
    reply = await rep.send_document("люди.csv", data)
    assert "2 новые карточки, 0 обновлений, 1 строка пропущена" in reply.text, reply.text
    assert "строка 4 (Ева Ли): некорректное значение в столбце Источник: «на выставке»" in (
        reply.text
    )
    await rep.click("Импортировать")
    async with tg.app.session_factory() as s:
        cards = {c.name: c for c in await s.scalars(select(Contact))}
    gleb, dina = cards["Глеб Орлов"], cards["Дина Юн"]
    assert (gleb.company, gleb.kind, gleb.influence, gleb.source) == (
        "Бета",
        "b2b",
        "decision_maker",
        "event",
    )
    assert (gleb.status, gleb.stage) == ("lead", "development")
    assert (dina.kind, dina.influence, dina.source, dina.status, dina.stage) == (
        "b2c",
        "reviews",
        "referral",
        "client",
        "retention",
    )


async def test_a_hand_made_file_sent_again_after_a_fix_adds_no_second_cards(tg) -> None:  # noqa: ANN001
    """Rows without a phone, e-mail or id: sent again once the skipped row is fixed, the rows
    imported the first time are taken as their cards (same name and company), not doubled."""
    await _team(tg)
    rep = tg.user(REP_ID, "Rita")
    first = "name,company,source\nDina Yun,Gamma,referral\nGleb Orlov,Beta,at the fair\n"
    await rep.send_document("people.csv", first.encode())
    await rep.click("Import")
    again = (
        "name,company,source,notes\nDina Yun,Gamma,referral,met twice\nGleb Orlov,Beta,event,\n"
        "Dina Yun,Other Co,,\n"  # the same name at another company: another person
    )
    reply = await rep.send_document("people.csv", again.encode())
    assert "2 new, 1 update, 0 skipped" in reply.text, reply.text
    assert (
        "line 2 (Dina Yun): the same name and company as the card “Dina Yun” (#1), and no phone "
        "or e-mail: taken as that contact"
    ) in reply.text
    await rep.click("Import")
    async with tg.app.session_factory() as s:
        cards = [(c.name, c.company, c.notes) for c in await s.scalars(select(Contact))]
    assert sorted(cards, key=str) == sorted(
        [
            ("Dina Yun", "Gamma", "met twice"),
            ("Gleb Orlov", "Beta", None),
            ("Dina Yun", "Other Co", None),
        ],
        key=str,
    )


async def test_a_row_that_matches_two_cards_is_skipped_and_names_them(tg) -> None:  # noqa: ANN001
    """The phone of one card and the e-mail of another, or (with neither) the name and company
    of two: the row is skipped, naming both. It failed the whole import ("'async_generator'
    object is not iterable")."""
    await _team(tg)
    rep = tg.user(REP_ID, "Rita")
    await rep.send("/add Anna Phone, Acme, +7 912 000 00 01")
    await rep.send("/add Anna Mail, Acme, anna@acme.io")
    await rep.send("/add Dina Yun, Gamma")
    await rep.send("/add Dina Yun, Gamma")
    await rep.click("Add anyway")
    data = (
        "name,company,phone,email\n"
        "Anna,Acme,+7 912 000 00 01,anna@acme.io\n"
        "Dina Yun,Gamma,,\n"
        "Vera,Delta,,\n"
    )
    reply = await rep.send_document("people.csv", data.encode())
    assert "1 new, 0 updates, 2 skipped" in reply.text, reply.text
    assert "line 2 (Anna): matches several existing contacts: Anna Phone (#1), Anna Mail (#2)" in (
        reply.text
    )
    assert "line 3 (Dina Yun): matches several existing contacts: Dina Yun (#3), Dina Yun (#4)" in (
        reply.text
    )


# -------------------------------------------------------------------- imported next steps (3)


async def test_an_imported_next_step_gets_its_reminder(tg, emu, clock) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    [anna_id] = await _seed(tg, REP_ID, [({"name": "Anna", "phone": "+79120000001"}, [])])
    data = (
        "id,name,next_step,next_step_due\n"
        f"{anna_id},Anna,Send the offer,2026-11-24T10:00:00+00:00\n"
        ",Boris,Call back,2026-11-24T11:00:00+00:00\n"
        ",Vera,,\n"
    ).encode()
    await rep.send_document("steps.csv", data)
    reply = await rep.click("Import")
    assert "⏰ 2 reminders planned for the imported next steps." in reply.text, reply.text
    async with tg.app.session_factory() as session:
        pending = await session.scalar(
            select(func.count()).select_from(DueWork).where(DueWork.status == "pending")
        )
        assert pending == 2

    clock.advance(days=1, hours=2, minutes=5)  # Tue 11:05, inside working hours
    await tg.app.clockwork.tick()
    sent = reminders_to(emu, REP_ID)
    assert len(sent) == 2
    assert any("Send the offer" in m["text"] and "Anna" in m["text"] for m in sent)
    assert any("Call back" in m["text"] and "Boris" in m["text"] for m in sent)
    reply = await rep.send("/today")
    assert "Anna" in reply.text and "Boris" in reply.text


# ---------------------------------------------------------------- batches, all or nothing (4)


async def test_another_reps_add_gets_in_while_a_big_import_is_staged(tg, monkeypatch) -> None:  # noqa: ANN001
    """Staging writes short batches and lets other writers in between; nothing is live until the
    swap. (The chat runs one update at a time, so the other rep's /add is played by its use
    case, in a session of its own, as a second update would.)"""
    _manager, rep, other = await _team(tg)
    monkeypatch.setattr(exchange_staging, "STAGE_BATCH", 100)
    order: list[str] = []
    first_batch = asyncio.Event()
    real_write = exchange_svc._Stager._write

    async def write(self: Any, fresh: Any, touched: Any) -> None:
        await real_write(self, fresh, touched)
        order.append("batch")
        first_batch.set()

    monkeypatch.setattr(exchange_svc._Stager, "_write", write)

    async def roman_adds_a_contact() -> None:
        await first_batch.wait()
        async with tg.app.session_factory() as session, writing(session):
            roman = await users_repo.get_by_tg_id(session, OTHER_REP_ID)
            assert roman is not None
            await contacts_svc.create(session, owner=roman, data={"name": "Zoe"}, now=START)
        # while the import is still being staged, none of its rows is live
        order.append(f"add, {await _count(tg)} contact(s) live")

    data = ("name,phone\n" + "".join(f"Person {i},+7912{i:07d}\n" for i in range(1000))).encode()
    roman = asyncio.create_task(roman_adds_a_contact())
    reply = await rep.send_document("big.csv", data)
    await asyncio.wait_for(roman, 5)
    assert "1000 new" in reply.text, reply.text
    assert order.count("batch") == 10
    assert order.index("add, 1 contact(s) live") < 9  # Zoe was saved before the last batch
    await rep.click("Import")
    assert await _count(tg) == 1001


async def test_a_failure_during_staging_imports_nothing(tg, monkeypatch) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    await _seed(tg, REP_ID, SAMPLES[:1])
    monkeypatch.setattr(exchange_staging, "STAGE_BATCH", 2)
    real_write = exchange_svc._Stager._write
    calls = 0

    async def flaky_write(self: Any, fresh: Any, touched: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OperationalError("INSERT INTO import_rows (secret) VALUES (?)", {}, "disk full")
        await real_write(self, fresh, touched)

    monkeypatch.setattr(exchange_svc._Stager, "_write", flaky_write)
    before = await _snapshot(tg, REP_ID)
    events_before = await _count(tg, ContactEvent)
    data = (
        b"name,email,company\n"
        b"<b>Bold</b> & Sons, bold@example.com, Renamed\n"  # an update of the seeded card
        b"First,first@example.com,\n"
        b"Second,second@example.com,\n"
        b"Third,third@example.com,\n"
    )
    reply = await rep.send_document("four.csv", data)
    assert calls == 2
    assert "The import failed, so nothing was imported" in reply.text
    assert reply.buttons == []
    assert await _snapshot(tg, REP_ID) == before
    assert await _count(tg, ContactEvent) == events_before
    assert await _count(tg, ImportRow) == 0  # what was staged is gone too

    # the bot keeps working: the same file goes through once the fault is gone
    monkeypatch.setattr(exchange_svc._Stager, "_write", real_write)
    reply = await rep.send_document("four.csv", data)
    assert "3 new, 1 update, 0 skipped" in reply.text, reply.text
    await rep.click("Import")
    assert len(await _snapshot(tg, REP_ID)) == 4


# ----------------------------------------------------------- no raw database errors (6)


async def test_a_failed_swap_shows_a_short_clear_message(tg, monkeypatch) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    await rep.send_document("two.csv", b"name,next_step,next_step_due\nAnna,call,2026-12-01\n")
    real_swap = exchange_svc._swap

    async def broken_swap(session: Any, imp: Any, *args: Any) -> str:
        await real_swap(session, imp, *args)  # everything written, then the commit fails
        raise OperationalError(
            "UPDATE contacts SET name=? FROM import_rows", {}, "database is locked"
        )

    monkeypatch.setattr(exchange_swap, "_swap", broken_swap)
    reply = await rep.click("Import")
    assert reply.text == (
        "The import failed, so nothing was imported and your contacts are as they were. "
        "Please try again in a minute."
    )
    assert await _count(tg) == 0
    assert await _count(tg, ContactEvent) == 0 and await _count(tg, DueWork) == 0

    monkeypatch.setattr(exchange_swap, "_swap", real_swap)
    reply = await rep.click("Import")  # the preview's button still works
    assert "Imported “two.csv”" in reply.text
    assert await _count(tg) == 1


# ------------------------------------------------------------------ CSV injection (5)

FORMULAS = [
    '=HYPERLINK("http://x","y")',
    "+SUM(1,2)",
    "-2+3",
    "=cmd|' /C calc'!A0",
    "@SUM(1)",
]


async def test_export_neutralises_formulas_and_import_brings_them_back(tg, emu) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    # an outsider's Telegram first name reaches a card through a shared contact
    reply = await rep.share_contact("+7 999 000-11-22", FORMULAS[0], user_id=4242)
    assert "Saved" in reply.text
    await _seed(
        tg,
        REP_ID,
        [
            ({"name": name, "notes": "-" if i == 1 else "@home"}, [])
            for i, name in enumerate(FORMULAS[1:], 1)
        ]
        + [({"name": "'=already quoted", "company": "O'Brien & Co", "phone": "+79123456789"}, [])],
    )
    csv_bytes, vcf_bytes = await _export(rep, emu)
    rows = _csv_rows(csv_bytes)
    assert [r["name"] for r in rows] == [
        '\'=HYPERLINK("http://x","y")',
        "'+SUM(1,2)",
        "'-2+3",
        "'=cmd|' /C calc'!A0",
        "'@SUM(1)",
        "''=already quoted",
    ]
    assert rows[0]["phone"] == "'+79990001122"
    assert (rows[1]["notes"], rows[2]["notes"]) == ("'-", "'@home")
    assert rows[5]["company"] == "O'Brien & Co"
    for row in rows:  # no cell a spreadsheet would run
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row.values())
    assert b'FN:=HYPERLINK("http://x"\\,"y")' in vcf_bytes  # not quoted in a vCard

    before = await _snapshot(tg, REP_ID)
    reply = await rep.send_document("contacts.csv", csv_bytes)
    assert "Nothing to change: 6 rows" in reply.text, reply.text
    # the same rows as new cards (no ids, no keys, another company: not taken for the cards of
    # the same name) come back exactly as they were
    for row in rows:
        row["id"] = row["phone"] = row["tg_user_id"] = ""
        row["company"] = "Copies Ltd"
    reply = await rep.send_document("copies.csv", _csv(rows))
    assert "6 new" in reply.text, reply.text
    await rep.click("Import")
    after = await _snapshot(tg, REP_ID)
    names = [c["name"] for c in after]
    assert names[6:] == [c["name"] for c in before] == [*FORMULAS, "'=already quoted"]
    assert [c["notes"] for c in after[6:]] == [c["notes"] for c in before]


async def test_an_honest_plus_or_minus_in_a_hand_made_file_is_kept(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    data = "name,phone,notes\nAnna,+44 20 7946 0958,-20% off\nBoris,'+7 912 345-67-89,+1\n"
    await rep.send_document("hand.csv", data.encode())
    await rep.click("Import")
    cards = {c["name"]: c for c in await _snapshot(tg, REP_ID)}
    assert (cards["Anna"]["phone"], cards["Anna"]["notes"]) == ("+442079460958", "-20% off")
    # a phone typed as text in a spreadsheet ('+7…) loses only the quote
    assert (cards["Boris"]["phone"], cards["Boris"]["notes"]) == ("+79123456789", "+1")


# --------------------------------------------------------------------------- scopes, misc


async def test_scopes_rep_sees_own_manager_sees_team(tg, emu) -> None:  # noqa: ANN001
    manager, rep, other = await _team(tg)
    await _seed(tg, REP_ID)
    await _seed(tg, OTHER_REP_ID, [({"name": "Olga Other", "email": "olga@example.com"}, [])])

    csv_bytes, vcf_bytes = await _export(other, emu)
    assert [r["name"] for r in _csv_rows(csv_bytes)] == ["Olga Other"]
    assert b"Bold" not in vcf_bytes

    csv_bytes, _vcf = await _export(manager, emu)
    assert len(_csv_rows(csv_bytes)) == 4

    # the first rep's export, imported by the other rep: ids outside the scope are not
    # touched, and the cards whose phone, e-mail or Telegram id the first rep holds are not
    # copied (one live card per person in a team, issue 13): all three are, so nothing is new
    rep_csv, _vcf = await _export(rep, emu)
    before = await _snapshot(tg, REP_ID)
    reply = await other.send_document("contacts.csv", rep_csv)
    assert "Nothing to import" in reply.text and reply.text.count("owned by Rita") == 3
    assert "introduced_by" not in reply.text
    assert await _snapshot(tg, REP_ID) == before
    assert len(await _snapshot(tg, OTHER_REP_ID)) == 1


async def test_wrong_files_and_instructions(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    reply = await rep.send("/import")
    assert ".csv" in reply.text and "phone" in reply.text and "tg_username" in reply.text
    assert "nothing is written until you tap Import" in reply.text

    reply = await rep.send_document("photo.png", b"\x89PNG....")
    assert "only .csv and .vcf" in reply.text
    reply = await rep.send_document("<b>x</b>.docx", b"PK....")
    assert "“<b>x</b>.docx”" in reply.text
    reply = await rep.send_document("book.xlsx", b"PK....")
    assert "Save it as CSV" in reply.text
    reply = await rep.send_document("big.csv", b"name\n" + b"x" * (5 * 1024 * 1024))
    assert "too large" in reply.text
    reply = await rep.send_document("header.csv", b"who,phone\nAnna,+79123456789\n")
    assert "Nothing to import" in reply.text and "name" in reply.text
    assert await _count(tg) == 0


async def test_strangers_cannot_export(tg) -> None:  # noqa: ANN001
    stranger = tg.user(5005, "Stan")
    await stranger.send("/start")
    reply = await stranger.send("/export")
    assert "not available" in reply.text
    reply = await stranger.send_document("contacts.csv", b"name\nAnna\n")
    assert "new" not in reply.text and reply.buttons == []
    assert await _count(tg) == 0


async def test_out_of_range_numbers_skip_the_row_not_the_file(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    data = (
        "id,name,tg_user_id,introduced_by,tags\n"
        "99999999999999999999,Huge Id,,,\n"
        "1,Huge Tg,99999999999999999999999,,\n"
        "2,Huge Ref,,99999999999999999999,\n"
        "3,Many tags,,," + ";".join(f"tag{i:02d}{'x' * 26}" for i in range(40)) + "\n"
    ).encode()
    reply = await rep.send_document("numbers.csv", data)
    assert "1 new, 0 updates, 3 skipped" in reply.text, reply.text
    assert "line 3 (Huge Tg): invalid tg_user_id" in reply.text
    assert "line 4 (Huge Ref): invalid introduced_by" in reply.text
    assert "line 5 (Many tags): too many tags" in reply.text


def test_import_buttons_fit_telegrams_64_bytes() -> None:
    for action in ("go", "no"):
        data = ImportCb(a=action, id=2**31 - 1).pack()
        assert len(data.encode()) <= 64 and ImportCb.unpack(data).a == action


# ------------------------------------------------------------ the use cases on both databases


async def test_stage_and_apply_on_both_databases(engine) -> None:  # noqa: ANN001
    """The swap is dialect-specific where new ids come from (PostgreSQL's sequence, SQLite's
    single writer): both make the same cards, events and reminders."""
    factory = create_session_factory(engine)
    async with factory() as session, writing(session):
        team = Team(name="North", created_at=START)
        session.add(team)
        await session.flush()
        rep = User(
            tg_id=1,
            first_name="Rita",
            role="rep",
            team_id=team.id,
            created_at=START,
            last_seen_at=START,
        )
        session.add(rep)
        await session.flush()
        old = await contacts_svc.create(
            session, owner=rep, data={"name": "Old", "status": "lead"}, now=START
        )
        old_id = old.id
    data = (
        "id,name,status,next_step,next_step_due,introduced_by\n"
        f"{old_id},Old,client,Renew,2026-11-30T10:00:00Z,\n"
        f",New One,,Call,2026-11-25T10:00:00Z,{old_id}\n"
        ",New Two,partner,,,\n"
    ).encode()
    async with factory() as session:
        rep = await session.get(User, rep.id)
        assert rep is not None
        preview = await exchange_svc.stage(
            session,
            user=rep,
            role=Role.REP,
            data=data,
            kind="csv",
            filename="x.csv",
            region="RU",
            tz=UTC,
            now=START,
        )
        assert (preview.creates, preview.updates, preview.skipped) == (2, 1, 0)
        assert preview.import_id is not None
        outcome = await exchange_svc.apply(
            session,
            import_id=preview.import_id,
            user=rep,
            role=Role.REP,
            now=START,
            default_tz="UTC",
        )
        assert (outcome.status, outcome.creates, outcome.updates, outcome.reminders) == (
            "applied",
            2,
            1,
            2,
        )
    async with factory() as session:
        cards = {c.name: c for c in await session.scalars(select(Contact))}
        assert cards["Old"].status == "client" and cards["Old"].next_step == "Renew"
        assert cards["New One"].introduced_by_id == old_id
        assert cards["New One"].search_text == contacts_svc.build_search_text(cards["New One"])
        assert (cards["New Two"].status, cards["New Two"].team_id) == ("partner", team.id)
        events = (
            await session.execute(
                select(ContactEvent.contact_id, ContactEvent.field).order_by(ContactEvent.id)
            )
        ).all()
        assert events == [
            (old_id, "created"),
            (old_id, "status"),
            (cards["New One"].id, "created"),
            (cards["New Two"].id, "created"),
            (old_id, "next_step"),
            (cards["New One"].id, "next_step"),
        ]
        reminders = await session.scalars(select(DueWork.contact_id).order_by(DueWork.contact_id))
        assert list(reminders) == sorted([old_id, cards["New One"].id])
        assert (await session.scalar(select(Import.status))) == "done"
    # a card added by hand afterwards gets a fresh id (the sequence was not overtaken)
    async with factory() as session, writing(session):
        rep = await session.get(User, rep.id)
        assert rep is not None
        later = await contacts_svc.create(session, owner=rep, data={"name": "Later"}, now=START)
    assert later.id > max(c.id for c in cards.values())


# ---------------------------------------------------------------------- under strict=True (7)


@pytest.fixture
async def strict_tg(settings: Settings, emu, clock: FrozenClock, tmp_path: Path):  # noqa: ANN001, ANN201
    """The bot on an engine that refuses any write outside a unit of work. Its people are put
    in the database directly (other handlers are converted to units of work separately)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'strict.db'}"
    engine = create_engine(url, strict=True)
    await upgrade(engine)
    async with create_session_factory(engine)() as session, writing(session):
        team = Team(name="North", created_at=START)
        session.add(team)
        await session.flush()
        session.add(
            User(
                tg_id=REP_ID,
                first_name="Rita",
                role="rep",
                team_id=team.id,
                created_at=START,
                last_seen_at=START,
            )
        )
    runner = EmulatedBot(
        settings.model_copy(update={"database_url": url}),
        emu,
        clock=clock,
        limiter=fast_limiter(),
        engine=engine,
    )
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop()


async def test_the_whole_exchange_runs_under_a_strict_engine(strict_tg, emu) -> None:  # noqa: ANN001
    rep = strict_tg.user(REP_ID, "Rita")
    data = b"name,phone,next_step,next_step_due\nAnna,+79120000001,Call,2026-11-24T10:00:00Z\n"
    reply = await rep.send_document("one.csv", data)
    assert "1 new" in reply.text and not reply.errors, reply.text
    reply = await rep.click("Import")
    assert "Imported" in reply.text and "1 reminder planned" in reply.text, reply.text
    reply = await rep.send_document("two.csv", b"name,phone,company\nAnna,+79120000001,Acme\n")
    assert "0 new, 1 update" in reply.text, reply.text
    reply = await rep.click("Cancel")
    assert "Import cancelled" in reply.text
    await rep.send_document("two.csv", b"name,phone,company\nAnna,+79120000001,Acme\n")
    reply = await rep.click("Import")
    assert "Imported" in reply.text, reply.text
    csv_bytes, _vcf = await _export(rep, emu)
    assert (_csv_rows(csv_bytes)[0]["name"], _csv_rows(csv_bytes)[0]["company"]) == ("Anna", "Acme")
    reply = await rep.send_document("broken.csv", b'name\n"Anna\n')
    assert "broken" in reply.text


async def test_export_covers_the_history_a_rep_owns(tg, emu) -> None:  # noqa: ANN001
    """Not only the cards: every touch, change on a card and NPS answer comes out too, with the
    same neutralised cells."""
    _manager, rep, _other = await _team(tg)
    await rep.send("/add Hanna History, Acme")
    await rep.send("/log Hanna")
    await rep.click("Call")
    await rep.click("Outbound")
    await rep.send("=SUM(1,2) discussed the pilot")
    await rep.click("No next step")
    await rep.click("lost")
    reply = await rep.send("/export")
    assert "history" in reply.text.lower()
    history = _csv_rows(_file(emu, reply.documents[2]))
    what = [(r["contact"], r["what"]) for r in history]
    assert ("Hanna History", "created") in what and ("Hanna History", "touch") in what
    assert ("Hanna History", "status") in what  # lost
    [touch] = [r for r in history if r["what"] == "touch"]
    assert touch["type"] == "call" and touch["direction"] == "out"
    assert touch["text"] == "'=SUM(1,2) discussed the pilot"  # neutralised for spreadsheets
