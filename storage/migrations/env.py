"""Alembic environment. The connection is handed in by storage.migrate (or built from
DATABASE_URL when the alembic CLI is used with alembic.ini)."""

from __future__ import annotations

import asyncio

from alembic import context

from storage.migrate import include_object_for
from storage.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    from bot.config import load_settings
    from storage.db import create_engine

    async def main() -> None:
        engine = create_engine(load_settings().database_url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(main())


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `python -m bot migrate`")
run_migrations_online()
