"""The import's reading rules a QA round found wanting, as plain functions: /export's
history.csv and binary files told from a CSV of contacts, UTF-16 files, several phones in one
cell or one vCard, a day alone as a due date, yes/no cells, and every bad value of a row."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.exchange import (
    CSV_COLUMNS,
    HISTORY_COLUMNS,
    Record,
    iter_csv,
    parse_moment,
    read_csv,
    refusal,
    write_csv,
    yes_no,
)
from core.vcard import iter_vcard
from services.exchange.rows import _parse_row, _Skip

MOSCOW = ZoneInfo("Europe/Moscow")


def test_the_history_export_and_binary_files_are_no_contacts() -> None:
    history = write_csv([{"contact_id": 1, "contact": "Anna", "what": "touch"}], HISTORY_COLUMNS)
    assert refusal(history) == "history"
    assert refusal("contact_id;contact;at;what\n1;Anna;;touch\n".encode("cp1251")) == "history"
    assert refusal(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4) == "binary"
    assert refusal(b"PK\x03\x04\x14\x00\x00\x00" + b"\x00" * 100) == "binary"
    assert refusal(write_csv([{"id": 1, "name": "Anna", "notes": "a\tb"}])) is None
    assert refusal("Имя;Контакт\nАнна;Борис\n".encode("cp1251")) is None  # a "contact" column


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_file_is_read_by_its_bom(codec: str) -> None:
    text = "Имя\tТелефон\r\nАнна\t+79120000001\r\n"
    data = text.encode(codec)
    if codec != "utf-16":
        data = "\ufeff".encode(codec) + data
    [row], errors = read_csv(data)
    assert errors == [] and (row["name"], row["phone"]) == ("Анна", "+79120000001")


def test_several_values_in_one_cell_keep_the_first_and_tell_the_rest() -> None:
    data = (
        b"Name,Phone 1 - Value,E-mail 1 - Value\n"
        b"Ann,+1 650 555 0000 ::: +1 650 555 0001 ::: +1 650 555 0002,a@x.io\n"
        b"Bob,:::,b@x.io ::: c@x.io\n"
    )
    ann, bob = iter_csv(data)
    assert isinstance(ann, Record) and isinstance(bob, Record)
    assert ann.row["phone"] == "+1 650 555 0000" and ann.row["email"] == "a@x.io"
    assert ann.others == (("phone", "+1 650 555 0001"), ("phone", "+1 650 555 0002"))
    assert (bob.row["phone"], bob.row["email"]) == (None, "b@x.io")
    assert bob.others == (("email", "c@x.io"),)


def test_a_vcards_other_phones_and_emails_are_kept_to_tell() -> None:
    data = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna\r\nTEL;TYPE=HOME:+74950000002\r\n"
        b"TEL;TYPE=CELL:+79120000001\r\nTEL;VALUE=uri:tel:+74950000003\r\n"
        b"EMAIL:a@x.io\r\nEMAIL:b@x.io\r\nEMAIL:a@x.io\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nTEL:+79120000004\r\nEND:VCARD\r\n"
    )
    anna, bob = iter_vcard(data)
    assert isinstance(anna, Record) and isinstance(bob, Record)
    assert (anna.row["phone"], anna.row["email"]) == ("+79120000001", "a@x.io")
    assert anna.others == (
        ("phone", "+74950000002"),
        ("phone", "+74950000003"),
        ("email", "b@x.io"),
    )
    assert bob.others == ()


def test_a_day_alone_takes_the_time_of_day_given() -> None:
    ten = time(10, 0)
    assert parse_moment("2026-12-01", MOSCOW, ten) == datetime(2026, 12, 1, 7, tzinfo=UTC)
    assert parse_moment("01.12.2026", MOSCOW, ten) == datetime(2026, 12, 1, 7, tzinfo=UTC)
    assert parse_moment("20261201", UTC, ten) == datetime(2026, 12, 1, 10, tzinfo=UTC)
    # a time of its own wins; without a time of day to take, a day is its midnight (as before)
    assert parse_moment("01.12.2026 09:30", UTC, ten) == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert parse_moment("2026-12-01T00:00", UTC, ten) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_moment("2026-12-01", UTC) == datetime(2026, 12, 1, tzinfo=UTC)
    assert parse_moment("31.02.2026", UTC, ten) is None
    assert parse_moment("01.12.2026 25:00", UTC, ten) is None


@pytest.mark.parametrize(
    ("cell", "said"),
    [("yes", True), ("Да", True), ("1", True), ("no", False), (" НЕТ ", False), ("0", False)],
)
def test_yes_and_no_in_either_language(cell: str, said: bool) -> None:
    assert yes_no(cell) is said


def test_neither_yes_nor_no() -> None:
    assert yes_no("maybe") is None and yes_no("") is None and yes_no(None) is None


def _row(**cells: str) -> dict[str, str | None]:
    return {**dict.fromkeys(CSV_COLUMNS), **cells}


def _parse(**cells: str):  # noqa: ANN202
    return _parse_row(_row(**cells), region="RU", tz=UTC, current=None)


def test_every_bad_value_of_a_row_is_named() -> None:
    with pytest.raises(_Skip) as caught:
        _parse(
            name="Anna", kind="x5", icp_fit="x4", source="x3", status="x1", stage="x2",
            phone="12", email="nope", tg_username="@@@", tg_user_id="-5",
            next_step_due="someday", verified_at="later", archived="maybe",
        )  # fmt: skip
    skip = caught.value
    found = [(skip.code, skip.details), *skip.also]
    assert [(code, d.get("column"), d.get("value")) for code, d in found] == [
        ("invalid_value", "kind", "x5"),
        ("invalid_value", "icp_fit", "x4"),
        ("invalid_value", "source", "x3"),
        ("invalid_value", "status", "x1"),
        ("invalid_value", "stage", "x2"),
        ("invalid_phone", None, "12"),
        ("invalid_email", None, "nope"),
        ("invalid_username", None, "@@@"),
        ("invalid_value", "tg_user_id", "-5"),
        ("invalid_date", "next_step_due", "someday"),
        ("invalid_date", "verified_at", "later"),
        ("invalid_value", "archived", "maybe"),
    ]


def test_one_bad_value_is_one_reason_as_before() -> None:
    with pytest.raises(_Skip) as caught:
        _parse(name="Anna", status="bogus")
    assert (caught.value.code, caught.value.details, caught.value.also) == (
        "invalid_value",
        {"column": "status", "value": "bogus"},
        (),
    )


@pytest.mark.parametrize(
    ("cell", "code"), [("yes", "fits"), ("да", "fits"), ("No", "not_fit"), ("нет", "not_fit")]
)
def test_icp_fit_as_yes_or_no(cell: str, code: str) -> None:
    assert _parse(name="Anna", icp_fit=cell).fields["icp_fit"] == code


def test_an_introducer_id_with_a_hash_sign_and_the_archived_cell() -> None:
    parsed = _parse(name="Anna", introduced_by="#12", archived="yes")
    assert (parsed.fields["introduced_by_id"], parsed.archived) == (12, True)
    assert _parse(name="Anna", archived="нет").archived is False
    assert _parse(name="Anna").archived is None


def test_a_due_day_alone_is_due_at_ten() -> None:
    due = _parse_row(
        _row(name="Anna", next_step_due="2026-12-01"), region="RU", tz=MOSCOW, current=None
    ).next_step_due
    assert due == datetime(2026, 12, 1, 7, tzinfo=UTC)  # 10:00 in Moscow


@pytest.mark.parametrize("cell", ["-", "+", "maybe", "fits"])
def test_a_dash_is_no_answer(cell: str) -> None:
    assert yes_no(cell) is None
