# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Staged layout changes left behind by an operator: stale_staged_changes fail / discard / merge."""

from __future__ import annotations

import typing as t

from tests.integration.ansible_run import run_playbook
from tests.integration.layout_helpers import MODULE, T, assert_quartet, effective_staged, layout_oob, quartet, roles_oob


def by_zone(g: t.Any) -> list[str]:
    return [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]


def stage_oob(g: t.Any, node: str, **change: t.Any) -> None:
    role = next(r for r in layout_oob(g)["roles"] if r["id"] == node)
    entry = {"id": node, "zone": role["zone"], "capacity": role["capacity"], "tags": role["tags"], **change}
    g.ok("UpdateClusterLayout", body={"roles": [entry]})


def test_stale_staged_changes_fail_discard_merge(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True, hostnames=True)
    ids = by_zone(g)
    hosts = {n["id"]: n["hostname"] for n in g.ok("GetClusterStatus")["nodes"]}

    # an operator staged a capacity change of the second node and went home
    stage_oob(g, ids[1], capacity=3 * T)
    before = layout_oob(g)
    assert len(effective_staged(before)) == 1

    # default: fail, naming the change (hostname, id prefix, what), in check mode and for real
    args = {"nodes": [{"node": ids[0], "capacity": "2T"}]}
    tasks = [
        {"name": "fail check", MODULE: args, "check_mode": True, "ignore_errors": True},
        {"name": "fail", MODULE: args, "ignore_errors": True},
    ]
    r = run_playbook(tasks, garage=g)
    for name in ("fail check", "fail"):
        task = r.task(name)
        assert task.failed and not task.changed, r.output
        msg = task.result["msg"]
        assert "staged changes that this task did not make" in msg, msg
        assert f"{hosts[ids[1]]} ({ids[1][:16]}): update zone=dc2 capacity=3T" in msg, msg
        assert [c["id"] for c in task.result["stale_staged_changes"]] == [ids[1]]
    now = layout_oob(g)
    assert now["version"] == before["version"] and effective_staged(now) == effective_staged(before)

    # discard: the stale change is cleared, the declared one applied
    check, applied, after = assert_quartet(quartet(g, {**args, "stale_staged_changes": "discard"}), before)
    assert applied["stale_staged_action"] == "discarded"
    assert [c["id"] for c in check["stale_staged_changes"]] == [ids[1]]
    assert [c["id"] for c in applied["staged_changes"]] == [ids[0]]
    assert roles_oob(after)[ids[0]][1] == 2 * T and roles_oob(after)[ids[1]][1] == T

    # merge: the stale change is applied together with ours
    stage_oob(g, ids[2], tags=["ops"])
    before = layout_oob(g)
    merge = {"nodes": [{"node": ids[0], "capacity": "3T"}], "stale_staged_changes": "merge"}
    check, applied, after = assert_quartet(quartet(g, merge), before)
    assert applied["stale_staged_action"] == "merged"
    assert sorted(c["id"] for c in applied["staged_changes"]) == sorted([ids[0], ids[2]])
    assert roles_oob(after)[ids[0]][1] == 3 * T and roles_oob(after)[ids[2]][2] == ["ops"]

    # discard with nothing declared only clears the stale change: no new version
    stage_oob(g, ids[1], capacity=5 * T)
    before = layout_oob(g)
    r = run_playbook([{"name": "clear", MODULE: {"stale_staged_changes": "discard"}}], garage=g)
    task = r.task("clear")
    assert task.changed and not task.result["applied"], r.output
    now = layout_oob(g)
    assert now["version"] == before["version"] and effective_staged(now) == []
    assert roles_oob(now) == roles_oob(before)
