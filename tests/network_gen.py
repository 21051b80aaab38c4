"""Synthetic teams with planted answers for the network analysis (core/network.py).

Each ``plant_*`` adds contacts (and touches, surveys) to a :class:`TeamGen` and returns what a
correct analysis must find. The same generator feeds the core tests and bench/bench_network.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from core.enums import DEFAULT_CADENCE_DAYS
from core.network import ContactRow, NetworkInput, SurveyRow, TieRow

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CADENCE = {s.value: d for s, d in DEFAULT_CADENCE_DAYS.items() if d}


@dataclass
class TeamGen:
    seed: int = 1
    now: datetime = NOW
    reps: tuple[int, ...] = (1, 2, 3)
    contacts: list[ContactRow] = field(default_factory=list)
    ties: list[TieRow] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    positive: dict[int, str] = field(default_factory=dict)
    changed_job: set[int] = field(default_factory=set)
    next_id: int = 1
    rnd: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rnd = random.Random(self.seed)

    def add(self, **kw) -> int:  # noqa: ANN003
        cid = self.next_id
        self.next_id += 1
        kw.setdefault("owner_id", self.rnd.choice(self.reps))
        kw.setdefault("name", f"Person {cid}")
        kw.setdefault("created_at", self.now - timedelta(days=200))
        kw.setdefault("verified_at", self.now - timedelta(days=20))
        self.contacts.append(ContactRow(id=cid, **kw))
        return cid

    def touch(self, cid: int, *, recent: int = 0, months: int = 0, year: int = 0) -> None:
        self.ties.append(TieRow(cid, recent, months, year))

    def input(self) -> NetworkInput:
        return NetworkInput(
            contacts=self.contacts,
            now=self.now,
            cadence=CADENCE,
            ties=self.ties,
            surveys=self.surveys,
            positive=self.positive,
            changed_job=self.changed_job,
        )

    # ------------------------------------------------------------------- dense groups
    def dense_group(self, size: int, *, company: str, segment: str, event: str) -> list[int]:
        """A dense cluster: colleagues in companies of up to 10 and everyone at one event
        (a ring of neighbours when bigger than a clique)."""
        ids = []
        for i in range(size):
            ids.append(
                self.add(
                    company=f"{company} {i // 10}" if size > 10 else company,
                    segment=segment,
                    source="event",
                    source_detail=event,
                    stage="development",
                    last_touch_at=self.now - timedelta(days=3),
                )
            )
        return ids

    def plant_broker(self, size: int = 10, tag: str = "") -> tuple[int, list[int], list[int]]:
        """Two dense clusters joined only through one broker (three links into each)."""
        a = self.dense_group(size, company=f"Alpha{tag}", segment=f"Fintech{tag}", event=f"a{tag}")
        b = self.dense_group(size, company=f"Beta{tag}", segment=f"Retail{tag}", event=f"b{tag}")
        broker = self.add(name=f"Broker{tag}", segment="Consulting", stage="development")
        # the broker introduced three people on each side
        for cid in (*a[:3], *b[:3]):
            i = next(i for i, c in enumerate(self.contacts) if c.id == cid)
            c = self.contacts[i]
            self.contacts[i] = ContactRow(**{**c.__dict__, "introduced_by": broker})
        return broker, a, b

    def plant_single_cluster(self, size: int = 12, tag: str = "") -> list[int]:
        return self.dense_group(size, company=f"Solo{tag}", segment=f"Solo{tag}", event=f"s{tag}")

    # ------------------------------------------------------------------------ dormant
    def plant_reached_segment(self, name: str = "Fintech", size: int = 30) -> list[int]:
        """A segment where the team has many clients."""
        return [
            self.add(
                company=f"{name} Co {i}",
                segment=name,
                icp_fit="fits",
                status="client" if i % 2 else "lead",
                stage="retention",
                last_touch_at=self.now - timedelta(days=5),
            )
            for i in range(size)
        ]

    def plant_dormant(
        self, *, planted: int = 3, active: int = 40, segment: str = "Healthcare"
    ) -> list[int]:
        """Contacts who once went well (a step done), quiet for > 2× cadence, each a colleague of
        ICP-fit people in a segment with no clients; among many active ties into it."""
        answers = []
        for i in range(planted):
            company = f"{segment} Hospital {i}"
            for _j in range(2):
                self.add(company=company, segment=segment, icp_fit="fits", stage="identification")
            cid = self.add(
                company=company,
                stage="development",  # cadence 14: quiet since 60 days
                last_touch_at=self.now - timedelta(days=60),
            )
            self.positive[cid] = "step"
            self.touch(cid, year=4)
            answers.append(cid)
        for i in range(active):
            company = f"{segment} Clinic {i}"
            self.add(company=company, segment=segment, icp_fit="fits", stage="identification")
            cid = self.add(
                company=company, stage="development", last_touch_at=self.now - timedelta(days=4)
            )
            self.positive[cid] = "step"
            self.touch(cid, recent=2, months=2)
        return answers

    def plant_dormant_into_reached(self, count: int = 5, segment: str = "Fintech") -> list[int]:
        out = []
        for i in range(count):
            company = f"{segment} Co {i}"  # colleagues of clients in a reached segment
            cid = self.add(
                company=company, stage="development", last_touch_at=self.now - timedelta(days=90)
            )
            self.positive[cid] = "nps"
            out.append(cid)
        return out

    # ----------------------------------------------------------------------- accounts
    def account(self, company: str, roles: tuple[str, ...], *, stale: bool = False) -> list[int]:
        verified = self.now - timedelta(days=400 if stale else 10)
        return [
            self.add(
                company=company,
                kind="b2b",
                influence=role,
                stage="commercial",
                verified_at=verified,
                last_touch_at=self.now - timedelta(days=1),
            )
            for role in roles
        ]

    def plant_full_accounts(self, count: int = 5) -> None:
        for i in range(count):
            self.account(f"Covered {i}", ("initiator", "decision_maker", "procurement", "user"))

    def plant_missing_dm(self, count: int = 2) -> list[str]:
        names = []
        for i in range(count):
            name = f"NoBoss {i}"
            self.account(name, ("initiator", "procurement", "user"))
            names.append(name)
        return names

    # ------------------------------------------------------------------------ patterns
    def plant_patterns(self, *, sparse_rep: int | None = 1, answers: int = 16) -> None:
        """Every rep's clients answer NPS after delivery; ``sparse_rep`` touched their clients
        rarely before delivery and their clients are detractors."""
        for rep in self.reps:
            for i in range(answers if rep == sparse_rep else 3 * answers):
                delivered = self.now - timedelta(days=10 + i)
                cid = self.add(owner_id=rep, status="client", stage="retention", segment="Mixed")
                if rep == sparse_rep:
                    touches = ((delivered - timedelta(days=50), "out"),)
                    score = (2, 4, 5, 6, 8, 3, 6, 5)[i % 8]
                else:
                    touches = tuple((delivered - timedelta(days=7 * k), "out") for k in range(1, 7))
                    score = (9, 10, 8, 9, 7, 10, 6, 9)[i % 8]
                self.surveys.append(
                    SurveyRow(cid, rep, score, delivered, segment="Mixed", touches=touches)
                )

    def plant_flat_patterns(self, answers: int = 30) -> None:
        """The same mix of scores after every touch pattern: nothing to find."""
        scores = (9, 10, 8, 6, 9, 3, 7, 10, 9, 5)
        for rep in self.reps:
            for i in range(answers):
                delivered = self.now - timedelta(days=10 + i)
                cid = self.add(owner_id=rep, status="client", stage="retention")
                k = 1 if (i // 10) % 2 else 6  # each pattern sees the same mix of scores
                touches = tuple((delivered - timedelta(days=7 * j), "out") for j in range(1, k + 1))
                self.surveys.append(SurveyRow(cid, rep, scores[i % 10], delivered, touches=touches))
