"""nps_cases.changed_from, changed_to: a case closed by the client's changed answer

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-29

A detractor who changes their answer to a passive's or a promoter's closes the case on its own;
the change (2/10 → 10/10) is kept in these columns, not written into the manager's resolution
text (which a manager could have typed the same way).
"""

from alembic import op
from sqlalchemy import SmallInteger

from storage.migrations.ops import NULL, column

revision = "0028"
down_revision = "0027"


def upgrade() -> None:
    with op.batch_alter_table("nps_cases") as batch:
        batch.add_column(column("changed_from", SmallInteger, NULL))
        batch.add_column(column("changed_to", SmallInteger, NULL))


def downgrade() -> None:
    with op.batch_alter_table("nps_cases") as batch:
        batch.drop_column("changed_to")
        batch.drop_column("changed_from")
