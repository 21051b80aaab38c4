"""import staging: a file's rows are staged in short batches, then made live in one swap

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

/import used to write a whole file in one transaction (76 s of SQLite's write lock for 100k
rows). Now the parsed rows go into import_rows a batch at a time, the user confirms a preview,
and one short set-based swap (INSERT … SELECT, UPDATE … FROM) makes them live. Measured by
bench/bench_import.py.
"""

import sqlalchemy as sa

from storage.migrations.ops import NULL, Table, create_tables, drop_tables
from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"

TABLES = (
    Table(
        "imports",
        ("user_id", sa.Integer),
        ("role", sa.String(16)),
        ("team_id", sa.Integer, NULL),
        ("filename", sa.String(256)),
        ("status", sa.String(12)),
        ("creates", sa.Integer),
        ("updates", sa.Integer),
        ("unchanged", sa.Integer),
        ("skipped", sa.Integer),
        ("reminders", sa.Integer),
        ("id_base", sa.Integer, NULL),
        ("planned_upto", sa.Integer),
        ("created_at", UTCDateTime),
        ("finished_at", UTCDateTime, NULL),
        refs=[("user_id", "users", "CASCADE")],
        indexes=[("ix_imports_user_id", ["user_id"])],
    ),
    Table(
        "import_rows",
        ("import_id", sa.Integer),
        ("line", sa.Integer),
        ("action", sa.String(8)),
        ("seq", sa.Integer, NULL),
        ("contact_id", sa.Integer, NULL),
        ("base_updated_at", UTCDateTime, NULL),
        ("name", sa.String(256), NULL),
        ("company", sa.String(256), NULL),
        ("position", sa.String(256), NULL),
        ("kind", sa.String(8), NULL),
        ("segment", sa.String(128), NULL),
        ("icp_fit", sa.String(16), NULL),
        ("icp_criterion", sa.String(512), NULL),
        ("influence", sa.String(32), NULL),
        ("source", sa.String(32), NULL),
        ("source_detail", sa.String(256), NULL),
        ("introduced_by_id", sa.Integer, NULL),
        ("status", sa.String(16), NULL),
        ("stage", sa.String(32), NULL),
        ("phone", sa.String(32), NULL),
        ("email", sa.String(256), NULL),
        ("tg_username", sa.String(64), NULL),
        ("tg_user_id", sa.BigInteger, NULL),
        ("tags", sa.String(1024), NULL),
        ("notes", sa.Text, NULL),
        ("next_step", sa.String(512), NULL),
        ("next_step_due", UTCDateTime, NULL),
        ("verified_at", UTCDateTime, NULL),
        ("search_text", sa.Text, NULL),
        ("next_step_event", sa.String(512), NULL),
        refs=[("import_id", "imports", "CASCADE")],
        indexes=[("ix_import_rows_import_line", ["import_id", "line"], {"unique": True})],
    ),
)


def upgrade() -> None:
    create_tables(*TABLES)


def downgrade() -> None:
    drop_tables(*TABLES)
