"""Apply Alembic migrations programmatically (start-up, `python -m bot migrate`, tests).

Alembic itself is imported only when there is something to migrate: a bot that starts on a
database already at the head never loads it (it is a long-lived process; every import stays).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.uow import migrating

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# where the alembic CLI finds the database when no connection is handed in (migrations/env.py)
DATABASE_URL_ENV = "DATABASE_URL"
_REVISION = re.compile(r'^revision = "([^"]+)"', re.M)
_DOWN = re.compile(r'^down_revision = (?:"([^"]+)"|None)', re.M)


def alembic_config(url: str | None = None) -> Config:
    """The migrations' config; with ``url``, alembic's own commands connect to that database
    (otherwise a connection is handed in through ``cfg.attributes["connection"]``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    """The newest revision, read from the migration files (the chain is linear)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if (found := _REVISION.search(source)) is None:
            continue
        revisions.add(found.group(1))
        if (down := _DOWN.search(source)) is not None and down.group(1):
            parents.add(down.group(1))
    [head] = revisions - parents
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text("SELECT version_num FROM alembic_version"))
    except DBAPIError:  # no such table yet: a new database
        return None


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await current_revision(engine) == head_revision():
        return
    async with migrating(), engine.begin() as conn:
        await conn.run_sync(_upgrade_sync, revision)


def _upgrade_sync(connection, revision: str) -> None:  # noqa: ANN001 - alembic API
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with migrating(), engine.begin() as conn:
        await conn.run_sync(_downgrade_sync, revision)


def _downgrade_sync(connection, revision: str) -> None:  # noqa: ANN001
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def include_object_for(dialect: str):  # noqa: ANN201 - alembic hook
    """Autogenerate/compare hook: skip indexes the models mark as for another dialect only."""

    from storage.models import SEARCH_INDEXES, SEARCH_TABLES

    def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
        if reflected and name in (SEARCH_TABLES if type_ == "table" else SEARCH_INDEXES):
            return False
        if type_ == "index" and not reflected:
            cond = getattr(obj, "_ddl_if", None)
            if cond is not None and cond.dialect is not None and cond.dialect != dialect:
                return False
        return True

    return include_object
