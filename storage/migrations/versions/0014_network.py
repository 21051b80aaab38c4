"""network analysis results: runs, nodes (with their links), findings

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("computed_at", UTCDateTime(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("edges", sa.Integer(), nullable=False),
        sa.Column("millis", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_runs")),
    )
    op.create_index("ix_network_runs_scope_time", "network_runs", ["scope", "computed_at"])
    op.create_table(
        "network_nodes",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.Integer(), nullable=False),
        sa.Column("tie", sa.Float(), nullable=False),
        sa.Column("links", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["network_runs.id"],
            name=op.f("fk_network_nodes_run_id_network_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "contact_id", name=op.f("pk_network_nodes")),
    )
    op.create_index("ix_network_nodes_run_cluster", "network_nodes", ["run_id", "cluster"])
    op.create_table(
        "network_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["network_runs.id"],
            name=op.f("fk_network_findings_run_id_network_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_findings")),
    )
    op.create_index("ix_network_findings_run_kind", "network_findings", ["run_id", "kind", "rank"])


def downgrade() -> None:
    op.drop_index("ix_network_findings_run_kind", table_name="network_findings")
    op.drop_table("network_findings")
    op.drop_index("ix_network_nodes_run_cluster", table_name="network_nodes")
    op.drop_table("network_nodes")
    op.drop_index("ix_network_runs_scope_time", table_name="network_runs")
    op.drop_table("network_runs")
