"""Contacts CSVs with other headings than /export's: Russian spreadsheets, Google Contacts and
Outlook exports are read column by column as people expect (core.csvheaders)."""

from __future__ import annotations

from core.exchange import read_csv


def rows_of(text: str, encoding: str = "utf-8") -> list[dict[str, str | None]]:
    rows, errors = read_csv(text.encode(encoding))
    assert errors == []
    return rows


def test_a_russian_spreadsheet_with_semicolons_and_cp1251() -> None:
    [anna, boris] = rows_of(
        "Имя;Компания;Должность;Телефон;Эл. почта;Комментарий\n"
        "Анна Ким;Ромашка;CTO;+7 916 111 22 33;anna@romashka.ru;с выставки\n"
        "Борис Лебедев;Альфа;;89162223344;;\n",
        "cp1251",
    )
    assert (anna["name"], anna["company"], anna["position"]) == ("Анна Ким", "Ромашка", "CTO")
    assert (anna["phone"], anna["email"], anna["notes"]) == (
        "+7 916 111 22 33",
        "anna@romashka.ru",
        "с выставки",
    )
    assert (boris["name"], boris["phone"], boris["email"]) == ("Борис Лебедев", "89162223344", None)


def test_first_middle_and_last_names_make_the_name() -> None:
    [row, only_last] = rows_of(
        "Фамилия,Имя,Отчество,Организация\nПетров,Иван,Сергеевич,Ромашка\nСидоров,,,\n"
    )
    assert (row["name"], row["company"]) == ("Иван Сергеевич Петров", "Ромашка")
    assert only_last["name"] == "Сидоров"


def test_a_google_contacts_export() -> None:
    [row] = rows_of(
        "First Name,Middle Name,Last Name,Nickname,Organization Name,Organization Title,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,Notes,Labels\n"
        "Anna,,Smirnova,Ann,Acme,CFO,* Work,anna@acme.io,Mobile,+7 999 123-45-67,met in Kazan,"
        "* myContacts\n"
    )
    assert (row["name"], row["company"], row["position"]) == ("Anna Smirnova", "Acme", "CFO")
    assert (row["email"], row["phone"], row["notes"]) == (
        "anna@acme.io",
        "+7 999 123-45-67",
        "met in Kazan",
    )
    assert row["tags"] is None  # Google's labels ("* myContacts") are not our tags


def test_an_outlook_export_takes_the_first_phone_given_and_not_the_honorific() -> None:
    [row, second] = rows_of(
        "Title,First Name,Last Name,Company,Job Title,E-mail Address,Mobile Phone,"
        "Business Phone,Home Phone\n"
        "Dr.,Boris,Orlov,Globex,Head of IT,boris@globex.com,,+1 212 555 0100,+1 212 555 0199\n"
        "Mr.,Carl,Ivanov,,,,+1 917 555 0101,+1 212 555 0102,\n"
    )
    assert (row["name"], row["position"], row["phone"]) == (
        "Boris Orlov",
        "Head of IT",
        "+1 212 555 0100",  # no mobile: the business phone, before the home one
    )
    assert (second["position"], second["phone"]) == (None, "+1 917 555 0101")


def test_our_own_headings_win_over_another_name_for_the_same_column() -> None:
    [row] = rows_of("name,ФИО,phone,Телефон\nAnna,Анна Ким,+7 1,+7 2\n")
    assert (row["name"], row["phone"]) == ("Anna", "+7 1")


def test_still_no_name_anywhere_is_said_as_before() -> None:
    rows, errors = read_csv("Компания;Телефон\nРомашка;+7 916\n".encode())
    assert rows == [] and [e.reason for e in errors] == ["no_header"]
