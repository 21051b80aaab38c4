"""import_rows.created_at: the day a new card of an import was made, as the file gives it

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29

/import took no notice of the file's created_at: a migration of old clients counted them all as
new contacts of the day (/stats' conversion and referral share). A staged new card now carries
the file's date to the swap (None: the time of the swap, as before).
"""

from alembic import op

from storage.migrations.ops import NULL, column
from storage.types import UTCDateTime

revision = "0027"
down_revision = "0026"


def upgrade() -> None:
    with op.batch_alter_table("import_rows") as batch:
        batch.add_column(column("created_at", UTCDateTime, NULL))


def downgrade() -> None:
    with op.batch_alter_table("import_rows") as batch:
        batch.drop_column("created_at")
