"""Alembic environment. The connection is handed in by storage.migrate (`python -m bot migrate`,
the bot's start-up, the tests). With the alembic CLI and alembic.ini, the URL is the caller's:
``-x url=...``, else ``sqlalchemy.url`` in the config, else the DATABASE_URL environment
variable. Storage never reads the bot's settings."""

from __future__ import annotations

import asyncio
import os

from alembic import context

from storage.migrate import DATABASE_URL_ENV, include_object_for
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


def database_url() -> str:
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or context.config.get_main_option("sqlalchemy.url")
        or os.environ.get(DATABASE_URL_ENV)
    )
    if not url:
        raise SystemExit(
            f"no database URL: pass -x url=..., set {DATABASE_URL_ENV}, "
            "or run `python -m bot migrate`"
        )
    return url


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return

    from storage.db import create_engine

    url = database_url()

    async def main() -> None:
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(main())


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `python -m bot migrate`")
run_migrations_online()
