"""/find on PostgreSQL: names starting with the query, one index range per scope

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-28

services.search.head_statement reads the cards of a rep (or a team) whose search text starts
with the query. Through the global ``ix_contacts_search_prefix`` (0009) a rep holding a quarter
of a million cards read four times the page's candidates, a small rep fifty times; these
B-trees put the owner (the team) before the text's first 64 characters (byte order, as 0009),
so the scope and the prefix are one range. SQLite has the same in ix_contacts_owner_search and
ix_contacts_team_search (0004: owner or team, archived_at, the whole text). Expression indexes,
so not models (storage.models.SEARCH_INDEXES).
"""

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

INDEXES = (("ix_contacts_owner_prefix", "owner_id"), ("ix_contacts_team_prefix", "team_id"))


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, column in INDEXES:
        op.execute(
            f'CREATE INDEX {name} ON contacts ({column}, (left(search_text, 64) COLLATE "C"))'
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, _column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
