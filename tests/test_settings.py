from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.config import Settings, SettingsError, load_settings


def test_defaults_and_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "12, 34,56")
    monkeypatch.setenv("BOT_TOKEN", "1:abc")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.admin_ids == frozenset({12, 34, 56})
    assert s.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert s.telegram_api_base == "https://api.telegram.org"
    assert s.log_level == "DEBUG"
    assert isinstance(s.bot_token, SecretStr)
    assert "1:abc" not in repr(s) and "1:abc" not in str(s.model_dump())


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "de"),
        ("ADMIN_IDS", "12,abc"),
        ("DATABASE_URL", "mysql://x"),
        ("TELEGRAM_API_BASE", "ftp://x"),
        ("LOG_LEVEL", "LOUD"),
        ("REDIS_PREFIX", "fsm:*"),
    ],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as info:
        load_settings(_env_file=None)
    text = str(info.value)
    assert text.startswith(f"Invalid setting {var}:")
    assert len(text.splitlines()) == 1


ROOT = Path(__file__).resolve().parent.parent


def _env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS"}}
    # the code under test is this checkout's, whatever the venv has installed
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), clean.get("PYTHONPATH")]))
    clean.update(env)
    return clean


def _run_bot(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = _env(**env)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_start_without_token_explains_botfather(tmp_path) -> None:
    result = _run_bot(tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "python -m bot sandbox" in result.stderr
    assert "ADMIN_IDS=" in result.stderr and "@userinfobot" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_with_invalid_setting_prints_one_line(tmp_path) -> None:
    result = _run_bot(tmp_path, DEFAULT_TIMEZONE="Nowhere/City", BOT_TOKEN="1:x")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Invalid setting DEFAULT_TIMEZONE")
    assert len(result.stderr.strip().splitlines()) == 1


def test_migrate_command_creates_the_sqlite_file(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        cwd=tmp_path,
        env={k: v for k, v in _env().items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "bot.db").exists()


async def test_the_postgresql_pool_follows_the_settings() -> None:
    """A burst of 50 reps' updates finds a connection each by default; both numbers can be set
    (several replicas must share the server's max_connections)."""
    from aiogram import Bot

    from bot.app import build_app
    from storage.db import DEFAULT_PG_POOL

    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    defaults = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    assert (defaults.db_pool_size, defaults.db_max_overflow) == DEFAULT_PG_POOL == (45, 15)
    chosen = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=url, db_pool_size=10, db_max_overflow=5
    )
    for settings, expected in ((defaults, (45, 15)), (chosen, (10, 5))):
        app = build_app(settings, bot=Bot("42:POOL-TEST"), start_clockwork=False)
        try:
            pool = app.engine.sync_engine.pool
            assert (pool.size(), pool._max_overflow) == expected  # type: ignore[attr-defined]
        finally:
            await app.engine.dispose()
            await app.bot.session.close()
    with pytest.raises(ValidationError):
        Settings(_env_file=None, db_pool_size=0)  # type: ignore[call-arg]
