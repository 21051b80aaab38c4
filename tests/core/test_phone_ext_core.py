"""A phone's extension read, stored and written back; a file's several phone and e-mail columns
read best first, the others kept to tell (core.contactdata, core.quickadd, core.csvheaders,
core.exchange, core.vcard)."""

from __future__ import annotations

import pytest

from core.contactdata import (
    display_phone,
    normalize_phone,
    parse_query,
    phone_or_email,
    split_extension,
)
from core.exchange import Record, iter_csv, read_csv
from core.quickadd import parse_quick_add
from core.vcard import iter_vcard, write_vcard


@pytest.mark.parametrize(
    ("raw", "region", "stored"),
    [
        ("+1 212 555 0100 ext. 12", "RU", "+12125550100;ext=12"),
        ("(212) 555-0100 x12", "US", "+12125550100;ext=12"),
        ("+1 212 555 0100 #12", "RU", "+12125550100;ext=12"),
        ("+7 495 123-45-67 доб. 123", "RU", "+74951234567;ext=123"),
        ("8 (495) 123-45-67 доб.123", "RU", "+74951234567;ext=123"),
        ("+7 495 123-45-67 доп. 123", "RU", "+74951234567;ext=123"),
        ("+7 495 123-45-67 вн. 45", "RU", "+74951234567;ext=45"),
        ("8 495 123-45-67 добавочный 123", "RU", "+74951234567;ext=123"),
        ("+12125550100;ext=12", "RU", "+12125550100;ext=12"),  # as stored, read back
        ("+12125550100,12", "RU", "+12125550100;ext=12"),  # as the vCard writes it
        # without an extension: exactly as before
        ("+7 999 123-45-67", "RU", "+79991234567"),
        ("8 (912) 345-67-89", "RU", "+79123456789"),
    ],
)
def test_the_extension_is_kept_after_the_e164_number(raw: str, region: str, stored: str) -> None:
    assert normalize_phone(raw, region) == stored


def test_an_extension_too_long_for_the_column_is_no_valid_phone() -> None:
    assert normalize_phone("+1 212 555 0100 ext. 12345678901234567", "RU") is None


def test_the_card_shows_the_extension() -> None:
    assert display_phone("+12125550100;ext=12") == "+1 212-555-0100 ext. 12"
    assert display_phone("+74951234567;ext=123") == "+7 495 123-45-67 ext. 123"
    assert display_phone("+79991234567") == "+7 999 123-45-67"
    assert split_extension("+12125550100;ext=12") == ("+12125550100", "12")
    assert split_extension("+12125550100") == ("+12125550100", None)


def test_a_phone_with_an_extension_alone_is_a_phone_and_a_room_is_not() -> None:
    assert phone_or_email("+1 212 555 0100 ext. 12", "RU") == ("phone", "+12125550100;ext=12")
    assert phone_or_email("+7 495 123-45-67 доб. 5", "RU") == ("phone", "+74951234567;ext=5")
    assert phone_or_email("Room 1012345678", "RU") is None
    assert phone_or_email("Acme 8 495 123 45 67", "RU") is None
    query = parse_query("+1 212 555 0100 ext. 12")
    assert query is not None and query.phone == "+12125550100;ext=12"
    query = parse_query("+1 212 555 0100")
    assert query is not None and query.phone == "+12125550100"


@pytest.mark.parametrize(
    ("text", "region", "fields"),
    [
        (
            "Bob Stone, Acme, +1 212 555 0100 ext. 12",
            "RU",
            ("Bob Stone", "Acme", None, "+12125550100;ext=12"),
        ),
        ("Bob Stone (212) 555-0100 x12", "US", ("Bob Stone", None, None, "+12125550100;ext=12")),
        (
            "Bob, +1 212 555 0100 ext. 12, CEO",
            "RU",
            ("Bob", None, "CEO", "+12125550100;ext=12"),
        ),
        (
            "Иван +7 495 123-45-67 (доб. 123), Ромашка",
            "RU",
            ("Иван", "Ромашка", None, "+74951234567;ext=123"),
        ),
        (
            "Иван, +7 495 123-45-67 вн. 1234567, Ромашка",
            "RU",
            ("Иван", "Ромашка", None, "+74951234567;ext=1234567"),
        ),
        # no extension: as before
        ("Anna, Acme, CTO, +7 999 123-45-67", "RU", ("Anna", "Acme", "CTO", "+79991234567")),
        ("Bob +7 999 123-45-67 (моб.)", "RU", ("Bob моб.", None, None, "+79991234567")),
    ],
)
def test_quick_add_reads_the_extension_as_the_phones(
    text: str, region: str, fields: tuple[str | None, ...]
) -> None:
    parsed = parse_quick_add(text, region)
    assert (parsed.name, parsed.company, parsed.position, parsed.phone) == fields
    assert parsed.problems == ()


