"""/find on PostgreSQL: a text index per scope (the owner's, the team's trigrams)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-28

pg_trgm's GIN (0009) holds every card's trigrams in one index: a rep's search for a common
piece ("вектор", "#горячий") built a bitmap of every rep's matching cards (30,000 and 111,000
at a million cards) before the scope could be applied on the heap, 6–20 ms per piece. These
GIN indexes key each trigram by the scope it belongs to (``"<owner id>:<trigram>"``, and the
same with the team id), so a rep's probe reads only the rep's own posting lists: the bitmap
holds the rep's matching cards and nothing else (7,600 instead of 30,000 for the bench's
largest rep, a quarter of all cards; a rep with 4 % of the cards reads 1,200).

- ``scoped_trigrams(scope, text)``: pg_trgm's trigrams of the text (``show_trgm``), each
  prefixed with the scope's id; what the indexes hold.
- ``piece_trigrams(scope, piece)``: the trigrams a card's text must hold to contain ``piece``
  anywhere (inside a word too): those of ``q<piece>q`` that are also those of ``z<piece>z``,
  i.e. all but the padded ones at the piece's two ends; prefixed likewise.

services.search asks ``scoped_trigrams(owner_id, search_text) @> piece_trigrams(:owner,
:piece)`` (with the team's index too for a manager) and checks the exact piece on the rows.
SQLite is not concerned (its FTS5 search meets the targets). Expression indexes, so not models
(storage.models.SEARCH_INDEXES).
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEXES = (("ix_contacts_owner_trgm", "owner_id"), ("ix_contacts_team_trgm", "team_id"))

FUNCTIONS = (
    """
    CREATE FUNCTION scoped_trigrams(scope integer, doc text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(scope::text || ':' || t), '{}')
        FROM unnest(show_trgm(doc)) AS t
    $$
    """,
    """
    CREATE FUNCTION piece_trigrams(scope integer, piece text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(scope::text || ':' || t), '{}')
        FROM (
            SELECT unnest(show_trgm('q' || piece || 'q'))
            INTERSECT
            SELECT unnest(show_trgm('z' || piece || 'z'))
        ) AS s(t)
    $$
    """,
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for sql in FUNCTIONS:
        op.execute(sql)
    for name, column in INDEXES:
        op.execute(
            f"CREATE INDEX {name} ON contacts USING gin (scoped_trigrams({column}, search_text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name, _column in INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS piece_trigrams(integer, text)")
    op.execute("DROP FUNCTION IF EXISTS scoped_trigrams(integer, text)")
