"""Build aiogram's Telegram types when first used, not all ~400 of them at import.

aiogram declares its types with pydantic's `defer_build=True`, then defeats it: the end of
`aiogram/types/__init__.py` calls `model_rebuild(_types_namespace=...)` on every type, which
builds every validator at once. That is 150 MB of the 166 MB an `import aiogram` costs, for a bot
that receives a handful of update kinds.

`install()` replaces `model_rebuild`, for aiogram's types called that way only, by what it is for:
making the names the forward references need (`Message`, `User`, ...) resolvable, here by adding
them to each type's module. Pydantic then builds a type's validator on its first use, resolving
the references from that module. Every other model, aiogram's methods included, is built exactly
as before. tests/test_lazy_types.py proves that every type still builds, validates and dumps as
aiogram's eager import makes it, and that the memory is saved.

It must run before anything imports aiogram; `bot/__init__.py` calls it, so `python -m bot`, the
sandbox and the tests (whose conftest imports `bot` first) get it. Any other model, or a call
with `force=True`, goes to pydantic's own `model_rebuild` unchanged.
"""

from __future__ import annotations

import sys
from typing import Any

_PREFIX = "aiogram.types."
_MARK = "_netsales_lazy_types"


def install() -> bool:
    """Make aiogram's import leave its types' validators to their first use.

    Call it before aiogram is imported; it imports neither aiogram nor anything heavy (the child
    that migrates the database imports `bot` too). Returns False when aiogram's types are
    already imported (then nothing changes) or the hook is already in place.
    """
    from pydantic import BaseModel

    eager = BaseModel.__dict__["model_rebuild"]
    if "aiogram.types" in sys.modules or getattr(eager, _MARK, False):
        return False

    def model_rebuild(
        cls: type[BaseModel],
        *,
        force: bool = False,
        raise_errors: bool = True,
        _parent_namespace_depth: int = 2,
        _types_namespace: dict[str, Any] | None = None,
    ) -> bool | None:
        if _types_namespace is not None and not force and cls.__module__.startswith(_PREFIX):
            module = sys.modules[cls.__module__].__dict__
            for name, value in _types_namespace.items():
                module.setdefault(name, value)
            return None
        return eager.__func__(
            cls,
            force=force,
            raise_errors=raise_errors,
            _parent_namespace_depth=_parent_namespace_depth + 1,
            _types_namespace=_types_namespace,
        )

    hook = classmethod(model_rebuild)
    setattr(hook, _MARK, True)
    BaseModel.model_rebuild = hook  # type: ignore[method-assign,assignment]
    return True
