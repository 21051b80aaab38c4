"""nps surveys, cases, referral links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:59:41.282292
"""

import sqlalchemy as sa
from alembic import op

from storage.migrations.ops import NULL, Table, column, create_tables, drop_tables
from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"

TABLES = (
    Table(
        "surveys",
        ("contact_id", sa.Integer),
        ("rep_id", sa.Integer),
        ("team_id", sa.Integer, NULL),
        ("touch_id", sa.Integer, NULL),
        ("token", sa.String(64)),
        ("client_tg_id", sa.BigInteger, NULL),
        ("status", sa.String(12)),
        ("scheduled_for", UTCDateTime),
        ("delivered_at", UTCDateTime, NULL),
        ("reminded_at", UTCDateTime, NULL),
        ("expires_at", UTCDateTime),
        ("score", sa.Integer, NULL),
        ("answered_at", UTCDateTime, NULL),
        ("comment", sa.Text, NULL),
        ("commented_at", UTCDateTime, NULL),
        ("language", sa.String(8), NULL),
        ("created_at", UTCDateTime),
        refs=[
            ("contact_id", "contacts", "CASCADE"),
            ("rep_id", "users", "RESTRICT"),
            ("team_id", "teams", "SET NULL"),
            ("touch_id", "touches", "SET NULL"),
        ],
        unique=["token"],
        indexes=[
            ("ix_surveys_client_tg_id", ["client_tg_id"]),
            ("ix_surveys_contact_created", ["contact_id", "created_at"]),
            ("ix_surveys_rep_answered", ["rep_id", "answered_at"]),
            ("ix_surveys_team_answered", ["team_id", "answered_at"]),
        ],
    ),
    Table(
        "nps_cases",
        ("survey_id", sa.Integer),
        ("contact_id", sa.Integer),
        ("rep_id", sa.Integer),
        ("team_id", sa.Integer, NULL),
        ("status", sa.String(12)),
        ("opened_at", UTCDateTime),
        ("deadline_at", UTCDateTime),
        ("taken_by_id", sa.Integer, NULL),
        ("taken_at", UTCDateTime, NULL),
        ("contacted_at", UTCDateTime, NULL),
        ("resolved_at", UTCDateTime, NULL),
        ("resolution", sa.Text, NULL),
        ("escalated_at", UTCDateTime, NULL),
        refs=[
            ("contact_id", "contacts", "CASCADE"),
            ("rep_id", "users", "RESTRICT"),
            ("survey_id", "surveys", "CASCADE"),
            ("taken_by_id", "users", "SET NULL"),
            ("team_id", "teams", "SET NULL"),
        ],
        unique=["survey_id"],
        indexes=[("ix_nps_cases_team_id", ["team_id"])],
    ),
    Table(
        "referral_links",
        ("token", sa.String(64)),
        ("promoter_contact_id", sa.Integer),
        ("rep_id", sa.Integer),
        ("survey_id", sa.Integer, NULL),
        ("created_at", UTCDateTime),
        ("opened_count", sa.Integer),
        refs=[
            ("promoter_contact_id", "contacts", "CASCADE"),
            ("rep_id", "users", "RESTRICT"),
            ("survey_id", "surveys", "SET NULL"),
        ],
        unique=["token"],
        indexes=[("ix_referral_links_promoter_contact_id", ["promoter_contact_id"])],
    ),
)
CONTACT_COLUMNS = (
    ("timezone", sa.String(64), NULL),
    ("language", sa.String(8), NULL),
    ("nps_stopped_at", UTCDateTime, NULL),
)


def upgrade() -> None:
    create_tables(*TABLES)
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        for spec in CONTACT_COLUMNS:
            batch_op.add_column(column(*spec))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        for name, *_ in reversed(CONTACT_COLUMNS):
            batch_op.drop_column(name)
    drop_tables(*TABLES)
