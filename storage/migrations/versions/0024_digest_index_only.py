"""the digest's due steps, their cards' scope and the open NPS cases read from indexes alone

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-28

PostgreSQL only (storage.report_indexes). At 1M cards the digest's largest statement, the next
steps that fell due in the period with their "done" test, read ~5,000 reminder rows from the
due-work table (4,700 pages, by status and due time) and then the card of each for its team and
owner (4,600 more); both now come from index entries: (kind, due_at) carrying the status and the
card, and (id) carrying the team and owner. The five oldest open cases were joined to their
cards before the limit (every open case of the team: 1,844 cards); services.digest now limits
first, and partial indexes keep a team's (a rep's) open cases in opening order, so the count
and the five oldest read a few index entries. Writes: an insert of a card, a due row or a case
adds one entry more; a case's entry goes when it is resolved.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

OPEN = "status IN ('open', 'taken', 'contacted')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.create_index(
        "ix_due_work_kind_due",
        "due_work",
        ["kind", "due_at"],
        postgresql_include=["status", "contact_id"],
    )
    op.create_index(
        "ix_contacts_scope", "contacts", ["id"], postgresql_include=["team_id", "owner_id"]
    )
    for name, column in (
        ("ix_nps_cases_team_open", "team_id"),
        ("ix_nps_cases_rep_open", "rep_id"),
    ):
        op.execute(f"CREATE INDEX {name} ON nps_cases ({column}, opened_at, id) WHERE {OPEN}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    for name in (
        "ix_nps_cases_rep_open",
        "ix_nps_cases_team_open",
        "ix_contacts_scope",
        "ix_due_work_kind_due",
    ):
        op.execute(f"DROP INDEX IF EXISTS {name}")
