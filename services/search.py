"""/find through real text indexes: SQLite FTS5 (trigram) and PostgreSQL pg_trgm (GIN).

Both index the card's ``search_text`` (services.contacts.build_search_text: name, company,
position, e-mail, username, tags and phone digits, casefolded, with the Latin transliteration
of Cyrillic), so any piece of three characters or more is found through the index, on a
million cards as on ten. Migration 0010 creates the indexes; on SQLite an external-content
FTS5 table kept by triggers (every write of ``contacts.search_text``, whatever the code path,
bulk ``INSERT … SELECT`` imports included, updates it in the same transaction), on PostgreSQL a
GIN index, which the database keeps itself.

On PostgreSQL a rep's or a team's probe reads a trigram index of its own scope (migration
0023: each trigram keyed by the owner, and by the team), so a common piece costs the scope's
matches, not every rep's; an admin's reads the global one.

The text index always drives: the scope test is written so that no index on the card can
drive instead (``col + 0``), and each probe stops at a fixed number of candidates. A query
answered by many cards costs those candidates; a miss or a typo costs a few index pages, never
a scan of the scope's cards. Plans don't depend on statistics (ANALYZE or not).

Names that start with the query come first (tiers 0 and 1 below): they are read through a
B-tree that holds the scope's column before the text (``head_statement``), so a rep's cards
starting with "anna" are one index range however many cards other reps have. When those fill
the page, nothing else is read: the text index is asked only when fewer names start with the
query (a last name, a company, a typo, a miss). Cards that start with the query only in their
transliteration (a Cyrillic name found by its Latin spelling) are then not looked at; they rank
after the names typed in the query's own script anyway (their name key holds both scripts, so
it is longer, and closeness falls with length).

Ranking (core.contactdata.name_tier): the name itself first, then names that start with the
query, a word of the name that does, the query inside the name, elsewhere on the card; typos
last. Within a tier, the closer name (rapidfuzz) first.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.contactdata import (
    TRIGRAM,
    SearchQuery,
    name_tier,
    parse_query,
    search_key,
    typo_pieces,
)
from services.scope import Scope
from storage.models import Contact

FTS_TABLE = "contacts_fts"
CANDIDATES = 200  # rows one probe may read
PREFIX_CHARS = 64  # PostgreSQL's prefix B-tree holds the search text's first characters
TYPO_CANDIDATES = 300
TYPO_MIN_SCORE = 75

_fts = table(FTS_TABLE, column("rowid", Integer))
# what a probe reads of a candidate (ranking needs no more); the winners are loaded whole
HIT = (Contact.id, Contact.name, Contact.search_text, Contact.tags)


def on_sqlite(session: AsyncSession) -> bool:
    return session.bind is None or session.bind.dialect.name == "sqlite"


# Statements are built once per shape and run with bound parameters: building a statement
# and its cache key cost as much as running it (a /find ran 2–4 of them). The shape of a
# probe is the scope's kind, what is hidden, the database and the number of pieces; the
# scope's ids, the pieces and the ranges are the parameters (``Scope.params`` and the names
# below).
_USER = bindparam("scope_user", type_=Integer)
_TEAM = bindparam("scope_team", type_=Integer)


def _scope_where(kind: str, user: Any, team: Any) -> ColumnElement[bool]:
    """The scope's cards, written ``col + 0`` so that no index on the card drives the query."""
    if kind == "all":
        return true()
    if kind == "team":
        return or_(Contact.team_id + 0 == team, Contact.owner_id + 0 == user)
    return Contact.owner_id + 0 == user


def scope_condition(scope: Scope) -> ColumnElement[bool]:
    """The scope's cards, written ``col + 0`` so that no index on the card drives the query."""
    return _scope_where(scope.kind, scope.user_id, scope.team_id)


def visible(*, archived: bool, forgotten: bool) -> ColumnElement[bool]:
    """Archived and forgotten cards are found only when asked for. (Written through coalesce,
    so that no B-tree holding ``archived_at`` can be walked instead of the text index.)"""
    hidden = [
        col
        for col, shown in ((Contact.archived_at, archived), (Contact.forgotten_at, forgotten))
        if not shown
    ]
    if not hidden:
        return true()
    return func.coalesce(*hidden, hidden[0]).is_(None)


@dataclass(frozen=True)
class Where:
    """Which cards a search may return: the scope's kind and what it shows (a statement's
    shape), with the scope's ids as parameters."""

    kind: str
    archived: bool = False
    forgotten: bool = False

    def condition(self) -> ColumnElement[bool]:
        return _where(self.kind, self.archived, self.forgotten)


