"""Network intelligence: the method's theory of weak ties and brokers, turned into weekly advice.

Pure analysis over plain rows (no database, no aiogram): services/network.py loads the rows,
runs :func:`analyse` (off the event loop) and stores the results.

- **The network.** Contacts are nodes. Edges: introductions (``introduced_by``, referral links),
  colleagues at the same company, people met at the same event or community (the source detail of
  an event/community/webinar source, or an ``event…`` tag). The team's own ties to each contact
  (touch frequency and recency) are kept beside the graph: they are the anchors of warm paths.
- **Brokers** (Burt): contacts through whom (almost) all the links between two otherwise separate
  clusters run. Found by the share of the cut between two clusters that passes through the node,
  then described by Burt's constraint and effective size and by betweenness inside the clusters
  it bridges (sampled with ``k`` sources when those are big).
- **Dormant weak ties** (Granovetter) into ICP segments where the team has few clients.
- **Warm introduction paths**: the shortest chain from a contact the team holds a strong tie with
  to a target, preferring fresh, strong links (:func:`intro_paths`).
- **Buying-role coverage** of B2B accounts in the commercial stage.
- **Touch patterns and later NPS**, with Wilson intervals; an association, never a cause.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from core.network_data import (  # noqa: F401 - the analysis's data, named here too
    BETWEENNESS_EXACT,
    BETWEENNESS_K,
    BROKER_DETAIL,
    BROKER_SHARE,
    CLIENT_STATUSES,
    CLIQUE_MAX,
    COLLEAGUE,
    EDGE_BASE,
    EVENT,
    EVENT_SOURCES,
    EVENT_TAG_PREFIXES,
    FEW_CLIENTS_SHARE,
    FRESH_DAYS,
    INTRO,
    KEY_ROLES,
    MIN_ANSWERS,
    MIN_CLUSTER,
    OTHERWISE_SEPARATE,
    RING_K,
    SLOW_REPLY_HOURS,
    SPARSE_TOUCHES,
    STRONG_TIE,
    WINDOW_BEFORE,
    Z95,
    Account,
    Analysis,
    Broker,
    Cluster,
    ContactRow,
    DormantTie,
    Interval,
    NetworkInput,
    Pattern,
    StrongTie,
    SurveyRow,
    TieRow,
    buckets,
    event_keys,
    freshness,
    interval,
    norm_key,
    reply_hours,
    tie_strength,
    touch_patterns,
    wilson,
)


# ------------------------------------------------------------------------------------ graph
def build_edges(inp: NetworkInput) -> dict[tuple[int, int], tuple[str, float]]:
    """Undirected edges (a < b) -> (kind, weight); the strongest kind wins a pair."""
    now = inp.now
    by_id = {c.id: c for c in inp.contacts}
    edges: dict[tuple[int, int], tuple[str, float]] = {}

    def add(a: int, b: int, kind: str, w: float) -> None:
        if a == b:
            return
        key = (a, b) if a < b else (b, a)
        old = edges.get(key)
        if old is None or old[1] < w:
            edges[key] = (kind, w)

    def fresh(c: ContactRow) -> float:
        return 0.3 if c.id in inp.changed_job else freshness(c.verified_at, now)

    for c in inp.contacts:
        if c.introduced_by is not None and c.introduced_by in by_id:
            add(
                c.id,
                c.introduced_by,
                INTRO,
                EDGE_BASE[INTRO] * (0.5 + 0.5 * freshness(c.created_at, now)),
            )
    for promoter, referred in inp.referrals:
        if promoter in by_id and referred in by_id:
            add(
                promoter,
                referred,
                INTRO,
                EDGE_BASE[INTRO] * (0.5 + 0.5 * freshness(by_id[referred].created_at, now)),
            )
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for c in inp.contacts:
        if c.id not in inp.changed_job and (key := norm_key(c.company)):
            groups[(COLLEAGUE, key)].append(c.id)
        for key in event_keys(c):
            groups[(EVENT, key)].append(c.id)
    for (kind, _key), members in groups.items():
        if len(members) < 2:
            continue
        members.sort()
        base = EDGE_BASE[kind]
        pairs: Iterable[tuple[int, int]]
        if len(members) <= CLIQUE_MAX:
            pairs = ((a, b) for i, a in enumerate(members) for b in members[i + 1 :])
        else:
            n = len(members)
            pairs = (
                (members[i], members[(i + j) % n]) for i in range(n) for j in range(1, RING_K + 1)
            )
        for a, b in pairs:
            w = base * (0.5 + 0.5 * min(fresh(by_id[a]), fresh(by_id[b])))
            add(a, b, kind, w)
    return edges


def _clusters(graph, contacts: Mapping[int, ContactRow], seed: int):  # noqa: ANN001, ANN202
    import networkx as nx

    node_cluster: dict[int, int] = {}
    members: list[list[int]] = []
    for component in nx.connected_components(graph):
        if len(component) < MIN_CLUSTER:
            continue
        sub = graph.subgraph(component)
        if len(component) <= 2 * MIN_CLUSTER:
            parts = [set(component)]
        else:
            parts = _merge_small(
                sub, nx.community.louvain_communities(sub, weight="w", seed=seed, threshold=1e-4)
            )
        for part in parts:
            cid = len(members)
            members.append(sorted(part))
            for v in part:
                node_cluster[v] = cid
    clusters: dict[int, Cluster] = {}
    for cid, nodes in enumerate(members):
        clusters[cid] = name_cluster(cid, [contacts[v] for v in nodes])
    return node_cluster, members, clusters


def _merge_small(graph, parts: list[set[int]]) -> list[set[int]]:  # noqa: ANN001
    """Communities too small to be clusters join the neighbouring one they have most links to."""
    big = [set(p) for p in parts if len(p) >= MIN_CLUSTER]
    if not big:
        return [set().union(*parts)]
    where = {v: i for i, p in enumerate(big) for v in p}
    for part in sorted((p for p in parts if len(p) < MIN_CLUSTER), key=len, reverse=True):
        links: Counter[int] = Counter(
            where[u] for v in part for u in graph.adj[v] if u in where and u not in part
        )
        target = links.most_common(1)[0][0] if links else 0
        big[target].update(part)
        for v in part:
            where[v] = target
    return big


def name_cluster(cid: int, rows: Sequence[ContactRow]) -> Cluster:
    """Named by its dominant segment, else its dominant company, else by nothing."""
    size = len(rows)
    segments = Counter(c.segment.strip() for c in rows if c.segment and c.segment.strip())
    companies = Counter(c.company.strip() for c in rows if c.company and c.company.strip())
    if segments:
        seg, n = segments.most_common(1)[0]
        if n >= 0.5 * size:
            return Cluster(cid, size, "segment", seg)
    if companies:
        comp, n = companies.most_common(1)[0]
        if n >= 0.3 * size:
            return Cluster(cid, size, "company", comp)
    if segments:
        seg, n = segments.most_common(1)[0]
        if n >= 0.3 * size:
            return Cluster(cid, size, "segment", seg)
    return Cluster(cid, size, "none", None)


def find_brokers(
    graph,  # noqa: ANN001 - a networkx Graph with weights "w"
    node_cluster: Mapping[int, int],
    members: Sequence[Sequence[int]],
    owners: Mapping[int, int],
    *,
    seed: int = 7,
    limit: int = 20,
) -> list[Broker]:
    """Nodes that carry most of the links between two clusters otherwise apart."""
    import networkx as nx

    cut: Counter[tuple[int, int]] = Counter()
    through: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
    for a, b in graph.edges():
        ca, cb = node_cluster.get(a), node_cluster.get(b)
        if ca is None or cb is None or ca == cb:
            continue
        if len(members[ca]) < MIN_CLUSTER or len(members[cb]) < MIN_CLUSTER:
            continue
        pair = (ca, cb) if ca < cb else (cb, ca)
        cut[pair] += 1
        through[pair][a] += 1
        through[pair][b] += 1
    near: dict[int, set[int]] = defaultdict(set)  # clusters linked to each cluster
    for x, y in cut:
        near[x].add(y)
        near[y].add(x)

    def linked(x: int, y: int, v: int) -> bool:
        """Clusters x and y have a link that does not pass through v."""
        pair = (x, y) if x < y else (y, x)
        return cut.get(pair, 0) - through[pair].get(v, 0) > 0

    access: dict[int, float] = defaultdict(float)
    bridged: dict[int, set[int]] = defaultdict(set)
    for pair, total in cut.items():
        smaller = min(len(members[pair[0]]), len(members[pair[1]]))
        for v, n in through[pair].items():
            if n / total <= BROKER_SHARE or (total - n) > OTHERWISE_SEPARATE * smaller:
                continue
            x, y = pair
            # otherwise separate: no third cluster links them without v either, and no short
            # path avoids v (a bounded search: within SEPARATE_HOPS links, SEPARATE_VISITS nodes)
            if any(linked(x, c, v) and linked(c, y, v) for c in near[x] & near[y]):
                continue
            if _reachable_without(graph, members[x], members[y], v):
                continue
            # the node sits in one of the two clusters; it must reach into the other with
            # more than one link, or be the only link (then both ends are named: keep its own)
            access[v] += smaller
            bridged[v].update(pair)
    # what v alone gives access to: the bridged clusters split into sides that only v joins;
    # everything but the biggest side (a hub that cuts off one small group scores that group)
    for v in list(access):
        clusters = sorted(bridged[v])
        side = {c: c for c in clusters}

        def find(c: int, side: dict[int, int] = side) -> int:
            while side[c] != c:
                c = side[c]
            return c

        for i, x in enumerate(clusters):
            for y in clusters[i + 1 :]:
                if find(x) != find(y) and _reachable_without(graph, members[x], members[y], v):
                    side[find(y)] = find(x)
        sizes: Counter[int] = Counter()
        for c in clusters:
            sizes[find(c)] += len(members[c])
        access[v] = float(sum(sizes.values()) - max(sizes.values()))
    ranked = sorted((v for v in access if access[v] > 0), key=lambda v: (-access[v], v))
    ranked = ranked[:BROKER_DETAIL]
    result = []
    for v in ranked:
        nodes = [u for cid in sorted(bridged[v]) for u in members[cid]]
        sub = graph.subgraph(nodes)
        k = None if len(nodes) <= BETWEENNESS_EXACT else BETWEENNESS_K
        btw = nx.betweenness_centrality(sub, k=k, seed=seed, weight=None)[v]
        constraint, eff = structural_holes(graph, v)
        result.append(
            Broker(
                contact_id=v,
                owner_id=owners[v],
                score=access[v] * (1 + btw),
                clusters=tuple(sorted(bridged[v])),
                constraint=None if math.isnan(constraint) else round(constraint, 4),
                effective_size=None if math.isnan(eff) else round(eff, 3),
                betweenness=round(btw, 4),
            )
        )
    result.sort(key=lambda b: (-b.score, b.constraint or 1.0, b.contact_id))
    return result[:limit]


SEPARATE_HOPS = 6
SEPARATE_VISITS = 3000


def _reachable_without(graph, src: Sequence[int], dst: Sequence[int], v: int) -> bool:  # noqa: ANN001
    """Whether some node of ``dst`` is within SEPARATE_HOPS of ``src`` in the graph without v."""
    target = set(dst) - {v}
    seen = set(src) - {v}
    frontier = list(seen)
    for _hop in range(SEPARATE_HOPS):
        nxt = []
        for a in frontier:
            for b in graph.adj[a]:
                if b == v or b in seen:
                    continue
                if b in target:
                    return True
                seen.add(b)
                nxt.append(b)
        if not nxt or len(seen) > SEPARATE_VISITS:
            return False
        frontier = nxt
    return False


def structural_holes(graph, v: int) -> tuple[float, float]:  # noqa: ANN001
    """Burt's constraint and effective size of ``v`` on the weighted undirected graph — the
    formulas of networkx's ``constraint`` and ``effective_size``, with each neighbour's total
    weight computed once (networkx recomputes it for every pair: too slow for hubs).
    tests/core/test_network.py checks both against networkx."""
    adj = graph.adj
    nbrs = [u for u in adj[v] if u != v]
    if not nbrs:
        return math.nan, math.nan
    total: dict[int, float] = {}
    top: dict[int, float] = {}

    def w(a: int, b: int) -> float:
        d = adj[a].get(b)
        return d.get("w", 1.0) if d is not None else 0.0

    for u in [v, *nbrs]:
        ws = [d.get("w", 1.0) for x, d in adj[u].items() if x != u]
        total[u] = sum(ws)
        top[u] = max(ws) if ws else 0.0
    # normalized mutual weight: (w_uv + w_vu) / sum_k (w_uk + w_ku) = w_uv / total_u here
    p = {u: w(v, u) / total[v] for u in nbrs}
    constraint = 0.0
    effective = 0.0
    for j in nbrs:
        indirect = sum(p[q] * w(q, j) / total[q] for q in nbrs if q != j and j in adj[q])
        constraint += (p[j] + indirect) ** 2
        redundancy = sum(p[q] * w(j, q) / top[j] for q in nbrs if q != j and q in adj[j])
        effective += 1 - redundancy
    return constraint, effective


# --------------------------------------------------------------------------------- analysis
def analyse(inp: NetworkInput, *, seed: int = 7, limit: int = 20) -> Analysis:
    import networkx as nx

    contacts = {c.id: c for c in inp.contacts}
    owners = {c.id: c.owner_id for c in inp.contacts}
    edges = build_edges(inp)
    graph = nx.Graph()
    graph.add_nodes_from(contacts)
    graph.add_weighted_edges_from(((a, b, kw[1]) for (a, b), kw in edges.items()), weight="w")
    node_cluster, members, clusters = _clusters(graph, contacts, seed)
    ties = {t.contact_id: round(tie_strength(t), 3) for t in inp.ties if t.contact_id in contacts}
    brokers = find_brokers(graph, node_cluster, members, owners, seed=seed, limit=limit)
    strong = strong_ties(graph, ties, owners, limit=limit)
    dormant = dormant_ties(inp, graph, limit=limit)
    accounts = account_coverage(inp, limit=limit)
    patterns = touch_patterns(inp.surveys, limit=limit)
    return Analysis(
        contacts=len(contacts),
        edges=[(a, b, k, round(w, 3)) for (a, b), (k, w) in edges.items()],
        clusters=clusters,
        node_cluster=node_cluster,
        ties=ties,
        owners=owners,
        brokers=brokers,
        strong=strong,
        dormant=dormant,
        accounts=accounts,
        patterns=patterns,
    )


def strong_ties(graph, ties: Mapping[int, float], owners: Mapping[int, int], *, limit: int = 20):  # noqa: ANN001, ANN201
    strong = {v for v, s in ties.items() if s >= STRONG_TIE}
    result = []
    for v in strong:
        shared = sum(1 for u in graph.adj[v] if u in strong)
        result.append(StrongTie(v, owners[v], ties[v], shared))
    result.sort(key=lambda t: (-(t.strength * (1 + 0.25 * t.shared)), t.contact_id))
    return result[:limit]


def unreached_segments(contacts: Iterable[ContactRow]) -> set[str]:
    """ICP segments (some contact in them fits the ICP) where the team has few clients."""
    size: Counter[str] = Counter()
    fits: Counter[str] = Counter()
    clients: Counter[str] = Counter()
    for c in contacts:
        if not (seg := norm_key(c.segment)):
            continue
        size[seg] += 1
        fits[seg] += c.icp_fit == "fits"
        clients[seg] += c.status in CLIENT_STATUSES
    return {s for s in size if fits[s] and clients[s] <= max(1, FEW_CLIENTS_SHARE * size[s])}


def dormant_ties(inp: NetworkInput, graph, *, limit: int = 20) -> list[DormantTie]:  # noqa: ANN001
    """Past positive interaction, quiet for more than twice the stage's cadence, bridging into
    an un-reached ICP segment."""
    unreached = unreached_segments(inp.contacts)
    if not unreached:
        return []
    by_id = {c.id: c for c in inp.contacts}

    def into(c: ContactRow) -> bool:
        return c.icp_fit == "fits" and norm_key(c.segment) in unreached

    result = []
    for cid, reason in inp.positive.items():
        c = by_id.get(cid)
        if c is None or c.status == "lost":
            continue
        days = inp.cadence.get(c.stage)
        if not days:
            continue
        last = c.last_touch_at or c.created_at
        if last is None or inp.now - last <= timedelta(days=2 * days):
            continue
        reach = [by_id[u] for u in graph.adj[cid] if into(by_id[u])]
        if into(c):
            reach.append(c)
        if not reach:
            continue
        segments = Counter((r.segment or "").strip() for r in reach)
        result.append(
            DormantTie(
                contact_id=cid,
                owner_id=c.owner_id,
                score=float(len(reach)),
                segments=tuple(s for s, _n in segments.most_common(3)),
                days_quiet=(inp.now - last).days,
                reason=reason,
            )
        )
    result.sort(key=lambda d: (-d.score, -d.days_quiet, d.contact_id))
    return result[:limit]


def account_coverage(inp: NetworkInput, *, limit: int = 20) -> list[Account]:
    """B2B accounts with a contact in the commercial stage: roles known and fresh; flags."""
    accounts: dict[str, list[ContactRow]] = defaultdict(list)
    for c in inp.contacts:
        if c.kind == "b2c" or c.status == "lost" or not (key := norm_key(c.company)):
            continue
        accounts[key].append(c)
    stale = timedelta(days=inp.stale_days)
    result = []
    for rows in accounts.values():
        if not any(c.stage == "commercial" for c in rows):
            continue
        current = [c for c in rows if c.id not in inp.changed_job]
        fresh_roles = {
            c.influence
            for c in current
            if c.influence and c.verified_at is not None and inp.now - c.verified_at <= stale
        }
        known = tuple(r for r in KEY_ROLES if r in fresh_roles)
        missing = tuple(r for r in KEY_ROLES if r not in fresh_roles)
        moved = tuple(sorted(c.id for c in rows if c.id in inp.changed_job))
        single = len(current) <= 1
        score = (
            3.0 * ("decision_maker" in missing) + len(missing) + 2.0 * single + 2.0 * bool(moved)
        )
        if not missing and not single and not moved:
            continue
        owner = Counter(c.owner_id for c in rows).most_common(1)[0][0]
        company = Counter(c.company.strip() for c in rows if c.company).most_common(1)[0][0]
        result.append(
            Account(
                company=company,
                owner_id=owner,
                contact_ids=tuple(sorted(c.id for c in rows)),
                known=known,
                missing=missing,
                single_threaded=single,
                changed_job=moved,
                score=score,
            )
        )
    result.sort(key=lambda a: (-a.score, a.company.casefold()))
    return result[:limit]


# ------------------------------------------------------------------------------- intro paths
@dataclass(frozen=True)
class IntroPath:
    target: int
    nodes: tuple[int, ...]  # from the anchor (the team's strong tie) to the target
    kinds: tuple[str, ...]  # the kind of each link along the path
    cost: float


def intro_paths(
    targets: Iterable[int],
    edges: Iterable[tuple[int, int, str, float]],
    anchors: Mapping[int, float],
    *,
    limit: int = 3,
) -> list[IntroPath]:
    """Shortest chains from an anchor (a contact the team has a strong tie with, and its
    strength) to each target, preferring fresh strong links: a link costs 1 plus up to a half
    for weakness, so fewer hops always win and strength decides between equally short ones."""
    adj: dict[int, list[tuple[int, str, float]]] = defaultdict(list)
    for a, b, kind, w in edges:
        adj[a].append((b, kind, w))
        adj[b].append((a, kind, w))
    dist: dict[int, float] = {}
    prev: dict[int, tuple[int, str]] = {}
    heap: list[tuple[float, int]] = []
    for v, strength in anchors.items():
        d = 0.5 * (1 - min(1.0, strength / (strength + 1)))
        if d < dist.get(v, math.inf):
            dist[v] = d
            heapq.heappush(heap, (d, v))
    while heap:
        d, v = heapq.heappop(heap)
        if d > dist.get(v, math.inf):
            continue
        for u, kind, w in adj.get(v, ()):
            nd = d + 1 + 0.5 * (1 - min(1.0, w))
            if nd < dist.get(u, math.inf):
                dist[u] = nd
                prev[u] = (v, kind)
                heapq.heappush(heap, (nd, u))
    paths = []
    for t in set(targets):
        if t not in dist:
            continue
        nodes, kinds, v = [t], [], t
        while v in prev:
            v, kind = prev[v]
            nodes.append(v)
            kinds.append(kind)
        paths.append(
            IntroPath(t, tuple(reversed(nodes)), tuple(reversed(kinds)), round(dist[t], 4))
        )
    paths.sort(key=lambda p: (p.cost, p.target))
    return paths[:limit]


def sample_nodes(
    members: Sequence[Sequence[int]], keep: set[int], limit: int, seed: int = 7
) -> set[int]:
    """A drawable subset: the ``keep`` nodes first, then the biggest clusters, sampled."""
    rnd = random.Random(seed)
    chosen = set(list(keep)[:limit])
    for nodes in sorted(members, key=len, reverse=True):
        room = limit - len(chosen)
        if room <= 0:
            break
        pick = list(nodes) if len(nodes) <= room else rnd.sample(list(nodes), room)
        chosen.update(pick)
    return chosen
