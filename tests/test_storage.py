"""Storage on both backends: migrations, models agreeing with them, UTC datetimes, atomic claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from storage.db import create_session_factory
from storage.migrate import downgrade, include_object_for, upgrade
from storage.models import Base, User
from storage.repo import invites as invites_repo
from storage.repo import users as users_repo

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def test_models_and_migrations_agree(engine) -> None:
    def diff(conn):  # noqa: ANN001, ANN202
        ctx = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "include_object": include_object_for(conn.dialect.name)},
        )
        return compare_metadata(ctx, Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_downgrade_and_upgrade_again(engine) -> None:
    await downgrade(engine, "base")
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
    assert "users" not in names
    await upgrade(engine)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: c.dialect.get_table_names(c))
    assert {"users", "teams", "invites", "contacts", "touches"} <= set(names)


async def test_sqlite_runs_in_wal_with_foreign_keys(engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_datetimes_come_back_aware_utc(engine) -> None:
    factory = create_session_factory(engine)
    moscow = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Moscow"))
    async with factory() as session:
        user = await users_repo.upsert_from_telegram(
            session,
            tg_id=77,
            first_name="Zoë <b>",
            last_name=None,
            username=None,
            language_code="ru",
            now=moscow,
        )
        await session.commit()
    async with factory() as session:
        loaded = await session.get(User, user.id)
        assert loaded is not None
        assert loaded.created_at == NOW and loaded.created_at.tzinfo is not None
        assert loaded.first_name == "Zoë <b>"


async def test_invite_claim_is_single_use_and_respects_expiry(engine) -> None:
    factory = create_session_factory(engine)
    async with factory() as session:
        a = await users_repo.upsert_from_telegram(
            session,
            tg_id=1,
            first_name="A",
            last_name=None,
            username=None,
            language_code=None,
            now=NOW,
        )
        b = await users_repo.upsert_from_telegram(
            session,
            tg_id=2,
            first_name="B",
            last_name=None,
            username=None,
            language_code=None,
            now=NOW,
        )
        invite = await invites_repo.create(
            session,
            token="tok",
            role="rep",
            team_id=None,
            created_by_id=a.id,
            now=NOW,
            ttl=timedelta(days=7),
        )
        await session.commit()
    async with factory() as s1, factory() as s2:
        assert await invites_repo.claim(s1, invite.id, b.id, NOW + timedelta(hours=1))
        await s1.commit()
        assert not await invites_repo.claim(s2, invite.id, a.id, NOW + timedelta(hours=1))
        await s2.commit()
    async with factory() as session:
        other = await invites_repo.create(
            session,
            token="tok2",
            role="rep",
            team_id=None,
            created_by_id=a.id,
            now=NOW,
            ttl=timedelta(days=7),
        )
        assert not await invites_repo.claim(session, other.id, b.id, NOW + timedelta(days=8))


def test_the_head_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config, head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_a_database_at_the_head_is_not_migrated_again(engine) -> None:
    from storage.migrate import current_revision, head_revision

    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # nothing to do: returns without loading alembic's machinery
    assert await current_revision(engine) == head_revision()


async def test_start_up_migrates_in_a_child_process_on_both_backends(fresh_db_url: str) -> None:
    """The bot's own process never loads alembic: the child brings a new database to the head,
    and a database already there is left alone without starting a child."""
    import asyncio
    import os
    import sys

    from storage.db import create_engine
    from storage.migrate import current_revision, head_revision, upgrade_in_child

    eng = create_engine(fresh_db_url)
    try:
        assert await current_revision(eng) is None
        await upgrade_in_child(eng, fresh_db_url)
        assert await current_revision(eng) == head_revision()
        await upgrade_in_child(eng, fresh_db_url)  # at the head: nothing to do
        assert await current_revision(eng) == head_revision()
    finally:
        await eng.dispose()
    # what `python -m bot` does at start, in a process of its own: alembic never imported
    code = (
        "import asyncio, os, sys\n"
        "from storage.db import create_engine\n"
        "from storage.migrate import upgrade_in_child\n"
        "url = os.environ['T_URL']\n"
        "eng = create_engine(url)\n"
        "asyncio.run(upgrade_in_child(eng, url))\n"
        "print('alembic' in sys.modules)\n"
    )
    if fresh_db_url.startswith("sqlite"):
        fresh = fresh_db_url.replace("bot.db", "fresh.db")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            code,
            env={**os.environ, "T_URL": fresh},
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        assert proc.returncode == 0
        assert out.decode().strip() == "False"


async def test_a_failed_child_migration_says_why_in_one_line(tmp_path) -> None:
    from storage.db import create_engine
    from storage.migrate import MigrationFailed, upgrade_in_child

    (tmp_path / "ro").mkdir()
    url = f"sqlite+aiosqlite:///{tmp_path / 'ro'}"  # a directory, not a database file
    eng = create_engine(url)
    try:
        with pytest.raises(MigrationFailed) as caught:
            await upgrade_in_child(eng, url)
    finally:
        await eng.dispose()
    assert "\n" not in str(caught.value)
