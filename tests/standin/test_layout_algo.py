"""Unit tests of the stand-in's partition assignment (garage_standin.layout)."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from garage_standin import layout
from garage_standin.state import LayoutVersion, Node, Role, Store


def nid(i: int) -> str:
    return hashlib.sha256(f"layout-test:{i}".encode()).hexdigest()


def cluster(n: int, caps: list[int] | None = None, zones: int = 3) -> dict[str, Role]:
    caps = caps or [10**12] * n
    return {nid(i): Role(f"dc{i % zones + 1}", caps[i], []) for i in range(n)}


def check_constraints(roles: dict[str, Role], a: layout.Assignment, rf: int, zr: int) -> None:
    assert len(a.partitions) == layout.N_PARTITIONS
    for nodes in a.partitions:
        assert len(nodes) == rf
        assert len(set(nodes)) == rf, "a partition is stored twice on one node"
        assert all(roles[x].capacity is not None for x in nodes), "a gateway stores data"
        assert len({roles[x].zone for x in nodes}) >= zr
    assert sum(a.stored.values()) == layout.N_PARTITIONS * rf
    assert a.partition_size == min(roles[x].capacity // c for x, c in a.stored.items() if c)  # type: ignore[operator]


@pytest.mark.parametrize("n", [3, 5, 7])
def test_constraints_three_zones(n: int) -> None:
    roles = cluster(n, [10**12 * (1 + i % 3) for i in range(n)])
    a = layout.compute_assignment(roles, 3, "maximum")
    assert a.zone_redundancy == 3
    check_constraints(roles, a, 3, 3)


@pytest.mark.parametrize("n", [3, 5, 7])
def test_constraints_zone_redundancy_at_least_two(n: int) -> None:
    roles = cluster(n)
    a = layout.compute_assignment(roles, 3, 2)
    check_constraints(roles, a, 3, 2)


def test_gateways_store_nothing() -> None:
    roles = cluster(5)
    roles[nid(3)] = Role("dc1", None, ["gw"])
    roles[nid(4)] = Role("dc2", None, [])
    a = layout.compute_assignment(roles, 3, "maximum")
    check_constraints(roles, a, 3, 3)
    assert nid(3) not in a.stored and nid(4) not in a.stored


def test_proportional_to_capacity_within_a_zone() -> None:
    # dc1 has three nodes of capacity 1:2:5; dc2 and dc3 one node each.
    roles = {
        nid(0): Role("dc1", 1 * 10**11, []),
        nid(1): Role("dc1", 2 * 10**11, []),
        nid(2): Role("dc1", 5 * 10**11, []),
        nid(3): Role("dc2", 8 * 10**11, []),
        nid(4): Role("dc3", 8 * 10**11, []),
    }
    a = layout.compute_assignment(roles, 3, "maximum")
    check_constraints(roles, a, 3, 3)
    dc1 = [a.stored[nid(i)] for i in range(3)]
    assert sum(dc1) == 256 and a.stored[nid(3)] == 256 and a.stored[nid(4)] == 256
    for got, share in zip(dc1, (1 / 8, 2 / 8, 5 / 8), strict=True):
        assert abs(got - 256 * share) <= 3, dc1


def test_proportional_across_zones_when_redundancy_allows() -> None:
    roles = {nid(i): Role(f"dc{i + 1}", c, []) for i, c in enumerate([1 * 10**12, 1 * 10**12, 2 * 10**12, 4 * 10**12])}
    a = layout.compute_assignment(roles, 2, 1)
    check_constraints(roles, a, 2, 1)
    big, small = a.stored[nid(3)], a.stored[nid(0)]
    assert big > small * 2


def test_stable_when_nothing_changes_and_few_moves_on_growth() -> None:
    roles = cluster(6)
    a = layout.compute_assignment(roles, 3, "maximum")
    same = layout.compute_assignment(roles, 3, "maximum", a.partitions)
    assert layout.count_moves(a.partitions, same.partitions) == (0, 0)
    roles[nid(6)] = Role("dc1", 10**12, [])
    grown = layout.compute_assignment(roles, 3, "maximum", a.partitions)
    check_constraints(roles, grown, 3, 3)
    moved, copies = layout.count_moves(a.partitions, grown.partitions)
    # dc1 goes from 2 to 3 nodes: about a third of dc1's 256 copies must move, not much more
    assert 0 < copies <= 100, copies
    assert moved == copies


def test_not_enough_storage_nodes() -> None:
    roles = cluster(2)
    with pytest.raises(layout.LayoutError, match=r"number of nodes with positive capacity \(2\) is smaller than"):
        layout.compute_assignment(roles, 3, "maximum")


def test_not_enough_zones_for_redundancy() -> None:
    roles = cluster(4, zones=2)
    with pytest.raises(layout.LayoutError, match=r"number of zones with non-zero capacity \(2\)"):
        layout.compute_assignment(roles, 3, 3)
    a = layout.compute_assignment(roles, 3, "maximum")  # maximum adapts to two zones
    check_constraints(roles, a, 3, 2)


def test_deterministic() -> None:
    roles = cluster(7, [10**12 * (i + 1) for i in range(7)])
    assert (
        layout.compute_assignment(roles, 3, "maximum").partitions
        == layout.compute_assignment(roles, 3, "maximum").partitions
    )


def _store(n: int, rf: int = 3) -> Store:
    s = Store(replication_factor=rf)
    for i in range(n):
        s.nodes[nid(i)] = Node(nid(i), f"node{i + 1}", f"127.0.0.1:{3901 + i}")
    return s


def test_health_follows_nodes() -> None:
    s = _store(3)
    assert layout.health(s)["status"] == "unavailable"
    s.staged_roles = {nid(i): Role(f"dc{i}", 10**12, []) for i in range(3)}
    layout.apply(s, 1)
    h = layout.health(s)
    assert (h["status"], h["partitionsQuorum"], h["partitionsAllOk"], h["storageNodesOk"]) == ("healthy", 256, 256, 3)
    s.nodes[nid(0)].is_up = False
    h = layout.health(s)
    assert (h["status"], h["partitionsQuorum"], h["partitionsAllOk"]) == ("degraded", 256, 0)
    s.nodes[nid(1)].is_up = False
    assert layout.health(s)["status"] == "unavailable"


def test_apply_version_rule_and_staging() -> None:
    s = _store(3)
    s.staged_roles = {nid(i): Role("dc1", 10**12, []) for i in range(3)}
    for bad in (0, 2):
        with pytest.raises(ValueError, match="Invalid new layout version"):
            layout.apply(s, bad)
    msgs = layout.apply(s, 1)
    assert any("partitions will move" in m for m in msgs)
    assert s.staged_roles == {} and s.layout_versions[-1].version == 1
    # a role identical to the current one is not a staged change
    s.staged_roles = {nid(0): Role("dc1", 10**12, [])}
    assert layout.staged_changes(s) == {}
    s.staged_roles = {nid(0): Role("dc1", 2 * 10**12, [])}
    assert list(layout.staged_changes(s)) == [nid(0)]


def test_staged_removal_shown_like_garage() -> None:
    """Garage hides a staged removal of a node that was already removed, not of one never seen."""
    s = _store(4)
    s.staged_roles = {nid(i): Role(f"dc{i + 1}", 10**12, []) for i in range(4)}
    layout.apply(s, 1)
    s.staged_roles = {nid(3): None}
    assert layout.staged_changes(s) == {nid(3): None}  # a real removal
    layout.apply(s, 2)
    s.staged_roles = {nid(3): None, nid(9): None}
    # nid(3) was removed before: nothing to show; nid(9) never had a role: shown
    assert layout.staged_changes(s) == {nid(9): None}


@pytest.mark.parametrize("rf,quorum", [(1, 1), (2, 2), (3, 2), (5, 3)])
def test_write_quorum(rf: int, quorum: int) -> None:
    assert layout.write_quorum(rf) == quorum


def test_zone_spread_is_even_in_exhaustive_small_cases() -> None:
    for caps in itertools.product([10**11, 3 * 10**11], repeat=4):
        roles = {nid(i): Role(f"dc{i % 3}", c, []) for i, c in enumerate(caps)}
        a = layout.compute_assignment(roles, 3, "maximum")
        check_constraints(roles, a, 3, 3)


def test_layout_version_defaults() -> None:
    v = LayoutVersion(0, {}, "maximum")
    assert v.assignment == [] and v.partition_size == 0
