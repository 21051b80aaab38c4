"""/find through the text indexes (SQLite FTS5 trigram, PostgreSQL pg_trgm), on both backends.

The new search must find what the LIKE-based one found: on a generated set of cards (the bench's
names, companies, phones, e-mails, tags), every query kind of bench/bench_contacts.py finds a
superset of what the old search found, and the card a query was made from whenever the old one
showed it. Ranking, archived and forgotten cards, the index kept in step with every write, and
query plans that do not depend on ANALYZE are tested too.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from rapidfuzz import fuzz
from sqlalchemy import Select, insert, or_, select, text, update

from bench import bench_contacts as bench
from core.contactdata import digits_only, normalize_tag, query_variants, search_key
from core.roles import Role
from services import contacts as svc
from services import search as search_engine
from storage.db import create_engine, create_session_factory
from storage.migrate import upgrade
from storage.models import Contact, Team, User
from storage.uow import writing
from tests.services import create_pg_database, drop_pg_database

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
N_CARDS = 700
pytestmark = pytest.mark.asyncio(loop_scope="module")


# ----------------------------------------------------------- the LIKE search, as it was
async def old_search(session, scope: svc.Scope, query: str, limit: int = 10) -> list[Contact]:
    """services.contacts.search before the text indexes (LIKE over the scope's cards)."""
    q = " ".join(query.split())
    if not q:
        return []
    base = select(Contact).where(scope.condition(), Contact.archived_at.is_(None))
    digits = digits_only(q)
    tag = None
    if len(digits) >= 5 and len(digits) >= len(q.replace(" ", "")) * 0.6:
        variants, kind = [digits[-10:]], "phone"
    elif q.startswith("#"):
        tag = normalize_tag(q)
        variants, kind = ([tag] if tag else []), "tag"
    elif q.startswith("@"):
        variants, kind = [q[1:].casefold()], "username"
    else:
        variants, kind = query_variants(q), "text"
    if not variants:
        return []
    probe = base.where(or_(*[Contact.search_text.like(f"%{v}%") for v in variants]))
    rows = list(await session.scalars(probe.limit(limit * 5)))
    if tag is not None:
        rows = [c for c in rows if tag in svc.tag_list(c.tags)]
    if not rows and kind == "text":
        pieces = {p for v in variants for w in v.split() if len(w) >= 4 for p in (w[:3], w[-3:])}
        if pieces:
            probe = base.where(or_(*[Contact.search_text.like(f"%{p}%") for p in pieces]))
            scored = []
            for c in await session.scalars(probe.limit(300)):
                score = max(fuzz.partial_ratio(v, c.search_text) for v in variants)
                if score >= 75:
                    scored.append((score, c))
            scored.sort(key=lambda t: -t[0])
            rows = [c for _, c in scored]
    if kind != "text":
        return rows[:limit]
    return sorted(rows, key=lambda c: -max(fuzz.WRatio(v, search_key(c.name)) for v in variants))[
        :limit
    ]


# ------------------------------------------------------------------------- the data set
def card_rows(rng: random.Random, owners: list[tuple[int, int]], n: int) -> list[dict[str, Any]]:
    rows = []
    for cid in range(1, n + 1):
        owner, team = owners[0] if rng.random() < 0.4 else rng.choice(owners[1:])
        name = bench._name(rng)
        row: dict[str, Any] = {
            "id": cid,
            "owner_id": owner,
            "team_id": team,
            "name": name,
            "company": (
                f"{rng.choice(bench.COMPANY_WORDS)} {rng.choice(bench.COMPANY_KINDS)}"
                if rng.random() < 0.7
                else None
            ),
            "position": rng.choice(bench.POSITIONS) if rng.random() < 0.5 else None,
            "phone": f"+79{rng.randrange(10**9):09d}" if rng.random() < 0.8 else None,
            "email": f"{bench._email_local(name, cid)}@example.com" if rng.random() < 0.6 else None,
            "tg_username": f"user{cid}_{rng.randrange(1000)}" if rng.random() < 0.3 else None,
            "tags": svc.join_tags(rng.sample(bench.TAGS, rng.randrange(0, 3))),
            "status": "contact",
            "stage": "identification",
            "icp_fit": "unknown",
            "created_at": NOW,
            "updated_at": NOW,
            "verified_at": NOW,
            "archived_at": NOW if rng.random() < 0.03 else None,
        }
        row["search_text"] = svc.build_search_text(SimpleNamespace(**row))  # type: ignore[arg-type]
        rows.append(row)
    return rows


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["sqlite", "postgresql"])
async def seeded(request, tmp_path_factory):
    name = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('search') / 'bot.db'}"
    else:
        url, name = await create_pg_database()
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with create_session_factory(engine)() as s, writing(s):
            s.add_all(
                [Team(id=1, name="North", created_at=NOW), Team(id=2, name="South", created_at=NOW)]
            )
            await s.flush()
            for uid in range(1, 6):
                s.add(
                    User(
                        id=uid, tg_id=100 + uid, first_name=f"Rep{uid}", role="rep",
                        team_id=1 + uid % 2, created_at=NOW, last_seen_at=NOW,
                    )
                )  # fmt: skip
            await s.flush()
            owners = [(uid, 1 + uid % 2) for uid in range(1, 6)]
            # a bulk INSERT (no ORM objects): the triggers index these cards too
            await s.execute(insert(Contact), card_rows(random.Random(5), owners, N_CARDS))
        if request.param == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(
                    text("SELECT setval('contacts_id_seq', (SELECT max(id) FROM contacts))")
                )
        yield engine
    finally:
        await engine.dispose()
        if name is not None:
            await drop_pg_database(name)


