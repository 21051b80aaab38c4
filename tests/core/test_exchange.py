import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import Kind, Stage
from core.exchange import (
    CSV_COLUMNS,
    Record,
    RowError,
    check_csv,
    iter_csv,
    neutralize,
    read_csv,
    restore,
    split_tags,
    write_csv,
)
from core.vcard import iter_vcard, read_vcard, write_vcard

TRICKY_ROWS: list[dict[str, str | None]] = [
    {
        "id": "1",
        "name": 'Анна "Аня" Смирнова',
        "company": "Acme, Inc; <b>R&D</b>",
        "position": "CTO \\ CEO",
        "kind": "b2b",
        "segment": "SaaS, mid-market",
        "icp_fit": "fits",
        "icp_criterion": "> 100 employees & growth",
        "influence": "decision_maker",
        "source": "event",
        "source_detail": "Web Summit 2026 🚀",
        "introduced_by": 'Борис; "Боб"',
        "status": "lead",
        "stage": "commercial",
        "phone": "+79991234567",
        "email": "anna@acme.io",
        "tg_username": "anna_s",
        "tg_user_id": "123456789",
        "tags": "event;vip;выставка",
        "notes": 'Line one, with comma\nLine two; semicolon\n\n«Quotes» "here" & <i>tags</i> 🎉'
        + " long text " * 20,
        "next_step": "Send proposal: pricing, terms",
        "next_step_due": "2026-12-01T07:00:00+00:00",
        "verified_at": "2026-11-20T10:15:00+00:00",
        "created_at": "2026-11-01T09:00:00+00:00",
        "archived": "yes",
    },
    {
        "id": "2",
        "name": "Bob",
        **{key: None for key in CSV_COLUMNS if key not in ("id", "name")},
    },
    {
        **{key: None for key in CSV_COLUMNS},
        "id": "3",
        "name": "Ёжик ; , \\ \\n literal",
        "company": "ООО «Ромашка»",
        "notes": "  leading and trailing spaces kept in notes  ",
        "tags": "x",
    },
]


def test_columns() -> None:
    assert CSV_COLUMNS[0] == "id"
    assert CSV_COLUMNS[1] == "name"
    assert CSV_COLUMNS[-2:] == ("created_at", "archived")  # archived: appended (issue 2b)
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS)) == 25


# ---------------------------------------------------------------------------------------- CSV


def test_write_csv_format() -> None:
    data = write_csv([{"id": 7, "name": "Anna, Jr.", "tags": ["event", "vip"]}])
    assert data.startswith(b"\xef\xbb\xbfid,name,company,")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1].startswith('7,"Anna, Jr.",')
    assert ",event;vip," in lines[1]
    assert lines[2] == ""  # trailing CRLF
    assert "\n" not in text.replace("\r\n", "")


