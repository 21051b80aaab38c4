"""Entry points: `python -m bot` (long polling, or webhooks with WEBHOOK_URL), `python -m bot migrate`, `python -m bot sandbox`.

Exit codes: 0 when stopped, 2 when a setting must be fixed (one line says which), 1 on an
unexpected error (one line; the traceback only with LOG_LEVEL=DEBUG, redacted like every log).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot import logs
from bot.config import Settings, SettingsError, load_settings
from bot.logs import one_line, redact

if TYPE_CHECKING:
    from bot.app import App
    from bot.startup import Sleep

NO_TOKEN = """\
BOT_TOKEN is not set, so the bot cannot talk to Telegram.

  1. Open Telegram, write to @BotFather, send /newbot and follow the steps.
  2. Put the token it gives you into a file named .env here:  BOT_TOKEN=123456:ABC...
  3. Make yourself the administrator: add your own Telegram user id to the same file,
     ADMIN_IDS=123456789 (write to @userinfobot in Telegram to see your id).
     See .env.example for every setting, then run `python -m bot` again.

To try the bot without a token or network, run:  python -m bot sandbox
"""


log = logging.getLogger("bot")

SHUTDOWN_GRACE = 10.0  # seconds the updates in flight get to finish when the bot stops


async def _set_webhook(app: App) -> None:
    settings = app.settings
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    await app.bot.set_webhook(
        settings.webhook_url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        drop_pending_updates=False,
    )
    log.info("webhook set; taking updates on port %s", settings.listen_port)


async def _stop_polling_when(app: App) -> None:
    await app.stopping.wait()
    await app.dispatcher.stop_polling()


async def _serve_webhook(app: App, web: Any, *, handle_signals: bool) -> None:
    """Webhook mode: start-up hooks, the web server until stopped, then a graceful stop: no new
    updates (503: Telegram resends them to another replica), the ones in flight finish, the
    clockwork stops (rows in flight go back to the queue), the app closes."""
    import signal

    dp = app.dispatcher
    workflow = {"dispatcher": dp, "bots": [app.bot], **dp.workflow_data}
    await dp.emit_startup(bot=app.bot, **workflow)
    loop = asyncio.get_running_loop()
    if handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.stopping.set)
    try:
        await web.start()
        await app.stopping.wait()
        log.info("stopping: finishing the updates in flight")
        await web.drain(SHUTDOWN_GRACE)
    finally:
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        await dp.emit_shutdown(bot=app.bot, **workflow)


async def _migrate(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def serve(
    settings: Settings,
    *,
    sleep: Sleep | None = None,
    handle_signals: bool = True,
    handle_as_tasks: bool = True,
    on_ready: Callable[[App], object] | None = None,
    **app_kwargs: Any,
) -> int:
    """`python -m bot`: start (riding out Telegram's transient faults, bot.startup), then poll
    until stopped. Returns the exit code: 0, or 2 when Telegram refuses for good (one line on
    stderr says what to fix). ``on_ready`` is called with the app once polling is about to begin.
    """
    from bot import eager_writes
    from bot.app import build_app
    from bot.startup import StartupRefused, StartupRetry
    from core import nextstep
    from storage.migrate import upgrade_in_child

    eager_writes.install()

    if settings.bot_token is not None:
        logs.REDACTOR.add_secret(settings.bot_token.get_secret_value())
    if settings.webhook_secret is not None:
        logs.REDACTOR.add_secret(settings.webhook_secret.get_secret_value())
    app = build_app(settings, **app_kwargs)
    retry = StartupRetry(settings.telegram_api_base, sleep=sleep or asyncio.sleep)
    app.bot.session.middleware(retry)
    dp = app.dispatcher
    # after the app's own start-up hook, which sets the menu: still covered by the retry
    dp.startup.register(retry.started)
    dp.shutdown.register(retry.stopped)
    if on_ready is not None:

        async def ready() -> None:
            on_ready(app)

        dp.startup.register(ready)
    web = None
    # dateparser's tables, built in a thread while the migrations and Telegram are waited for
    warm = asyncio.ensure_future(asyncio.to_thread(nextstep.warm_up))
    try:
        await upgrade_in_child(
            app.engine,
            settings.database_url,
            module="bot.migrating",
            env={"LOG_LEVEL": str(settings.log_level), "LOG_FORMAT": settings.log_format},
        )
        me = await app.bot.me()  # cached: polling does not ask again
        log.info("signed in to Telegram as @%s", me.username)
        if settings.webhook_mode:
            await _set_webhook(app)
        else:
            await app.bot.delete_webhook(drop_pending_updates=False)
        if settings.listen_port is not None:
            from bot.web import WebServer

            web = WebServer(app, webhook=settings.webhook_mode)
        # what start-up built (aiogram's types, the routers, the catalogues) lives as long as
        # the process: out of the collector's sight, full collections stop pausing the bot
        await warm  # before the first update: no reading runs beside it
        gc.collect()
        gc.freeze()
        if settings.webhook_mode:
            assert web is not None
            await _serve_webhook(app, web, handle_signals=handle_signals)
        else:
            if web is not None:
                await web.start()
            stopper = asyncio.ensure_future(_stop_polling_when(app))
            try:
                await dp.start_polling(
                    app.bot,
                    close_bot_session=False,
                    handle_signals=handle_signals,
                    handle_as_tasks=handle_as_tasks,
                )
            finally:
                stopper.cancel()
    except StartupRefused as exc:
        print(redact(str(exc)), file=sys.stderr)
        return 2
    finally:
        warm.cancel()  # refused at start: the thread ends on its own
        # let updates that are still being handled finish before the HTTP session closes
        pending = set(getattr(dp, "_handle_update_tasks", ()))
        if pending:
            await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
        if web is not None:
            await web.stop()
        await app.close()
    return 0


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
    token = settings.bot_token.get_secret_value() if settings.bot_token else None
    secrets = [
        token,
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
    ]
    with logs.configured(settings.log_level, secrets=secrets, fmt=settings.log_format):
        try:
            return _command(args, settings)
        except KeyboardInterrupt:
            return 0
        except Exception as exc:  # noqa: BLE001 - one redacted line, not a traceback
            log.debug("%s stopped by an unexpected error", parser.prog, exc_info=exc)
            print(f"{parser.prog} {args.command}: {one_line(exc)}", file=sys.stderr)
            return 1


def _command(args: argparse.Namespace, settings: Settings) -> int:
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
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    raise SystemExit(main())