def test_two_extensions_of_one_number_are_two_phones_in_quick_add() -> None:
    parsed = parse_quick_add("Bob, +1 212 555 0100 ext. 12, +1 212 555 0100 ext. 13", "RU")
    assert parsed.phone == "+12125550100;ext=12"
    assert parsed.problems == (("extra_phone", "+1 212 555 0100 ext. 13"),)


def test_digits_running_on_after_a_label_are_another_number_not_an_extension() -> None:
    parsed = parse_quick_add("Bob +7 999 123-45-67 доп. 8 999 000 00 00", "RU")
    assert parsed.phone == "+79991234567"
    assert parsed.problems == (("extra_phone", "8 999 000 00 00"),)


def test_the_vcard_writes_an_extension_as_a_phone_dials_it_and_reads_it_back() -> None:
    data = write_vcard(
        [{"name": "Bob", "phone": "+12125550100;ext=12"}, {"name": "Ann", "phone": "+79991234567"}]
    )
    assert b"TEL;TYPE=WORK,VOICE:+12125550100,12\r\n" in data
    assert b"TEL;TYPE=CELL:+79991234567\r\n" in data
    bob, ann = iter_vcard(data)
    assert isinstance(bob, Record) and isinstance(ann, Record)
    assert normalize_phone(bob.row["phone"] or "", "RU") == "+12125550100;ext=12"
    assert ann.row["phone"] == "+79991234567"


# ------------------------------------------------------------ several phone, e-mail columns


def test_google_columns_phone_1_first_then_the_others_told() -> None:
    data = (
        b"First Name,Last Name,E-mail 1 - Value,E-mail 2 - Value,E-mail 3 - Value,"
        b"Phone 1 - Label,Phone 1 - Value,Phone 2 - Label,Phone 2 - Value,Phone 3 - Value\n"
        b"Anna,Lee,a@x.io,b@x.io,A@X.io,Work,+1 650 555 0000 ::: +1 650 555 0001,Mobile,"
        b"+16505550002,+1 650 555 0000\n"
        b"Bob,Ray,,c@x.io,,,,,+1 650 555 0003,\n"
    )
    anna, bob = iter_csv(data)
    assert isinstance(anna, Record) and isinstance(bob, Record)
    assert (anna.row["phone"], anna.row["email"]) == ("+1 650 555 0000", "a@x.io")
    assert anna.others == (
        ("phone", "+1 650 555 0001"),
        ("phone", "+16505550002"),  # Phone 3 repeats Phone 1: not told
        ("email", "b@x.io"),  # "A@X.io" is a@x.io
    )
    assert (bob.row["phone"], bob.row["email"], bob.others) == ("+1 650 555 0003", "c@x.io", ())


def test_outlook_columns_mobile_then_business_then_home() -> None:
    data = (
        b'"First Name","Last Name","Business Phone","Business Phone 2","Home Phone",'
        b'"Mobile Phone","Business Fax","Pager","E-mail Address","E-mail 2 Address"\n'
        b'"Carl","Ivanov","+1 212 555 0102","+1 212 555 0107","+1 718 555 0103",'
        b'"+1 917 555 0104","+1 212 555 0199","+1 212 555 0198","c@x.io","d@x.io"\n'
    )
    [carl] = iter_csv(data)
    assert isinstance(carl, Record)
    assert carl.row["phone"] == "+1 917 555 0104"
    assert carl.others == (
        ("phone", "+1 212 555 0102"),
        ("phone", "+1 212 555 0107"),
        ("phone", "+1 718 555 0103"),  # a fax and a pager are no phones of the card
        ("email", "d@x.io"),
    )


def test_our_own_phone_column_first_and_another_named_one_told() -> None:
    rows, errors = read_csv("name,phone,Телефон\nAnna,+7 1,+7 2\n".encode())
    assert errors == [] and rows[0]["phone"] == "+7 1"
    anna, bob = iter_csv("name,phone,Телефон\nAnna,+7 1,+7 2\nBob,,+7 3\n".encode())
    assert isinstance(anna, Record) and isinstance(bob, Record)
    assert anna.others == (("phone", "+7 2"),)
    assert (bob.row["phone"], bob.others) == ("+7 3", ())