def test_write_csv_converts_values() -> None:
    due = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    data = write_csv(
        [{"name": "A", "kind": Kind.B2B, "stage": Stage.COMMERCIAL, "next_step_due": due}]
    )
    row = next(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert row["kind"] == "b2b"
    assert row["stage"] == "commercial"
    assert row["next_step_due"] == "2026-12-01T07:00:00+00:00"
    assert row["company"] == ""


def test_csv_round_trip() -> None:
    rows, errors = read_csv(write_csv(TRICKY_ROWS))
    assert errors == []
    assert rows == TRICKY_ROWS


def test_csv_empty_export_has_header_only() -> None:
    data = write_csv([])
    assert data == ("\ufeff" + ",".join(CSV_COLUMNS) + "\r\n").encode()
    assert read_csv(data) == ([], [])


def test_read_csv_without_bom_semicolon_and_unknown_columns() -> None:
    data = b"Name;Company;Phone;Shoe size\nAnna;Acme;+79991234567;38\nBob;;;\n"
    rows, errors = read_csv(data)
    assert errors == []
    assert [r["name"] for r in rows] == ["Anna", "Bob"]
    assert rows[0]["company"] == "Acme"
    assert rows[0]["phone"] == "+79991234567"
    assert rows[1]["company"] is None
    assert "shoe_size" not in rows[0]
    assert set(rows[0]) == set(CSV_COLUMNS)


def test_read_csv_cp1251_excel_export() -> None:
    data = "name;company\r\nИван;Ромашка\r\n".encode("cp1251")
    rows, errors = read_csv(data)
    assert errors == []
    assert (rows[0]["name"], rows[0]["company"]) == ("Иван", "Ромашка")


def test_read_csv_tab_delimited_and_column_order() -> None:
    data = b"email\tname\nanna@acme.io\tAnna\n"
    rows, errors = read_csv(data)
    assert errors == []
    assert (rows[0]["name"], rows[0]["email"]) == ("Anna", "anna@acme.io")


def test_read_csv_missing_name_reports_line() -> None:
    data = b'name,company,notes\nAnna,Acme,\n,Globex,"multi\nline"\n\n  ,Initech,\nBob,,\n'
    rows, errors = read_csv(data)
    assert [r["name"] for r in rows] == ["Anna", "Bob"]
    assert errors == [RowError(3, "missing_name"), RowError(6, "missing_name")]


def test_read_csv_strips_values_except_notes() -> None:
    rows, _ = read_csv(b"name,company,notes\n  Anna  , Acme ,  hi  \n")
    assert rows[0]["name"] == "Anna"
    assert rows[0]["company"] == "Acme"
    assert rows[0]["notes"] == "  hi  "


def test_read_csv_short_rows_fill_none() -> None:
    rows, errors = read_csv(b"name,company,position\nAnna\n")
    assert errors == []
    assert rows[0]["name"] == "Anna"
    assert rows[0]["position"] is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"foo,bar\n1,2\n", "no_header"),
        (b"Anna,Acme\n", "no_header"),
    ],
)
def test_read_csv_requires_header(data: bytes, reason: str) -> None:
    rows, errors = read_csv(data)
    assert rows == []
    assert [e.reason for e in errors] == [reason]
    assert errors[0].line == 1


def test_split_tags() -> None:
    assert split_tags("event;vip") == ["event", "vip"]
    assert split_tags("#event, #vip  x") == ["event", "vip", "x"]
    assert split_tags(None) == []
    assert split_tags("") == []


# -------------------------------------------------------------------------------------- vCard


def test_vcard_round_trip() -> None:
    rows, errors = read_vcard(write_vcard(TRICKY_ROWS))
    assert errors == []
    assert rows == TRICKY_ROWS


def test_vcard_structure() -> None:
    data = write_vcard([TRICKY_ROWS[0]])
    text = data.decode("utf-8")
    assert text.startswith("BEGIN:VCARD\r\nVERSION:3.0\r\n")
    assert text.endswith("END:VCARD\r\n")
    unfolded = text.replace("\r\n ", "")
    lines = unfolded.split("\r\n")
    assert 'FN:Анна "Аня" Смирнова' in lines
    assert 'N:Смирнова;Анна "Аня";;;' in lines
    assert "ORG:Acme\\, Inc\\; <b>R&D</b>" in lines
    assert "TITLE:CTO \\\\ CEO" in lines
    assert "TEL;TYPE=CELL:+79991234567" in lines
    assert "EMAIL;TYPE=INTERNET:anna@acme.io" in lines
    assert "X-TELEGRAM:anna_s" in lines
    assert "CATEGORIES:event,vip,выставка" in lines
    assert "X-NETSALES-ICP-FIT:fits" in lines
    assert "X-NETSALES-NEXT-STEP-DUE:2026-12-01T07:00:00+00:00" in lines
    note = next(line for line in lines if line.startswith("NOTE:"))
    assert note.startswith("NOTE:Line one\\, with comma\\nLine two\\; semicolon\\n\\n«Quotes»")


def test_vcard_lines_are_folded_at_75_octets() -> None:
    data = write_vcard([TRICKY_ROWS[0]])
    physical = data.split(b"\r\n")
    assert any(line.startswith(b" ") for line in physical)
    for line in physical:
        assert len(line) <= 75
        line.decode("utf-8")  # never split inside a multi-byte character


def test_write_vcard_empty() -> None:
    assert write_vcard([]) == b""


def test_vcard_skips_empty_fields() -> None:
    text = write_vcard([{"name": "Bob"}]).decode()
    assert text == "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob\r\nN:Bob;;;;\r\nEND:VCARD\r\n"