@pytest_asyncio.fixture(loop_scope="module")
async def session(seeded):
    async with create_session_factory(seeded)() as s:
        yield s
        await s.rollback()


REP = svc.Scope(1, Role.REP, 2)
ADMIN = svc.Scope(0, Role.ADMIN, None)
MANAGER = svc.Scope(3, Role.MANAGER, 2)


async def bench_queries(session, n: int = 200) -> list[tuple[str, str, int]]:
    rng = random.Random(11)
    sample = list(
        await session.scalars(
            select(Contact)
            .where(Contact.owner_id == REP.user_id, Contact.archived_at.is_(None))
            .order_by(Contact.id)
        )
    )
    return bench.queries_for(sample, rng, n)


# ----------------------------------------------------------------------------- the tests
@pytest.mark.parametrize("scope", [REP, MANAGER, ADMIN], ids=["rep", "manager", "admin"])
async def test_finds_what_the_like_search_found(session, scope, monkeypatch) -> None:
    """Every query kind of the bench: with room for every match, the new search finds a
    superset of the old one's cards; and at the default 10 results, the card a query was made
    from whenever the old search found it among at most 10 (more are an arbitrary cut)."""
    queries = await bench_queries(session)
    assert {k for k, _, _ in queries} >= {"full name", "typo", "phone as typed", "company"}
    shown = 0
    for kind, q, card in queries:
        old_all = {c.id for c in await old_search(session, scope, q, limit=10_000)}
        if card in old_all and len(old_all) <= 10:
            shown += 1
            assert card in {c.id for c in await svc.search(session, scope, q)}, (kind, q)
    assert shown >= 50
    monkeypatch.setattr(search_engine, "CANDIDATES", 10_000)
    monkeypatch.setattr(search_engine, "TYPO_CANDIDATES", 10_000)
    for kind, q, _card in queries:
        old = {c.id for c in await old_search(session, scope, q, limit=10_000)}
        new = {c.id for c in await svc.search(session, scope, q, limit=10_000)}
        assert old <= new, (kind, q, sorted(old - new))


async def test_typos_and_scripts(session) -> None:
    card = await session.scalar(
        select(Contact).where(Contact.owner_id == 1, Contact.name.like("% %ова"))
    )
    assert card is not None
    first, last = card.name.split()
    typo = last[:3] + last[4:]  # a letter dropped
    assert card.id in {c.id for c in await svc.search(session, REP, f"{first} {typo}", limit=50)}
    latin = search_key(card.name).split(" ", 2)[-1]  # the transliteration
    assert card.id in {c.id for c in await svc.search(session, REP, latin, limit=200)}


