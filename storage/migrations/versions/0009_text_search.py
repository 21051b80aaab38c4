"""text indexes for /find: SQLite FTS5 (trigram) kept by triggers, PostgreSQL pg_trgm GIN

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

Both have a B-tree on the text's first 64 characters, for names that start with the query (an
expression index, so not a model). SQLite: an external-content FTS5 table over
``contacts.search_text`` (the text is stored once,
in ``contacts``); triggers keep it in step with every insert, update and delete of a card in
the same transaction, whatever wrote it (the services, a merge, a bulk ``INSERT … SELECT``
import), so it cannot drift the way an index kept by application code could. PostgreSQL: a GIN
index with ``gin_trgm_ops``, which PostgreSQL keeps itself, and a B-tree on the text's first 64
characters for names that start with the query (not a model: an expression index).
"""

from alembic import op

revision = "0009"
down_revision = "0008"

SQLITE_UP = (
    "CREATE VIRTUAL TABLE contacts_fts USING fts5("
    "search_text, content='contacts', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER contacts_fts_update AFTER UPDATE OF search_text ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')",
    # names starting with the query: a B-tree on the text's first 64 characters
    "CREATE INDEX ix_contacts_search_prefix ON contacts (substr(search_text, 1, 64))",
)
SQLITE_DOWN = (
    "DROP INDEX IF EXISTS ix_contacts_search_prefix",
    "DROP TRIGGER IF EXISTS contacts_fts_update",
    "DROP TRIGGER IF EXISTS contacts_fts_delete",
    "DROP TRIGGER IF EXISTS contacts_fts_insert",
    "DROP TABLE IF EXISTS contacts_fts",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in SQLITE_UP:
            op.execute(sql)
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_index(
        "ix_contacts_search_trgm",
        "contacts",
        ["search_text"],
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    # names starting with the query, in byte order (the GIN index can't anchor a prefix)
    op.execute(
        'CREATE INDEX ix_contacts_search_prefix ON contacts ((left(search_text, 64) COLLATE "C"))'
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for sql in SQLITE_DOWN:
            op.execute(sql)
        return
    op.drop_index("ix_contacts_search_prefix", table_name="contacts")
    op.drop_index("ix_contacts_search_trgm", table_name="contacts")
