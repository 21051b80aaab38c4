"""The network analysis's results (services.network): runs, their nodes and their findings.
Declared on storage.base's Base; storage.models imports this module, so every table is known
wherever the models are."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.types import UTCDateTime


class NetworkRun(Base):
    """One run of the network analysis (services.network) for a scope: "t<team id>",
    "r<user id>" (a rep without a team) or "all". Readers take the newest ``ready`` run."""

    __tablename__ = "network_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(12), default="building")  # building | ready
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    edges: Mapped[int] = mapped_column(Integer, default=0)
    millis: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_network_runs_scope_time", "scope", "computed_at"),)


class NetworkNode(Base):
    """A contact in a run: its cluster (-1: none), the team's tie strength with it, and its links
    ("<contact id>:<i|c|e>:<weight>" joined by ";": introduction, colleague, event)."""

    __tablename__ = "network_nodes"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("network_runs.id", ondelete="CASCADE"), primary_key=True
    )
    contact_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(Integer)
    cluster: Mapped[int] = mapped_column(Integer, default=-1)
    tie: Mapped[float] = mapped_column(Float, default=0.0)
    links: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_network_nodes_run_cluster", "run_id", "cluster"),)


class NetworkFinding(Base):
    """A finding of a run, ranked within its kind (cluster | broker | strong | dormant |
    account | pattern); ``data`` is JSON of plain values (no personal data but ids)."""

    __tablename__ = "network_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("network_runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    rank: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    data: Mapped[str] = mapped_column(Text, default="{}")

    __table_args__ = (Index("ix_network_findings_run_kind", "run_id", "kind", "rank"),)
