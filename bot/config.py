"""Settings, read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import zoneinfo
from datetime import time
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_DEFAULT_API = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    # PostgreSQL's connection pool: kept open, and opened on top under load (closed after)
    db_pool_size: int = Field(default=45, ge=1, le=500)
    db_max_overflow: int = Field(default=15, ge=0, le=500)
    telegram_api_base: str = TELEGRAM_DEFAULT_API
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    default_language: Literal["en", "ru"] = "en"
    default_timezone: str = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    invite_ttl_days: int = Field(default=7, ge=1, le=365)
    redis_url: str | None = None
    redis_prefix: str = Field(default="fsm", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    default_phone_region: str = Field(default="RU", min_length=2, max_length=2)
    scheduler_interval_seconds: int = Field(default=30, ge=1, le=3600)
    cadence_days: str = "connection=7,development=14,commercial=3,retention=30"
    stale_after_days: int = Field(default=180, ge=1, le=3650)
    inbound_reply_hours: float = Field(default=2.0, gt=0, le=240)
    claim_lease_seconds: int = Field(default=300, ge=10, le=86400)
    digest_time: str = "09:00"
    nps_delay_hours: float = Field(default=2.0, ge=0, le=24 * 30)
    nps_min_interval_days: int = Field(default=90, ge=0, le=3650)
    nps_expiry_days: int = Field(default=7, ge=1, le=90)
    nps_reminder_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    nps_case_sla_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    review_url: str | None = None
    company_name: str | None = None
    review_gating: bool = False
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: int | None = Field(default=None, ge=1, le=65535)
    log_format: Literal["text", "json"] = "text"
    update_lease_seconds: int = Field(default=30, ge=5, le=600)

    @field_validator("webhook_url", "web_port", "webhook_secret", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("expected the public https:// address Telegram posts updates to")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        import re

        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("1-256 characters: letters, digits, '_' and '-' (Telegram's rule)")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError(
                "WEBHOOK_SECRET must be set with WEBHOOK_URL: every request is checked against it"
            )
        return self

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @property
    def webhook_path(self) -> str:
        """The path the web server takes updates on: WEBHOOK_URL's own path."""
        from urllib.parse import urlsplit

        return urlsplit(self.webhook_url or "").path or "/webhook"

    @property
    def listen_port(self) -> int | None:
        """WEB_PORT; 8080 in webhook mode when it is not set."""
        if self.web_port is not None:
            return self.web_port
        return 8080 if self.webhook_mode else None

    @field_validator("cadence_days")
    @classmethod
    def _cadence(cls, value: str) -> str:
        from core.cadence import parse_cadence

        if parse_cadence(value) is None:
            raise ValueError("expected stage=days pairs, e.g. connection=7,development=14")
        return value

    @field_validator("digest_time")
    @classmethod
    def _digest_time(cls, value: str) -> str:
        value = value.strip()
        hh, sep, mm = value.partition(":")
        if not (sep and len(hh) == 2 and len(mm) == 2 and hh.isdigit() and mm.isdigit()) or not (
            int(hh) < 24 and int(mm) < 60
        ):
            raise ValueError("expected a local time as HH:MM, e.g. 09:00")
        return value

    @property
    def digest_clock(self) -> time:
        """DIGEST_TIME as a time of day (local to each manager)."""
        return time.fromisoformat(self.digest_time)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, int):
            return frozenset({value})
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(p) for p in parts if p)
            except ValueError:
                raise ValueError(
                    "expected comma-separated Telegram user ids, e.g. 123,456"
                ) from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_phone_region", mode="before")
    @classmethod
    def _region_upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}, e.g. Europe/Moscow") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _db(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "expected sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
            )
        return value

    @field_validator("telegram_api_base")
    @classmethod
    def _base(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// address")
        return value.rstrip("/")


class SettingsError(Exception):
    """Raised with one human-readable line per invalid variable."""


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = str(err["loc"][0]).upper() if err["loc"] else "SETTINGS"
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"Invalid setting {name}: {msg}")
    return "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
