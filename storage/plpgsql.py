"""PL/pgSQL for the triggers the migrations create, theirs and those services supply
(services.rollup_marks).

PostgreSQL keeps a function's source as it was written (pg_dump prints it), so these lay the
text out to the character as the deployed migrations wrote it: ``indent`` is the indentation
the source had where it stood.
"""

from __future__ import annotations

from collections.abc import Iterable


def any_changed(columns: Iterable[str], dialect: str) -> str:
    """A row trigger's condition, in either dialect: any of ``columns`` differs between the old
    row and the new."""
    if dialect == "sqlite":
        return " OR ".join(f"old.{c} IS NOT new.{c}" for c in columns)
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


def sqlite_on_update(table: str, columns: tuple[str, ...]) -> str:
    """A SQLite trigger's event: an update of ``columns`` of ``table`` that changes any."""
    return f"AFTER UPDATE OF {', '.join(columns)} ON {table} WHEN {any_changed(columns, 'sqlite')}"


def trigger_function(name: str, body: list[str], indent: str) -> str:
    """``CREATE FUNCTION name() RETURNS trigger``: ``body``'s lines, then ``RETURN NULL``."""
    lines = [
        f"CREATE FUNCTION {name}() RETURNS trigger AS $$",
        "BEGIN",
        *(f"    {line}" for line in body),
        "    RETURN NULL;",
        "END",
        "$$ LANGUAGE plpgsql",
    ]
    return "\n" + "".join(f"{indent}{line}\n" for line in lines) + indent


def old_then_new(old: str, new: str) -> list[str]:
    """Perform ``old`` for the old row (update, delete), then ``new`` for the new (insert, update)."""
    return [
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN",
        f"    PERFORM {old};",
        "END IF;",
        "IF TG_OP IN ('INSERT', 'UPDATE') THEN",
        f"    PERFORM {new};",
        "END IF;",
    ]


def per_contact(function: str) -> list[str]:
    """Call ``function`` with the old row's contact (update, delete), then with the new row's
    (insert, or an update that moves the row to another contact)."""
    return [
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN",
        f"    PERFORM {function}(OLD.contact_id);",
        "END IF;",
        "IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.contact_id <> OLD.contact_id) THEN",
        f"    PERFORM {function}(NEW.contact_id);",
        "END IF;",
    ]