async def test_ranking_exact_then_prefix_then_word_then_fuzzy(session) -> None:
    names = ["Zed Annabel", "Annabel Lee", "Annabel", "Maria Annabella", "Anabel Wu"]
    async with writing(session):
        for _i, name in enumerate(names):
            await svc.create(
                session, owner=await session.get(User, 3), data={"name": name}, now=NOW
            )
    scope = svc.Scope(3, Role.REP, 2)
    found = [c.name for c in await svc.search(session, scope, "annabel")]
    assert found[:4] == ["Annabel", "Annabel Lee", "Maria Annabella", "Zed Annabel"] or found[
        :4
    ] == ["Annabel", "Annabel Lee", "Zed Annabel", "Maria Annabella"]
    # a typo finds the closest only when nothing matches as typed
    assert [c.name for c in await svc.search(session, scope, "anabel")][:1] == ["Anabel Wu"]
    assert "Annabel" in [c.name for c in await svc.search(session, scope, "annabl")]


async def test_archived_and_forgotten_only_when_asked(session) -> None:
    rep = await session.get(User, 3)
    scope = svc.Scope(3, Role.REP, 2)
    async with writing(session):
        kept = await svc.create(session, owner=rep, data={"name": "Quentin Oddname"}, now=NOW)
        gone = await svc.create(session, owner=rep, data={"name": "Quentin Oddname II"}, now=NOW)
        forgotten = await svc.create(
            session, owner=rep, data={"name": "Quentin Oddname III"}, now=NOW
        )
        await svc.archive(session, gone, rep, NOW)
        await session.execute(
            update(Contact).where(Contact.id == forgotten.id).values(forgotten_at=NOW)
        )
    ids = {c.id for c in await svc.search(session, scope, "oddname")}
    assert ids == {kept.id}
    ids = {c.id for c in await svc.search(session, scope, "oddname", archived=True)}
    assert ids == {kept.id, gone.id}
    ids = {c.id for c in await svc.search(session, scope, "oddname", archived=True, forgotten=True)}
    assert ids == {kept.id, gone.id, forgotten.id}


async def test_the_index_follows_every_write(session) -> None:
    rep = await session.get(User, 3)
    scope = svc.Scope(3, Role.REP, 2)
    async with writing(session):
        card = await svc.create(session, owner=rep, data={"name": "Wilhelmina Xylo"}, now=NOW)
    assert [c.id for c in await svc.search(session, scope, "xylo")] == [card.id]
    async with writing(session):
        await svc.change(session, card, actor=rep, now=NOW, name="Wilhelmina Yarrow")
    assert await svc.search(session, scope, "xylo") == []
    assert [c.id for c in await svc.search(session, scope, "yarrow")] == [card.id]
    # an import's INSERT … SELECT, outside the services: the trigger indexes it
    async with writing(session):
        await session.execute(
            text(
                "INSERT INTO contacts (owner_id, team_id, name, status, stage, icp_fit, tags, "
                "search_text, created_at, updated_at, verified_at) SELECT owner_id, team_id, "
                "'Imported Zanzibar', status, stage, icp_fit, '', 'imported zanzibar', "
                "created_at, updated_at, verified_at FROM contacts WHERE id = :id"
            ),
            {"id": card.id},
        )
    assert [c.name for c in await svc.search(session, scope, "zanzibar")] == ["Imported Zanzibar"]
    async with writing(session):
        await session.execute(text("DELETE FROM contacts WHERE name = 'Imported Zanzibar'"))
    assert await svc.search(session, scope, "zanzibar") == []


