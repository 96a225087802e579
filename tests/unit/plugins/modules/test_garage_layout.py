# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_layout main() with an injected client (a small in-memory layout wrapped in a MagicMock)."""

from __future__ import annotations

import copy
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import layout_converge
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageBadRequest,
    GarageServerError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_layout
from tests.unit.plugins.modules._bucket_harness import run_module

A, B, C, D = ("a" * 63 + "1", "b" * 63 + "2", "c" * 63 + "3", "d" * 63 + "4")
T = 10**12


@pytest.fixture(autouse=True)
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_converge, "CONFLICT_WAIT", 0.05)
    monkeypatch.setattr(layout_converge, "STALE_GRACE", 0.05)
    monkeypatch.setattr(layout_converge, "POLL", 0.01)
    monkeypatch.setattr(layout_converge.random, "uniform", lambda a, b: 0.0)


class FakeLayout:
    """Garage's layout semantics in miniature (LWW staging, current+1 apply, preview)."""

    def __init__(self, roles: dict[str, dict[str, t.Any]] | None = None, version: int = 1, rf: int = 3) -> None:
        self.version = version
        self.roles = copy.deepcopy(roles or {})
        self.staged: dict[str, dict[str, t.Any] | None] = {}
        self.zr: t.Any = "maximum"
        self.staged_zr: t.Any = None
        self.rf = rf
        self.preview_rf = rf
        self.on_update: t.Callable[[], None] | None = None

    def _layout(self) -> dict[str, t.Any]:
        staged = []
        for node, role in sorted(self.staged.items()):
            if role is None:
                if node in self.roles:
                    staged.append({"id": node, "remove": True})
            elif self.roles.get(node) != role:
                staged.append({"id": node, **role})
        return {
            "version": self.version,
            "roles": [
                {"id": n, **r, "storedPartitions": 256 * self.rf // max(1, len(self.roles)) if r["capacity"] else None}
                for n, r in sorted(self.roles.items())
            ],
            "parameters": {"zoneRedundancy": self.zr},
            "partitionSize": 1000,
            "stagedRoleChanges": staged,
            "stagedParameters": {"zoneRedundancy": self.staged_zr} if self.staged_zr not in (None, self.zr) else None,
        }

    def _next(self) -> dict[str, dict[str, t.Any]]:
        roles = copy.deepcopy(self.roles)
        for node, role in self.staged.items():
            if role is None:
                roles.pop(node, None)
            else:
                roles[node] = copy.deepcopy(role)
        return roles

    # --- client API
    def get_cluster_layout(self) -> dict[str, t.Any]:
        return self._layout()

    def get_cluster_status(self) -> dict[str, t.Any]:
        hosts = {A: "node1", B: "node2", C: "node3", D: "node4"}
        return {
            "layoutVersion": self.version,
            "nodes": [
                {"id": n, "hostname": h, "addr": f"10.0.0.{i}:3901", "isUp": True}
                for i, (n, h) in enumerate(hosts.items())
            ],
        }

    def update_cluster_layout(self, roles: t.Any = None, parameters: t.Any = None) -> dict[str, t.Any]:
        for change in roles or []:
            self.staged[change["id"]] = (
                None
                if change.get("remove")
                else {"zone": change["zone"], "capacity": change["capacity"], "tags": list(change["tags"])}
            )
        if parameters:
            self.staged_zr = parameters["zoneRedundancy"]
        if self.on_update is not None:
            hook, self.on_update = self.on_update, None
            hook()
        return self._layout()

    def preview_cluster_layout_changes(self) -> dict[str, t.Any]:
        roles = self._next()
        if sum(1 for r in roles.values() if r["capacity"]) < self.preview_rf:
            return {"error": "The number of nodes with positive capacity is smaller than the replication factor"}
        return {
            "message": ["A total of 12 new copies of partitions need to be transferred."],
            "newLayout": {"version": self.version + 1, "roles": [{"id": n, **r} for n, r in roles.items()]},
        }

    def apply_cluster_layout(self, version: int) -> dict[str, t.Any]:
        if version != self.version + 1:
            raise GarageServerError(
                "Internal error: Invalid new layout version", status=500, code="InternalError", endpoint="Apply"
            )
        self.roles = self._next()
        self.staged = {}
        if self.staged_zr is not None:
            self.zr = self.staged_zr
        self.version += 1
        return {"message": ["A total of 12 new copies of partitions need to be transferred."], "layout": self._layout()}


def three(capacity: int = T) -> dict[str, dict[str, t.Any]]:
    return {
        A: {"zone": "dc1", "capacity": capacity, "tags": []},
        B: {"zone": "dc2", "capacity": capacity, "tags": []},
        C: {"zone": "dc3", "capacity": capacity, "tags": []},
    }


def client_for(fake: FakeLayout) -> mock.MagicMock:
    return mock.MagicMock(wraps=fake)


def run(
    args: dict[str, t.Any], fake: FakeLayout, capsys: t.Any, **kw: t.Any
) -> tuple[dict[str, t.Any], mock.MagicMock]:
    client = client_for(fake)
    return run_module(garage_layout, args, client, capsys, **kw), client


def writes(client: mock.MagicMock) -> list[str]:
    names = ("update_cluster_layout", "preview_cluster_layout_changes", "apply_cluster_layout")
    return [c[0] for c in client.method_calls if c[0] in names]


# --------------------------------------------------------------------------- happy paths


def test_noop_is_one_read(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    res, client = run({"nodes": [{"node": A, "zone": "dc1", "capacity": "1T"}]}, fake, capsys, diff=True)
    assert not res["failed"] and not res["changed"]
    assert [c[0] for c in client.method_calls] == ["get_cluster_layout"]
    assert res["diff"]["before"] == res["diff"]["after"] and res["version"] == 1 and res["staged_changes"] == []


def test_initial_layout_check_mode_then_apply(capsys: t.Any) -> None:
    fake = FakeLayout({}, version=0)
    nodes = [
        {"node": h, "zone": z, "capacity": "1T"} for h, z in (("node1", "dc1"), ("node2", "dc2"), ("node3", "dc3"))
    ]
    res, client = run({"nodes": nodes}, fake, capsys, check_mode=True, diff=True)
    assert res["changed"] and writes(client) == [] and fake.version == 0 and fake.staged == {}
    assert res["version"] == 1 and res["partition_moves"] is None
    assert [c["action"] for c in res["staged_changes"]] == ["add"] * 3
    assert res["staged_changes"][0]["node"] == f"node1 ({A[:16]})"
    checked = res
    res, client = run({"nodes": nodes}, fake, capsys, diff=True)
    assert res["changed"] and res["applied"] and res["applied_versions"] == [1]
    assert writes(client) == ["update_cluster_layout", "preview_cluster_layout_changes", "apply_cluster_layout"]
    client.apply_cluster_layout.assert_called_once_with(1)
    assert fake.version == 1 and fake.roles == three() and fake.staged == {}
    assert res["layout"] == checked["layout"] and res["staged_changes"] == checked["staged_changes"]
    assert res["partition_moves"]["partitions_to_transfer"] == 12
    assert res["diff"]["before"]["roles"] == {}
    names = res["diff"]["after"].pop("node_names")
    assert res["diff"]["after"] == {**res["layout"], "staged_role_changes": []}
    # issue 9: diffs name the nodes as the cluster reports them, not by id only
    assert set(names) == set(res["layout"]["roles"]) and all(n.endswith(")") for n in names.values()), names


def test_replace_purge_and_zone_redundancy(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    args = {"replace": [{"old": "node2", "new": "node4"}], "zone_redundancy": "2"}
    res, _client = run(args, fake, capsys)
    assert res["changed"] and fake.version == 2 and B not in fake.roles and fake.roles[D]["zone"] == "dc2"
    assert fake.zr == {"atLeast": 2}
    res, client = run(args, fake, capsys)  # the old node is gone from the layout: still a no-op
    assert not res["changed"] and writes(client) == []
    res, _client = run({"nodes": [{"node": n} for n in (A, C, D)], "purge": True}, fake, capsys)
    assert not res["changed"]


def test_stale_staged_changes_modes(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    fake.staged[B] = {"zone": "dc2", "capacity": 3 * T, "tags": []}
    args = {"nodes": [{"node": A, "capacity": "2T"}]}
    res, client = run(args, fake, capsys)
    assert res["failed"] and "staged changes that this task did not make" in res["msg"]
    assert f"node2 ({B[:16]}): update zone=dc2 capacity=3T" in res["msg"] and writes(client) == []
    res, _client = run({**args, "stale_staged_changes": "merge"}, fake, capsys)
    assert res["changed"] and res["stale_staged_action"] == "merged"
    assert fake.roles[A]["capacity"] == 2 * T and fake.roles[B]["capacity"] == 3 * T
    fake.staged[C] = {"zone": "dc3", "capacity": 9 * T, "tags": []}
    res, _client = run({"nodes": [{"node": A, "capacity": "4T"}], "stale_staged_changes": "discard"}, fake, capsys)
    assert res["stale_staged_action"] == "discarded" and fake.roles[C]["capacity"] == T and fake.staged == {}


# --------------------------------------------------------------------------- refusals and bad input


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"nodes": [{"node": A, "capacity": "1 parsec"}]}, "Invalid size"),
        ({"nodes": [{"node": A, "capacity": "1T", "gateway": True}]}, "either capacity or gateway"),
        ({"nodes": [{"node": "node9", "zone": "x", "capacity": "1T"}]}, "unknown"),
        ({"nodes": [{"node": "node1"}, {"node": A}]}, "more than once"),
        ({"zone_redundancy": "0"}, "zone_redundancy must be"),
        ({"zone_redundancy": "3", "replication_factor": 2}, "larger than replication_factor"),
        ({"replication_factor": 0}, "at least 1"),
        ({"replication_factor": 2}, "stores each partition 3 times"),
        ({"replace": [{"old": "e" * 64, "new": "node4"}]}, "has no role"),
        ({"nodes": [{"node": A, "state": "absent"}, {"node": B, "state": "absent"}]}, "Refusing to change the layout"),
        ({"nodes": [{"node": D, "zone": "dc1", "gateway": True}], "zone_redundancy": "3", "purge": True}, "Refusing"),
        ({"conflict_retries": -1}, "must not be negative"),
        ({"replace": [{"old": "node1", "new": "NODE1"}]}, "same node"),
        ({"replace": [{"old": "node1", "new": " "}]}, "both 'old' and 'new'"),
    ],
)
def test_bad_input_fails_before_any_write(args: dict[str, t.Any], needle: str, capsys: t.Any) -> None:
    fake = FakeLayout(three())
    res, client = run(args, fake, capsys)
    assert res["failed"] and needle in res["msg"], res["msg"]
    assert writes(client) == [] and fake.staged == {} and fake.version == 1


