"""Deep-link tokens: random, URL-safe, at most 64 characters of A-Za-z0-9_-."""

from __future__ import annotations

import re
import secrets

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_token(nbytes: int = 24) -> str:
    token = secrets.token_urlsafe(nbytes)
    assert TOKEN_RE.match(token)
    return token


def is_valid_token(value: str | None) -> bool:
    return bool(value) and TOKEN_RE.match(value) is not None  # type: ignore[arg-type]
