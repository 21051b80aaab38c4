"""The network analysis's plain data: its inputs (rows), its outputs (findings), and the small
measures they share (freshness, tie strength, Wilson intervals). No I/O."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.nps import nps

# edge kinds, as stored
INTRO, COLLEAGUE, EVENT = "intro", "colleague", "event"
EDGE_BASE = {INTRO: 1.0, COLLEAGUE: 0.8, EVENT: 0.4}
EVENT_SOURCES = frozenset({"event", "community", "webinar"})
EVENT_TAG_PREFIXES = ("event", "conf", "meetup")
CLIQUE_MAX = 12  # a group bigger than this is joined as a ring lattice (linear in its size)
RING_K = 3  # each member of a big group is linked to this many next members on each side

MIN_CLUSTER = 4  # clusters smaller than this are not "clusters" a broker bridges
BROKER_SHARE = 0.5  # a broker carries at least this share of the links between two clusters
OTHERWISE_SEPARATE = 0.1  # links not through it, per member of the smaller cluster, at most
BROKER_DETAIL = 30  # constraint/effective size/betweenness are computed for this many candidates
BETWEENNESS_EXACT = 100  # above this many nodes, betweenness samples k sources
BETWEENNESS_K = 24

STRONG_TIE = 1.5  # tie strength (weighted touches) from which a tie is strong
FRESH_DAYS = 365.0  # an introduction or a verification fades over about a year

KEY_ROLES = ("initiator", "decision_maker", "procurement", "user")
CLIENT_STATUSES = frozenset({"client", "partner"})
FEW_CLIENTS_SHARE = 0.05  # a segment is un-reached with clients ≤ max(1, 5% of its contacts)

MIN_ANSWERS = 8  # a touch pattern is shown from this many answers on each side
WINDOW_BEFORE = timedelta(days=90)  # touches looked at before a delivery
SPARSE_TOUCHES = 3  # fewer touches than this in the window: "sparse" (less than monthly)
SLOW_REPLY_HOURS = 24.0
Z95 = 1.959963984540054


# ----------------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class ContactRow:
    id: int
    owner_id: int
    name: str = ""
    company: str | None = None
    segment: str | None = None
    icp_fit: str = "unknown"
    influence: str | None = None
    kind: str | None = None
    source: str | None = None
    source_detail: str | None = None
    tags: str = ""
    stage: str = "identification"
    status: str = "contact"
    introduced_by: int | None = None
    created_at: datetime | None = None
    verified_at: datetime | None = None
    last_touch_at: datetime | None = None


@dataclass(frozen=True)
class TieRow:
    """The team's touches with one contact: counts in the last 30 days, 30–90, 90–365."""

    contact_id: int
    recent: int = 0
    months: int = 0
    year: int = 0


@dataclass(frozen=True)
class SurveyRow:
    """An answered NPS survey, with the contact's touches before the delivery."""

    contact_id: int
    rep_id: int
    score: int
    delivered_at: datetime
    segment: str | None = None
    touches: tuple[tuple[datetime, str], ...] = ()  # (occurred_at, direction) before delivery


@dataclass
class NetworkInput:
    contacts: list[ContactRow]
    now: datetime
    cadence: Mapping[str, int]
    stale_days: int = 180
    ties: list[TieRow] = field(default_factory=list)
    surveys: list[SurveyRow] = field(default_factory=list)
    positive: dict[int, str] = field(default_factory=dict)  # contact -> "step" | "nps"
    changed_job: set[int] = field(default_factory=set)  # the stale check was answered "No"
    referrals: list[tuple[int, int]] = field(default_factory=list)  # (promoter, referred)


# ---------------------------------------------------------------------------------- outputs
@dataclass(frozen=True)
class Cluster:
    id: int
    size: int
    label_kind: str  # segment | company | none
    label: str | None


@dataclass(frozen=True)
class Broker:
    contact_id: int
    owner_id: int
    score: float
    clusters: tuple[int, ...]
    constraint: float | None = None
    effective_size: float | None = None
    betweenness: float | None = None


@dataclass(frozen=True)
class StrongTie:
    contact_id: int
    owner_id: int
    strength: float
    shared: int  # neighbours the team is also close to: how embedded the tie is


@dataclass(frozen=True)
class DormantTie:
    contact_id: int
    owner_id: int
    score: float
    segments: tuple[str, ...]
    days_quiet: int
    reason: str  # step | nps


@dataclass(frozen=True)
class Account:
    company: str
    owner_id: int
    contact_ids: tuple[int, ...]
    known: tuple[str, ...]
    missing: tuple[str, ...]
    single_threaded: bool
    changed_job: tuple[int, ...]
    score: float


@dataclass(frozen=True)
class Interval:
    n: int
    nps: int | None
    detractors: int
    low: float
    high: float

    @property
    def share(self) -> float:
        return self.detractors / self.n if self.n else 0.0