def test_preview_error_undoes_our_staging(capsys: t.Any) -> None:
    fake = FakeLayout(three(), rf=4)  # the cluster replicates 4 times, the plan's check thinks 3
    fake.roles[D] = {"zone": "dc1", "capacity": T, "tags": []}
    res, client = run({"nodes": [{"node": D, "state": "absent"}], "replication_factor": 3}, fake, capsys)
    # replication_factor 3 contradicts the derived 4 (sum of stored partitions / 256)
    assert res["failed"] and "stores each partition 4 times" in res["msg"]
    res, client = run({"nodes": [{"node": D, "state": "absent"}]}, fake, capsys)
    assert res["failed"] and "Refusing" in res["msg"]
    fake.preview_rf = 6  # Garage's computation fails although our check passes (replication factor 4 derived)
    res, client = run({"nodes": [{"node": D, "zone": "dc4", "capacity": "2T"}]}, fake, capsys)
    assert res["failed"] and "Garage cannot compute this layout" in res["msg"] and not res["changed"]
    assert fake._layout()["stagedRoleChanges"] == [] and fake.version == 1
    assert writes(client) == ["update_cluster_layout", "preview_cluster_layout_changes", "update_cluster_layout"]


# --------------------------------------------------------------------------- concurrency


def _racing_operator(fake: FakeLayout, *, then_apply: bool) -> None:
    """Another operator stages node3 right after our staging; later it applies it, or clears it."""

    def other_operator() -> None:
        fake.staged[C] = {"zone": "dc3", "capacity": 7 * T, "tags": []}

    fake.on_update = other_operator
    real_get = fake.get_cluster_layout
    reads = {"n": 0}

    def get_layout() -> dict[str, t.Any]:
        reads["n"] += 1
        if reads["n"] == 3:  # after our undo: the other operator finishes
            if then_apply:
                fake.apply_cluster_layout(fake.version + 1)
            else:
                fake.staged.pop(C, None)
        return real_get()

    fake.get_cluster_layout = get_layout  # type: ignore[method-assign]


