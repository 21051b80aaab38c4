"""network analysis results: runs, nodes (with their links), findings

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa

from storage.migrations.ops import KEY, NULL, Table, create_tables, drop_tables
from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"

TABLES = (
    Table(
        "network_runs",
        ("scope", sa.String(24)),
        ("status", sa.String(12)),
        ("computed_at", UTCDateTime),
        ("contacts", sa.Integer),
        ("edges", sa.Integer),
        ("millis", sa.Integer),
        indexes=[("ix_network_runs_scope_time", ["scope", "computed_at"])],
    ),
    Table(
        "network_nodes",
        ("run_id", sa.Integer, KEY),
        ("contact_id", sa.Integer, KEY),
        ("owner_id", sa.Integer),
        ("cluster", sa.Integer),
        ("tie", sa.Float),
        ("links", sa.Text),
        refs=[("run_id", "network_runs", "CASCADE")],
        indexes=[("ix_network_nodes_run_cluster", ["run_id", "cluster"])],
    ),
    Table(
        "network_findings",
        ("run_id", sa.Integer),
        ("kind", sa.String(12)),
        ("rank", sa.Integer),
        ("contact_id", sa.Integer, NULL),
        ("owner_id", sa.Integer, NULL),
        ("score", sa.Float),
        ("data", sa.Text),
        refs=[("run_id", "network_runs", "CASCADE")],
        indexes=[("ix_network_findings_run_kind", ["run_id", "kind", "rank"])],
    ),
)


def upgrade() -> None:
    create_tables(*TABLES)


def downgrade() -> None:
    drop_tables(*TABLES)