@functools.cache
def _where(kind: str, archived: bool, forgotten: bool) -> ColumnElement[bool]:
    return and_(_scope_where(kind, _USER, _TEAM), visible(archived=archived, forgotten=forgotten))


def _phrase(piece: str, *, start: bool) -> str:
    return ("^" if start else "") + '"' + piece.replace('"', '""') + '"'


def _like_pattern(piece: str, *, start: bool) -> str:
    escaped = piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%" if start else f"%{escaped}%"


def _prefix_range(prefix: Any, *, sqlite: bool = False, after: Any = None) -> ColumnElement[bool]:
    """The search text starts with ``prefix``, as a range on the B-tree of its first
    PREFIX_CHARS characters (ix_contacts_search_prefix, byte order): a text index can't anchor
    a prefix cheaply (FTS5 checks every document holding the text, pg_trgm rechecks every row),
    and a range, unlike a LIKE pattern, serves a bound parameter in a generic plan.
    ``prefix`` and ``after`` may be bound parameters (``after``: the range's end)."""
    # the numbers as literals: the expression must be the index's, not left(text, $1)
    chars = literal_column(str(PREFIX_CHARS))
    if sqlite:
        head: Any = func.substr(Contact.search_text, literal_column("1"), chars)
    else:
        head = func.left(Contact.search_text, chars).collate("C")
    return and_(head >= prefix, head < (_after(prefix) if after is None else after))


def _range_params(name: str, prefix: str) -> dict[str, str]:
    return {f"{name}_lo": prefix, f"{name}_hi": _after(prefix)}


def _bound_range(name: str, *, sqlite: bool) -> ColumnElement[bool]:
    lo, hi = bindparam(f"{name}_lo", type_=String), bindparam(f"{name}_hi", type_=String)
    return _prefix_range(lo, sqlite=sqlite, after=hi)


def head_statement(
    session: AsyncSession,
    scope: Scope,
    prefix: str,
    *,
    archived: bool = False,
    forgotten: bool = False,
    limit: int = CANDIDATES,
) -> Select[Any]:
    """:func:`_head` with its parameters bound (what a test compiles or explains)."""
    stmt, params = _head(on_sqlite(session), scope, prefix, archived, forgotten, limit)
    return stmt.params(params)


def _head(
    sqlite: bool, scope: Scope, prefix: str, archived: bool, forgotten: bool, limit: int
) -> tuple[Select[Any], dict[str, Any]]:
    params = {**scope.params, **_range_params("head", prefix)}
    return _head_statement(sqlite, scope.kind, archived, forgotten, limit), params


@functools.cache
def _head_statement(
    sqlite: bool, kind: str, archived: bool, forgotten: bool, limit: int
) -> Select[Any]:
    """Cards of the scope whose search text starts with a prefix (at most PREFIX_CHARS long),
    at most ``limit``: the scope's column and the text's head are one range of a B-tree. SQLite:
    ix_contacts_owner_search / ix_contacts_team_search (owner or team, archived_at, search_text;
    0004), for live cards; PostgreSQL: ix_contacts_owner_prefix / ix_contacts_team_prefix (owner
    or team, the text's first characters; 0022). An admin's, and on SQLite an archive search,
    read the global ix_contacts_search_prefix. One prefix a statement: a single range is a plan
    that does not depend on statistics."""
    hidden = visible(archived=archived, forgotten=forgotten)
    if kind == "all" or (sqlite and archived):
        cond = _bound_range("head", sqlite=sqlite)
        return select(*HIT).where(cond, _scope_where(kind, _USER, _TEAM), hidden).limit(limit)
    owned = Scope.bound_condition(kind)  # plain columns: the scope's index drives the range
    if sqlite:  # the full text is the index's third column, after archived_at
        live = Contact.archived_at.is_(None)
        rest = true() if forgotten else Contact.forgotten_at.is_(None)
        lo, hi = bindparam("head_lo", type_=String), bindparam("head_hi", type_=String)
        text_range = and_(Contact.search_text >= lo, Contact.search_text < hi)
        return select(*HIT).where(owned, live, text_range, rest).limit(limit)
    return select(*HIT).where(owned, _bound_range("head", sqlite=False), hidden).limit(limit)