def test_read_phone_vcard_30_with_groups_and_several_phones() -> None:
    data = (
        "BEGIN:VCARD\n"
        "VERSION:3.0\n"
        "N:Петров;Иван;Сергеевич;;\n"
        "FN:Иван Петров\n"
        "ORG:ООО Ромашка;Отдел продаж\n"
        "TITLE:Директор\n"
        "item1.TEL;TYPE=WORK,VOICE:+7 495 123-45-67\n"
        "TEL;TYPE=CELL,PREF:+7 912 345-67-89\n"
        "EMAIL;TYPE=INTERNET,WORK:ivan@romashka.ru\n"
        "PHOTO;ENCODING=b;TYPE=JPEG:AAAA\n"
        " BBBB\n"
        "END:VCARD\n"
    ).encode()
    rows, errors = read_vcard(data)
    assert errors == []
    [row] = rows
    assert row["name"] == "Иван Петров"
    assert row["company"] == "ООО Ромашка, Отдел продаж"
    assert row["position"] == "Директор"
    assert row["phone"] == "+7 912 345-67-89"
    assert row["email"] == "ivan@romashka.ru"
    assert row["tags"] is None
    assert set(row) == set(CSV_COLUMNS)


def test_read_vcard_21_quoted_printable() -> None:
    data = (
        b"BEGIN:VCARD\r\n"
        b"VERSION:2.1\r\n"
        b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=9F=D0=B5=D1=82=D1=80=D0=BE=D0=B2;=D0=98=\r\n"
        b"=D0=B2=D0=B0=D0=BD;;;\r\n"
        b"TEL;CELL:+79123456789\r\n"
        b"TEL;HOME:+74951234567\r\n"
        b"EMAIL;INTERNET:ivan@example.com\r\n"
        b"END:VCARD\r\n"
    )
    rows, errors = read_vcard(data)
    assert errors == []
    assert rows[0]["name"] == "Иван Петров"
    assert rows[0]["phone"] == "+79123456789"
    assert rows[0]["email"] == "ivan@example.com"


def test_read_vcard_40_tel_uri() -> None:
    data = (
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Jane Doe\r\n"
        b"TEL;VALUE=uri;TYPE=cell:tel:+12024561111\r\n"
        b"EMAIL;PREF=1:jane@example.com\r\nEND:VCARD\r\n"
    )
    rows, errors = read_vcard(data)
    assert errors == []
    assert rows[0]["name"] == "Jane Doe"
    assert rows[0]["phone"] == "+12024561111"
    assert rows[0]["email"] == "jane@example.com"


def test_read_vcard_name_from_n_when_no_fn() -> None:
    data = b"BEGIN:VCARD\nVERSION:3.0\nN:Smirnova;Anna;;Dr.;\nEND:VCARD\n"
    rows, _ = read_vcard(data)
    assert rows[0]["name"] == "Dr. Anna Smirnova"


def test_read_vcard_errors() -> None:
    data = (
        b"BEGIN:VCARD\nVERSION:3.0\nORG:Nameless Inc\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Good\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Cut off\n"
    )
    rows, errors = read_vcard(data)
    assert [r["name"] for r in rows] == ["Good"]
    assert errors == [RowError(1, "missing_name"), RowError(9, "unterminated")]


def test_read_vcard_not_a_vcard() -> None:
    assert read_vcard(b"hello world") == ([], [RowError(1, "no_vcard")])
    assert read_vcard(b"") == ([], [RowError(1, "no_vcard")])


def test_read_vcard_with_bom_and_utc_datetime_values() -> None:
    due = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    data = b"\xef\xbb\xbf" + write_vcard([{"name": "A", "next_step_due": due}])
    rows, errors = read_vcard(data)
    assert errors == []
    assert rows[0]["next_step_due"] == "2026-12-01T07:00:00+00:00"
    assert datetime.fromisoformat(rows[0]["next_step_due"] or "") == due


def test_csv_and_vcard_agree() -> None:
    from_csv, _ = read_csv(write_csv(TRICKY_ROWS))
    from_vcard, _ = read_vcard(write_vcard(TRICKY_ROWS))
    assert from_csv == from_vcard


# ------------------------------------------------------------------ CSV injection (OWASP)

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+SUM(1,2)", "'+SUM(1,2)"),
        ("-2+3", "'-2+3"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(1)", "'@SUM(1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("+79123456789", "'+79123456789"),
        ("'=already quoted", "''=already quoted"),
        ("O'Brien", "O'Brien"),
        ("'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("Anna = Ann", "Anna = Ann"),
        ("", ""),
    ],
)
def test_neutralize_quotes_what_a_spreadsheet_would_run(value: str, cell: str) -> None:
    assert neutralize(value) == cell
    assert restore(cell) == value


