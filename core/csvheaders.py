"""Which column of a contacts CSV holds what, when its header is not /export's own.

People import what they have: a spreadsheet with Russian headings ("Имя; Компания; Телефон"),
Google Contacts' export ("First Name", "Last Name", "Phone 1 - Value", "E-mail 1 - Value",
"Organization Name") or Outlook's ("Company", "Job Title", "Mobile Phone", "E-mail Address";
its "Title" is "Mr." or "Dr.", so a bare "Title" is not taken for the position).
:func:`plan` maps such a header onto /export's columns; a column named as /export names it
always wins, and the name may be put together from first, middle and last names. A file may
give several phone or e-mail columns (Google's "Phone 1 - Value", "Phone 2 - Value"; Outlook's
"Mobile Phone", "Business Phone", "Home Phone"): the best is read, :meth:`Plan.rest` gives the
others (core.exchange tells them, as it tells several values in one cell).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


def key(cell: str) -> str:
    """A heading as compared: lower case, every run of other characters one "_"."""
    return re.sub(r"[\W_]+", "_", cell.lstrip("\ufeff").strip().lower()).strip("_")


# other headings for /export's columns, in order of preference (the first non-empty cell wins:
# Outlook's "Mobile Phone" before "Business Phone" before "Home Phone")
ALIASES: dict[str, tuple[str, ...]] = {
    "name": (
        "full_name", "fullname", "display_name", "contact_name", "contact", "фио", "полное_имя",
        "имя_контакта", "контакт", "клиент", "имя",
    ),
    "company": (
        "organization_name", "organization_1_name", "organization", "organisation", "org",
        "company_name", "employer", "компания", "организация", "название_компании", "фирма",
        "работодатель",
    ),
    "position": (
        "job_title", "organization_title", "organization_1_title", "должность", "позиция",
    ),
    "phone": (
        "phone_1_value", "mobile_phone", "mobile", "cell", "phone_number", "telephone", "tel",
        "business_phone", "primary_phone", "business_phone_2", "company_main_phone",
        "home_phone", "home_phone_2", "other_phone", "phone_2_value", "телефон", "тел",
        "мобильный", "мобильный_телефон", "сотовый", "номер_телефона", "рабочий_телефон",
        "домашний_телефон",
    ),
    "email": (
        "e_mail", "e_mail_1_value", "email_address", "e_mail_address", "mail", "e_mail_2_value",
        "e_mail_2_address", "e_mail_3_address", "почта", "эл_почта", "электронная_почта",
        "емейл", "имейл",
    ),
    "tg_username": ("telegram", "telegram_username", "tg", "телеграм", "телеграмм"),
    "notes": (
        "note", "comment", "comments", "заметки", "заметка", "примечание", "примечания",
        "комментарий", "комментарии",
    ),
    "tags": ("теги", "метки"),
    "kind": ("b2b_b2c", "b2b_или_b2c"),
    "influence": ("buying_role", "роль_в_закупке", "роль_в_сделке"),
    "icp_fit": ("icp", "соответствие_icp"),
    "source": ("источник",),
    "status": ("статус",),
    "stage": ("этап",),
    "segment": ("сегмент",),
    "next_step": ("следующий_шаг",),
    "next_step_due": ("срок_следующего_шага", "когда_следующий_шаг"),
    "verified_at": ("verified", "дата_актуализации", "актуализирован", "актуализировано"),
    "created_at": (
        "created", "created_on", "created_date", "created_time", "date_created", "creation_date",
        "date_added", "added",
        "создан", "создана", "создано", "дата_создания", "добавлен", "добавлена", "добавлено",
        "дата_добавления",
    ),
}  # fmt: skip
# columns a file may give several of (Google's "Phone 1 - Value", "Phone 2 - Value"…, Outlook's
# "Mobile Phone", "Business Phone", "Home Phone"): the best one is the card's, the others are
# :meth:`Plan.rest` (told, as several values in one cell are); Google's further numbered ones
# ("Phone 3 - Value", "E-mail 3 - Value") come after the named ones, in their order
SEVERAL: dict[str, re.Pattern[str]] = {
    "phone": re.compile(r"phone_(\d+)_value"),
    "email": re.compile(r"e_mail_(\d+)_value"),
}
FIRST = ("first_name", "given_name", "firstname", "имя")
MIDDLE = ("middle_name", "additional_name", "отчество")
LAST = ("last_name", "family_name", "surname", "lastname", "фамилия")


@dataclass(frozen=True)
class Plan:
    """For each column taken: the indexes of the cells it is read from, best first; the name
    may instead be ``name_parts`` (first, middle, last), joined with spaces."""

    columns: dict[str, tuple[int, ...]]
    name_parts: tuple[int, ...] = ()
    # each column taken, as the file names it ("Этап", "Stage"): what messages about a cell say
    headings: dict[str, str] = field(default_factory=dict)

    @property
    def has_name(self) -> bool:
        return "name" in self.columns or bool(self.name_parts)

    @property
    def taken(self) -> tuple[str, ...]:
        """The columns the file has (the others stay empty)."""
        return (*self.columns, *(("name",) if self.name_parts else ()))

    def value(self, column: str, cells: Sequence[str]) -> str | None:
        """The first non-empty cell of ``column`` (as is; None when all are empty)."""
        if column == "name" and "name" not in self.columns:
            parts = [cells[i].strip() for i in self.name_parts if i < len(cells)]
            return " ".join(p for p in parts if p) or None
        return next(iter(self.given(column, cells)), None)

    def given(self, column: str, cells: Sequence[str]) -> list[str]:
        """Every non-empty cell of ``column`` (as is), best first."""
        return [
            cells[index]
            for index in self.columns.get(column, ())
            if index < len(cells) and cells[index].strip()
        ]

    def rest(self, column: str, cells: Sequence[str]) -> list[str]:
        """The non-empty cells of ``column`` after the one :meth:`value` reads (a second phone
        column, a second e-mail column)."""
        return self.given(column, cells)[1:] if column in SEVERAL else []


def plan(header: Sequence[str], columns: Sequence[str]) -> Plan:
    """Where each of ``columns`` (/export's) is read in a file with ``header``."""
    keys = [key(cell) for cell in header]
    where: dict[str, list[int]] = {}
    for index, k in enumerate(keys):
        where.setdefault(k, []).append(index)
    split_name = any(k in where for k in LAST)  # "Имя" beside "Фамилия" is the first name
    found: dict[str, tuple[int, ...]] = {}
    for column in columns:
        own = (where[column][0],) if column in where else ()  # as /export names it: first
        if own and column not in SEVERAL:
            found[column] = own
            continue
        aliases = ALIASES.get(column, ())
        if column == "name" and split_name:
            aliases = tuple(a for a in aliases if a not in FIRST)
        indexes = (*own, *(i for alias in aliases for i in where.get(alias, ())))
        if column in SEVERAL:
            numbered = sorted(
                (int(m.group(1)), i)
                for i, k in enumerate(keys)
                if (m := SEVERAL[column].fullmatch(k)) and i not in indexes
            )
            indexes = (*dict.fromkeys(indexes), *(i for _n, i in numbered))
        if indexes:
            found[column] = indexes
    parts: tuple[int, ...] = ()
    if "name" not in found:
        parts = tuple(
            next(i for k in group if k in where for i in where[k][:1])
            for group in (FIRST, MIDDLE, LAST)
            if any(k in where for k in group)
        )
    cells = [cell.lstrip("\ufeff").strip() for cell in header]
    headings = {column: cells[indexes[0]] for column, indexes in found.items()}
    if parts:
        headings["name"] = " + ".join(cells[i] for i in parts)
    return Plan(found, parts, headings)
