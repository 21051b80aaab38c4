"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 12:41:58.056726
"""

import sqlalchemy as sa

from storage.migrations.ops import NULL, Table, create_tables, drop_tables
from storage.types import UTCDateTime

revision = "0001"
down_revision = None

TABLES = (
    Table("teams", ("name", sa.String(128)), ("created_at", UTCDateTime)),
    Table(
        "users",
        ("tg_id", sa.BigInteger),
        ("first_name", sa.String(256)),
        ("last_name", sa.String(256), NULL),
        ("username", sa.String(64), NULL),
        ("tg_language", sa.String(16), NULL),
        ("language", sa.String(8), NULL),
        ("timezone", sa.String(64), NULL),
        ("role", sa.String(16), NULL),
        ("team_id", sa.Integer, NULL),
        ("reachable", sa.Boolean),
        ("created_at", UTCDateTime),
        ("last_seen_at", UTCDateTime),
        refs=[("team_id", "teams", "SET NULL")],
        unique=["tg_id"],
        indexes=[("ix_users_role", ["role"]), ("ix_users_team_id", ["team_id"])],
    ),
    Table(
        "contacts",
        ("owner_id", sa.Integer),
        ("team_id", sa.Integer, NULL),
        ("name", sa.String(256)),
        ("company", sa.String(256), NULL),
        ("position", sa.String(256), NULL),
        ("kind", sa.String(8), NULL),
        ("segment", sa.String(128), NULL),
        ("icp_fit", sa.String(16)),
        ("icp_criterion", sa.String(512), NULL),
        ("influence", sa.String(32), NULL),
        ("source", sa.String(32), NULL),
        ("source_detail", sa.String(256), NULL),
        ("introduced_by_id", sa.Integer, NULL),
        ("status", sa.String(16)),
        ("stage", sa.String(32)),
        ("phone", sa.String(32), NULL),
        ("email", sa.String(256), NULL),
        ("tg_username", sa.String(64), NULL),
        ("tg_user_id", sa.BigInteger, NULL),
        ("tags", sa.String(1024)),
        ("notes", sa.Text, NULL),
        ("search_text", sa.Text),
        ("created_at", UTCDateTime),
        ("updated_at", UTCDateTime),
        ("last_touch_at", UTCDateTime, NULL),
        ("next_step", sa.String(512), NULL),
        ("next_step_due", UTCDateTime, NULL),
        ("no_next_step_reason", sa.String(256), NULL),
        ("verified_at", UTCDateTime),
        ("archived_at", UTCDateTime, NULL),
        refs=[
            ("introduced_by_id", "contacts", "SET NULL"),
            ("owner_id", "users", "RESTRICT"),
            ("team_id", "teams", "SET NULL"),
        ],
        indexes=[
            ("ix_contacts_email", ["email"]),
            ("ix_contacts_introduced_by_id", ["introduced_by_id"]),
            ("ix_contacts_owner_due", ["owner_id", "next_step_due"]),
            ("ix_contacts_owner_name", ["owner_id", "archived_at", "name"]),
            ("ix_contacts_phone", ["phone"]),
            ("ix_contacts_team_id", ["team_id"]),
            ("ix_contacts_tg_user_id", ["tg_user_id"]),
            ("ix_contacts_tg_username", ["tg_username"]),
        ],
    ),
    Table(
        "invites",
        ("token", sa.String(64)),
        ("role", sa.String(16)),
        ("team_id", sa.Integer, NULL),
        ("created_by_id", sa.Integer),
        ("created_at", UTCDateTime),
        ("expires_at", UTCDateTime),
        ("used_at", UTCDateTime, NULL),
        ("used_by_id", sa.Integer, NULL),
        refs=[
            ("created_by_id", "users", "CASCADE"),
            ("team_id", "teams", "CASCADE"),
            ("used_by_id", "users", "SET NULL"),
        ],
        unique=["token"],
    ),
    Table(
        "contact_events",
        ("contact_id", sa.Integer),
        ("actor_id", sa.Integer, NULL),
        ("field", sa.String(32)),
        ("old_value", sa.String(512), NULL),
        ("new_value", sa.String(512), NULL),
        ("at", UTCDateTime),
        refs=[("actor_id", "users", "SET NULL"), ("contact_id", "contacts", "CASCADE")],
        indexes=[("ix_contact_events_contact_time", ["contact_id", "at"])],
    ),
    Table(
        "touches",
        ("contact_id", sa.Integer),
        ("author_id", sa.Integer),
        ("type", sa.String(24)),
        ("direction", sa.String(8)),
        ("summary", sa.Text),
        ("occurred_at", UTCDateTime),
        refs=[("author_id", "users", "RESTRICT"), ("contact_id", "contacts", "CASCADE")],
        indexes=[("ix_touches_contact_time", ["contact_id", "occurred_at"])],
    ),
)


def upgrade() -> None:
    create_tables(*TABLES)


def downgrade() -> None:
    drop_tables(*TABLES)
