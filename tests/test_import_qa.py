"""/export and /import, as a QA round found them: history.csv made a card of every entry; an
export imported elsewhere lost who introduced whom and which cards were archived; rows of one
person merged without a word; an old preview's Import did nothing silently; notes named English
columns; a row's bad values were said one at a time; a due date without a step, erased cards in
the export, Google's several phones in a cell, UTF-16 files, binary files and a vCard's second
phone were each handled wrongly or silently."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

import services.exchange.staging as exchange_staging
from core.roles import Role
from services import contacts as contacts_svc
from services import exchange as exchange_svc
from storage.db import create_session_factory
from storage.models import Contact, ContactEvent, Team, User
from storage.repo import users as users_repo
from storage.uow import writing
from tests.conftest import START
from tests.helpers import team_with_rep, token_of

REP_ID = 3003


async def _cards(tg, owner_tg_id: int | None = None) -> dict[str, Contact]:  # noqa: ANN001
    async with tg.app.session_factory() as session:
        query = select(Contact).order_by(Contact.id)
        if owner_tg_id is not None:
            owner = await users_repo.get_by_tg_id(session, owner_tg_id)
            assert owner is not None
            query = query.where(Contact.owner_id == owner.id)
        return {c.name: c for c in await session.scalars(query)}


async def _seed(tg, owner_tg_id: int, *cards: dict[str, Any]) -> list[int]:  # noqa: ANN001
    async with tg.app.session_factory() as session, writing(session):
        owner = await users_repo.get_by_tg_id(session, owner_tg_id)
        assert owner is not None
        made = [await contacts_svc.create(session, owner=owner, data=d, now=START) for d in cards]
        return [c.id for c in made]


async def _archive(tg, contact_id: int) -> None:  # noqa: ANN001
    async with tg.app.session_factory() as session, writing(session):
        card = await session.get(Contact, contact_id)
        assert card is not None
        actor = await session.get(User, card.owner_id)
        assert actor is not None
        await contacts_svc.archive(session, card, actor, START)


async def _export(user, emu) -> dict[str, bytes]:  # noqa: ANN001
    reply = await user.send("/export")
    return {d["file_name"]: emu.files[d["file_id"]][1] for d in reply.documents}


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def _other_manager(tg, admin):  # noqa: ANN001, ANN202
    """A manager of a team of her own: an account that has none of the first team's cards."""
    reply = await admin.send("/invite manager")
    other = tg.user(2005, "Olga")
    await other.send(f"/start {token_of(reply.text)}")
    return other


# ------------------------------------------------------------- 1. history.csv is refused


async def test_the_history_export_is_refused_not_made_into_cards(tg, emu) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    await _seed(tg, REP_ID, {"name": "Anna"}, {"name": "Boris", "status": "lead"})
    files = await _export(rep, emu)
    assert _rows(files["history.csv"])  # its "contact" column would read as names
    reply = await rep.send_document("history.csv", files["history.csv"])
    assert (
        "“history.csv” is the history of touches that /export sends: it cannot be imported. "
        "Send contacts.csv or contacts.vcf from the same export." in reply.text
    ), reply.text
    assert reply.buttons == []
    assert sorted(await _cards(tg)) == ["Anna", "Boris"]


# ------------------------------------------------------------- 2. export → import round trip


