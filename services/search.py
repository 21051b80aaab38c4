"""/find through real text indexes: SQLite FTS5 (trigram) and PostgreSQL pg_trgm (GIN).

Both index the card's ``search_text`` (services.contacts.build_search_text: name, company,
position, e-mail, username, tags and phone digits, casefolded, with the Latin transliteration
of Cyrillic), so any piece of three characters or more is found through the index, on a
million cards as on ten. Migration 0010 creates the indexes; on SQLite an external-content
FTS5 table kept by triggers (every write of ``contacts.search_text``, whatever the code path,
bulk ``INSERT … SELECT`` imports included, updates it in the same transaction), on PostgreSQL a
GIN index, which the database keeps itself.

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

from typing import TYPE_CHECKING, Any

from rapidfuzz import fuzz
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
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
from core.roles import Role
from storage.models import Contact

if TYPE_CHECKING:
    from services.scope import Scope

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


def scope_condition(scope: Scope) -> ColumnElement[bool]:
    """The scope's cards, written ``col + 0`` so that no index on the card drives the query."""
    if scope.role is Role.ADMIN:
        return true()
    if scope.role is Role.MANAGER and scope.team_id is not None:
        return or_(Contact.team_id + 0 == scope.team_id, Contact.owner_id + 0 == scope.user_id)
    return Contact.owner_id + 0 == scope.user_id


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


def _phrase(piece: str, *, start: bool) -> str:
    return ("^" if start else "") + '"' + piece.replace('"', '""') + '"'


def _like(piece: str, *, start: bool) -> ColumnElement[bool]:
    escaped = piece.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return Contact.search_text.like(escaped + "%" if start else f"%{escaped}%", escape="\\")


def _prefix_range(prefix: str, *, sqlite: bool = False) -> ColumnElement[bool]:
    """The search text starts with ``prefix``, as a range on the B-tree of its first
    PREFIX_CHARS characters (ix_contacts_search_prefix, byte order): a text index can't anchor
    a prefix cheaply (FTS5 checks every document holding the text, pg_trgm rechecks every row),
    and a range, unlike a LIKE pattern, serves a bound parameter in a generic plan."""
    # the numbers as literals: the expression must be the index's, not left(text, $1)
    chars = literal_column(str(PREFIX_CHARS))
    if sqlite:
        head: Any = func.substr(Contact.search_text, literal_column("1"), chars)
    else:
        head = func.left(Contact.search_text, chars).collate("C")
    return and_(head >= prefix, head < _after(prefix))


def head_statement(
    session: AsyncSession,
    scope: Scope,
    prefix: str,
    *,
    archived: bool = False,
    forgotten: bool = False,
    limit: int = CANDIDATES,
) -> Select[Any]:
    """Cards of ``scope`` whose search text starts with ``prefix`` (at most PREFIX_CHARS long),
    at most ``limit``: the scope's column and the text's head are one range of a B-tree. SQLite:
    ix_contacts_owner_search / ix_contacts_team_search (owner or team, archived_at, search_text;
    0004), for live cards; PostgreSQL: ix_contacts_owner_prefix / ix_contacts_team_prefix (owner
    or team, the text's first characters; 0022). An admin's, and on SQLite an archive search,
    read the global ix_contacts_search_prefix. One prefix a statement: a single range is a plan
    that does not depend on statistics."""
    sqlite = on_sqlite(session)
    hidden = visible(archived=archived, forgotten=forgotten)
    if scope.role is Role.ADMIN or (sqlite and archived):
        cond = _prefix_range(prefix, sqlite=sqlite)
        return select(*HIT).where(cond, scope_condition(scope), hidden).limit(limit)
    owned = scope.condition()  # plain columns: the scope's index drives the range
    if sqlite:  # the full text is the index's third column, after archived_at
        live = Contact.archived_at.is_(None)
        rest = true() if forgotten else Contact.forgotten_at.is_(None)
        text_range = and_(Contact.search_text >= prefix, Contact.search_text < _after(prefix))
        return select(*HIT).where(owned, live, text_range, rest).limit(limit)
    return select(*HIT).where(owned, _prefix_range(prefix), hidden).limit(limit)


