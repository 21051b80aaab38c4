"""`python -m bot.migrating`: the child process in which the bot migrates its database at
start-up (:func:`storage.migrate.upgrade_in_child`), logging as the bot does (level, format and
redaction from ``LOG_LEVEL`` / ``LOG_FORMAT``), so that the bot's own long-lived process never
loads alembic and the migration modules."""

from __future__ import annotations

import asyncio
import os

from bot import logs
from storage.migrate import DATABASE_URL_ENV, child_main


def main() -> int:
    level = os.environ.get("LOG_LEVEL") or "INFO"
    with logs.configured(level.upper(), fmt=os.environ.get("LOG_FORMAT") or "text"):
        return asyncio.run(child_main(os.environ[DATABASE_URL_ENV]))


if __name__ == "__main__":
    raise SystemExit(main())
