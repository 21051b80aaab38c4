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

from storage.migrations.ops import NULL, Table, column
from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"

CLAIM_TOKEN = ("claim_token", sa.String(32), NULL)
JOB_RUNS = Table(
    "job_runs",
    ("job", sa.String(64)),
    ("period", sa.String(32)),
    ("status", sa.String(12)),
    ("token", sa.String(32)),
    ("claimed_by", sa.String(64), NULL),
    ("started_at", UTCDateTime),
    ("finished_at", UTCDateTime, NULL),
    unique=[("uq_job_runs_job_period", "job", "period")],
)


def upgrade() -> None:
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.add_column(column(*CLAIM_TOKEN))
    JOB_RUNS.create()


def downgrade() -> None:
    JOB_RUNS.drop()
    with op.batch_alter_table("due_work", schema=None) as batch_op:
        batch_op.drop_column("claim_token")
