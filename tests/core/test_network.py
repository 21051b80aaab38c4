"""The network analysis finds what was planted, and nothing where nothing was planted."""

from __future__ import annotations

from datetime import timedelta

import networkx as nx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from core import network as net
from tests.network_gen import NOW, TeamGen


def test_the_broker_between_two_dense_clusters_is_found_and_its_clusters_named() -> None:
    g = TeamGen()
    broker, _a, _b = g.plant_broker()
    result = net.analyse(g.input())
    assert broker in [b.contact_id for b in result.brokers[:3]]
    top = next(b for b in result.brokers if b.contact_id == broker)
    names = {result.clusters[c].label for c in top.clusters}
    assert names == {"Fintech", "Retail"}
    assert top.constraint is not None and top.constraint < 0.5 and top.betweenness > 0.3


def test_a_single_dense_cluster_names_no_broker() -> None:
    g = TeamGen()
    g.plant_single_cluster(size=12)
    g.plant_single_cluster(size=40, tag="big")  # a ring lattice of colleagues and an event
    assert net.analyse(g.input()).brokers == []


def test_brokers_of_several_planted_pairs_among_noise() -> None:
    g = TeamGen()
    planted = [g.plant_broker(size=12, tag=str(i))[0] for i in range(3)]
    for i in range(5):
        g.plant_single_cluster(size=15, tag=f"n{i}")
    found = [b.contact_id for b in net.analyse(g.input()).brokers]
    assert set(found) == set(planted)


@settings(max_examples=25, deadline=None)
@given(
    a=st.integers(6, 20),
    b=st.integers(6, 20),
    links=st.integers(2, 4),
    seed=st.integers(0, 10_000),
)
def test_property_a_planted_broker_is_first(a: int, b: int, links: int, seed: int) -> None:
    left = nx.gnp_random_graph(a, 0.7, seed=seed)
    right = nx.relabel_nodes(nx.gnp_random_graph(b, 0.7, seed=seed + 1), lambda v: v + 100)
    graph = nx.Graph()
    for part in (left, right):
        graph.add_nodes_from(part)
        graph.add_edges_from(part.edges())
    nx.set_edge_attributes(graph, 1.0, "w")
    # each side dense and without a cut vertex of its own (else that one is a broker too)
    assume(nx.is_biconnected(left) and nx.is_biconnected(right))
    broker = 1000
    for v in [*range(links), *range(100, 100 + links)]:
        graph.add_edge(broker, v, w=1.0)
    brokers = _brokers(graph, seed)
    assert brokers and brokers[0] == broker


@settings(max_examples=25, deadline=None)
@given(n=st.integers(8, 40), seed=st.integers(0, 10_000))
def test_property_a_dense_cluster_has_no_broker(n: int, seed: int) -> None:
    graph = nx.gnp_random_graph(n, 0.6, seed=seed)
    assume(nx.is_biconnected(graph))
    nx.set_edge_attributes(graph, 1.0, "w")
    assert _brokers(graph, seed) == []


def _brokers(graph: nx.Graph, seed: int) -> list[int]:
    rows = {v: net.ContactRow(id=v, owner_id=1) for v in graph}
    node_cluster, members, _clusters = net._clusters(graph, rows, seed)
    found = net.find_brokers(graph, node_cluster, members, {v: 1 for v in graph}, seed=seed)
    return [b.contact_id for b in found]


def test_dormant_weak_ties_into_an_unreached_segment_among_many_active_ones() -> None:
    g = TeamGen()
    g.plant_reached_segment("Fintech")
    planted = g.plant_dormant(planted=3, active=40, segment="Healthcare")
    g.plant_dormant_into_reached(5, "Fintech")  # dormant too, but into a reached segment
    found = net.analyse(g.input()).dormant
    assert {d.contact_id for d in found[:3]} == set(planted)
    assert len(found) == 3
    assert all(d.segments == ("Healthcare",) and d.days_quiet == 60 for d in found)


def test_no_dormant_ties_when_every_icp_segment_is_reached() -> None:
    g = TeamGen()
    g.plant_reached_segment("Fintech")
    g.plant_dormant_into_reached(5, "Fintech")
    assert net.analyse(g.input()).dormant == []


def test_accounts_missing_a_decision_maker_come_first() -> None:
    g = TeamGen()
    g.plant_full_accounts(6)
    planted = g.plant_missing_dm(2)
    found = net.analyse(g.input()).accounts
    assert [a.company for a in found[:3]][:2] == sorted(planted)
    assert len(found) == 2 and all(a.missing == ("decision_maker",) for a in found)


