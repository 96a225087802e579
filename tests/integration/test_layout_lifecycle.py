# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_layout against real Garage clusters of 3, 5 and 7 nodes, through ansible-playbook.

One test per cluster size walks a layout's life: initial layout from nothing, capacity change, added
node, gateway role, removal with purge, replacement of a down node, and a refused plan. Every step is
the quartet check -> apply -> check -> apply with out-of-band reads (see layout_helpers.quartet).
"""

from __future__ import annotations

import typing as t

import pytest

from tests.integration.ansible_run import run_playbook
from tests.integration.layout_helpers import (
    MODULE,
    WRITES,
    T,
    assert_quartet,
    effective_staged,
    layout_oob,
    quartet,
    roles_oob,
)

ZONES = ("dc1", "dc2", "dc3")


def hostnames(g: t.Any) -> dict[str, str]:
    return {n["hostname"]: n["id"] for n in g.ok("GetClusterStatus")["nodes"]}


@pytest.mark.parametrize("size", [3, 5, 7])
def test_layout_lifecycle(garage_factory: t.Any, size: int) -> None:
    # size storage nodes + one storage node to add (later purged) + one gateway + one spare for the replacement
    g = garage_factory(nodes=size + 3, layout=False, hostnames=True)
    hosts = hostnames(g)
    ids = [hosts[f"node{i}"] for i in range(1, size + 4)]
    added, gateway, spare = ids[size], ids[size + 1], ids[size + 2]
    storage = [{"node": f"node{i + 1}", "zone": ZONES[i % 3], "capacity": "1T"} for i in range(size)]

    # 1. initial layout from nothing (nodes by hostname, one by id prefix, one by full id)
    nodes = [dict(n) for n in storage]
    nodes[0]["node"] = ids[0][:12]
    nodes[-1]["node"] = ids[size - 1]
    before = layout_oob(g)
    assert before["version"] == 0
    check, applied, after = assert_quartet(quartet(g, {"nodes": nodes}), before)
    assert sorted(c["action"] for c in check["staged_changes"]) == ["add"] * size
    assert roles_oob(after) == {ids[i]: (ZONES[i % 3], T, []) for i in range(size)}
    assert applied["partition_moves"]["replication_factor"] == 3
    assert applied["previous_version"] == 0 and applied["applied"] is True
    health = g.ok("GetClusterHealth")
    assert health["status"] == "healthy" and health["storageNodes"] == size

    # 2. capacity change of node1 (its zone is kept), a new storage node with tags, a gateway
    before = after
    change = {
        "nodes": [
            {"node": "node1", "capacity": "2T"},
            {"node": f"node{size + 1}", "zone": "dc2", "capacity": "500G", "tags": ["new"]},
            {"node": f"node{size + 2}", "zone": "dc3", "gateway": True},
        ]
    }
    check, applied, after = assert_quartet(quartet(g, change), before)
    assert sorted((c["id"], c["action"]) for c in check["staged_changes"]) == sorted(
        [(ids[0], "update"), (added, "add"), (gateway, "add")]
    )
    update = next(c for c in check["staged_changes"] if c["id"] == ids[0])
    assert update["before"]["capacity_human"] == "1T" and update["after"]["capacity_human"] == "2T"
    assert roles_oob(after)[ids[0]] == ("dc1", 2 * T, [])
    assert roles_oob(after)[added] == ("dc2", 500 * 10**9, ["new"])
    assert roles_oob(after)[gateway] == ("dc3", None, [])
    assert applied["layout"]["roles"][gateway]["gateway"] is True
    gw = next(x for x in after["roles"] if x["id"] == gateway)
    assert gw.get("storedPartitions") in (None, 0)

    # 3. purge: every node not listed loses its role (the added storage node)
    before = after
    listed = [{"node": f"node{i + 1}"} for i in range(size)] + [{"node": gateway}]
    check, applied, after = assert_quartet(quartet(g, {"nodes": listed, "purge": True}), before)
    assert [(c["id"], c["action"]) for c in check["staged_changes"]] == [(added, "remove")]
    assert added not in roles_oob(after) and len(roles_oob(after)) == size + 1

    # 4. node2 dies; replace it by the spare, carrying zone/capacity/tags over
    dead = ids[1]
    g.set_node_up(dead, False)
    assert g.ok("GetClusterHealth")["status"] != "healthy"
    before = after
    check, applied, after = assert_quartet(
        quartet(g, {"replace": [{"old": dead[:16], "new": f"node{size + 3}"}]}), before
    )
    assert sorted((c["id"], c["action"]) for c in check["staged_changes"]) == sorted([(dead, "remove"), (spare, "add")])
    assert dead not in roles_oob(after) and roles_oob(after)[spare] == ("dc2", T, [])

    # 5. the replacement stays a no-op in the playbook; a plan that cannot satisfy replication
    #    factor 3 is refused (check mode and real run) before anything is staged
    before = after
    keep = [{"node": ids[0]}, {"node": spare}]
    tasks = [
        {"name": "replace again", MODULE: {"replace": [{"old": dead, "new": spare}]}},
        {"name": "refused check", MODULE: {"nodes": keep, "purge": True}, "check_mode": True, "ignore_errors": True},
        {"name": "refused", MODULE: {"nodes": keep, "purge": True}, "ignore_errors": True},
    ]
    g.reset_calls()
    r = run_playbook(tasks, garage=g)
    assert not r.task("replace again").failed and not r.task("replace again").changed, r.output
    for name in ("refused check", "refused"):
        task = r.task(name)
        assert task.failed and not task.changed, r.output
        assert "Refusing to change the layout" in task.result["msg"]
        assert "replication factor 3" in task.result["msg"]
    assert not any(g.calls().get(k) for k in WRITES), g.calls()
    now = layout_oob(g)
    assert now["version"] == before["version"] and effective_staged(now) == []
    assert roles_oob(now) == roles_oob(before)


def test_layout_noop_costs_one_read(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    nodes = [{"node": nid, "zone": ZONES[i], "capacity": T} for i, nid in enumerate(g.node_ids)]
    g.reset_calls()
    r = run_playbook([{"name": "noop", MODULE: {"nodes": nodes}}], garage=g)
    assert r.rc == 0 and not r.task("noop").changed, r.output
    calls = {k: v for k, v in g.calls().items() if v}
    assert calls == {"GetClusterLayout": 1}, calls


def test_zone_redundancy_and_bad_input(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    before = layout_oob(g)
    r = quartet(g, {"zone_redundancy": "2"})
    check, applied, after = assert_quartet(r, before)
    assert after["parameters"]["zoneRedundancy"] == {"atLeast": 2}
    assert applied["layout"]["zone_redundancy"] == 2 and check["layout"]["zone_redundancy"] == 2

    bad = [
        ({"nodes": [{"node": "node1", "capacity": "12 parsecs"}]}, "unknown unit"),
        ({"nodes": [{"node": "node1", "capacity": "1T", "gateway": True}]}, "either capacity or gateway"),
        ({"nodes": [{"node": "node9", "zone": "dc1", "capacity": "1T"}]}, "unknown"),
        ({"zone_redundancy": "4"}, "larger than the replication factor"),
        ({"zone_redundancy": "lots"}, "zone_redundancy must be"),
        ({"replication_factor": 2}, "stores each partition 3 times"),
        ({"replace": [{"old": "node1", "new": "node1"}]}, "same node"),
    ]
    tasks = [{"name": f"bad{i}", MODULE: args, "ignore_errors": True} for i, (args, _needle) in enumerate(bad)]
    r = run_playbook(tasks, garage=g)
    for i, (_args, needle) in enumerate(bad):
        task = r.task(f"bad{i}")
        assert task.failed and needle in task.result["msg"], (needle, task.result.get("msg"))
    now = layout_oob(g)
    assert now["version"] == after["version"] and effective_staged(now) == []
