"""The web port: the webhook (webhook mode), ``/healthz`` and ``/metrics`` (both modes).

The webhook is aiogram's aiohttp integration (:class:`aiogram.webhook.aiohttp_server.
SimpleRequestHandler`), with three changes:

- the secret (``X-Telegram-Bot-Api-Secret-Token`` = WEBHOOK_SECRET) is checked on every request,
  in constant time; a wrong or missing one is answered 401 and nothing is read;
- the update is handled before the answer (not in the background): Telegram, or the proxy, sees
  a 200 only once the update is done, so an update whose replica died is sent again;
- an update another replica is handling right now (bot.dedup) is answered 503, and so is every
  update while this replica shuts down: Telegram sends it again, to a replica that can take it.

Shutting down: stop taking updates (503), let the ones in flight finish (``grace`` seconds), then
the dispatcher's shutdown (the clockwork puts its rows back) and the app closes.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import TYPE_CHECKING, Any

from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import text

from bot import metrics
from bot.dedup import UpdateBusy

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

HEALTH_TIMEOUT = 2.0  # seconds each dependency gets to answer /healthz


class WebhookHandler(SimpleRequestHandler):
    def __init__(self, app: App, secret: str) -> None:
        super().__init__(app.dispatcher, app.bot, handle_in_background=False, secret_token=secret)
        self.app = app
        self.inflight: set[asyncio.Task[Any]] = set()
        self.draining = False

    def verify_secret(self, telegram_secret_token: str, bot: Any) -> bool:
        expected = self.secret_token or ""
        return bool(expected) and secrets.compare_digest(
            telegram_secret_token.encode(), expected.encode()
        )

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get("X-Telegram-Bot-Api-Secret-Token", ""), None):
            return web.Response(status=401, text="Unauthorized")
        if self.draining:
            return _busy("shutting down")
        try:
            raw = await request.json(loads=self.bot.session.json_loads)
            update = Update.model_validate(raw, context={"bot": self.bot})
        except Exception:  # noqa: BLE001 - not an update: nothing to retry
            return web.Response(status=400, text="not an update")
        # its own task: a client that goes away (a proxy timing out) does not cancel the update
        task = asyncio.ensure_future(self.dispatcher.feed_update(self.bot, update, **self.data))
        self.inflight.add(task)
        task.add_done_callback(self.inflight.discard)
        try:
            await asyncio.shield(task)
        except UpdateBusy:
            return _busy("being handled elsewhere")
        except Exception:  # noqa: BLE001 - logged by the error handlers; Telegram must not resend
            log.exception("update %s failed", update.update_id)
        return web.json_response({})

    async def drain(self, grace: float) -> None:
        self.draining = True
        if self.inflight:
            log.info("shutdown: %s updates in flight finish first", len(self.inflight))
            await asyncio.wait(set(self.inflight), timeout=grace)


def _busy(why: str) -> web.Response:
    return web.Response(status=503, text=why, headers={"Retry-After": "1"})


async def health(app: App) -> tuple[bool, dict[str, str]]:
    checks: dict[str, str] = {}

    async def db() -> None:
        async with app.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def redis() -> None:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(
            app.settings.redis_url or "", socket_timeout=HEALTH_TIMEOUT
        )
        try:
            await client.ping()
        finally:
            await client.aclose()

    probes = {"database": db}
    if app.settings.redis_url:
        probes["redis"] = redis
    for name, probe in probes.items():
        try:
            async with asyncio.timeout(HEALTH_TIMEOUT):
                await probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - the reason is the answer
            checks[name] = f"unreachable: {type(exc).__name__}"
    return all(v == "ok" for v in checks.values()), checks


def build_web_app(app: App, *, webhook: bool) -> tuple[web.Application, WebhookHandler | None]:
    web_app = web.Application()

    async def healthz(_request: web.Request) -> web.Response:
        ok, checks = await health(app)
        return web.json_response(
            {"status": "ok" if ok else "unavailable", **checks}, status=200 if ok else 503
        )

    async def metrics_view(_request: web.Request) -> web.Response:
        try:
            await metrics.refresh_due_work(
                app.session_factory, app.clock.now(), app.clockwork.lease
            )
        except Exception:  # noqa: BLE001 - the counters are still worth serving
            log.warning("due-work figures unavailable for /metrics", exc_info=True)
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_view)
    handler = None
    if webhook:
        secret = app.settings.webhook_secret
        assert secret is not None, "WEBHOOK_SECRET is required in webhook mode"
        handler = WebhookHandler(app, secret.get_secret_value())
        web_app.router.add_post(app.settings.webhook_path, handler.handle)
    return web_app, handler


class WebServer:
    def __init__(self, app: App, *, webhook: bool) -> None:
        self.app = app
        self.web_app, self.handler = build_web_app(app, webhook=webhook)
        self.runner: web.AppRunner | None = None
        self.site: web.TCPSite | None = None
        self.port: int | None = None

    async def start(self) -> None:
        settings = self.app.settings
        self.runner = web.AppRunner(self.web_app, access_log=None, shutdown_timeout=1.0)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, settings.web_host, settings.listen_port or 0)
        await self.site.start()
        sockets = self.site._server.sockets if self.site._server else ()  # type: ignore[union-attr]
        self.port = sockets[0].getsockname()[1] if sockets else settings.listen_port
        log.info("web server on %s:%s", settings.web_host, self.port)

    async def drain(self, grace: float) -> None:
        if self.handler is not None:
            await self.handler.drain(grace)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
