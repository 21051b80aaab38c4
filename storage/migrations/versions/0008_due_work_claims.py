"""fencing tokens on due-work claims; once-per-period runs of the daily jobs

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

Each claim of a due-work row writes a fresh token; only its holder can renew, close or release
the row, so a worker whose claim was taken over after its lease can never close it. The daily
jobs claim (job, period) in job_runs, so they run once per day in total, not once per replica.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=32), nullable=True))
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
