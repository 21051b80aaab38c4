"""Apply Alembic migrations programmatically (start-up, `python -m bot migrate`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.uow import migrating

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with migrating(), engine.begin() as conn:
        await conn.run_sync(_upgrade_sync, revision)


def _upgrade_sync(connection, revision: str) -> None:  # noqa: ANN001 - alembic API
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with migrating(), engine.begin() as conn:
        await conn.run_sync(_downgrade_sync, revision)


def _downgrade_sync(connection, revision: str) -> None:  # noqa: ANN001
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