async def test_an_export_imported_elsewhere_keeps_introducers_and_the_archive(tg, emu) -> None:  # noqa: ANN001
    admin, _manager, rep = await team_with_rep(tg)
    anna, boris, vera = await _seed(
        tg, REP_ID, {"name": "Anna"}, {"name": "Boris"}, {"name": "Vera", "phone": "+79120000003"}
    )
    async with tg.app.session_factory() as session, writing(session):
        for card_id in (boris, vera):
            card = await session.get(Contact, card_id)
            assert card is not None
            card.introduced_by_id = anna
    await _archive(tg, vera)
    files = await _export(rep, emu)
    rows = {r["name"]: r for r in _rows(files["contacts.csv"])}
    assert rows["Boris"]["introduced_by"] == str(anna)
    assert (rows["Anna"]["archived"], rows["Vera"]["archived"]) == ("no", "yes")
    assert "owner" not in rows["Anna"]  # a rep's own cards: no column of owners

    other = await _other_manager(tg, admin)
    reply = await other.send_document("contacts.csv", files["contacts.csv"])
    assert "3 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert "is not one of your contacts" not in reply.text, reply.text
    await other.click("Import")
    cards = await _cards(tg, 2005)
    assert cards["Boris"].introduced_by_id == cards["Vera"].introduced_by_id == cards["Anna"].id
    assert cards["Anna"].id != anna
    assert (cards["Anna"].archived_at, cards["Vera"].archived_at) == (None, START)
    async with tg.app.session_factory() as session:
        fields = set(
            await session.scalars(
                select(ContactEvent.field).where(ContactEvent.contact_id == cards["Vera"].id)
            )
        )
    assert fields == {"created", "archived"}

    # the same export sent back to its own account changes nothing
    reply = await rep.send_document("contacts.csv", files["contacts.csv"])
    assert "Nothing to change: 3 rows of “contacts.csv” already match" in reply.text, reply.text


async def test_a_vcard_export_imported_elsewhere_keeps_them_too(tg, emu) -> None:  # noqa: ANN001
    admin, _manager, rep = await team_with_rep(tg)
    anna, boris = await _seed(tg, REP_ID, {"name": "Anna"}, {"name": "Boris"})
    async with tg.app.session_factory() as session, writing(session):
        card = await session.get(Contact, boris)
        assert card is not None
        card.introduced_by_id = anna
    await _archive(tg, boris)
    files = await _export(rep, emu)
    assert b"X-NETSALES-ARCHIVED:yes" in files["contacts.vcf"]
    other = await _other_manager(tg, admin)
    reply = await other.send_document("contacts.vcf", files["contacts.vcf"])
    assert "2 new, 0 updates, 0 skipped" in reply.text and "Notes" not in reply.text, reply.text
    await other.click("Import")
    cards = await _cards(tg, 2005)
    assert cards["Boris"].introduced_by_id == cards["Anna"].id != anna
    assert cards["Boris"].archived_at == START


