"""covering indexes for /find on SQLite

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL caps B-tree entries; a long search_text would fail to insert
    op.create_index(
        "ix_contacts_owner_search", "contacts", ["owner_id", "archived_at", "search_text"]
    )
    op.create_index(
        "ix_contacts_team_search", "contacts", ["team_id", "archived_at", "search_text"]
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.drop_index("ix_contacts_team_search", table_name="contacts")
    op.drop_index("ix_contacts_owner_search", table_name="contacts")
