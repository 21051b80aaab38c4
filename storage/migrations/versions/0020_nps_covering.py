"""NPS answers counted from the index: (team | rep, answered_at) indexes carry the score

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28

/stats' NPS and the digest's count a period's answers and their scores. The indexes by team or
rep and answer time found the rows, and every row was then read for its score: at 1M cards a
90-day NPS read ~40k survey rows (55 ms on SQLite). With the score as the indexes' last column
the count reads the index alone. Same number of indexes; a survey's score is written with its
answer time, so the write touches the same entries as before.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_surveys_team_answered", "team_id"),
    ("ix_surveys_rep_answered", "rep_id"),
)


def _remake(with_score: bool) -> None:
    for name, column in INDEXES:
        op.drop_index(name, table_name="surveys")
        columns = [column, "answered_at"] + (["score"] if with_score else [])
        op.create_index(name, "surveys", columns)


def upgrade() -> None:
    _remake(True)


def downgrade() -> None:
    _remake(False)
