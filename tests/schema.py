"""Check recorded Bot API requests against the official schema (shared/telegram-bot-api/api.json).

The schema is reference material outside the project; it is read at test time, not copied.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from tests.services import IN_CI

DEPRECATED_OK = {"reply_to_message_id", "disable_web_page_preview", "allow_sending_without_reply"}


def schema_path() -> Path | None:
    env = os.environ.get("TELEGRAM_API_SCHEMA")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "telegram-bot-api" / "api.json"
        if candidate.exists():
            return candidate
    return None


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any] | None:
    path = schema_path()
    if path is None or not path.exists():
        return None
    return json.loads(path.read_text())


class SchemaError(AssertionError):
    pass


def _check(value: Any, types: list[str], schema: dict[str, Any], where: str) -> None:
    errors: list[str] = []
    for t in types:
        try:
            _check_one(value, t, schema, where)
            return
        except SchemaError as exc:
            errors.append(str(exc))
    raise SchemaError(
        " / ".join(errors) if len(errors) < 3 else f"{where}: no type of {types} fits"
    )


def _check_one(value: Any, t: str, schema: dict[str, Any], where: str) -> None:
    if t.startswith("Array of "):
        if not isinstance(value, list):
            raise SchemaError(f"{where}: expected an array")
        for i, item in enumerate(value):
            _check(item, [t.removeprefix("Array of ")], schema, f"{where}[{i}]")
        return
    if t == "Integer":
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit())
        ):
            raise SchemaError(f"{where}: expected Integer, got {value!r}")
        return
    if t == "Float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(f"{where}: expected Float")
        return
    if t == "String":
        if not isinstance(value, str):
            raise SchemaError(f"{where}: expected String, got {type(value).__name__}")
        return
    if t in ("Boolean", "True"):
        if not isinstance(value, bool):
            raise SchemaError(f"{where}: expected Boolean, got {value!r}")
        return
    if t == "InputFile":
        return
    spec = schema["types"].get(t)
    if spec is None:
        raise SchemaError(f"{where}: unknown type {t}")
    if spec.get("subtypes"):
        _check(value, spec["subtypes"], schema, where)
        return
    if not isinstance(value, dict):
        raise SchemaError(f"{where}: expected object {t}")
    _check_fields(value, spec.get("fields", []), schema, f"{where}<{t}>")


def _check_fields(
    value: dict[str, Any], fields: list[dict[str, Any]], schema: dict[str, Any], where: str
) -> None:
    known = {f["name"]: f for f in fields}
    for name, item in value.items():
        if name in DEPRECATED_OK:
            continue
        if name not in known:
            raise SchemaError(f"{where}: unknown field {name!r}")
        _check(item, known[name]["types"], schema, f"{where}.{name}")
    for f in fields:
        if f["required"] and f["name"] not in value:
            raise SchemaError(f"{where}: missing required field {f['name']!r}")
    # a subtype is chosen by its constant field ("type": "chat" …); check it matches
    for f in fields:
        desc = f.get("description", "")
        if f["name"] in ("type", "source", "status") and "must be " in desc and f["name"] in value:
            expected = desc.split("must be ", 1)[1].split()[0].strip('“”".,')
            if expected and value[f["name"]] != expected:
                raise SchemaError(f"{where}.{f['name']}: expected {expected!r}")


def validate_request(method: str, params: dict[str, Any], schema: dict[str, Any]) -> None:
    spec = schema["methods"].get(method)
    if spec is None:
        raise SchemaError(f"{method}: no such Bot API method")
    _check_fields(params, spec.get("fields", []), schema, method)


MISSING = (
    "the Bot API schema (../shared/telegram-bot-api/api.json, or TELEGRAM_API_SCHEMA) is not "
    "here, so the bot's requests are not checked against it"
)


def assert_requests_valid(requests: list[Any]) -> None:
    """Without the schema this checks nothing; tests/test_schema.py says so once, as a skip
    (and fails with CI=true)."""
    schema = load_schema()
    if schema is None:
        if IN_CI:
            raise AssertionError(MISSING + "; with CI=true it must be present")
        return
    problems = []
    for rec in requests:
        try:
            validate_request(rec.method, rec.params, schema)
        except SchemaError as exc:
            problems.append(str(exc))
    if problems:
        raise AssertionError("requests that break the Bot API schema:\n" + "\n".join(problems[:20]))
