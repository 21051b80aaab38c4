"""one live card per phone, e-mail and Telegram id in a team

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

Duplicates are a team's business: two reps of one team must not hold two cards of one person,
and a race (a rep and a manager adding the same phone at the same instant, on two replicas)
must not make two. The rule is held by the database, with partial unique indexes:

- ``(team_id, phone)``, ``(team_id, email)``, ``(team_id, tg_user_id)`` over the live cards of
  a team — ``contacts.team_id`` already exists: it is the owner's team, set by the code that
  sets the owner (``services.contacts.create`` and ``change_owner``; a merge keeps the kept
  card's owner), so it needs no new denormalised column;
- ``(owner_id, …)`` likewise over the live cards without a team (an administrator's own), whose
  ``team_id`` is NULL and would otherwise never collide.

"Live" leaves out archived and forgotten cards (a card can be archived and a new one made; a
restore is checked by the application first), and the duplicates that exist already: nothing is
deleted or merged behind anyone's back. Of the live cards that share a phone, e-mail or Telegram
id in one scope the oldest (by creation, then id) stays in the rule; each later one gets
``duplicate_of`` = the id of the card it repeats, which keeps it out of the indexes until a
person merges the two. The values are compared as stored: the application stores them
normalised (E.164 phones, e-mails with a lower-case domain, numeric Telegram ids).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"

LIVE = "archived_at IS NULL AND forgotten_at IS NULL AND duplicate_of IS NULL"
COLUMNS = ("phone", "email", "tg_user_id")


def _indexes() -> list[tuple[str, list[str], str]]:
    found = []
    for column in COLUMNS:
        live = f"{column} IS NOT NULL AND {LIVE}"
        found.append(
            (f"ux_contacts_team_{column}", ["team_id", column], f"team_id IS NOT NULL AND {live}")
        )
        found.append(
            (f"ux_contacts_own_{column}", ["owner_id", column], f"team_id IS NULL AND {live}")
        )
    return found


def _mark_existing_duplicates() -> None:
    """Oldest first: a card whose phone, e-mail or Telegram id an earlier kept card of its scope
    has is marked as that card's duplicate; the others keep their values to themselves."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, team_id, owner_id, phone, email, tg_user_id FROM contacts "
            "WHERE archived_at IS NULL AND forgotten_at IS NULL "
            "AND (phone IS NOT NULL OR email IS NOT NULL OR tg_user_id IS NOT NULL) "
            "ORDER BY created_at, id"
        )
    )
    kept: dict[tuple, int] = {}
    marks: list[dict[str, int]] = []
    for row in rows:
        scope = ("team", row.team_id) if row.team_id is not None else ("own", row.owner_id)
        keys = [
            (scope, column, value)
            for column, value in zip(COLUMNS, (row.phone, row.email, row.tg_user_id), strict=True)
            if value is not None
        ]
        earlier = next((kept[k] for k in keys if k in kept), None)
        if earlier is not None:
            marks.append({"id": row.id, "of": earlier})
            continue
        for key in keys:
            kept[key] = row.id
    if marks:
        conn.execute(sa.text("UPDATE contacts SET duplicate_of = :of WHERE id = :id"), marks)


def upgrade() -> None:
    op.add_column("contacts", sa.Column("duplicate_of", sa.Integer(), nullable=True))
    _mark_existing_duplicates()
    for name, columns, where in _indexes():
        op.create_index(
            name,
            "contacts",
            columns,
            unique=True,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )


def downgrade() -> None:
    for name, _columns, _where in reversed(_indexes()):
        op.drop_index(name, table_name="contacts")
    op.drop_column("contacts", "duplicate_of")
