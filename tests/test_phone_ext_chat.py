"""A phone's extension and a file's second phone column, through the emulator.

An extension ("+1 212 555 0100 ext. 12", "+7 495 123-45-67 доб. 123", "(212) 555-0100 x12") was
dropped everywhere: /add, Edit › Phone, /import. It is kept ("+12125550100;ext=12"), shown on
the card, exported, and tells people apart: one switchboard's colleagues (other extensions) are
not one another's duplicates, the same number and extension is the same person.

Google's "Phone 2 - Value" and Outlook's "Business Phone" beside "Mobile Phone" (and a second
e-mail column) were dropped without a word: the best is kept, the others are told, as several
values in one cell are."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from storage.models import Contact
from tests.helpers import speak, team_with_rep


async def _cards(tg) -> dict[str, Contact]:  # noqa: ANN001
    async with tg.app.session_factory() as session:
        return {c.name: c for c in await session.scalars(select(Contact).order_by(Contact.id))}


async def _export(user, emu) -> dict[str, bytes]:  # noqa: ANN001
    reply = await user.send("/export")
    return {d["file_name"]: emu.files[d["file_id"]][1] for d in reply.documents}


# ------------------------------------------------------------------ 1. the extension is kept


async def test_quick_add_keeps_the_extension_and_the_card_shows_it(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/add Bob Stone, Acme, +1 212 555 0100 ext. 12")
    assert "Saved: Bob Stone — Acme" in reply.text, reply.text  # "ext. 12" is no position
    reply = await rep.click("Open card")
    assert "+1 212-555-0100 ext. 12" in reply.text, reply.text
    await rep.send("/add Carl Roy, +1 (212) 555-0100 x13")
    await rep.send("/add Иван Петров, Ромашка, +7 495 123-45-67 доб. 123")
    cards = await _cards(tg)
    assert cards["Bob Stone"].phone == "+12125550100;ext=12"
    assert cards["Bob Stone"].position is None
    assert cards["Carl Roy"].phone == "+12125550100;ext=13"
    assert (cards["Иван Петров"].phone, cards["Иван Петров"].company) == (
        "+74951234567;ext=123",
        "Ромашка",
    )


async def test_one_switchboard_is_not_a_duplicate_the_same_extension_is(tg) -> None:  # noqa: ANN001
    """Two colleagues behind one office number (other extensions) are two people; the same
    number with the same extension is the same person (the team's card is named)."""
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Bob Stone, Acme, +1 212 555 0100 ext. 12")
    reply = await rep.send("/add Ann Lee, Globex, +1 212 555 0100 ext. 13")
    assert "Saved: Ann Lee" in reply.text, reply.text
    reply = await rep.send("/add Robert S, +1 212-555-0100 x12")
    assert "Saved" not in reply.text, reply.text
    assert "Bob Stone — Acme · +1 212-555-0100 ext. 12 — same phone" in reply.text, reply.text
    assert set(await _cards(tg)) == {"Bob Stone", "Ann Lee"}


async def test_edit_phone_keeps_the_extension_in_russian(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    await speak(rep, "ru")
    await rep.send("/add Анна Ким, Ромашка")
    await rep.click("Открыть карточку")
    await rep.click("Изменить")
    await rep.click("Телефон")
    reply = await rep.send("8 (495) 123-45-67 доб. 321")
    assert "+7 495 123-45-67 доб. 321" in reply.text, reply.text  # the Russian word
    assert (await _cards(tg))["Анна Ким"].phone == "+74951234567;ext=321"


async def test_a_phone_with_its_extension_sent_alone_finds_whose_it_is(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    await rep.send("/add Nora Lind, Acme, +1 212 555 0100 ext. 12")
    reply = await rep.send("+1 212 555 0100 ext. 12")
    assert reply.text.startswith("Nora Lind — Acme"), reply.text


async def test_import_keeps_extensions_and_export_gives_them_back(tg, emu) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    data = (
        "name,company,phone\n"
        "Bob Stone,Acme,+1 212 555 0100 ext. 12\n"
        "Ann Lee,Acme,(212) 555-0100 x13\n"  # no country code: the region's, RU, fails
        "Иван Петров,Ромашка,+7 495 123-45-67 доб. 123\n"
    ).encode()
    reply = await rep.send_document("people.csv", data)
    assert "2 new, 0 updates, 1 skipped" in reply.text, reply.text
    await rep.click("Import")
    vcf = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Dan Ray\r\n"
        b"TEL;VALUE=uri;TYPE=work:tel:+1-212-555-0100;ext=14\r\nEND:VCARD\r\n"
    )
    reply = await rep.send_document("dan.vcf", vcf)
    assert "1 new, 0 updates, 0 skipped" in reply.text, reply.text
    await rep.click("Import")
    cards = await _cards(tg)
    assert {name: c.phone for name, c in cards.items()} == {
        "Bob Stone": "+12125550100;ext=12",
        "Иван Петров": "+74951234567;ext=123",
        "Dan Ray": "+12125550100;ext=14",
    }

    files = await _export(rep, emu)
    rows = list(csv.DictReader(io.StringIO(files["contacts.csv"].decode("utf-8-sig"))))
    assert "'+12125550100;ext=12" in {r["phone"] for r in rows}  # neutralised, as every "+"
    assert b"TEL;TYPE=WORK,VOICE:+12125550100,12\r\n" in files["contacts.vcf"]

    # the export sent back is the same cards, nothing new and nothing changed
    reply = await rep.send_document("contacts.csv", files["contacts.csv"])
    assert "Nothing to change: 3 rows" in reply.text, reply.text
    reply = await rep.send_document("contacts.vcf", files["contacts.vcf"])
    assert "Nothing to change: 3 rows" in reply.text, reply.text


# ------------------------------------------------- 2. a second phone (e-mail) column is told

GOOGLE = (
    "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,"
    "Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,"
    "Organization Title,Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,"
    "E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,"
    "Phone 2 - Label,Phone 2 - Value,Phone 3 - Label,Phone 3 - Value\n"
    "Anna,,Smirnova,,,,,,,,Acme,CFO,,,met in Kazan,,* myContacts,* Work,anna@acme.io,Home,"
    "anna.s@gmail.com,Work,+1 212 555 0100 ext. 12,Mobile,+1 917 555 0101,Home,"
    "+1 917 555 0101\n"
    "Boris,,Orlov,,,,,,,,Globex,,,,,,* myContacts,* Work,boris@globex.com,,,Mobile,"
    "+7 916 111 22 33 ::: +7 916 111 22 44,Work,+7 495 123-45-67 доб. 5,,\n"
    "Vera,,Kim,,,,,,,,,,,,,,* myContacts,,,,,,,Mobile,+7 916 222 33 44,,\n"
)

OUTLOOK = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department",'
    '"Job Title","Business Street","Business City","Business Phone","Business Phone 2",'
    '"Home Phone","Home Phone 2","Mobile Phone","Pager","Primary Phone","E-mail Address",'
    '"E-mail Type","E-mail Display Name","E-mail 2 Address","E-mail 2 Type","Notes"\n'
    '"Dr.","Carl","","Ivanov","","Initech","Sales","Head of Sales","1 Main St","New York",'
    '"+1 212 555 0102","","+1 718 555 0103","","+1 917 555 0104","","","carl@initech.com",'
    '"SMTP","Carl Ivanov (carl@initech.com)","carl.home@mail.com","SMTP",""\n'
    '"","Dina","","Yun","","Umbrella","","","","","+1 212 555 0105","","+1 718 555 0106","",'
    '"","","","","","","","",""\n'
)


async def test_google_export_keeps_phone_1_and_tells_the_others(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    reply = await rep.send_document("google.csv", GOOGLE.encode())
    assert "3 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert (
        "line 2 (Anna Smirnova): several phones: one is kept on the card, the others are left "
        "out: “+1 917 555 0101”" in reply.text  # Phone 3 is the same number: told once
    ), reply.text
    assert (
        "line 2 (Anna Smirnova): several e-mails: one is kept on the card, the others are left "
        "out: “anna.s@gmail.com”" in reply.text
    ), reply.text
    assert (
        "line 3 (Boris Orlov): several phones: one is kept on the card, the others are left "
        "out: “+7 916 111 22 44, +7 495 123-45-67 доб. 5”" in reply.text
    ), reply.text
    assert "Vera Kim" not in reply.text  # her only phone is Phone 2: nothing to tell
    await rep.click("Import")
    cards = await _cards(tg)
    assert (cards["Anna Smirnova"].phone, cards["Anna Smirnova"].email) == (
        "+12125550100;ext=12",
        "anna@acme.io",
    )
    assert cards["Boris Orlov"].phone == "+79161112233"
    assert cards["Vera Kim"].phone == "+79162223344"


async def test_outlook_export_keeps_the_mobile_and_tells_the_others(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    reply = await rep.send_document("outlook.csv", OUTLOOK.encode())
    assert "2 new, 0 updates, 0 skipped" in reply.text, reply.text
    assert (
        "line 2 (Carl Ivanov): several phones: one is kept on the card, the others are left "
        "out: “+1 212 555 0102, +1 718 555 0103”" in reply.text
    ), reply.text
    assert "“carl.home@mail.com”" in reply.text, reply.text
    assert (
        "line 3 (Dina Yun): several phones: one is kept on the card, the others are left "
        "out: “+1 718 555 0106”" in reply.text
    ), reply.text
    await rep.click("Import")
    cards = await _cards(tg)
    carl, dina = cards["Carl Ivanov"], cards["Dina Yun"]
    assert (carl.phone, carl.email, carl.position) == (
        "+19175550104",  # mobile before business before home
        "carl@initech.com",
        "Head of Sales",
    )
    assert dina.phone == "+12125550105"  # no mobile: the business phone


async def test_a_russian_user_is_told_the_second_phone_column_too(tg) -> None:  # noqa: ANN001
    *_, rep = await team_with_rep(tg)
    await speak(rep, "ru")
    data = "Имя;Мобильный;Рабочий телефон\nАнна Ким;+7 916 111 22 33;+7 495 123-45-67 доб. 7\n"
    reply = await rep.send_document("люди.csv", data.encode("cp1251"))
    assert "1 нов" in reply.text, reply.text
    assert "строка 2 (Анна Ким)" in reply.text and "«+7 495 123-45-67 доб. 7»" in reply.text, (
        reply.text
    )
    await rep.click("Импортировать")
    assert (await _cards(tg))["Анна Ким"].phone == "+79161112233"