@given(st.text())
def test_restore_undoes_neutralize_and_no_cell_starts_with_a_trigger(value: str) -> None:
    cell = neutralize(value)
    assert restore(cell) == value
    assert not cell.startswith(TRIGGERS)


@given(st.text().filter(lambda v: not re.match(r"'+[=+\-@\t\r]", v)))
def test_a_value_written_by_hand_is_read_as_written(value: str) -> None:
    assert restore(value) == value


@given(
    st.lists(
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
        )
        .map(str.strip)
        .filter(bool),
        min_size=1,
        max_size=4,
    )
)
def test_csv_round_trip_of_formula_like_names(names: list[str]) -> None:
    rows = [{"name": name, "notes": f"-{name}"} for name in names]
    data = write_csv(rows)
    for cell_row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")):
        assert not any(cell.startswith(TRIGGERS) for cell in cell_row)
    parsed, errors = read_csv(data)
    assert errors == []
    assert [(r["name"], r["notes"]) for r in parsed] == [(r["name"], r["notes"]) for r in rows]


# ----------------------------------------------------------------- the file's structure


def test_check_csv_passes_good_files() -> None:
    assert check_csv(write_csv(TRICKY_ROWS)) == []
    assert check_csv(b"name;phone\nAnna;+7912\n\nBob\n") == []
    assert check_csv(b"name,company\nAnna,Acme,,\n") == []  # empty extra cells are harmless
    assert check_csv(b"") == []


def test_check_csv_finds_an_unclosed_quote() -> None:
    data = b'name,phone\nAnna,+79120000001\n"Boris Petrov,+79120000002\nVera,+7912\n'
    assert check_csv(data) == [RowError(3, "unclosed_quote")]
    # reading stops there too, instead of gluing the rest of the file into one name
    rows, errors = read_csv(data)
    assert [r["name"] for r in rows] == ["Anna"]
    assert [(e.line, e.reason) for e in errors] == [(3, "bad_csv")]


def test_check_csv_finds_text_after_a_closing_quote() -> None:
    assert check_csv(b'name\n"Anna" Smirnova\n') == [RowError(2, "bad_quote")]
    assert check_csv(b'name,company\nAnna,"Acme\nBoris,"Zeta"\n') == [RowError(2, "bad_quote", "3")]


def test_check_csv_finds_rows_with_too_many_fields() -> None:
    data = b"name,company,phone\nAnna,Acme,+7\nBoris,Acme, Inc,+7\nVera,Zeta,+7,x,y\n"
    assert check_csv(data) == [
        RowError(3, "too_many_fields", "4/3"),
        RowError(4, "too_many_fields", "5/3"),
    ]


def test_check_csv_finds_a_value_that_swallows_rows() -> None:
    data = (
        b"name,company,notes\n"
        b'Anna,Acme,"call her\n'
        b"Boris,Zeta,met at the expo\n"
        b"Vera,Initech,\n"
        b'Gleb,Umbrella,likes golf"\n'
        b"Dora,Hooli,\n"
    )
    assert check_csv(data) == [RowError(2, "swallowed_rows", "3-4")]
    # a multi-line note is fine; so is a note line with fewer fields, or without a name
    assert check_csv(b'name,company,notes\nAnna,Acme,"one, two\nthree"\n') == []
    assert check_csv(b'name,company,notes\nAnna,Acme,"one\n,two,three"\n') == []


def test_iter_csv_gives_each_row_its_line() -> None:
    data = b'name,notes\nAnna,"two\nlines"\n\n,no name\nBoris,\n'
    items = list(iter_csv(data))
    assert items == [
        Record(2, {**dict.fromkeys(CSV_COLUMNS), "name": "Anna", "notes": "two\nlines"}),
        RowError(5, "missing_name"),
        Record(6, {**dict.fromkeys(CSV_COLUMNS), "name": "Boris"}),
    ]


def test_iter_vcard_gives_each_card_its_line() -> None:
    data = b"BEGIN:VCARD\nFN:Anna\nEND:VCARD\n\nBEGIN:VCARD\nORG:X\nEND:VCARD\nBEGIN:VCARD\nFN:B\n"
    assert [(type(i).__name__, i.line) for i in iter_vcard(data)] == [
        ("Record", 1),
        ("RowError", 5),
        ("RowError", 8),
    ]