def _after(prefix: str) -> str:
    """The least string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def probe_statement(
    session: AsyncSession,
    where: ColumnElement[bool],
    groups: list[list[str]],
    *,
    start: bool = False,
    limit: int = CANDIDATES,
) -> Select[Any]:
    """Cards whose search text holds every piece of one of the groups (or starts with the
    group's one piece: ``start``), at most ``limit``, through the text index."""
    groups = [list(dict.fromkeys(g)) for g in groups if g]
    if any(all(len(p) < TRIGRAM for p in g) for g in groups):
        # one or two letters: no index can help; the scope's own (indexed) cards are read
        def like(p: str) -> ColumnElement[bool]:
            return Contact.search_text.like(f"{p}%" if start else f"%{p}%")

        cond = or_(*[and_(*[like(p) for p in g]) for g in groups])
        return select(*HIT).where(where, cond).limit(limit)
    if start and all(len(g) == 1 and len(g[0]) <= PREFIX_CHARS for g in groups):
        sqlite = on_sqlite(session)
        cond = or_(*[_prefix_range(g[0], sqlite=sqlite) for g in groups])
        return select(*HIT).where(cond, where).limit(limit)
    if on_sqlite(session):
        expr = " OR ".join(
            "(" + " AND ".join(_phrase(p, start=start) for p in g if len(p) >= TRIGRAM) + ")"
            for g in groups
        )
        stmt = (
            select(*HIT)
            .select_from(_fts)
            .join(Contact, Contact.id == _fts.c.rowid)
            .where(text(f"{FTS_TABLE} MATCH :fts_query").bindparams(fts_query=expr), where)
        )
    else:
        conds = []
        for g in groups:
            if start and len(g) == 1 and len(g[0]) <= PREFIX_CHARS:
                conds.append(_prefix_range(g[0]))
            else:
                conds.append(and_(*[_like(p, start=start) for p in g if len(p) >= TRIGRAM]))
        stmt = select(*HIT).where(or_(*conds), where)
    return stmt.limit(limit)


async def _probe(
    session: AsyncSession,
    where: ColumnElement[bool],
    groups: list[list[str]],
    *,
    start: bool = False,
    limit: int = CANDIDATES,
) -> list[Any]:
    """Cards (id, name, search_text, tags) answering :func:`probe_statement`; short pieces that
    the index could not look for are checked on the text."""
    stmt = probe_statement(session, where, groups, start=start, limit=limit)
    rows = list((await session.execute(stmt)).all())
    if any(len(p) < TRIGRAM for g in groups for p in g):
        rows = [c for c in rows if any(all(p in c.search_text for p in g) for g in groups if g)]
    return rows


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
    where = and_(scope_condition(scope), visible(archived=archived, forgotten=forgotten))
    head = None
    if parsed.kind == "text" and all(len(v) <= PREFIX_CHARS for v in parsed.variants):
        head = [
            head_statement(session, scope, v, archived=archived, forgotten=forgotten)
            for v in parsed.variants
        ]
    return await _load(session, await _find_ids(session, where, parsed, limit, head))


async def _load(session: AsyncSession, ids: list[int]) -> list[Contact]:
    """The cards, whole, in the given order."""
    if not ids:
        return []
    cards = {c.id: c for c in await session.scalars(select(Contact).where(Contact.id.in_(ids)))}
    return [cards[i] for i in ids if i in cards]


async def _find_ids(
    session: AsyncSession,
    where: ColumnElement[bool],
    parsed: SearchQuery,
    limit: int,
    head: list[Select[Any]] | None = None,
) -> list[int]:
    found: dict[int, Any] = {}

    def add(rows: list[Any]) -> None:
        for c in rows:
            found.setdefault(c.id, c)

    if parsed.kind == "phone":
        # the stored E.164 number first (its own index), then the digits anywhere
        exact = select(*HIT).where(Contact.phone == parsed.phone, where).limit(limit)
        add(list((await session.execute(exact)).all()))
        if len(found) < limit:
            add(await _probe(session, where, [list(parsed.variants)], limit=limit))
        return list(found)[:limit]
    if parsed.kind == "email":
        exact = select(*HIT).where(Contact.email == parsed.email, where).limit(limit)
        add(list((await session.execute(exact)).all()))
        if found:
            return list(found)[:limit]
    if parsed.kind in ("tag", "username"):
        rows = await _probe(session, where, [list(parsed.variants)])
        if parsed.kind == "tag":
            rows = [c for c in rows if f";{parsed.tag};" in (c.tags or "")]
        return [c.id for c in rows[:limit]]
    variants = parsed.variants
    starting: list[Any] | None = None
    if head is not None:
        # names that start with the query (the search text starts with the name): when they
        # fill the page, no other card can rank before them
        starting = [c for stmt in head for c in (await session.execute(stmt)).all()]
        starting = list({c.id: c for c in starting}.values())
        tiers = _tiers(starting, variants)
        if sum(tiers[c.name] <= 1 for c in starting) >= limit:
            return [c.id for c in _rank(starting, variants, limit)[:limit]]
    # the query's words anywhere, in any order (in either script) ...
    rows = await _probe(session, where, [v.split() for v in variants])
    add(rows)
    if len(rows) >= CANDIDATES:
        # ... and, when that many cards answer, those whose name starts with the query, so
        # that the best are among the candidates
        if starting is None:
            starting = await _probe(session, where, [[v] for v in variants], start=True)
        add(starting)
    if found:
        return [c.id for c in _rank(list(found.values()), variants, limit)[:limit]]
    return [c.id for c in (await _typos(session, where, variants, limit))[:limit]]


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


async def _typos(
    session: AsyncSession, where: ColumnElement[bool], variants: tuple[str, ...], limit: int
) -> list[Any]:
    """Nothing matched as typed: cards sharing a word's head or tail (half a word first, then
    three letters), kept when rapidfuzz finds the query in their text with a score ≥ 75."""
    scored: dict[int, tuple[float, Any]] = {}
    tried: set[str] = set()
    for size in (None, TRIGRAM):
        pieces = sorted(typo_pieces(variants, size) - tried)
        if not pieces or len(scored) >= limit:
            break
        tried.update(pieces)
        for c in await _probe(session, where, [[p] for p in pieces], limit=TYPO_CANDIDATES):
            if c.id in scored:
                continue
            score = max(
                fuzz.partial_ratio(v, c.search_text, score_cutoff=TYPO_MIN_SCORE) for v in variants
            )
            if score >= TYPO_MIN_SCORE:
                scored[c.id] = (score, c)
    ranked = sorted(scored.values(), key=lambda t: (-t[0], t[1].name.casefold(), t[1].id))
    return [c for _, c in ranked]
