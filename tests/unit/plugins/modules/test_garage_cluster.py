# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_cluster and garage_cluster_info main() with an injected MagicMock client."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import cluster
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageConnectionError
from ansible_collections.cellar.garage.plugins.modules import garage_cluster, garage_cluster_info
from tests.unit.plugins.modules._bucket_harness import run_module

A, B, C = ("a" * 63 + "1", "b" * 63 + "2", "c" * 63 + "3")
PEER_B, PEER_C = f"{B}@10.0.0.2:3901", f"{C}@[fd00::3]:3901"


def status(up: dict[str, bool], roles: t.Iterable[str] = ()) -> dict[str, t.Any]:
    hosts = {A: "node1", B: "node2", C: "node3"}
    return {
        "layoutVersion": 1,
        "nodes": [
            {
                "id": n,
                "hostname": hosts[n],
                "addr": "10.0.0.1:3901",
                "isUp": is_up,
                "draining": False,
                "role": {"zone": "dc1", "capacity": 10**12, "tags": []} if n in roles else None,
            }
            for n, is_up in up.items()
        ],
    }


def health(state: str) -> dict[str, t.Any]:
    return {
        "status": state,
        "knownNodes": 3,
        "connectedNodes": 3,
        "storageNodes": 3,
        "storageNodesOk": 3,
        "partitions": 256,
        "partitionsQuorum": 256,
        "partitionsAllOk": 256 if state == "healthy" else 0,
    }


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cluster.time, "sleep", lambda s: None)


def test_parse_peer() -> None:
    assert cluster.parse_peer(PEER_B) == B
    assert cluster.parse_peer(PEER_C) == C
    assert cluster.parse_peer(f"{B.upper()}@host.example:3901") == B
    for bad in ("abc@host:3901", f"{B}@host", f"{B}@host:0", f"{B}@host:70000", f"{B}host:1", f"{B}@:3901"):
        assert cluster.parse_peer(bad) is None, bad


def test_connect_only_missing_peers_and_check_mode(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: True, C: False})
    res = run_module(garage_cluster, {"peers": [PEER_B, PEER_C]}, client, capsys, check_mode=True)
    assert res["changed"] and res["connected"] == [PEER_C] and res["already_connected"] == [PEER_B]
    client.connect_cluster_nodes.assert_not_called()
    client.connect_cluster_nodes.return_value = [{"success": True, "error": None}]
    res = run_module(garage_cluster, {"peers": [PEER_B, PEER_C]}, client, capsys)
    assert res["changed"] and not res["failed"]
    client.connect_cluster_nodes.assert_called_once_with([PEER_C])


def test_already_connected_is_no_change(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: True, C: True})
    res = run_module(garage_cluster, {"peers": [PEER_B, PEER_C], "wait_for": "connected"}, client, capsys)
    assert not res["changed"] and res["connected"] == [] and res["waited"] == 0.0
    client.connect_cluster_nodes.assert_not_called()
    assert client.get_cluster_status.call_count == 1  # the wait reused the status read


def test_failed_items_fail_the_task(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: False, C: False})
    client.connect_cluster_nodes.return_value = [
        {"success": True, "error": None},
        {"success": False, "error": "Connection refused (os error 111)"},
    ]
    res = run_module(garage_cluster, {"peers": [PEER_B, PEER_C]}, client, capsys)
    assert res["failed"] and res["changed"] and res["connected"] == [PEER_B]
    assert f"node3 ({C[:16]}) ({PEER_C}): Connection refused" in res["msg"]
    assert res["failed_peers"] == [{"peer": PEER_C, "error": "Connection refused (os error 111)"}]


def test_invalid_peers_fail_before_any_call(capsys: t.Any) -> None:
    client = mock.MagicMock()
    res = run_module(garage_cluster, {"peers": [PEER_B, "nope"]}, client, capsys)
    assert res["failed"] and "Invalid peer(s) 'nope'" in res["msg"]
    assert client.method_calls == []
    res = run_module(garage_cluster, {"wait_for": "healthy", "poll_interval": 0}, client, capsys)
    assert res["failed"] and "poll_interval" in res["msg"]


def test_wait_connected_times_out_naming_missing(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: True, C: False}, roles=[A, B, C])
    args = {"wait_for": "connected", "wait_timeout": 0, "poll_interval": 0.01}
    res = run_module(garage_cluster, args, client, capsys)
    assert res["failed"] and not res["changed"]
    assert res["missing_nodes"] == [f"node3 ({C[:16]})"] and "still missing: node3" in res["msg"]


def test_wait_healthy_polls_until_healthy(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: True, C: True}, roles=[A, B, C])
    client.get_cluster_health.side_effect = [health("degraded"), health("degraded"), health("healthy")]
    res = run_module(garage_cluster, {"wait_for": "healthy", "wait_timeout": 60}, client, capsys)
    assert not res["failed"] and not res["changed"] and res["health"]["status"] == "healthy"
    assert client.get_cluster_health.call_count == 3


def test_wait_healthy_timeout_says_syncing_when_all_up(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: True, C: True}, roles=[A, B, C])
    client.get_cluster_health.return_value = health("degraded")
    res = run_module(garage_cluster, {"wait_for": "healthy", "wait_timeout": 0}, client, capsys)
    assert res["failed"] and "'degraded'" in res["msg"] and "still syncing" in res["msg"]


