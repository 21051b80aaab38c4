"""CSV import brings a network in at once (issue 15): ``introduced_by`` names an existing card by
id, or another row of the same file by name or e-mail — earlier or later in the file, new or an
update; a name that matches no row, or several, is told in the preview and left out."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from core.roles import Role
from services import contacts as contacts_svc
from services import exchange as exchange_svc
from services.exchange import staging
from storage.db import create_session_factory
from storage.models import Contact, Team, User
from storage.uow import writing
from tests.conftest import START
from tests.helpers import team_with_rep


def network_csv(old_id: int) -> bytes:
    return (
        "id,name,email,introduced_by\n"
        ",Anna Smirnova,anna@acme.io,\n"
        ",Boris,,ANNA@acme.io\n"  # an earlier row, by e-mail
        ",Vera,,gleb  petrov\n"  # a later row, by name (case and spaces ignored)
        ",Gleb Petrov,,anna smirnova\n"
        f"{old_id},Old Friend,,Anna Smirnova\n"  # an existing card, introduced by a new one
        f",Fedor,,{old_id}\n"  # an existing card by id, as before
        ",Dora,,Nobody Known\n"  # no such row: told, left out
        ",Ella,,Ivan\n"  # two different Ivans: told, left out
        ",Ivan,ivan1@acme.io,\n"
        ",Ivan,ivan2@acme.io,\n"
        ",Zoe,zoe@acme.io,zoe@acme.io\n"  # herself: not an introduction
    ).encode()


async def test_introduced_by_names_rows_of_the_same_file_on_both_databases(engine) -> None:
    factory = create_session_factory(engine)
    async with factory() as session, writing(session):
        team = Team(name="North", created_at=START)
        session.add(team)
        await session.flush()
        rep = User(
            tg_id=1, first_name="Rita", role="rep", team_id=team.id, created_at=START,
            last_seen_at=START,
        )  # fmt: skip
        session.add(rep)
        await session.flush()
        old_id = (await contacts_svc.create(session, owner=rep, data={"name": "Old"}, now=START)).id
    async with factory() as session:
        rep = await session.get(User, rep.id)
        preview = await exchange_svc.stage(
            session, user=rep, role=Role.REP, data=network_csv(old_id), kind="csv",
            filename="network.csv", region="RU", tz=UTC, now=START,
        )  # fmt: skip
        assert (preview.creates, preview.updates, preview.skipped) == (10, 1, 0)
        notes = {(n.line, n.code) for n in preview.notes}
        assert notes == {
            (8, "introduced_by_unknown"),
            (9, "introduced_by_ambiguous"),
            (12, "introduced_by_unknown"),
        }
        outcome = await exchange_svc.apply(
            session, import_id=preview.import_id, user=rep, role=Role.REP, now=START,
            default_tz="UTC",
        )  # fmt: skip
        assert outcome.status == "applied"
    async with factory() as session:
        cards = {c.name: c for c in await session.scalars(select(Contact).order_by(Contact.id))}
        by = {name: c.introduced_by_id for name, c in cards.items()}
    anna, gleb = cards["Anna Smirnova"].id, cards["Gleb Petrov"].id
    assert by["Boris"] == anna and by["Gleb Petrov"] == anna and by["Vera"] == gleb
    assert by["Old Friend"] == anna and by["Fedor"] == old_id
    assert by["Dora"] is None and by["Ella"] is None and by["Zoe"] is None


async def test_the_file_is_read_again_only_when_it_names_introducers(engine, monkeypatch) -> None:
    reads = []
    real = staging.iter_csv
    monkeypatch.setattr(staging, "iter_csv", lambda data: reads.append(1) or real(data))
    factory = create_session_factory(engine)
    async with factory() as session, writing(session):
        rep = User(tg_id=1, first_name="Rita", role="rep", created_at=START, last_seen_at=START)
        session.add(rep)
    async with factory() as session:
        rep = await session.get(User, rep.id)
        await exchange_svc.stage(
            session, user=rep, role=Role.REP, data=b"name,introduced_by\nAnna,\nBoris,\n",
            kind="csv", filename="x.csv", region="RU", tz=UTC, now=START,
        )  # fmt: skip
    assert len(reads) == 1


async def test_the_preview_tells_what_was_left_out(tg) -> None:
    *_, rep = await team_with_rep(tg)
    reply = await rep.send("/import")
    assert "the name or e-mail of another row of the same file" in reply.text
    data = (
        b"name,email,introduced_by\n"
        b"Anna,anna@acme.io,\n"
        b"Boris,,Anna\n"
        b"Dora,,Nobody Known\n"
        b"Ella,,Ivan\n"
        b"Ivan,ivan1@acme.io,\n"
        b"Ivan,ivan2@acme.io,\n"
    )
    reply = await rep.send_document("network.csv", data)
    assert "6 new" in reply.text
    assert (
        "line 4 (Dora): introduced_by “Nobody Known”: no other row of this file imported with "
        "that name or e-mail; left out"
    ) in reply.text
    assert (
        "line 5 (Ella): introduced_by “Ivan” matches several rows: Ivan (line 6), Ivan (line 7)"
    ) in reply.text
    await rep.click("Import")
    reply = await rep.send("/find Boris")
    assert "Introduced by: Anna" in reply.text
