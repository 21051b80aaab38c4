"""PostgreSQL-only indexes for the digest at a million cards (migration 0024).

Declared here, on the tables of storage.models, so that migrations and the models agree. Each one
lets a digest statement read an index alone instead of the rows behind it: at 1M cards those
rows are spread over gigabytes that a daily digest mostly finds outside the cache. SQLite reads
the same statements through its own plans (pinned by ``INDEXED BY`` where it matters).

- ``ix_due_work_kind_due``: the next steps that fell due in the period (services.metrics.figures
  .step_rows) by kind and due time, carrying the status and the card;
- ``ix_contacts_scope``: a card's team and owner by its id, for the due rows' scope and group;
- ``ix_nps_cases_team_open`` / ``ix_nps_cases_rep_open``: the open cases of a team (a rep), the
  oldest first, so the digest's count and its five oldest read a few entries, not every case.
"""

from __future__ import annotations

from sqlalchemy import Index, MetaData

from core.nps import OPEN_CASES

PG = "postgresql"


def declare(metadata: MetaData) -> None:
    """Add the indexes to the tables of ``metadata`` (storage.models calls this once)."""
    due_work, contacts = metadata.tables["due_work"], metadata.tables["contacts"]
    cases = metadata.tables["nps_cases"]
    Index(
        "ix_due_work_kind_due",
        due_work.c.kind,
        due_work.c.due_at,
        postgresql_include=["status", "contact_id"],
    ).ddl_if(dialect=PG)
    Index("ix_contacts_scope", contacts.c.id, postgresql_include=["team_id", "owner_id"]).ddl_if(
        dialect=PG
    )
    open_ = cases.c.status.in_([s.value for s in OPEN_CASES])
    for name, column in (
        ("ix_nps_cases_team_open", "team_id"),
        ("ix_nps_cases_rep_open", "rep_id"),
    ):
        Index(name, cases.c[column], cases.c.opened_at, cases.c.id, postgresql_where=open_).ddl_if(
            dialect=PG
        )