def test_fully_covered_accounts_raise_nothing_but_stale_or_moved_ones_do() -> None:
    g = TeamGen()
    g.plant_full_accounts(6)
    assert net.analyse(g.input()).accounts == []
    g.account("Old Co", ("initiator", "decision_maker", "procurement", "user"), stale=True)
    moved = g.account("Moved Co", ("initiator", "decision_maker", "procurement", "user"))
    g.changed_job.add(moved[1])  # the decision maker answered "No" to the data check
    single = g.account("Solo Co", ("decision_maker",))
    found = {a.company: a for a in net.analyse(g.input()).accounts}
    assert set(found) == {"Old Co", "Moved Co", "Solo Co"}
    assert found["Old Co"].missing == net.KEY_ROLES  # nothing verified within 180 days
    assert found["Moved Co"].changed_job == (moved[1],)
    assert "decision_maker" in found["Moved Co"].missing
    assert found["Solo Co"].single_threaded and single


def test_a_rep_whose_sparse_touches_precede_detractors() -> None:
    g = TeamGen()
    g.plant_patterns(sparse_rep=2)
    found = net.analyse(g.input()).patterns
    top = [(p.dimension, p.key, p.measure, p.bucket) for p in found[:3]]
    assert ("rep", "2", "touches", "sparse") in top
    p = next(p for p in found if (p.dimension, p.key) == ("rep", "2"))
    assert p.group.n == 16 and p.group.low > p.rest.high  # separate intervals, not a hunch


def test_no_pattern_where_scores_do_not_depend_on_touches() -> None:
    g = TeamGen()
    g.plant_flat_patterns()
    assert net.analyse(g.input()).patterns == []


def test_too_few_answers_show_nothing() -> None:
    g = TeamGen()
    g.plant_patterns(sparse_rep=2, answers=3)  # 3 answers after sparse touches: too few
    assert all(p.group.n >= net.MIN_ANSWERS for p in net.analyse(g.input()).patterns)
    assert not [p for p in net.analyse(g.input()).patterns if p.key == "2"]


@given(st.integers(0, 200), st.integers(1, 200))
def test_property_wilson_interval_holds_the_share(k: int, n: int) -> None:
    k = min(k, n)
    low, high = net.wilson(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


def test_intro_paths_prefer_fewer_hops_then_fresh_strong_links() -> None:
    edges = [
        (1, 2, "intro", 1.0),
        (2, 9, "colleague", 0.8),  # 1 -> 2 -> 9: two strong hops
        (3, 4, "event", 0.2),
        (4, 9, "event", 0.2),  # 3 -> 4 -> 9: two weak hops
        (5, 6, "intro", 1.0),
        (6, 7, "intro", 1.0),
        (7, 9, "intro", 1.0),  # three hops: longer, never preferred
    ]
    [path] = net.intro_paths({9}, edges, {1: 2.0, 3: 2.0, 5: 10.0}, limit=1)
    assert path.nodes == (1, 2, 9) and path.kinds == ("intro", "colleague")
    assert net.intro_paths({9}, edges, {}) == []
    assert net.intro_paths({42}, edges, {1: 2.0}) == []


def test_edges_from_introductions_colleagues_and_events() -> None:
    g = TeamGen()
    a = g.add(company="Acme", source="event", source_detail="Web Summit")
    b = g.add(company="ACME ", introduced_by=a)
    c = g.add(source="webinar", source_detail="web summit", tags="vip;event-2026-expo")
    d = g.add(tags="event-2026-expo")
    e = g.add(tags="event")  # a bare "event" tag is no particular event
    edges = net.build_edges(g.input())
    assert edges[(a, b)][0] == "intro"
    assert edges[(a, c)][0] == "event" and edges[(c, d)][0] == "event"
    assert not any(e in pair for pair in edges)
    g.changed_job.add(b)
    assert net.build_edges(g.input())[(a, b)][0] == "intro"  # who introduced whom stays
    assert NOW - timedelta(days=1) < NOW


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 25), p=st.floats(0.1, 0.9), seed=st.integers(0, 10_000))
def test_property_structural_holes_agree_with_networkx(n: int, p: float, seed: int) -> None:
    import random

    graph = nx.gnp_random_graph(n, p, seed=seed)
    rnd = random.Random(seed)
    for a, b in graph.edges():
        graph[a][b]["w"] = rnd.choice((0.2, 0.4, 0.8, 1.0))
    for v in graph:
        if not graph.adj[v]:
            continue
        constraint, effective = net.structural_holes(graph, v)
        assert abs(constraint - nx.constraint(graph, [v], weight="w")[v]) < 1e-9
        assert abs(effective - nx.effective_size(graph, [v], weight="w")[v]) < 1e-9