def test_foreign_staging_is_undone_then_replanned_when_nothing_else_changed(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    _racing_operator(fake, then_apply=False)
    res, _client = run({"nodes": [{"node": A, "capacity": "2T"}]}, fake, capsys)
    assert not res["failed"] and res["changed"], res
    assert any("foreign staged changes appeared" in c for c in res["conflicts"])
    assert res["applied_versions"] == [2] and fake.version == 2
    assert fake.roles[A]["capacity"] == 2 * T and fake.roles[C]["capacity"] == T


def test_layout_changed_underneath_fails_precisely_instead_of_replanning(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    _racing_operator(fake, then_apply=True)
    res, client = run({"nodes": [{"node": A, "capacity": "2T"}]}, fake, capsys)
    assert res["failed"] and not res["changed"], res
    assert "Another operator changed the layout underneath this run (version 2)" in res["msg"]
    assert f"{C[:16]}: update zone=dc3 capacity=7T" in res["msg"] and "nothing of this run is staged" in res["msg"]
    assert [c["id"] for c in res["layout_changes_underneath"]] == [C]
    assert fake.version == 2 and fake.roles[A]["capacity"] == T and fake._layout()["stagedRoleChanges"] == []
    assert client.apply_cluster_layout.call_count == 0


def test_foreign_staging_that_stays_fails_without_residue(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    fake.on_update = lambda: fake.staged.__setitem__(C, {"zone": "dc3", "capacity": 7 * T, "tags": []})
    res, client = run({"nodes": [{"node": A, "capacity": "2T"}], "conflict_retries": 0}, fake, capsys)
    assert res["failed"] and "Concurrent layout change detected" in res["msg"] and not res["changed"]
    assert f"{C[:16]}" in res["msg"] and "nothing of this run is staged" in res["msg"]
    assert list(fake._layout()["stagedRoleChanges"]) == [{"id": C, "zone": "dc3", "capacity": 7 * T, "tags": []}]
    assert "apply_cluster_layout" not in writes(client)


def test_version_moved_under_apply_is_not_reapplied(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    real_apply = fake.apply_cluster_layout

    def racing_apply(version: int) -> dict[str, t.Any]:
        real_apply(version)  # another operator applied first, with our staged entries
        return real_apply(version)  # ours: Invalid new layout version

    fake.apply_cluster_layout = racing_apply  # type: ignore[method-assign]
    res, client = run({"nodes": [{"node": A, "capacity": "2T"}]}, fake, capsys)
    # the re-read shows exactly our layout at version+1: reported as applied, never re-applied
    assert not res["failed"] and res["changed"] and res["version"] == 2, res
    assert client.apply_cluster_layout.call_count == 1 and fake.version == 2
    assert "Invalid new layout version" in str(res["warnings"]), res


def test_apply_error_without_version_move_fails_and_clears(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    fake.apply_cluster_layout = mock.Mock(  # type: ignore[method-assign]
        side_effect=GarageServerError("boom", status=500, code="InternalError", endpoint="ApplyClusterLayout")
    )
    res, _client = run({"nodes": [{"node": A, "capacity": "2T"}]}, fake, capsys)
    assert res["failed"] and "Failed to apply cluster layout version 2: InternalError: boom" in res["msg"]
    assert fake._layout()["stagedRoleChanges"] == [] and fake.version == 1


def test_read_errors_are_reported_once(capsys: t.Any) -> None:
    client = mock.MagicMock()
    client.get_cluster_layout.side_effect = GarageAccessDenied(
        "Forbidden: Invalid bearer token", status=403, code="AccessDenied"
    )
    res = run_module(garage_layout, {"nodes": []}, client, capsys)
    assert (
        res["failed"] and res["msg"] == "Failed to read cluster layout: AccessDenied: Forbidden: Invalid bearer token"
    )
    assert "unit-test-token" not in str(res)
    client = mock.MagicMock(wraps=FakeLayout(three()))
    client.update_cluster_layout.side_effect = GarageBadRequest(
        "Invalid layout change", status=400, code="InvalidRequest"
    )
    res = run_module(garage_layout, {"nodes": [{"node": A, "capacity": "2T"}]}, client, capsys)
    assert res["failed"] and res["msg"].startswith("Failed to stage changes to cluster layout: InvalidRequest")


# --------------------------------------------------------------------------- node_wait_timeout


class LateHostnames(FakeLayout):
    """node4's hostname is unknown for the first ``late`` status reads (before its status broadcast)."""

    def __init__(self, late: int, **kw: t.Any) -> None:
        super().__init__(three(), **kw)
        self.late = late
        self.status_reads = 0

    def get_cluster_status(self) -> dict[str, t.Any]:
        status = super().get_cluster_status()
        self.status_reads += 1
        if self.status_reads <= self.late:
            for node in status["nodes"]:
                if node["id"] == D:
                    node["hostname"] = None
        return status


def test_node_wait_timeout_waits_for_a_hostname_to_appear(
    capsys: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout_converge, "NODE_POLL", 0.01)
    fake = LateHostnames(late=2)
    args = {"nodes": [{"node": "node4", "zone": "dc1", "capacity": "1T"}], "node_wait_timeout": 5}
    res, client = run(args, fake, capsys)
    assert not res["failed"] and res["changed"], res
    assert fake.status_reads == 3 and res["waited_for_nodes"] > 0
    assert fake.roles[D]["zone"] == "dc1" and fake.version == 2
    assert writes(client) == ["update_cluster_layout", "preview_cluster_layout_changes", "apply_cluster_layout"]

    # Known at once: no wait, one status read.
    fake = LateHostnames(late=0)
    res, _client = run(args, fake, capsys)
    assert not res["failed"] and res["waited_for_nodes"] == 0 and fake.status_reads == 1


@pytest.mark.parametrize(("timeout", "reads"), [(0, 1), (3, 4)])
def test_node_wait_timeout_gives_up_and_changes_nothing(
    timeout: int, reads: int, capsys: t.Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(layout_converge, "NODE_POLL", 1.0)
    monkeypatch.setattr(layout_converge.time, "sleep", lambda s: None)
    fake = LateHostnames(late=100)
    args = {"nodes": [{"node": "node4", "zone": "dc1", "capacity": "1T"}], "node_wait_timeout": timeout}
    res, client = run(args, fake, capsys)
    assert res["failed"] and "Node 'node4' is unknown" in res["msg"], res["msg"]
    assert ("waited" in res["msg"]) == bool(timeout)
    assert res["failure_reason"] == "invalid_input"
    # Polled once per NODE_POLL of the timeout (the sleeps are instant here), then gave up.
    assert fake.status_reads == reads and writes(client) == [] and fake.staged == {}


def test_node_wait_timeout_must_not_be_negative(capsys: t.Any) -> None:
    fake = FakeLayout(three())
    res, client = run({"node_wait_timeout": -1}, fake, capsys)
    assert res["failed"] and "node_wait_timeout must not be negative" in res["msg"]
    assert client.method_calls == []


def test_a_node_named_by_its_full_id_is_never_waited_for(capsys: t.Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(layout_converge, "NODE_POLL", 0.01)
    fake = LateHostnames(late=100)
    # A full id needs no status at all.
    res, _client = run({"nodes": [{"node": D, "zone": "dc1", "capacity": "1T"}], "node_wait_timeout": 5}, fake, capsys)
    assert not res["failed"] and fake.status_reads == 0 and res["waited_for_nodes"] == 0
