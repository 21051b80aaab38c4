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
from alembic import op

import storage.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("creates", sa.Integer(), nullable=False),
        sa.Column("updates", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("id_base", sa.Integer(), nullable=True),
        sa.Column("planned_upto", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_imports_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_index(op.f("ix_imports_user_id"), "imports", ["user_id"], unique=False)
    op.create_table(
        "import_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("base_updated_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("name", sa.String(length=256), nullable=True),
        sa.Column("company", sa.String(length=256), nullable=True),
        sa.Column("position", sa.String(length=256), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=True),
        sa.Column("segment", sa.String(length=128), nullable=True),
        sa.Column("icp_fit", sa.String(length=16), nullable=True),
        sa.Column("icp_criterion", sa.String(length=512), nullable=True),
        sa.Column("influence", sa.String(length=32), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("source_detail", sa.String(length=256), nullable=True),
        sa.Column("introduced_by_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("stage", sa.String(length=32), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=256), nullable=True),
        sa.Column("tg_username", sa.String(length=64), nullable=True),
        sa.Column("tg_user_id", sa.BigInteger(), nullable=True),
        sa.Column("tags", sa.String(length=1024), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_step", sa.String(length=512), nullable=True),
        sa.Column("next_step_due", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("next_step_event", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_rows_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_rows")),
    )
    op.create_index("ix_import_rows_import_line", "import_rows", ["import_id", "line"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_import_rows_import_line", table_name="import_rows")
    op.drop_table("import_rows")
    op.drop_index(op.f("ix_imports_user_id"), table_name="imports")
    op.drop_table("imports")
