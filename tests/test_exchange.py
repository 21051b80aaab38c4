"""/export and /import, played as a chat through the emulator."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

import services.contacts as contacts_svc
from bot.emulator.client import UserClient
from storage.models import Contact, ContactEvent
from storage.repo import users as users_repo
from storage.uow import write_session
from tests.conftest import ADMIN_ID, START

REP_ID = 3003
OTHER_REP_ID = 3004
MANAGER_ID = 2002


async def _team(tg) -> tuple[UserClient, UserClient, UserClient]:  # noqa: ANN001
    """Admin -> manager -> two reps in the manager's team."""
    admin = tg.user(ADMIN_ID, "Ada")
    await admin.send("/start")
    reply = await admin.send("/invite manager")
    token = reply.text.split("start=")[1].split()[0]
    manager = tg.user(MANAGER_ID, "Maria")
    await manager.send(f"/start {token}")
    reps = []
    for rep_id, name in ((REP_ID, "Rita"), (OTHER_REP_ID, "Roman")):
        reply = await manager.send("/invite")
        token = reply.text.split("start=")[1].split()[0]
        rep = tg.user(rep_id, name)
        await rep.send(f"/start {token}")
        reps.append(rep)
    return manager, reps[0], reps[1]


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
    async with write_session(tg.app.session_factory) as session:
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


def _file(emu, document: dict[str, Any]) -> bytes:  # noqa: ANN001
    return emu.files[document["file_id"]][1]


async def _export(rep: UserClient, emu) -> tuple[bytes, bytes]:  # noqa: ANN001
    reply = await rep.send("/export")
    assert not reply.errors
    docs = reply.documents
    assert [d["file_name"] for d in docs] == ["contacts.csv", "contacts.vcf"]
    return _file(emu, docs[0]), _file(emu, docs[1])


