"""`.env.example` documents every setting, and its values are valid."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _example() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _sep, value = line.partition("=")
            values[key] = value
    return values


def test_every_setting_is_documented() -> None:
    documented = set(_example())
    settings = {name.upper() for name in Settings.model_fields}
    assert settings - documented == set()
    assert documented - settings == set()


def test_the_example_loads() -> None:
    s = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert s.bot_token is None or not s.bot_token.get_secret_value()
    assert s.database_url == "sqlite+aiosqlite:///data/bot.db"