@dataclass(frozen=True)
class Pattern:
    """Answers after a touch pattern versus the other answers of the team: an association."""

    dimension: str  # rep | segment
    key: str  # the rep's user id or the segment
    measure: str  # touches | reply
    bucket: str  # sparse | regular | slow | fast
    group: Interval
    rest: Interval

    @property
    def gap(self) -> float:
        """How far the two detractor-share intervals are apart (positive: separate)."""
        return max(self.group.low - self.rest.high, self.rest.low - self.group.high)


@dataclass
class Analysis:
    contacts: int
    edges: list[tuple[int, int, str, float]]
    clusters: dict[int, Cluster]
    node_cluster: dict[int, int]
    ties: dict[int, float]
    owners: dict[int, int]
    brokers: list[Broker]
    strong: list[StrongTie]
    dormant: list[DormantTie]
    accounts: list[Account]
    patterns: list[Pattern]


# ------------------------------------------------------------------------------------ utils
def norm_key(text: str | None) -> str | None:
    if not text:
        return None
    key = " ".join(text.casefold().replace("ё", "е").split())
    return key or None


def freshness(at: datetime | None, now: datetime) -> float:
    """1 for today, fading over about a year; a missing date counts as half faded."""
    if at is None:
        return 0.5
    days = max(0.0, (now - at).total_seconds() / 86400)
    return math.exp(-days / FRESH_DAYS)


def tie_strength(t: TieRow) -> float:
    """Touches weighted by recency: the last month counts fully, then half, then a little."""
    return t.recent * 1.0 + t.months * 0.5 + t.year * 0.15


def event_keys(c: ContactRow) -> list[str]:
    keys = []
    if c.source in EVENT_SOURCES and (key := norm_key(c.source_detail)):
        keys.append(key)
    for tag in (c.tags or "").split(";"):
        tag = norm_key(tag.lstrip("#")) or ""
        if any(tag.startswith(p) and len(tag) > len(p) + 1 for p in EVENT_TAG_PREFIXES):
            keys.append("#" + tag)
    return keys


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion; (0, 1) with no observations."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def interval(scores: Sequence[int]) -> Interval:
    n = len(scores)
    det = sum(1 for s in scores if s <= 6)
    pro = sum(1 for s in scores if s >= 9)
    low, high = wilson(det, n)
    return Interval(n=n, nps=nps(pro, det, n), detractors=det, low=low, high=high)


# ------------------------------------------------------------------------ touch patterns
def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def reply_hours(touches: Sequence[tuple[datetime, str]]) -> float | None:
    """Median time from an inbound touch to the next outbound one, in hours."""
    ordered = sorted(touches)
    waits = []
    for i, (at, direction) in enumerate(ordered):
        if direction != "in":
            continue
        nxt = next((t for t, d in ordered[i + 1 :] if d == "out"), None)
        if nxt is not None:
            waits.append((nxt - at).total_seconds() / 3600)
    return _median(waits)


def buckets(s: SurveyRow) -> dict[str, str]:
    window = [(t, d) for t, d in s.touches if s.delivered_at - WINDOW_BEFORE <= t < s.delivered_at]
    out = {"touches": "sparse" if len(window) < SPARSE_TOUCHES else "regular"}
    hours = reply_hours(window)
    if hours is not None:
        out["reply"] = "slow" if hours > SLOW_REPLY_HOURS else "fast"
    return out


def touch_patterns(surveys: Sequence[SurveyRow], *, limit: int = 20) -> list[Pattern]:
    """Per rep and per segment: answers after each touch pattern versus all the team's other
    answers. Kept only with enough answers on both sides and separate Wilson intervals."""
    if not surveys:
        return []
    tagged = [(s, buckets(s)) for s in surveys]
    groups: dict[tuple[str, str, str, str], list[int]] = defaultdict(list)
    for i, (s, b) in enumerate(tagged):
        for measure, bucket in b.items():
            groups[("rep", str(s.rep_id), measure, bucket)].append(i)
            if seg := (s.segment or "").strip():
                groups[("segment", seg, measure, bucket)].append(i)
    result = []
    seen: set[frozenset[int]] = set()
    for (dim, key, measure, bucket), idx in sorted(groups.items(), key=lambda kv: len(kv[1])):
        inside = set(idx)
        if len(inside) < MIN_ANSWERS:
            continue
        rest = [s.score for i, (s, _b) in enumerate(tagged) if i not in inside]
        if len(rest) < MIN_ANSWERS:
            continue
        if frozenset(range(len(tagged))) - inside in seen:
            continue  # the mirror image of a pattern already kept (its complement)
        seen.add(frozenset(inside))
        p = Pattern(
            dim, key, measure, bucket, interval([tagged[i][0].score for i in idx]), interval(rest)
        )
        if p.gap > 0:
            result.append(p)
    result.sort(key=lambda p: (-p.gap, p.dimension, p.key, p.measure, p.bucket))
    return result[:limit]
