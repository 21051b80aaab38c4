"""bot.lazy_types: aiogram's types built on first use are the same types, and cost far less.

Each side runs in a fresh interpreter, since one process imports aiogram once."""

from __future__ import annotations

import json
import subprocess
import sys

# every aiogram type, built (on first use when lazy), described by its fields, plus a real
# update validated and dumped back, and the process's RSS right after the import
PROBE = r"""
import json, re, sys
lazy = sys.argv[1] == "lazy"
if lazy:
    import bot  # installs the hook, as `python -m bot` does
def rss():
    return int(re.search(r"VmRSS:\s+(\d+)", open("/proc/self/status").read()).group(1)) / 1024
import aiogram
from aiogram import Bot, Dispatcher  # noqa: F401
import aiogram.types as T
after_import = rss()
pending = sorted(n for n in T.__all__
                 if hasattr(getattr(T, n), "model_rebuild") and not getattr(T, n).__pydantic_complete__)
update = T.Update.model_validate({
    "update_id": 7,
    "callback_query": {"id": "q", "chat_instance": "c", "data": "card:1",
                       "from": {"id": 5, "is_bot": False, "first_name": "Ann"},
                       "message": {"message_id": 3, "date": 1, "chat": {"id": 5, "type": "private"},
                                   "text": "hi", "reply_markup": {"inline_keyboard": [[
                                       {"text": "Open", "callback_data": "card:1"}]]}}},
})
models = [n for n in T.__all__ if hasattr(getattr(T, n), "model_rebuild")]
def build(model):  # first use: validating needs the validator, so this builds it
    return model.__pydantic_validator__.validate_python
def build_all():  # (pydantic looks a few frames up for names: as in the bot, not at top level)
    for n in models:
        build(getattr(T, n))
build_all()
built = sum(getattr(T, n).__pydantic_complete__ for n in models)
def text(value):  # a repr without the addresses of functions in it
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))
schemas = {n: {f: [text(i.annotation), text(i.default), i.alias, i.is_required()]
               for f, i in getattr(T, n).model_fields.items()} for n in models}
print(json.dumps({"rss": after_import, "pending": pending, "schemas": schemas, "built": built,
                  "update": update.model_dump(mode="json", exclude_none=True)}))
"""


def probe(mode: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def test_types_built_on_first_use_equal_the_eager_ones_and_save_memory() -> None:
    eager, lazy = probe("eager"), probe("lazy")
    assert eager["pending"] == []  # aiogram alone builds every type at import
    assert len(lazy["pending"]) > 300  # with the hook, none was built by the import...
    assert lazy["schemas"] == eager["schemas"]  # ...and each builds to the very same type
    assert lazy["built"] == eager["built"] == len(lazy["pending"])  # every one of them builds
    assert lazy["update"] == eager["update"]
    assert lazy["update"]["callback_query"]["message"]["reply_markup"]["inline_keyboard"]
    assert eager["rss"] - lazy["rss"] > 50, (eager["rss"], lazy["rss"])
