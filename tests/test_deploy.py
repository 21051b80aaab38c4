"""deploy/: the nginx config is valid (``nginx -t``) and, run for real in front of two stand-in
replicas, passes the secret header and moves past a replica that answers 503 or is down; the
systemd unit names what the README says."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
UNIT = ROOT / "deploy" / "netsales-bot@.service"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
)
OPENSSL = shutil.which("openssl")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def need_nginx() -> str:
    if NGINX is None or OPENSSL is None:
        pytest.skip("nginx or openssl is not installed here (apt-get install nginx openssl)")
    return NGINX


def prepared(tmp: Path, listen: int, upstreams: list[int]) -> Path:
    """The shipped config, with a throw-away certificate, a free port and the given replicas,
    inside a minimal nginx.conf of its own (no root paths touched)."""
    subprocess.run(
        [
            OPENSSL or "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=bot.example.com",
            "-keyout",
            str(tmp / "key.pem"),
            "-out",
            str(tmp / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    site = NGINX_CONF.read_text()
    site = site.replace(
        "/etc/letsencrypt/live/bot.example.com/fullchain.pem", str(tmp / "cert.pem")
    ).replace("/etc/letsencrypt/live/bot.example.com/privkey.pem", str(tmp / "key.pem"))
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{listen} ssl")
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;\n" for p in upstreams)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, site)
    (tmp / "site.conf").write_text(site)
    main = f"""
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    (tmp / "nginx.conf").write_text(main)
    return tmp / "nginx.conf"


def test_the_nginx_config_passes_nginx_t(tmp_path: Path) -> None:
    nginx = need_nginx()
    conf = prepared(tmp_path, free_port(), [free_port(), free_port(), free_port()])
    done = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-g", "user root;"]
        if os.geteuid() == 0
        else [nginx, "-t", "-c", str(conf), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr


async def test_nginx_passes_the_secret_and_skips_a_draining_replica(tmp_path: Path) -> None:
    nginx = need_nginx()
    seen: list[tuple[str, str | None]] = []

    def replica(name: str, status: int) -> web.Application:
        async def hook(request: web.Request) -> web.Response:
            seen.append((name, request.headers.get("X-Telegram-Bot-Api-Secret-Token")))
            return web.json_response({}, status=status)

        app = web.Application()
        app.router.add_post("/telegram/webhook", hook)
        return app

    ports = [free_port(), free_port(), free_port()]  # the third one is down
    runners = []
    for name, status, port in (("draining", 503, ports[0]), ("up", 200, ports[1])):
        runner = web.AppRunner(replica(name, status))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
    listen = free_port()
    conf = prepared(tmp_path, listen, ports)
    args = [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"]
    if os.geteuid() == 0:
        args[-1] = "daemon off; user root;"
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)  # noqa: ASYNC220 - starts at once
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.post(
                        f"https://127.0.0.1:{listen}/telegram/webhook",
                        json={"update_id": 1},
                        headers={"X-Telegram-Bot-Api-Secret-Token": "the-secret"},
                        ssl=False,
                    ) as resp:
                        assert resp.status == 200
                    break
                except aiohttp.ClientConnectorError:
                    await asyncio.sleep(0.05)
            for i in range(4):
                async with http.post(
                    f"https://127.0.0.1:{listen}/telegram/webhook",
                    json={"update_id": 2 + i},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "the-secret"},
                    ssl=False,
                ) as resp:
                    assert resp.status == 200  # never the draining one's 503, never a 502
            async with http.get(f"https://127.0.0.1:{listen}/metrics", ssl=False) as resp:
                assert resp.status == 404  # the replicas' own ports only
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(10)
        for runner in runners:
            await runner.cleanup()
    assert {secret for _name, secret in seen} == {"the-secret"}
    assert ("up", "the-secret") in seen


def test_the_systemd_unit_runs_one_replica_per_port() -> None:
    unit = UNIT.read_text()
    assert "Environment=WEB_PORT=%i" in unit
    assert "EnvironmentFile=/etc/netsales-bot/env" in unit
    assert "ExecStart=/opt/netsales-bot/.venv/bin/python -m bot" in unit
    assert "KillSignal=SIGTERM" in unit
    readme = (ROOT / "README.md").read_text()
    assert "netsales-bot@8081" in readme and "deploy/nginx.conf" in readme
