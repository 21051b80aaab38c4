"""Apply Alembic migrations programmatically (start-up, `python -m bot migrate`, tests).

Alembic itself is imported only when there is something to migrate: a bot that starts on a
database already at the head never loads it (it is a long-lived process; every import stays).
At start-up the bot migrates in a child process (:func:`upgrade_in_child`, ``python -m
storage.migrate``), so not even its first start keeps alembic and the migration modules
(about 11 MB) for the rest of its life.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import make_url
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


class MigrationFailed(RuntimeError):
    """The child process could not bring the database to the head (its last line says why)."""


def _shared_between_processes(url: str) -> bool:
    """False for an in-memory SQLite database: only the process that opened it sees it."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return True
    database = parsed.database or ""
    return database not in ("", ":memory:") and "mode=memory" not in str(parsed.query)


async def upgrade_in_child(
    engine: AsyncEngine,
    url: str,
    *,
    module: str = "storage.migrate",
    env: dict[str, str] | None = None,
) -> None:
    """Bring the database at ``url`` (the one ``engine`` is connected to) to the head, in a
    child process (``python -m <module>``, which calls :func:`child_main`) when there is
    anything to do. The URL goes to the child through its environment, never its command
    line; the child logs to the same stderr; a failure raises :class:`MigrationFailed` with the
    child's one-line reason."""
    if await current_revision(engine) == head_revision():
        return
    if not _shared_between_processes(url):
        await upgrade(engine)
        return
    await engine.dispose()  # no pooled SQLite connection of ours in the child's way
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        env={**os.environ, **(env or {}), DATABASE_URL_ENV: url, "PYTHONPATH": _code_path()},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        lines = out.decode(errors="replace").strip().splitlines()
        raise MigrationFailed(lines[-1] if lines else f"exit code {proc.returncode}")


def _code_path() -> str:
    """The child imports this very code, wherever the parent was started from."""
    root = str(Path(__file__).resolve().parents[1])
    return os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)


async def child_main(url: str) -> int:
    """The child's work: migrate, and on failure print one line (its reason) on stdout."""
    from storage.db import create_engine

    engine = create_engine(url)
    try:
        await upgrade(engine)
    except Exception as exc:  # noqa: BLE001 - one line for the parent, no traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"{type(exc).__name__}: {first}"[:500], flush=True)
        return 1
    finally:
        await engine.dispose()
    return 0


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


if __name__ == "__main__":  # the start-up's child process (upgrade_in_child)
    raise SystemExit(asyncio.run(child_main(os.environ[DATABASE_URL_ENV])))