async def test_phone_and_email_by_their_stored_value(session) -> None:
    card = await session.scalar(
        select(Contact).where(
            Contact.owner_id == 1, Contact.phone.is_not(None), Contact.email.is_not(None)
        )
    )
    phone = card.phone  # +7XXXXXXXXXX
    typed = f"+7 ({phone[2:5]}) {phone[5:8]}-{phone[8:10]}-{phone[10:]}"
    assert [c.id for c in await svc.search(session, REP, typed)][:1] == [card.id]
    assert card.id in {c.id for c in await svc.search(session, REP, phone[-7:])}
    assert [c.id for c in await svc.search(session, REP, card.email.upper())][:1] == [card.id]
    # another rep's card is not found by its phone
    assert await svc.search(session, svc.Scope(3, Role.REP, 2), typed) == [] or all(
        c.owner_id == 3 for c in await svc.search(session, svc.Scope(3, Role.REP, 2), typed)
    )


# ------------------------------------------------------------------------------ the plans
async def plan(session, stmt: Select) -> str:
    compiled = stmt.compile(session.bind, compile_kwargs={"literal_binds": True})
    if search_engine.on_sqlite(session):
        rows = await session.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        return "\n".join(str(r[-1]) for r in rows.all())
    rows = await session.execute(text(f"EXPLAIN {compiled}"))
    return "\n".join(r[0] for r in rows.all())


async def test_the_text_index_drives_before_and_after_analyze(session) -> None:
    """Every scope: the probe reads the text index and the cards by primary key, whether or not
    the database has statistics."""
    statements = []
    for scope in (REP, MANAGER, ADMIN):
        where = search_engine.Where(scope.kind)
        for groups, start in (
            ([["anna"]], True),
            ([["anna", "smith"], ["анна", "смит"]], False),
            ([["smi"], ["ova"]], False),
        ):
            statements.append(
                search_engine.probe_statement(session, where, groups, start=start, scope=scope)
            )
    before = [await plan(session, s) for s in statements]
    if search_engine.on_sqlite(session):
        for i, p in enumerate(before):
            if i % 3 == 0:  # names that start with the query
                assert "ix_contacts_search_prefix" in p, p
                continue
            assert "VIRTUAL TABLE INDEX" in p and "contacts_fts" in p, p
            assert "PRIMARY KEY" in p, p
        await session.execute(text("ANALYZE"))
        await session.commit()
        after = [await plan(session, s) for s in statements]
        assert after == before
    else:
        # a small table may be read whole; without that choice, the GIN index is the way in
        # a search reads a few hundred rows and stops: parallel workers for its bitmap scans
        # cost more than they save (bench/README), so its read transaction turns them off
        await session.rollback()
        before = await session.scalar(text("SHOW max_parallel_workers_per_gather"))
        await svc.search(session, REP, "smi")
        assert before != "0"
        assert await session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        await session.rollback()  # SET LOCAL: the next transaction has the server's setting
        assert await session.scalar(text("SHOW max_parallel_workers_per_gather")) == before
        await session.execute(text("SET LOCAL enable_seqscan = off"))
        for analyzed in (False, True):
            if analyzed:
                await session.execute(text("ANALYZE contacts"))
            # a rep's pieces through the rep's own trigrams (0023), a manager's through the
            # team's and their own, an admin's through the global index
            for s in statements[1:3]:
                p = await plan(session, s)
                assert "ix_contacts_owner_trgm" in p, p
                assert "ix_contacts_search_trgm" not in p, p
            for s in statements[4:6]:
                p = await plan(session, s)
                assert "ix_contacts_team_trgm" in p and "ix_contacts_owner_trgm" in p, p
                assert "ix_contacts_search_trgm" not in p, p
            for s in statements[7:9]:
                assert "ix_contacts_search_trgm" in await plan(session, s)
            for s in statements[0::3]:  # names that start with the query
                assert "ix_contacts_search_prefix" in await plan(session, s)