def _after(prefix: str) -> str:
    """The least string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def probe_statement(
    session: AsyncSession,
    where: Where,
    groups: list[list[str]],
    *,
    start: bool = False,
    limit: int = CANDIDATES,
    scope: Scope | None = None,
) -> Select[Any]:
    """:func:`_probe_shape` with its parameters bound (what a test compiles or explains)."""
    stmt, params = _probe_shape(on_sqlite(session), where, groups, start=start, limit=limit)
    if scope is not None:
        params.update(scope.params)
    return stmt.params(params)


def _probe_shape(
    sqlite: bool,
    where: Where,
    groups: list[list[str]],
    *,
    start: bool = False,
    limit: int = CANDIDATES,
) -> tuple[Select[Any], dict[str, Any]]:
    """Cards whose search text holds every piece of one of the groups (or starts with the
    group's one piece: ``start``), at most ``limit``, through the text index: the statement
    (built once for its shape) and its parameters (without the scope's)."""
    groups = [list(dict.fromkeys(g)) for g in groups if g]
    params: dict[str, Any] = {}
    if any(all(len(p) < TRIGRAM for p in g) for g in groups):
        # one or two letters: no index can help; the scope's own (indexed) cards are read
        shape = tuple(len(g) for g in groups)
        for i, g in enumerate(groups):
            for j, p in enumerate(g):
                params[f"like_{i}_{j}"] = _like_pattern(p, start=start)
        return _short_statement(where, shape, limit), params
    if start and all(len(g) == 1 and len(g[0]) <= PREFIX_CHARS for g in groups):
        for i, g in enumerate(groups):
            params.update(_range_params(f"start_{i}", g[0]))
        return _start_statement(sqlite, where, len(groups), limit), params
    if sqlite:
        params["fts_query"] = " OR ".join(
            "(" + " AND ".join(_phrase(p, start=start) for p in g if len(p) >= TRIGRAM) + ")"
            for g in groups
        )
        return _fts_statement(where, limit), params
    shape_parts: list[tuple[str, int]] = []
    for i, g in enumerate(groups):
        if start and len(g) == 1 and len(g[0]) <= PREFIX_CHARS:
            params.update(_range_params(f"start_{i}", g[0]))
            shape_parts.append(("start", 1))
            continue
        pieces = [p for p in g if len(p) >= TRIGRAM]
        scoped = where.kind != "all" and all(_WORD_RUN.search(p) for p in pieces)
        for j, p in enumerate(pieces):
            params[f"like_{i}_{j}"] = _like_pattern(p, start=start)
            if scoped:  # the scope's index is asked for the piece's own trigrams
                params[f"piece_{i}_{j}"] = p
        shape_parts.append(("scoped" if scoped else "like", len(pieces)))
    return _trgm_statement(where, tuple(shape_parts), limit), params


# a piece holding three letters or digits in a row has trigrams of its own in pg_trgm's sense
# (an empty set of keys would match every card of the index)
_WORD_RUN = re.compile(r"[^\W_]{3}")


def _bound_like(i: int, j: int) -> ColumnElement[bool]:
    return Contact.search_text.like(bindparam(f"like_{i}_{j}", type_=String), escape="\\")


@functools.cache
def _short_statement(where: Where, shape: tuple[int, ...], limit: int) -> Select[Any]:
    cond = or_(*[and_(*[_bound_like(i, j) for j in range(n)]) for i, n in enumerate(shape)])
    return select(*HIT).where(where.condition(), cond).limit(limit)


@functools.cache
def _start_statement(sqlite: bool, where: Where, n: int, limit: int) -> Select[Any]:
    cond = or_(*[_bound_range(f"start_{i}", sqlite=sqlite) for i in range(n)])
    return select(*HIT).where(cond, where.condition()).limit(limit)


@functools.cache
def _fts_statement(where: Where, limit: int) -> Select[Any]:
    return (
        select(*HIT)
        .select_from(_fts)
        .join(Contact, Contact.id == _fts.c.rowid)
        .where(
            text(f"{FTS_TABLE} MATCH :fts_query").bindparams(bindparam("fts_query", type_=String)),
            where.condition(),
        )
        .limit(limit)
    )


@functools.cache
def _trgm_statement(where: Where, shape: tuple[tuple[str, int], ...], limit: int) -> Select[Any]:
    """Groups of pieces: each found through an index (``index``), then checked exactly
    (``exact``). Written as (any group's index condition) AND (any group's exact one), which
    is the same as any group's both, because a card holding a group's pieces holds their
    trigrams: so the index conditions are all the bitmap's, and only the cheap exact tests are
    evaluated on the rows (not ``scoped_trigrams`` of every candidate)."""
    index, exact = [], []
    for i, (mode, n) in enumerate(shape):
        if mode == "start":
            cond = _bound_range(f"start_{i}", sqlite=False)
            index.append(cond)
            exact.append(cond)
        elif mode == "scoped":
            index.append(_scoped_group(where.kind, i, n))
            text_ = Contact.search_text.concat(literal_column("''"))  # no index of its own
            exact.append(
                and_(
                    *[
                        text_.like(bindparam(f"like_{i}_{j}", type_=String), escape="\\")
                        for j in range(n)
                    ]
                )
            )
        else:
            cond = and_(*[_bound_like(i, j) for j in range(n)])
            index.append(cond)
            exact.append(cond)
    if all(mode != "scoped" for mode, _n in shape):
        return select(*HIT).where(or_(*index), where.condition()).limit(limit)
    return select(*HIT).where(or_(*index), or_(*exact), where.condition()).limit(limit)


def _scoped_group(kind: str, i: int, n: int) -> ColumnElement[bool]:
    """Cards of the scope whose text holds the trigrams of every piece of group ``i``, through
    the scope's own trigram index (migration 0023): the card's ``scoped_trigrams``, keyed by
    the owner (and, for a team, by the team too), hold all the pieces' ``piece_trigrams``."""

    def holds(column: Any, scope: Any) -> ColumnElement[bool]:
        keys: Any = None
        for j in range(n):
            piece = func.piece_trigrams(scope, bindparam(f"piece_{i}_{j}", type_=String))
            keys = piece if keys is None else keys.op("||")(piece)
        return func.scoped_trigrams(column, Contact.search_text).op("@>", return_type=Boolean)(keys)

    scoped = holds(Contact.owner_id, _USER)
    if kind == "team":
        scoped = or_(holds(Contact.team_id, _TEAM), scoped)
    return scoped


class _Search:
    """One /find: the session, the scope's parameters and what the search may return."""

    def __init__(self, session: AsyncSession, scope: Scope, where: Where) -> None:
        self.session = session
        self.sqlite = on_sqlite(session)
        self.scope_params = scope.params
        self.where = where

    async def rows(self, stmt: Select[Any], params: dict[str, Any]) -> list[Any]:
        params.update(self.scope_params)
        return list((await self.session.execute(stmt, params)).all())

    async def probe(
        self, groups: list[list[str]], *, start: bool = False, limit: int = CANDIDATES
    ) -> list[Any]:
        """Cards (id, name, search_text, tags) answering :func:`_probe_shape`; short pieces
        that the index could not look for are checked on the text."""
        stmt, params = _probe_shape(self.sqlite, self.where, groups, start=start, limit=limit)
        rows = await self.rows(stmt, params)
        if any(len(p) < TRIGRAM for g in groups for p in g):
            rows = [c for c in rows if any(all(p in c.search_text for p in g) for g in groups if g)]
        return rows

    async def exact(self, column: str, value: str, limit: int) -> list[Any]:
        """Cards whose phone or e-mail is ``value`` (its own index)."""
        return await self.rows(_exact_statement(column, self.where, limit), {"exact": value})


@functools.cache
def _exact_statement(column: str, where: Where, limit: int) -> Select[Any]:
    col = Contact.phone if column == "phone" else Contact.email
    return (
        select(*HIT).where(col == bindparam("exact", type_=String), where.condition()).limit(limit)
    )


_SERIAL = text("SET LOCAL max_parallel_workers_per_gather = 0")
_LOAD = select(Contact).where(Contact.id.in_(bindparam("ids", expanding=True)))


async def find(
    session: AsyncSession,
    scope: Scope,
    query: str,
    limit: int = 10,
    *,
    archived: bool = False,
    forgotten: bool = False,
) -> list[Contact]:
    """The cards of ``scope`` that answer ``query``, best first (see the module's doc)."""
    parsed = parse_query(query)
    if parsed is None:
        return []
    search = _Search(session, scope, Where(scope.kind, archived, forgotten))
    if not search.sqlite:
        # a search reads a few hundred rows and stops: starting parallel workers for its
        # bitmap scans cost more than they saved (typo p50 29 → 10 ms at a million cards)
        await session.execute(_SERIAL)
    head = None
    if parsed.kind == "text" and all(len(v) <= PREFIX_CHARS for v in parsed.variants):
        head = [
            _head(search.sqlite, scope, v, archived, forgotten, CANDIDATES) for v in parsed.variants
        ]
    return await _load(session, await _find_ids(search, parsed, limit, head))


async def _load(session: AsyncSession, ids: list[int]) -> list[Contact]:
    """The cards, whole, in the given order."""
    if not ids:
        return []
    cards = {c.id: c for c in await session.scalars(_LOAD, {"ids": ids})}
    return [cards[i] for i in ids if i in cards]


async def _find_ids(
    search: _Search,
    parsed: SearchQuery,
    limit: int,
    head: list[tuple[Select[Any], dict[str, Any]]] | None = None,
) -> list[int]:
    found: dict[int, Any] = {}

    def add(rows: list[Any]) -> None:
        for c in rows:
            found.setdefault(c.id, c)

    if parsed.kind == "phone":
        # the stored E.164 number first (its own index), then the digits anywhere
        add(await search.exact("phone", parsed.phone or "", limit))
        if len(found) < limit:
            add(await search.probe([list(parsed.variants)], limit=limit))
        return list(found)[:limit]
    if parsed.kind == "email":
        add(await search.exact("email", parsed.email or "", limit))
        if found:
            return list(found)[:limit]
    if parsed.kind in ("tag", "username"):
        rows = await search.probe([list(parsed.variants)])
        if parsed.kind == "tag":
            rows = [c for c in rows if f";{parsed.tag};" in (c.tags or "")]
        return [c.id for c in rows[:limit]]
    variants = parsed.variants
    starting: list[Any] | None = None
    if head is not None:
        # names that start with the query (the search text starts with the name): when they
        # fill the page, no other card can rank before them
        starting = [c for stmt, params in head for c in await search.rows(stmt, params)]
        starting = list({c.id: c for c in starting}.values())
        tiers = _tiers(starting, variants)
        if sum(tiers[c.name] <= 1 for c in starting) >= limit:
            return [c.id for c in _rank(starting, variants, limit)[:limit]]
    # the query's words anywhere, in any order (in either script) ...
    rows = await search.probe([v.split() for v in variants])
    add(rows)
    if len(rows) >= CANDIDATES:
        # ... and, when that many cards answer, those whose name starts with the query, so
        # that the best are among the candidates
        if starting is None:
            starting = await search.probe([[v] for v in variants], start=True)
        add(starting)
    if found:
        return [c.id for c in _rank(list(found.values()), variants, limit)[:limit]]
    return [c.id for c in (await _typos(search, variants, limit))[:limit]]


def _rank(rows: list[Any], variants: tuple[str, ...], limit: int) -> list[Any]:
    """By tier, then closeness (rapidfuzz's plain ratio to the name), name and id; closeness
    is computed only for the tiers that reach into the first ``limit``, and each once a name
    (the candidates of a common query share a few names)."""
    tiers = _tiers(rows, variants)
    ordered = sorted(tiers[c.name] for c in rows)
    cut = ordered[min(limit, len(ordered)) - 1] if ordered else 0
    closeness: dict[str, float] = {}

    def key(c: Any) -> tuple[int, float, str, int]:
        near = closeness.get(c.name)
        if near is None:
            name = search_key(c.name)
            near = closeness[c.name] = max(fuzz.ratio(v, name) for v in variants)  # not WRatio
        return tiers[c.name], -near, c.name.casefold(), c.id

    return sorted((c for c in rows if tiers[c.name] <= cut), key=key)


def _tiers(rows: list[Any], variants: tuple[str, ...]) -> dict[str, int]:
    """Each candidate name's tier (core.contactdata.name_tier), once a name."""
    tiers: dict[str, int] = {}
    for c in rows:
        if c.name not in tiers:
            tiers[c.name] = name_tier(c.name, variants)
    return tiers


async def _typos(search: _Search, variants: tuple[str, ...], limit: int) -> list[Any]:
    """Nothing matched as typed: cards sharing a word's head or tail (half a word first, then
    three letters), kept when rapidfuzz finds the query in their text with a score ≥ 75."""
    scored: dict[int, tuple[float, Any]] = {}
    tried: set[str] = set()
    for size in (None, TRIGRAM):
        pieces = sorted(typo_pieces(variants, size) - tried)
        if not pieces or len(scored) >= limit:
            break
        tried.update(pieces)
        for c in await search.probe([[p] for p in pieces], limit=TYPO_CANDIDATES):
            if c.id in scored:
                continue
            score = max(
                fuzz.partial_ratio(v, c.search_text, score_cutoff=TYPO_MIN_SCORE) for v in variants
            )
            if score >= TYPO_MIN_SCORE:
                scored[c.id] = (score, c)
    ranked = sorted(scored.values(), key=lambda t: (-t[0], t[1].name.casefold(), t[1].id))
    return [c for _, c in ranked]
