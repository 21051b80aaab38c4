"""Entry points: `python -m bot` (long polling), `python -m bot migrate`, `python -m bot sandbox`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import Settings, SettingsError, load_settings

NO_TOKEN = """\
BOT_TOKEN is not set, so the bot cannot talk to Telegram.

  1. Open Telegram, write to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you into a file named .env here:  BOT_TOKEN=123456:ABC...
     (see .env.example for every setting), then run `python -m bot` again.

To try the bot without a token or network, run:  python -m bot sandbox
"""


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


async def _migrate(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _run(settings: Settings) -> None:
    from bot.app import build_app
    from storage.migrate import upgrade

    app = build_app(settings)
    try:
        await upgrade(app.engine)
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot, close_bot_session=False)
    finally:
        # let updates that are still being handled finish before the HTTP session closes
        pending = set(getattr(app.dispatcher, "_handle_update_tasks", ()))
        if pending:
            await asyncio.wait(pending, timeout=10)
        await app.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate", "sandbox"])
    parser.add_argument("--db", help="sandbox: database URL (default: a file under ./data)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    _setup_logging(settings.log_level)
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        print("Migrations applied.")
        return 0
    if args.command == "sandbox":
        from bot.sandbox import run_sandbox

        return asyncio.run(run_sandbox(settings, db_url=args.db))
    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(settings))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
