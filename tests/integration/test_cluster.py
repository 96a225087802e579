# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_cluster and garage_cluster_info through ansible-playbook."""

from __future__ import annotations

import typing as t

from tests.integration.ansible_run import run_playbook

CLUSTER = "cellar.garage.garage_cluster"
INFO = "cellar.garage.garage_cluster_info"


def test_connect_peers_quartet(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=False, connected="self")
    status = g.ok("GetClusterStatus")
    up = {n["id"] for n in status["nodes"] if n["isUp"]}
    others = [nid for nid in g.node_ids if nid not in up]
    assert len(others) == 2, status
    peers = [g.node(nid).peer for nid in others]
    args = {"peers": peers, "wait_for": "connected", "wait_timeout": 20, "poll_interval": 0.2}
    g.reset_calls()
    tasks = [
        {"name": "check", CLUSTER: args, "check_mode": True},
        {"name": "apply", CLUSTER: args},
        {"name": "check again", CLUSTER: args, "check_mode": True},
        {"name": "apply again", CLUSTER: args},
    ]
    r = run_playbook(tasks, garage=g)
    assert r.rc == 0, r.output
    assert r.task("check").changed and r.task("apply").changed
    assert not r.task("check again").changed and not r.task("apply again").changed
    assert r.task("check").result["connected"] == peers == r.task("apply").result["connected"]
    assert r.task("apply again").result["already_connected"] == peers
    # out of band: connected exactly once (check mode connected nothing), everyone is up now
    assert g.calls().get("ConnectClusterNodes") == 1, g.calls()
    assert all(n["isUp"] for n in g.ok("GetClusterStatus")["nodes"])
    nodes = r.task("apply").result["status"]["nodes"]
    assert {n["id"] for n in nodes} >= set(others) and all(n["is_up"] for n in nodes)


def test_connect_failures_are_reported(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=False, connected="self")
    unknown = "f" * 64
    g.reset_calls()
    tasks = [
        {"name": "malformed", CLUSTER: {"peers": ["abc@host", f"{unknown}@h:99999"]}, "ignore_errors": True},
        {"name": "refused", CLUSTER: {"peers": [f"{unknown}@127.0.0.1:3901"]}, "ignore_errors": True},
    ]
    r = run_playbook(tasks, garage=g)
    malformed = r.task("malformed")
    assert malformed.failed and "Invalid peer(s)" in malformed.result["msg"] and "abc@host" in malformed.result["msg"]
    refused = r.task("refused")
    assert refused.failed and not refused.changed, r.output
    assert "Failed to connect to" in refused.result["msg"] and unknown[:16] in refused.result["msg"]
    assert refused.result["failed_peers"][0]["peer"] == f"{unknown}@127.0.0.1:3901"
    assert g.calls().get("ConnectClusterNodes") == 1  # the malformed list never reached Garage


def test_wait_names_missing_nodes(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True, hostnames=True)
    down = g.node_ids[2]
    host = next(n["hostname"] for n in g.ok("GetClusterStatus")["nodes"] if n["id"] == down)
    g.set_node_up(down, False)
    short = {"wait_timeout": 1, "poll_interval": 0.3}
    tasks = [
        {"name": "connected", CLUSTER: {"wait_for": "connected", **short}, "ignore_errors": True},
        {"name": "healthy", CLUSTER: {"wait_for": "healthy", **short}, "ignore_errors": True},
    ]
    r = run_playbook(tasks, garage=g)
    for name in ("connected", "healthy"):
        task = r.task(name)
        assert task.failed and not task.changed, r.output
        assert f"{host} ({down[:16]})" in task.result["msg"], task.result["msg"]
        assert task.result["missing_nodes"] == [f"{host} ({down[:16]})"]
    assert "'degraded'" in r.task("healthy").result["msg"]
    g.set_node_up(down, True)
    r = run_playbook([{"name": "healthy", CLUSTER: {"wait_for": "healthy", "wait_timeout": 30}}], garage=g)
    task = r.task("healthy")
    assert not task.failed and not task.changed and task.result["health"]["status"] == "healthy", r.output


def test_cluster_info(garage: t.Any) -> None:
    tasks = [
        {"name": "all", INFO: {}},
        {"name": "some", INFO: {"gather": ["health", "layout"]}},
    ]
    r = run_playbook(tasks, garage=garage, check=True)
    assert r.rc == 0, r.output
    full = r.task("all").result
    assert not r.task("all").changed
    assert full["gathered"] == ["status", "health", "statistics", "layout", "layout_history", "node_info"]
    status = garage.ok("GetClusterStatus")
    layout = garage.ok("GetClusterLayout")
    assert full["status"]["layout_version"] == status["layoutVersion"] == full["layout"]["version"]
    assert [n["id"] for n in full["status"]["nodes"]] == sorted(n["id"] for n in status["nodes"])
    assert full["health"]["partitions"] == 256 and full["health"]["status"] in ("healthy", "degraded")
    assert set(full["layout"]["roles"]) == {x["id"] for x in layout["roles"]}
    some_role = next(iter(full["layout"]["roles"].values()))
    assert {"zone", "capacity", "tags", "gateway", "stored_partitions", "usable_capacity"} <= set(some_role)
    assert full["layout_history"]["current_version"] == layout["version"]
    assert isinstance(full["statistics"]["freeform"], str) and full["statistics"]["freeform"]
    assert set(full["node_info"]["nodes"]) <= {n["id"] for n in status["nodes"]} and full["node_info"]["nodes"]
    some = r.task("some").result
    assert some["gathered"] == ["health", "layout"] and "status" not in some and "node_info" not in some
