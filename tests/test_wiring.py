"""The app factory wires the scheduler explicitly, and the layers import only what they may."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_app, create_bot
from bot.config import Settings
from scheduler import Clockwork
from services import digest as dg
from services import followups, nps

ROOT = Path(__file__).resolve().parent.parent


def _module_of(path: Path) -> Any:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return importlib.import_module(".".join(parts))


def _value(node: ast.expr | None, module: Any) -> str | None:
    """A string constant, a module constant (``NOTICE``) or one of another module
    (``followups.NOTICE``); None for anything else (a parameter, say)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        value = getattr(module, node.id, None)
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        value = getattr(getattr(module, node.value.id, None), node.attr, None)
    else:
        return None
    return value if isinstance(value, str) else None


def scheduled_kinds() -> set[str]:
    """Every kind of due work the services write: ``kind=...`` in a call, ``"kind": ...`` in a
    row, the default of a ``kind`` parameter, read from the source of services/."""
    kinds: set[str] = set()
    for path in sorted((ROOT / "services").rglob("*.py")):
        module = _module_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for loop in ast.walk(tree):  # ``for kind in (COLD, STALE)``, ``for kind, key in ((..),)``
            passes_kind = isinstance(loop, ast.For | ast.AsyncFor) and any(
                isinstance(call, ast.Call)
                and any(
                    k.arg == "kind" and isinstance(k.value, ast.Name) and k.value.id == "kind"
                    for k in call.keywords
                )
                for call in ast.walk(loop)
            )  # the loop's ``kind`` is handed on as a kind of due work (``kind=kind``)
            if passes_kind and isinstance(loop.iter, ast.Tuple):
                for item in loop.iter.elts:
                    if isinstance(loop.target, ast.Name) and loop.target.id == "kind":
                        kinds |= {v for v in [_value(item, module)] if v is not None}
                    elif isinstance(loop.target, ast.Tuple) and isinstance(item, ast.Tuple):
                        for name, element in zip(loop.target.elts, item.elts, strict=False):
                            if isinstance(name, ast.Name) and name.id == "kind":
                                kinds |= {v for v in [_value(element, module)] if v is not None}
        for node in ast.walk(tree):
            found: list[ast.expr | None] = []
            if isinstance(node, ast.Call):
                found += [k.value for k in node.keywords if k.arg == "kind"]
            elif isinstance(node, ast.Dict):
                found += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and k.value == "kind"
                ]
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                positional = args.posonlyargs + args.args
                defaults = dict(zip(positional[::-1], args.defaults[::-1], strict=False))
                defaults |= dict(zip(args.kwonlyargs, args.kw_defaults, strict=True))
                found += [d for a, d in defaults.items() if a.arg == "kind"]
            kinds |= {v for v in (_value(n, module) for n in found) if v is not None}
    return kinds


def test_the_scan_finds_the_kinds_the_services_name() -> None:
    kinds = scheduled_kinds()
    assert set(followups.FOLLOWUP_KINDS) <= kinds
    assert {dg.DIGEST, nps.NPS_SEND, nps.NPS_REMIND, nps.NPS_NOTICE, nps.CASE_DUE} <= kinds


async def test_building_the_app_registers_a_renderer_for_every_kind_the_services_schedule(
    settings: Settings,
) -> None:
    app = build_app(settings, bot=create_bot(settings, token="42:TEST"), start_clockwork=False)
    try:
        registered = set(app.clockwork.renderers)
        assert scheduled_kinds() - registered == set()  # none would stay pending for ever
        assert registered - scheduled_kinds() == set()  # and no renderer for nothing
        writing = {k for k, spec in app.clockwork.renderers.items() if spec.writes}
        assert writing == {nps.CASE_DUE, nps.CASE_ESCALATE}  # the fan-outs
        assert [w.__name__ for w in app.clockwork.workers] == ["plan_digest_work", "deliver_due"]
        assert [w.__name__ for w in app.clockwork.daily] == ["daily_scan"]
    finally:
        await app.close()


async def test_a_kind_has_one_renderer(settings: Settings) -> None:
    app = build_app(settings, bot=create_bot(settings, token="42:TEST"), start_clockwork=False)
    try:
        cw: Clockwork = app.clockwork
        before = cw.renderers[dg.DIGEST]

        async def other(*_args: Any) -> None:
            return None

        with pytest.raises(ValueError, match="digest"):
            cw.register_renderer(dg.DIGEST, other)
        assert cw.renderers[dg.DIGEST] is before
    finally:
        await app.close()


# ------------------------------------------------------------------------------------ layers
def _imports(path: Path) -> set[str]:
    """Modules a file imports when it runs (``from a.b import c`` gives ``a.b`` and ``a.b.c``);
    names imported under ``if TYPE_CHECKING:`` only annotate and are left out."""
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _offenders(folder: str, banned: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        bad = sorted(
            name
            for name in _imports(path)
            if any(name == b or name.startswith(b + ".") for b in banned)
        )
        if bad:
            out[str(path.relative_to(ROOT))] = bad
    return out


def test_handlers_import_nothing_from_the_scheduler() -> None:
    assert _offenders("handlers", ("scheduler",)) == {}


def test_views_take_plain_data_and_storage_does_not_depend_on_the_bot() -> None:
    # a view never gets a session or runs a query; storage (migrations too) never reads bot/
    assert _offenders("views", ("sqlalchemy", "storage", "scheduler", "handlers")) == {}
    assert _offenders("storage", ("bot", "handlers", "scheduler", "views")) == {}


def test_the_scheduler_builds_no_keyboards() -> None:
    keyboards = ("aiogram.types.InlineKeyboardMarkup", "aiogram.filters.callback_data")
    keyboards += ("aiogram.utils.keyboard", "views.keyboards", "views.callbacks")
    assert _offenders("scheduler", keyboards) == {}


def test_handlers_import_no_other_handler() -> None:
    found = {
        path: [m for m in mods if m.startswith("handlers.") and m != "handlers"]
        for path, mods in _offenders("handlers", ("handlers",)).items()
        if path != "handlers/__init__.py"
    }
    assert {path: mods for path, mods in found.items() if mods} == {}


def test_the_alembic_cli_takes_the_url_from_its_caller(tmp_path: Path) -> None:
    """``alembic upgrade head`` with alembic.ini and DATABASE_URL: the bot's settings are never
    loaded (no .env, no bot/ import)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    script = (
        "import sys\n"
        "from alembic.config import main\n"
        "main(['-c', 'alembic.ini', '-x', 'unused=1', 'upgrade', 'head'])\n"
        "assert not [m for m in sys.modules if m == 'bot' or m.startswith('bot.')]\n"
    )
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.db").stat().st_size > 0
    missing = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "no database URL" in missing.stderr


def test_no_production_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for folder in ("bot", "core", "handlers", "scheduler", "services", "storage", "views")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        and (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_no_import_cycles_between_our_modules() -> None:
    """Module-level imports only (those inside a function or under TYPE_CHECKING do not run at
    import time); a cycle would need a function-level import to break it."""
    folders = ("bot", "core", "handlers", "scheduler", "services", "storage", "views")
    paths = [p for f in folders for p in (ROOT / f).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found: set[str] = set()
        for node in tree.body:  # the module's own top level, not functions
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found |= {f"{node.module}.{a.name}" for a in node.names}
        graph[name] = {m for m in found if m in modules and m != name}
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycles.append([*path[path.index(name) :], name])
            return
        if name in done:
            return
        for nxt in sorted(graph[name]):
            visit(nxt, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])
    assert cycles == []