async def test_export_with_no_contacts_answers_text(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    reply = await rep.send("/export")
    assert reply.documents == []
    assert "no contacts" in reply.text


async def test_export_then_import_round_trip_changes_nothing(tg, emu, clock) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    ids = await _seed(tg, REP_ID)
    # a card that refers to another (introduced_by) and has a next step
    async with write_session(tg.app.session_factory) as session:
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
    assert rows[1]["name"] == "Анна Смирнова 🚀"
    assert rows[1]["tags"] == "горячий"
    assert rows[2]["introduced_by"] == str(ids[0])
    assert rows[2]["tg_user_id"] == "777000"
    assert rows[2]["next_step_due"].startswith("2026-11-25T12:00:00.001500")
    assert b"BEGIN:VCARD" in vcf_bytes and "Анна".encode() in vcf_bytes

    before = await _snapshot(tg, REP_ID)
    events_before = await _count(tg, ContactEvent)
    clock.advance(hours=1)

    reply = await rep.send_document("contacts.csv", csv_bytes)
    assert not reply.errors
    assert "Created: 0" in reply.text
    assert "Updated: 3" in reply.text
    assert "Skipped: 0" in reply.text
    assert await _snapshot(tg, REP_ID) == before
    assert await _count(tg, ContactEvent) == events_before

    reply = await rep.send_document("contacts.vcf", vcf_bytes)
    assert "Created: 0" in reply.text and "Updated: 3" in reply.text, reply.text
    assert await _snapshot(tg, REP_ID) == before


async def test_import_updates_changed_cells_only(tg, emu) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    ids = await _seed(tg, REP_ID)
    csv_bytes, _vcf = await _export(rep, emu)
    rows = _csv_rows(csv_bytes)
    rows[0]["company"] = "New & Co"
    rows[0]["status"] = "client"
    rows[1]["status"] = "bogus"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    reply = await rep.send_document("edited.csv", buffer.getvalue().encode())
    assert "Updated: 2 (1 without changes)" in reply.text, reply.text
    assert "Skipped: 1" in reply.text
    # the first row's note spans three lines, so the second row starts on line 5
    assert "line 5 (Анна Смирнова 🚀): invalid status: “bogus”" in reply.text
    async with tg.app.session_factory() as session:
        first = await session.get(Contact, ids[0])
        second = await session.get(Contact, ids[1])
        assert first is not None and second is not None
        assert (first.company, first.status) == ("New & Co", "client")
        assert second.status == "contact"
        events = await session.scalars(
            select(ContactEvent.field).where(ContactEvent.contact_id == ids[0])
        )
        assert "status" in list(events)


async def test_import_vcard_from_a_phone(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    vcard = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Петров;Иван;;;\r\nTEL;TYPE=CELL:8 (912) 345-67-80\r\n"
        "EMAIL:ivan@Example.COM\r\nCATEGORIES:event,vip\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nFN:Jane Roe\r\nORG:Acme\\, Inc.\r\nTEL;CELL:+44 20 7946 0958\r\n"
        "END:VCARD\r\n"
    ).encode()
    reply = await rep.send_document("phone.vcf", vcard)
    assert "Created: 2" in reply.text, reply.text
    contacts = await _snapshot(tg, REP_ID)
    by_name = {c["name"]: c for c in contacts}
    assert by_name["Иван Петров"]["phone"] == "+79123456780"
    assert by_name["Иван Петров"]["email"] == "ivan@example.com"
    assert by_name["Иван Петров"]["tags"] == ";event;vip;"
    assert by_name["Jane Roe"]["company"] == "Acme, Inc."
    # sending it again matches by phone: nothing new
    reply = await rep.send_document("phone.vcf", vcard)
    assert "Created: 0" in reply.text and "Updated: 2" in reply.text


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
    assert "Created: 2" in text and "Skipped: 3" in text, text
    assert "line 3 (<i>Bad</i> phone): invalid phone “12-34-567”" in text
    assert "line 4: no name" in text
    assert "line 5 (Bad mail): invalid e-mail “not-an-email”" in text
    assert "&lt;i&gt;Bad&lt;/i&gt;" in reply.html  # escaped for HTML, shown as typed
    names = sorted(c["name"] for c in await _snapshot(tg, REP_ID))
    assert names == ["Good One", "Good Two"]


async def test_failure_half_way_imports_nothing(tg, monkeypatch) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    await _seed(tg, REP_ID, SAMPLES[:1])
    real_create = contacts_svc.create
    calls = 0

    async def flaky_create(*args: Any, **kwargs: Any) -> Contact:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk <full>")
        return await real_create(*args, **kwargs)

    monkeypatch.setattr(contacts_svc, "create", flaky_create)
    contacts_before = await _count(tg)
    events_before = await _count(tg, ContactEvent)
    data = (
        b"name,email,company\n"
        b"<b>Bold</b> & Sons, bold@example.com, Renamed\n"  # an update of the seeded card
        b"First,first@example.com,\n"
        b"Second,second@example.com,\n"
        b"Third,third@example.com,\n"
    )
    reply = await rep.send_document("three.csv", data)
    assert calls == 2
    assert "nothing was imported" in reply.text
    assert "disk <full>" in reply.text  # shown as text, escaped in HTML
    assert await _count(tg) == contacts_before
    assert await _count(tg, ContactEvent) == events_before
    company = [c["company"] for c in await _snapshot(tg, REP_ID)]
    assert company == ["A&B <Trading>"]

    # the bot keeps working: the same file goes through once the fault is gone
    monkeypatch.setattr(contacts_svc, "create", real_create)
    reply = await rep.send_document("three.csv", data)
    assert "Created: 3" in reply.text and "Updated: 1" in reply.text, reply.text


async def test_scopes_rep_sees_own_manager_sees_team(tg, emu) -> None:  # noqa: ANN001
    manager, rep, other = await _team(tg)
    await _seed(tg, REP_ID)
    await _seed(tg, OTHER_REP_ID, [({"name": "Olga Other", "email": "olga@example.com"}, [])])

    csv_bytes, vcf_bytes = await _export(other, emu)
    assert [r["name"] for r in _csv_rows(csv_bytes)] == ["Olga Other"]
    assert b"Bold" not in vcf_bytes

    csv_bytes, _vcf = await _export(manager, emu)
    assert len(_csv_rows(csv_bytes)) == 4

    # the first rep's export, imported by the other rep, makes copies: ids outside the scope
    # are not touched
    rep_csv, _vcf = await _export(rep, emu)
    before = await _snapshot(tg, REP_ID)
    reply = await other.send_document("contacts.csv", rep_csv)
    assert "Created: 3" in reply.text, reply.text
    assert "introduced_by" not in reply.text
    assert await _snapshot(tg, REP_ID) == before
    assert len(await _snapshot(tg, OTHER_REP_ID)) == 4


async def test_wrong_files_and_instructions(tg) -> None:  # noqa: ANN001
    _manager, rep, _other = await _team(tg)
    reply = await rep.send("/import")
    assert ".csv" in reply.text and "phone" in reply.text and "tg_username" in reply.text

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
    assert "Created" not in reply.text
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
    assert "Created: 1" in reply.text and "Skipped: 3" in reply.text, reply.text
    assert "line 3 (Huge Tg): invalid tg_user_id" in reply.text
    assert "line 4 (Huge Ref): invalid introduced_by" in reply.text
    assert "line 5 (Many tags): too many tags" in reply.text