def test_connection_error_is_one_clean_failure(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_status.side_effect = GarageConnectionError("Cannot reach Garage admin API: refused")
    res = run_module(garage_cluster, {"peers": [PEER_B]}, client, capsys)
    assert res["failed"] and res["msg"] == "Failed to read cluster status: Cannot reach Garage admin API: refused"


# --------------------------------------------------------------------------- garage_cluster_info


def info_client() -> mock.MagicMock:
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: False}, roles=[A])
    client.get_cluster_health.return_value = health("degraded")
    client.get_cluster_statistics.return_value = {"freeform": "Storage nodes: ..."}
    client.get_cluster_layout.return_value = {
        "version": 1,
        "roles": [
            {"id": A, "zone": "dc1", "capacity": 2000, "tags": ["x"], "storedPartitions": 256, "usableCapacity": 2000}
        ],
        "parameters": {"zoneRedundancy": {"atLeast": 1}},
        "partitionSize": 7,
        "stagedRoleChanges": [{"id": A, "remove": True}, {"id": B, "zone": "dc2", "capacity": None, "tags": []}],
        "stagedParameters": {"zoneRedundancy": "maximum"},
    }
    client.get_cluster_layout_history.return_value = {
        "currentVersion": 1,
        "minAck": 1,
        "versions": [{"version": 1, "status": "Current", "storageNodes": 1, "gatewayNodes": 0}],
        "updateTrackers": {A: {"ack": 1, "sync": 1, "syncAck": 1}},
    }
    client.get_node_info.return_value = {
        "success": {A: {"nodeId": A, "garageVersion": "v2.0.0", "rustVersion": "1.84", "dbEngine": "lmdb"}},
        "error": {B: "timeout"},
    }
    return client


def test_cluster_info_all(capsys: t.Any) -> None:
    client = info_client()
    res = run_module(garage_cluster_info, {}, client, capsys)
    assert not res["changed"] and res["gathered"] == list(cluster.SUBSETS)
    assert res["status"]["nodes"][0]["role"]["zone"] == "dc1" and res["status"]["nodes"][1]["is_up"] is False
    assert res["health"]["partitions_all_ok"] == 0 and res["health"]["status"] == "degraded"
    assert res["statistics"] == {"freeform": "Storage nodes: ..."}
    layout = res["layout"]
    assert layout["zone_redundancy"] == 1 and layout["staged_zone_redundancy"] == "maximum"
    assert layout["roles"][A]["stored_partitions"] == 256 and layout["roles"][A]["tags"] == ["x"]
    assert layout["staged_role_changes"][0] == {"id": A, "remove": True}
    assert layout["staged_role_changes"][1]["gateway"] is True
    assert res["layout_history"]["update_trackers"] == {A: {"ack": 1, "sync": 1, "sync_ack": 1}}
    assert res["node_info"] == {
        "nodes": {
            A: {"garage_version": "v2.0.0", "rust_version": "1.84", "db_engine": "lmdb", "garage_features": None}
        },
        "errors": {B: "timeout"},
    }
    client.get_node_info.assert_called_once_with("*")


def test_cluster_info_subset_reads_only_what_is_asked(capsys: t.Any) -> None:
    client = info_client()
    res = run_module(garage_cluster_info, {"gather": ["layout_history", "health"]}, client, capsys)
    assert res["gathered"] == ["health", "layout_history"] and "status" not in res
    assert sorted(c[0] for c in client.method_calls) == ["get_cluster_health", "get_cluster_layout_history"]


def test_cluster_info_error(capsys: t.Any) -> None:
    client = info_client()
    client.get_cluster_layout.side_effect = GarageConnectionError("Cannot reach Garage admin API: timed out")
    res = run_module(garage_cluster_info, {"gather": ["layout"]}, client, capsys)
    assert res["failed"] and res["msg"] == "Failed to read cluster layout: Cannot reach Garage admin API: timed out"


@pytest.mark.parametrize("peers", [[], [PEER_B]], ids=["nothing-to-connect", "one-to-connect"])
def test_check_mode_never_waits_for_a_state_check_mode_did_not_create(capsys: t.Any, peers: list[str]) -> None:
    """Issue 9: with wait_for, check mode waited its full wait_timeout for a state it never creates
    (e.g. a cluster made healthy only by a layout that check mode did not apply)."""
    client = mock.MagicMock()
    client.get_cluster_status.return_value = status({A: True, B: False}, roles=[A, B])
    client.get_cluster_health.return_value = health("degraded")
    sleeps: list[float] = []
    with mock.patch.object(cluster.time, "sleep", sleeps.append):
        res = run_module(
            garage_cluster,
            {"peers": peers, "wait_for": "healthy", "wait_timeout": 2, "poll_interval": 1},
            client,
            capsys,
            check_mode=True,
        )
    assert not res["failed"], res["msg"]
    assert res["changed"] is bool(peers)
    assert sleeps == [] and client.get_cluster_health.call_count == 1
    assert not client.connect_cluster_nodes.called
    assert "a real run would wait for it" in json.dumps(res["warnings"])
    assert res["missing_nodes"] == [f"node2 ({B[:16]})"]