async def test_prefix_probe_names_the_indexed_expression() -> None:
    """The prefix B-tree is on left(search_text, 64): the length must be in the SQL as a
    literal (a bound $n makes another expression, and a sequential scan of every card)."""
    from sqlalchemy.dialects import postgresql, sqlite

    sql = str(search_engine._prefix_range("anna").compile(dialect=postgresql.dialect()))
    assert "left(contacts.search_text, 64)" in sql, sql
    sql = str(search_engine._prefix_range("anna", sqlite=True).compile(dialect=sqlite.dialect()))
    assert "substr(contacts.search_text, 1, 64)" in sql, sql


async def test_names_that_fill_the_page_are_read_alone(session, monkeypatch) -> None:
    """When names starting with the query fill the page, the search reads them alone (one
    B-tree range of the scope) and shows what the full search over every card shows."""
    rep = await session.get(User, 4)
    scope = svc.Scope(4, Role.REP, 1)
    async with writing(session):
        for name in [
            "Zorava Lee",
            "Zorava",
            "Zorava Kim",
            "Зорава Ли",
            "Zoravanna Hill",
            "Ada Zorava",
        ] + [f"Zorava Surname{i}" for i in range(10)]:
            await svc.create(session, owner=rep, data={"name": name}, now=NOW)
    for query in ("zorava", "Zorava Lee", "зорава"):
        fast = [c.id for c in await svc.search(session, scope, query)]
        heads = (
            await session.execute(search_engine.head_statement(session, scope, "zorava"))
        ).all()
        assert len(heads) >= 10
        monkeypatch.setattr(search_engine, "PREFIX_CHARS", 0)  # no head probe: the words anywhere
        full = [c.id for c in await svc.search(session, scope, query)]
        monkeypatch.undo()
        assert fast == full, query


@pytest.mark.parametrize("scope", [REP, MANAGER], ids=["rep", "manager"])
async def test_names_starting_with_the_query_read_the_scope_index(session, scope) -> None:
    for archived in (False, True):
        stmt = search_engine.head_statement(session, scope, "anna", archived=archived)
        p = await plan(session, stmt)
        if search_engine.on_sqlite(session):
            if archived:  # an archive search reads the global prefix B-tree
                assert "ix_contacts_search_prefix" in p, p
                continue
            name = "ix_contacts_owner_search" if scope is REP else "ix_contacts_team_search"
            assert name in p and "search_text>? AND search_text<?" in p.replace("=", ""), p
        else:
            # with statistics (a live database has them): on 700 cards every owner index costs
            # the same without, at a million the range's is the cheapest either way
            await session.execute(text("ANALYZE contacts"))
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            p = await plan(session, stmt)
            if scope is REP:
                assert "ix_contacts_owner_prefix" in p, p
            else:  # the team's range, or (a team holding most cards) the global one
                assert "ix_contacts_team_prefix" in p or "ix_contacts_search_prefix" in p, p


@pytest.mark.parametrize("scope", [REP, MANAGER, ADMIN], ids=["rep", "manager", "admin"])
async def test_a_piece_anywhere_is_found_exactly(session, scope) -> None:
    """Any piece of a card's text (inside a word, across a space, a dot or an @, in either
    script) finds exactly the scope's cards whose text holds it: PostgreSQL reads a rep's and
    a team's pieces through the scope's own trigram index (0023), SQLite through FTS5."""
    cards = list(
        await session.execute(
            select(Contact.id, Contact.search_text).where(
                scope.condition(), Contact.archived_at.is_(None), Contact.forgotten_at.is_(None)
            )
        )
    )
    rng = random.Random(23)
    pieces = []
    while len(pieces) < 120:
        doc = rng.choice(cards).search_text
        size = rng.randrange(3, 9)
        if len(doc) > size:
            at = rng.randrange(0, len(doc) - size)
            piece = doc[at : at + size]
            if piece.strip() == piece and len(piece) >= 3:
                pieces.append(piece)
    pieces += ["zzq", "@example", ".com", "ова", "ivan"]
    search = search_engine._Search(session, scope, search_engine.Where(scope.kind))
    for piece in pieces:
        found = {c.id for c in await search.probe([[piece]], limit=10_000)}
        expected = {c.id for c in cards if piece in c.search_text}
        assert found == expected, (piece, sorted(found ^ expected)[:5])