async def test_an_introducer_as_an_id_with_a_hash_sign(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    [anna] = await _seed(tg, REP_ID, {"name": "Anna"})
    data = f"id,name,introduced_by\n,Boris,#{anna}\n77,Gleb,\n,Dora,#77\n".encode()
    reply = await rep.send_document("hash.csv", data)
    assert "3 new, 0 updates, 0 skipped" in reply.text, reply.text
    await rep.click("Import")
    cards = await _cards(tg)
    assert cards["Boris"].introduced_by_id == anna
    assert cards["Dora"].introduced_by_id == cards["Gleb"].id


async def test_the_archived_column_archives_and_restores(tg, emu) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    anna, boris = await _seed(tg, REP_ID, {"name": "Anna"}, {"name": "Boris"})
    await _archive(tg, boris)
    data = f"id,name,archived\n{anna},Anna,да\n{boris},Boris,no\n,Vera,1\n,Gleb,maybe\n".encode()
    reply = await rep.send_document("arch.csv", data)
    assert "1 new, 2 updates, 1 skipped" in reply.text, reply.text
    assert "line 5 (Gleb): invalid archived: “maybe”" in reply.text, reply.text
    await rep.click("Import")
    cards = await _cards(tg)
    assert cards["Anna"].archived_at == START and cards["Boris"].archived_at is None
    assert cards["Vera"].archived_at == START


async def test_a_card_stays_archived_when_a_live_card_holds_its_phone(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    [old] = await _seed(tg, REP_ID, {"name": "Old Anna", "phone": "+79120000001"})
    await _archive(tg, old)
    await _seed(tg, REP_ID, {"name": "New Anna", "phone": "+79120000001"})
    reply = await rep.send_document("back.csv", f"id,name,archived\n{old},Old Anna,no\n".encode())
    assert "line 2 (Old Anna): stays in the archive: the team's card New Anna" in reply.text, (
        reply.text
    )


async def test_a_managers_export_says_whose_each_card_is(tg, emu) -> None:  # noqa: ANN001
    _admin, manager, _rep = await team_with_rep(tg)
    await _seed(tg, REP_ID, {"name": "Anna"})
    await _seed(tg, 2002, {"name": "Boris"})
    files = await _export(manager, emu)
    owners = {r["name"]: r["owner"] for r in _rows(files["contacts.csv"])}
    assert owners == {"Anna": "Rita", "Boris": "Maria"}
    reply = await manager.send_document("contacts.csv", files["contacts.csv"])
    assert "Nothing to change: 2 rows" in reply.text, reply.text


# --------------------------------------------------------- 3. rows of one person in a file


async def test_rows_of_one_person_under_one_name_are_told_and_keep_their_tags(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = (
        b"name,phone,tags,notes\n"
        b"Anna,+79120000001,a,first\n"
        b"Anna,+79120000001,b,second\n"
        b"Anna,+79120000001,,\n"
    )
    reply = await rep.send_document("dup.csv", data)
    assert "1 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert (
        "line 3 (Anna): the same contact as line 2: merged into one card; this row's value is "
        "kept for notes" in reply.text
    ), reply.text
    assert "line 4 (Anna): the same contact as line 2: merged into one card\n" in reply.text
    await rep.click("Import")
    anna = (await _cards(tg))["Anna"]
    assert (anna.tags, anna.notes) == (";a;b;", "second")


# ----------------------------------------------------- 4. a preview replaced by a newer file


async def test_an_older_previews_buttons_say_it_was_replaced(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    previews = []
    for name in ("Anna", "Boris", "Vera"):
        await rep.send_document(f"{name}.csv", f"name\n{name}\n".encode())
        previews.append(rep.last_with_buttons())
    for button, preview in (("Import", previews[0]), ("Cancel", previews[1])):
        reply = await rep.click(button, preview)
        assert (
            "This preview was replaced by the newer file you sent, so nothing was imported "
            "from it. Use the newest preview." in reply.text
        ), reply.text
        assert reply.buttons == []
    assert await _cards(tg) == {}
    await rep.click("Import", previews[2])
    assert list(await _cards(tg)) == ["Vera"]


# ------------------------------------------------------ 5. Russian labels, icp_fit as yes/no


async def test_notes_name_the_field_in_the_users_language(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg, language="ru")
    data = ("name,notes\n" + "А" * 300 + "," + "н" * 10050 + "\n").encode()
    reply = await rep.send_document("long.csv", data)
    assert "имя длиннее 256 символов: обрезано" in reply.text, reply.text
    assert "заметки длиннее 10000 символов: обрезано" in reply.text, reply.text
    assert "name" not in reply.text and "notes" not in reply.text


async def test_icp_fit_as_yes_or_no_in_either_language(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = "name,icp_fit\nA,yes\nB,да\nC,нет\nD,No\nE,fits\n".encode()
    reply = await rep.send_document("icp.csv", data)
    assert "5 new, 0 updates, 0 skipped" in reply.text, reply.text
    await rep.click("Import")
    fits = {name: c.icp_fit for name, c in (await _cards(tg)).items()}
    assert fits == {"A": "fits", "B": "fits", "C": "not_fit", "D": "not_fit", "E": "fits"}


# ------------------------------------------------------------- 6. every bad value of a row


async def test_every_bad_value_of_a_row_is_said(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = (
        b"name,status,stage,source,icp_fit,kind,next_step_due,tg_username,phone\n"
        b"Anna,x1,x2,x3,x4,x5,someday,@@@,12\n"
    )
    reply = await rep.send_document("bad.csv", data)
    for said in (
        "invalid B2B / B2C: “x5”",
        "invalid ICP fit: “x4”",
        "invalid source: “x3”",
        "invalid status: “x1”",
        "invalid stage: “x2”",
        "invalid phone “12”",
        "invalid Telegram username “@@@”",
        "invalid date in next step due: “someday”",
    ):
        assert said in reply.text, (said, reply.text)
    assert len(reply.text) < 4096


async def test_a_row_with_very_many_bad_values_stays_one_message(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    bad = "x" * 200
    header = "name,status,stage,source,icp_fit,kind,influence,tg_username,phone,email,tg_user_id"
    rows = "".join(f"Row {i}," + ",".join([bad] * 10) + "\n" for i in range(40))
    reply = await rep.send_document("worse.csv", (header + "\n" + rows).encode())
    assert "line 2 (Row 0): invalid B2B / B2C" in reply.text, reply.text
    assert "; …and 4 more\n" in reply.text and len(reply.text) < 4096


# ------------------------------------------------------------ 7. a due date without a step


async def test_a_due_day_alone_is_at_ten_and_a_missing_step_is_filled_and_said(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = b"name,next_step,next_step_due\nAnna,,2026-12-01\nBoris,Call,01.12.2026\n"
    reply = await rep.send_document("due.csv", data)
    assert (
        "line 2 (Anna): next step due “2026-12-01” comes without a next step: the step is set "
        "to “Follow up” (change it on the card)" in reply.text
    ), reply.text
    assert "line 3" not in reply.text
    await rep.click("Import")
    cards = await _cards(tg)
    at_ten = datetime(2026, 12, 1, 10, tzinfo=UTC)  # the rep's zone is UTC
    assert (cards["Anna"].next_step, cards["Anna"].next_step_due) == ("Follow up", at_ten)
    assert (cards["Boris"].next_step, cards["Boris"].next_step_due) == ("Call", at_ten)


async def test_a_card_with_a_due_date_and_no_step_sent_back_changes_nothing(tg, emu) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    [anna] = await _seed(tg, REP_ID, {"name": "Anna"})
    async with tg.app.session_factory() as session, writing(session):
        card = await session.get(Contact, anna)
        assert card is not None
        card.next_step_due = datetime(2026, 12, 1, 10, tzinfo=UTC)  # as the bot once made them
    files = await _export(rep, emu)
    reply = await rep.send_document("contacts.csv", files["contacts.csv"])
    assert "Nothing to change: 1 row" in reply.text, reply.text


# -------------------------------------------------------------- 8. erased cards not exported


async def test_an_erased_card_is_not_exported(tg, emu) -> None:  # noqa: ANN001
    _admin, manager, rep = await team_with_rep(tg)
    await _seed(tg, REP_ID, {"name": "Anna"}, {"name": "Zinaida", "phone": "+79120000009"})
    await manager.send("/forget Zinaida")
    reply = await manager.click("Forget for good")
    assert "Erased" in reply.text, reply.text
    files = await _export(rep, emu)
    assert [r["name"] for r in _rows(files["contacts.csv"])] == ["Anna"]
    assert b"FN:Anna" in files["contacts.vcf"] and b"FN:#" not in files["contacts.vcf"]
    reply = await rep.send("/export")
    assert "1 contact as CSV" in reply.text, reply.text


# ------------------------------------------------- 9. Google's phones, UTF-16, binary files


async def test_several_phones_in_a_google_cell_keep_the_first(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = (
        b"Name,Phone 1 - Value,E-mail 1 - Value\n"
        b"Ann Lee,+1 650 555 0000 ::: +1 650 555 0001,ann@x.io ::: lee@x.io\n"
    )
    reply = await rep.send_document("google.csv", data)
    assert "1 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert (
        "several phones: one is kept on the card, the others are left out: “+1 650 555 0001”"
        in reply.text
    ), reply.text
    assert "several e-mails: one is kept on the card, the others are left out: “lee@x.io”" in (
        reply.text
    )
    await rep.click("Import")
    ann = (await _cards(tg))["Ann Lee"]
    assert (ann.phone, ann.email) == ("+16505550000", "ann@x.io")


async def test_a_utf16_file_is_read(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = "Имя\tТелефон\nАнна\t+79120000001\n".encode("utf-16")  # with its BOM
    reply = await rep.send_document("unicode.csv", data)
    assert "1 new, 0 updates, 0 skipped" in reply.text, reply.text


async def test_a_binary_file_is_no_readable_csv(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = b"PK\x03\x04" + bytes(range(256)) * 8
    reply = await rep.send_document("table.csv", data)
    assert (
        "“table.csv” is not a readable CSV: it is not a text file. Save the table as CSV "
        "(UTF-8) and send that file." in reply.text
    ), reply.text


# -------------------------------------------------------- 10. a vCard's second phone, e-mail


async def test_a_vcards_other_phones_and_emails_are_said(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    vcf = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nTEL;TYPE=CELL:+79120000001\r\n"
        b"TEL;TYPE=HOME:+74950000002\r\nEMAIL:a@x.io\r\nEMAIL:b@x.io\r\nEND:VCARD\r\n"
    )
    reply = await rep.send_document("anna.vcf", vcf)
    assert "1 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert "line 1 (Anna): several phones: one is kept on the card, the others are left out: " in (
        reply.text
    ), reply.text
    assert "“+74950000002”" in reply.text and "“b@x.io”" in reply.text


# ----------------------------------------------------------- the same on both databases


async def test_the_round_trip_and_the_archive_on_both_databases(engine, monkeypatch) -> None:  # noqa: ANN001
    """An export imported by someone else: introducers by the file's ids, archived cards in the
    archive (a row of an earlier staging batch read back keeps its marker), on SQLite and on
    PostgreSQL (whose new cards get their ids while staging)."""
    monkeypatch.setattr(exchange_staging, "STAGE_BATCH", 2)
    factory = create_session_factory(engine)
    async with factory() as session, writing(session):
        old, new = await _user(session, 1), await _user(session, 2)
        anna = await contacts_svc.create(session, owner=old, data={"name": "Anna"}, now=START)
        boris = await contacts_svc.create(
            session, owner=old, data={"name": "Boris", "introduced_by_id": anna.id}, now=START
        )
        vera = await contacts_svc.create(
            session, owner=old, data={"name": "Vera", "email": "v@x.io"}, now=START
        )
        await contacts_svc.archive(session, vera, old, START)
        ids = (anna.id, boris.id, vera.id)
    async with factory() as session:
        scope = contacts_svc.Scope.of(await session.get(User, old.id), Role.REP)
        files = await exchange_svc.export(session, scope)
    assert files is not None
    # Vera again at the end, in another batch: still archived, with a note of her own
    data = files.csv + b",Gleb\r\n,Vera,,,,,,,,,,,,,,v@x.io,,,,seen again,,,,,\r\n"
    async with factory() as session:
        new = await session.get(User, new.id)
        preview = await exchange_svc.stage(
            session, user=new, role=Role.REP, data=data, kind="csv", filename="c.csv",
            region="RU", tz=UTC, now=START,
        )  # fmt: skip
        assert (preview.creates, preview.updates, preview.skipped) == (4, 0, 0)
        assert [(n.line, n.code) for n in preview.notes] == [(6, "merged")]
        assert preview.import_id is not None
        outcome = await exchange_svc.apply(
            session, import_id=preview.import_id, user=new, role=Role.REP, now=START,
            default_tz="UTC",
        )  # fmt: skip
        assert outcome.status == "applied"
    async with factory() as session:
        cards = {
            c.name: c
            for c in await session.scalars(select(Contact).where(Contact.owner_id == new.id))
        }
    assert set(cards) == {"Anna", "Boris", "Vera", "Gleb"} and not {
        c.id for c in cards.values()
    } & {*ids}
    assert cards["Boris"].introduced_by_id == cards["Anna"].id
    assert (cards["Vera"].archived_at, cards["Vera"].notes) == (START, "seen again")
    assert cards["Anna"].archived_at is None
    async with factory() as session:  # and back into the first account: nothing to change
        old = await session.get(User, old.id)
        preview = await exchange_svc.stage(
            session, user=old, role=Role.REP, data=files.csv, kind="csv", filename="c.csv",
            region="RU", tz=UTC, now=START,
        )  # fmt: skip
        assert (preview.import_id, preview.unchanged, preview.notes) == (None, 3, [])


async def _user(session, tg_id: int) -> User:  # noqa: ANN001
    team = Team(name=f"T{tg_id}", created_at=START)
    session.add(team)
    await session.flush()
    user = User(
        tg_id=tg_id, first_name=f"R{tg_id}", role="rep", team_id=team.id, created_at=START,
        last_seen_at=START,
    )  # fmt: skip
    session.add(user)
    await session.flush()
    return user
