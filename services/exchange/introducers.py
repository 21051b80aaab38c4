"""Import: "introduced_by" given as the name or e-mail of another row of the same file, so that
a whole network comes in at once (who introduced whom), not only links to existing cards by id.

While the rows are staged, a row whose ``introduced_by`` names a row of the file gets a
placeholder (a negative number below ``-PLACEHOLDER``) in its staged ``introduced_by_id``, and
every line records what it became: an existing card (an update) or a new card (the line of its
staged row). When the whole file is staged, each placeholder is resolved: to the card's id, or
to ``-line`` of the new card's staged row, which the swap turns into the new card's id
(services.exchange.swap). A reference that names no imported row, or several different ones,
is left out and told in the preview — never silently dropped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.contactdata import normalize_email
from core.exchange import Record, RowError
from storage.models import ImportRow
from storage.uow import writing

PLACEHOLDER = 1 << 30  # staged placeholders are -(PLACEHOLDER + n); lines are far below it
UPDATE_BATCH = 500

Target = tuple[str, int]  # ("card", contact id) | ("row", the new card's staged line)


def _keys(value: str) -> list[str]:
    """How a row is named: by its e-mail and by its name (case and spaces ignored)."""
    keys = []
    email = normalize_email(value) if "@" in value else None
    if email:
        keys.append("e:" + email)
    name = " ".join(value.split()).casefold()
    if name:
        keys.append("n:" + name)
    return keys


@dataclass
class _Ref:
    line: int
    name: str | None
    text: str
    candidates: list[tuple[int, str]]  # (line, name) of the rows it may mean


@dataclass
class Introducers:
    records: Callable[[], Iterable[Record | RowError]]  # the file read again (the index)
    note: Callable[..., None]  # the stager's note(line, name, code, **details)
    index: dict[str, list[tuple[int, str]]] | None = None
    refs: list[_Ref] = field(default_factory=list)
    lines: dict[int, Target] = field(default_factory=dict)

    def _build(self) -> dict[str, list[tuple[int, str]]]:
        index: dict[str, list[tuple[int, str]]] = {}
        for item in self.records():
            if not isinstance(item, Record):
                continue
            name = (item.row.get("name") or "").strip()
            named = [name] + ([item.row["email"]] if item.row.get("email") else [])
            keys = {k for value in named for k in _keys(value)}
            if (ref := (item.row.get("id") or "").strip().removeprefix("#")).isdigit():
                keys.add(f"i:{int(ref)}")  # its id (an export's), as another row may give it
            for key in keys:
                index.setdefault(key, []).append((item.line, name))
        return index

    def refer(self, line: int, name: str | None, parsed: Any) -> None:
        """A row's ``introduced_by`` names another row: a placeholder, resolved at the end."""
        text = parsed.introduced_ref
        if self.index is None:  # read once, and only for a file that names introducers
            self.index = self._build()
        candidates: dict[int, str] = {}
        for key in _keys(text):
            for other, other_name in self.index.get(key, []):
                if other != line:
                    candidates[other] = other_name
        if not candidates:
            self.note(line, name, "introduced_by_unknown", value=text)
            return
        self.refs.append(_Ref(line, name, text, sorted(candidates.items())))
        parsed.fields["introduced_by_id"] = -(PLACEHOLDER + len(self.refs) - 1)

    def refer_id(self, line: int, name: str | None, parsed: Any, ref: int) -> bool:
        """A row's ``introduced_by`` is an id that is none of the uploader's cards: the row of
        the file with that id in its ``id`` column (an export imported into another account)
        gets a placeholder, as a name does. False when no other row has that id."""
        if self.index is None:
            self.index = self._build()
        candidates = {o: n for o, n in self.index.get(f"i:{ref}", []) if o != line}
        if not candidates:
            return False
        self.refs.append(_Ref(line, name, f"#{ref}", sorted(candidates.items())))
        parsed.fields["introduced_by_id"] = -(PLACEHOLDER + len(self.refs) - 1)
        return True

    def became(self, line: int, target: Target) -> None:
        self.lines[line] = target

    def _resolved(self) -> Iterator[tuple[int, int | None]]:
        """(placeholder, what the staged row gets: a card id, -line of a new card, or None)."""
        for n, ref in enumerate(self.refs):
            own = self.lines.get(ref.line)
            targets = {self.lines[c] for c, _name in ref.candidates if c in self.lines} - {own}
            value: int | None = None
            if len(targets) == 1:
                kind, key = targets.pop()
                value = key if kind == "card" else -key
            elif targets:
                matches = tuple((nm, -c) for c, nm in ref.candidates if c in self.lines)
                self.note(
                    ref.line, ref.name, "introduced_by_ambiguous", value=ref.text, matches=matches
                )
            else:
                self.note(ref.line, ref.name, "introduced_by_unknown", value=ref.text)
            yield -(PLACEHOLDER + n), value

    async def resolve(self, session: AsyncSession, import_id: int) -> None:
        """The placeholders of the staged rows replaced, a batch per short write block."""
        resolved = [
            {"b_import": import_id, "b_placeholder": placeholder, "b_value": value}
            for placeholder, value in self._resolved()
        ]
        table = ImportRow.__table__
        stmt = (
            update(table)
            .where(
                table.c.import_id == bindparam("b_import"),
                table.c.introduced_by_id == bindparam("b_placeholder"),
            )
            .values(introduced_by_id=bindparam("b_value"))
        )
        for start in range(0, len(resolved), UPDATE_BATCH):
            async with writing(session):
                await session.execute(stmt, resolved[start : start + UPDATE_BATCH])
