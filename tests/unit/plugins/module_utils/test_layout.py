# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure layout planning: specs, resolution, plans, staging checks, undo, messages."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import layout as L
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import views as V

A, B, C, D, E = ("a" * 63 + "1", "b" * 63 + "2", "c" * 63 + "3", "d" * 63 + "4", "e" * 63 + "5")
T = 10**12


def api_role(node: str, zone: str, capacity: int | None, tags: list[str] | None = None, **extra: t.Any) -> dict:
    return {"id": node, "zone": zone, "capacity": capacity, "tags": tags or [], **extra}


def layout(
    roles: list[dict] | None = None,
    staged: list[dict] | None = None,
    version: int = 1,
    zr: t.Any = "maximum",
    staged_zr: t.Any = None,
) -> dict[str, t.Any]:
    return {
        "version": version,
        "roles": roles or [],
        "parameters": {"zoneRedundancy": zr},
        "partitionSize": 0,
        "stagedRoleChanges": staged or [],
        "stagedParameters": {"zoneRedundancy": staged_zr} if staged_zr is not None else None,
    }


THREE = [api_role(A, "dc1", T), api_role(B, "dc2", T), api_role(C, "dc3", T)]


def spec(node: str, **kw: t.Any) -> L.NodeSpec:
    return L.parse_node_specs([{"node": node, **kw}])[0]


# --------------------------------------------------------------------------- specs


def test_parse_node_specs_sizes_and_defaults() -> None:
    specs = L.parse_node_specs(
        [
            {"node": "node1", "zone": "dc1", "capacity": "2T", "tags": ["ssd"]},
            {"node": "node2", "zone": "dc2", "capacity": 4096},
            {"node": "node3", "zone": "dc3", "gateway": True},
            {"node": "node4", "state": "absent"},
        ]
    )
    assert specs[0] == L.NodeSpec("node1", "present", "dc1", 2 * T, ["ssd"], None)
    assert specs[1].capacity == 4096 and specs[1].tags is None
    assert specs[2].gateway is True and specs[2].capacity is None
    assert specs[3].state == "absent"


@pytest.mark.parametrize(
    ("nodes", "needle"),
    [
        ([{"node": ""}], "'node' is required"),
        ([{"node": "n1", "zone": "z", "capacity": "12X"}], "unknown unit"),
        ([{"node": "n1", "zone": "z", "capacity": "1000"}], "at least 1K"),
        ([{"node": "n1", "zone": "z", "capacity": "1T", "gateway": True}], "either capacity or gateway"),
        ([{"node": "n1", "zone": "z", "capacity": "1T"}, {"node": "N1", "zone": "z", "capacity": "1T"}], "twice"),
        ([{"node": "n1", "state": "absent", "zone": "z"}], "state=absent takes no"),
        ([{"node": "n1", "zone": " "}], "zone must not be empty"),
        ([{"node": "n1", "state": "gone"}], "state must be"),
    ],
)
def test_parse_node_specs_rejects(nodes: list[dict], needle: str) -> None:
    with pytest.raises(L.LayoutPlanError, match=needle):
        L.parse_node_specs(nodes)


@pytest.mark.parametrize(
    ("value", "expected"), [("maximum", "maximum"), ("MAX", "maximum"), ("2", 2), (3, 3), (" 1 ", 1)]
)
def test_parse_zone_redundancy(value: t.Any, expected: t.Any) -> None:
    assert L.parse_zone_redundancy(value) == expected


@pytest.mark.parametrize("value", ["0", "-1", "most", True, 0])
def test_parse_zone_redundancy_rejects(value: t.Any) -> None:
    with pytest.raises(L.LayoutPlanError):
        L.parse_zone_redundancy(value)


def test_zone_redundancy_api_round_trip() -> None:
    assert L.zone_redundancy_to_api("maximum") == "maximum"
    assert L.zone_redundancy_to_api(2) == {"atLeast": 2}
    assert L.zone_redundancy_from_api({"atLeast": 2}) == 2
    assert L.zone_redundancy_from_api("maximum") == "maximum"
    assert L.layout_parameters(layout(zr={"atLeast": 2}, staged_zr="maximum")) == (2, "maximum")


# --------------------------------------------------------------------------- resolution

STATUS = {
    "nodes": [
        {"id": A, "hostname": "node1", "addr": "10.0.0.1:3901", "isUp": True},
        {"id": B, "hostname": "node2", "addr": "[fd00::2]:3901", "isUp": True},
        {"id": "a" * 63 + "9", "hostname": "twin", "addr": "10.0.0.9:3901", "isUp": False},
    ]
}


def test_resolve_node_by_every_identifier() -> None:
    nodes = L.known_nodes(STATUS, layout([api_role(C, "dc3", T)]))
    assert L.resolve_node(A.upper(), nodes) == A
    assert L.resolve_node("node2", nodes) == B
    assert L.resolve_node("10.0.0.1:3901", nodes) == A
    assert L.resolve_node("10.0.0.1", nodes) == A
    assert L.resolve_node("fd00::2", nodes) == B
    assert L.resolve_node("bbbb", nodes) == B
    assert L.resolve_node("cccc", nodes) == C  # only known from the layout
    assert L.resolve_node(D, nodes) == D  # full ids need not be known


def test_resolve_node_ambiguous_and_unknown() -> None:
    nodes = L.known_nodes(STATUS, None)
    with pytest.raises(L.LayoutPlanError, match="ambiguous"):
        L.resolve_node("aaaa", nodes)
    with pytest.raises(L.LayoutPlanError, match=r"unknown.*node1"):
        L.resolve_node("node7", nodes)


def test_needs_status_only_for_non_ids() -> None:
    assert not L.needs_status([A, B.upper()])
    assert L.needs_status([A, "node2"])
    assert not L.needs_status([])


def test_node_label() -> None:
    nodes = L.known_nodes(STATUS, None)
    assert L.node_label(A, nodes) == f"node1 ({A[:16]})"
    assert L.node_label(D, nodes) == D[:16]


# --------------------------------------------------------------------------- replication


def test_derive_replication_factor() -> None:
    assert L.derive_replication_factor(layout(version=0)) is None
    roles = [dict(r, storedPartitions=256) for r in THREE]
    assert L.derive_replication_factor(layout(roles)) == 3
    roles = [dict(THREE[0], storedPartitions=256), dict(THREE[1], storedPartitions=256), api_role(C, "dc3", None)]
    assert L.derive_replication_factor(layout(roles)) == 2


@pytest.mark.parametrize(
    ("roles", "rf", "zr", "needle"),
    [
        ({A: L.make_role("dc1", T), B: L.make_role("dc2", T)}, 3, "maximum", "2 storage node"),
        ({A: L.make_role("dc1", T), B: L.make_role("dc2", T), C: L.make_role("dc3", None)}, 3, "maximum", "2 storage"),
        ({A: L.make_role("dc1", T), B: L.make_role("dc1", T), C: L.make_role("dc2", T)}, 3, 3, "at least 3 zones"),
        ({A: L.make_role("dc1", T), B: L.make_role("dc2", T), C: L.make_role("dc3", T)}, 3, 4, "larger than"),
        ({A: L.make_role("dc1", T), B: L.make_role("dc2", T), C: L.make_role("dc3", T)}, 3, 3, None),
        ({A: L.make_role("dc1", T)}, 1, "maximum", None),
    ],
)
def test_replication_problem(roles: dict, rf: int, zr: t.Any, needle: str | None) -> None:
    problem = L.replication_problem(roles, rf, zr)
    if needle is None:
        assert problem is None
    else:
        assert problem is not None and needle in problem


# --------------------------------------------------------------------------- planning


def test_plan_initial_layout() -> None:
    plan = L.plan_layout(
        layout=layout(version=0),
        specs=[(A, spec("n1", zone="dc1", capacity="1T")), (B, spec("n2", zone="dc2", capacity="1T"))],
    )
    assert plan.changed and plan.apply_needed
    assert plan.to_stage == plan.expected_staged == {A: L.make_role("dc1", T), B: L.make_role("dc2", T)}
    assert L.changes_to_api(plan.to_stage)[0] == {"id": A, "zone": "dc1", "capacity": T, "tags": []}


def test_plan_noop_when_converged_and_unset_fields_are_kept() -> None:
    lay = layout([api_role(A, "dc1", T, ["ssd"]), *THREE[1:]])
    plan = L.plan_layout(layout=lay, specs=[(A, spec("n1")), (B, spec("n2", zone="dc2", capacity="1T"))])
    assert not plan.changed and not plan.to_stage and not plan.apply_needed


def test_plan_capacity_change_keeps_zone_and_tags() -> None:
    lay = layout([api_role(A, "dc1", T, ["ssd"]), *THREE[1:]])
    plan = L.plan_layout(layout=lay, specs=[(A, spec("n1", capacity="2T"))])
    assert plan.to_stage == {A: L.make_role("dc1", 2 * T, ["ssd"])}
    changes = L.describe_changes(plan.current, plan.expected_staged, {A: "node1 (aaaa)"})
    assert changes[0]["action"] == "update"
    assert changes[0]["before"]["capacity_human"] == "1T" and changes[0]["after"]["capacity_human"] == "2T"
    assert L.format_change(changes[0]).startswith("node1 (aaaa) (aaaaaaaaaaaaaaaa): update zone=dc1 capacity=2T")


def test_plan_new_node_needs_zone_and_capacity() -> None:
    with pytest.raises(L.LayoutPlanError, match="give it a zone"):
        L.plan_layout(layout=layout(THREE), specs=[(D, spec("n4", capacity="1T"))])
    with pytest.raises(L.LayoutPlanError, match="needs a capacity"):
        L.plan_layout(layout=layout(THREE), specs=[(D, spec("n4", zone="dc1"))])


def test_plan_gateway_and_back() -> None:
    plan = L.plan_layout(layout=layout(THREE), specs=[(D, spec("gw", zone="dc1", gateway=True))])
    assert plan.to_stage == {D: L.make_role("dc1", None)}
    assert L.role_view(plan.to_stage[D])["gateway"] is True
    lay = layout([*THREE, api_role(D, "dc1", None)])
    with pytest.raises(L.LayoutPlanError, match="stop being a gateway"):
        L.plan_layout(layout=lay, specs=[(D, spec("gw", gateway=False))])
    plan = L.plan_layout(layout=lay, specs=[(D, spec("gw", gateway=False, capacity="1T"))])
    assert plan.to_stage == {D: L.make_role("dc1", T)}
    # an unset gateway keeps a gateway a gateway
    assert not L.plan_layout(layout=lay, specs=[(D, spec("gw", zone="dc1"))]).changed


def test_plan_purge_and_absent() -> None:
    lay = layout([*THREE, api_role(D, "dc1", T)])
    plan = L.plan_layout(layout=lay, specs=[(A, spec("a")), (B, spec("b")), (C, spec("c"))], purge=True)
    assert plan.to_stage == {D: None}
    assert L.changes_to_api(plan.to_stage) == [{"id": D, "remove": True}]
    plan = L.plan_layout(layout=lay, specs=[(D, spec("d", state="absent"))])
    assert plan.to_stage == {D: None}
    assert not L.plan_layout(layout=layout(THREE), specs=[(D, spec("d", state="absent"))]).changed


def test_plan_replace_carries_role_over_and_is_idempotent() -> None:
    lay = layout([api_role(A, "dc1", T, ["r1"]), *THREE[1:]])
    plan = L.plan_layout(layout=lay, specs=[], replace=[(A, D)])
    assert plan.to_stage == {A: None, D: L.make_role("dc1", T, ["r1"])}
    done = layout([api_role(D, "dc1", T, ["r1"]), *THREE[1:]])
    assert not L.plan_layout(layout=done, specs=[], replace=[(A, D)]).changed
    assert not L.plan_layout(layout=done, specs=[], replace=[(None, D)]).changed
    # a nodes entry for the new node overrides the carried-over values; purge keeps the new node
    plan = L.plan_layout(layout=lay, specs=[(D, spec("d", capacity="2T"))], replace=[(A, D)], purge=True)
    assert plan.desired[D] == L.make_role("dc1", 2 * T, ["r1"])
    assert set(plan.desired) == {D}  # B, C not listed -> purged


@pytest.mark.parametrize(
    ("replace", "specs", "needle"),
    [
        ([(A, A)], [], "same node"),
        ([(D, E)], [], "has no role"),
        ([(None, E)], [], "has no role"),
        ([(A, D)], [(A, "a")], "must not also be listed"),
    ],
)
def test_plan_replace_rejects(replace: list, specs: list, needle: str) -> None:
    with pytest.raises(L.LayoutPlanError, match=needle):
        L.plan_layout(layout=layout(THREE), specs=[(n, spec(s)) for n, s in specs], replace=replace)


def test_plan_zone_redundancy() -> None:
    plan = L.plan_layout(layout=layout(THREE), specs=[], zone_redundancy=2)
    assert plan.stage_parameters and plan.apply_needed and not plan.to_stage
    assert not L.plan_layout(layout=layout(THREE, zr={"atLeast": 2}), specs=[], zone_redundancy=2).changed


STALE = [api_role(B, "dc2", 3 * T)]


def test_plan_stale_fail_mode_reports_stale() -> None:
    plan = L.plan_layout(layout=layout(THREE, STALE), specs=[(A, spec("a", capacity="2T"))])
    assert plan.stale == {B: L.make_role("dc2", 3 * T)}
    # with the default mode the stale change is not part of the desired layout
    assert plan.desired[B] == L.make_role("dc2", T)


def test_plan_stale_discard_clears_them() -> None:
    plan = L.plan_layout(layout=layout(THREE, STALE), specs=[(A, spec("a", capacity="2T"))], stale_mode="discard")
    assert plan.to_stage == {A: L.make_role("dc1", 2 * T), B: L.make_role("dc2", T)}
    assert plan.expected_staged == {A: L.make_role("dc1", 2 * T)}
    # only stale changes, nothing declared: clear them, no apply
    plan = L.plan_layout(layout=layout(THREE, STALE), specs=[], stale_mode="discard")
    assert plan.changed and not plan.apply_needed and plan.to_stage == {B: L.make_role("dc2", T)}


def test_plan_stale_merge_keeps_them_and_declaration_wins() -> None:
    plan = L.plan_layout(layout=layout(THREE, STALE), specs=[(A, spec("a", capacity="2T"))], stale_mode="merge")
    assert plan.to_stage == {A: L.make_role("dc1", 2 * T)}
    assert plan.expected_staged == {A: L.make_role("dc1", 2 * T), B: L.make_role("dc2", 3 * T)}
    plan = L.plan_layout(layout=layout(THREE, STALE), specs=[(B, spec("b", capacity="5T"))], stale_mode="merge")
    assert plan.expected_staged == {B: L.make_role("dc2", 5 * T)}


def test_plan_stale_parameters() -> None:
    plan = L.plan_layout(layout=layout(THREE, staged_zr={"atLeast": 2}), specs=[], stale_mode="merge")
    assert plan.stale_parameters == 2 and plan.apply_needed and not plan.stage_parameters
    plan = L.plan_layout(layout=layout(THREE, staged_zr={"atLeast": 2}), specs=[], stale_mode="discard")
    assert plan.stage_parameters and plan.desired_zone_redundancy == "maximum" and not plan.apply_needed


def test_staged_removal_of_roleless_node_is_not_stale() -> None:
    # Garage does not show it; a stand-in that does must not make it look stale.
    plan = L.plan_layout(layout=layout(THREE, [{"id": D, "remove": True}]), specs=[])
    assert plan.stale == {} and not plan.changed


def test_plan_rejects_bad_stale_mode() -> None:
    with pytest.raises(L.LayoutPlanError, match="stale_staged_changes"):
        L.plan_layout(layout=layout(THREE), specs=[], stale_mode="ignore")


# --------------------------------------------------------------------------- staging checks and undo


def test_foreign_staged() -> None:
    current = L.current_roles(layout(THREE))
    ours = {A: L.make_role("dc1", 2 * T)}
    assert L.foreign_staged(dict(ours), current, ours) == {}
    theirs = {B: L.make_role("dc2", 9 * T)}
    assert L.foreign_staged({**ours, **theirs}, current, ours) == theirs
    # our entry overwritten by someone else
    assert L.foreign_staged({A: L.make_role("dc1", 7 * T)}, current, ours) == {A: L.make_role("dc1", 7 * T)}
    # our entry vanished (cleared by someone else)
    assert L.foreign_staged({}, current, ours) == {A: current[A]}
    # entries equal to the current role are no change at all
    assert L.foreign_staged({**ours, B: current[B]}, current, ours) == {}


def test_undo_entries_only_touch_our_still_staged_entries() -> None:
    ours = {A: L.make_role("dc1", 2 * T), D: L.make_role("dc1", T), C: None}
    staged = [api_role(A, "dc1", 2 * T), api_role(D, "dc1", T), {"id": C, "remove": True}, api_role(B, "dc2", 9 * T)]
    undo = L.undo_entries(layout(THREE, staged), ours)
    assert undo == {A: L.make_role("dc1", T), D: None, C: L.make_role("dc3", T)}
    # someone overwrote A; D was applied already: leave them alone
    staged = [api_role(A, "dc1", 7 * T)]
    assert L.undo_entries(layout([*THREE, api_role(D, "dc1", T)], staged), ours) == {}


def test_apply_changes_and_role_diff_round_trip() -> None:
    before = L.current_roles(layout(THREE))
    after = {A: L.make_role("dc1", 2 * T), C: before[C], D: L.make_role("dc4", None)}
    assert L.apply_changes(before, L.role_diff(before, after)) == after


def test_roles_view() -> None:
    view = L.roles_view({A: L.make_role("dc1", 512 * 1024**3, ["x"]), B: L.make_role("dc2", None)})
    assert view[A] == {
        "zone": "dc1",
        "capacity": 512 * 1024**3,
        "capacity_human": "512GiB",
        "tags": ["x"],
        "gateway": False,
    }
    assert view[B]["gateway"] is True and view[B]["capacity_human"] is None


# --------------------------------------------------------------------------- messages

GARAGE_MESSAGE = [
    "==== COMPUTATION OF A NEW PARTITION ASSIGNATION ====",
    "",
    "Partitions are replicated 3 times on at least 3 distinct zones.",
    "",
    "Optimal partition size:                     3.9 MB (3.9 MB in previous layout)",
    "Usable capacity / total cluster capacity:   3.0 GB / 4.0 GB (75.0 %)",
    "Effective capacity (replication factor 3):  1000.0 MB",
    "",
    "A total of 12 new copies of partitions need to be transferred.",
    "",
    "dc1                 Tags   Partitions        Capacity   Usable capacity\n"
    "  b10c110e4e854e5a  node1  256 (12 new)      1000.0 MB  1000.0 MB (100.0%)\n"
    "  TOTAL                    256 (256 unique)  2.0 GB     1000.0 MB (50.0%)\n",
]


def test_parse_layout_message_garage_format() -> None:
    summary = L.parse_layout_message(GARAGE_MESSAGE)
    assert summary["partitions_to_transfer"] == 12
    assert summary["replication_factor"] == 3 and summary["zone_redundancy"] == 3
    assert summary["optimal_partition_size"] == "3.9 MB" and summary["previous_partition_size"] == "3.9 MB"
    assert summary["usable_capacity"] == "3.0 GB" and summary["usable_percent"] == 75.0
    assert summary["effective_capacity"] == "1000.0 MB"
    assert summary["nodes"] == {"b10c110e4e854e5a": {"partitions": 256, "new_partitions": 12}}


def test_parse_layout_message_tolerates_unknown_text() -> None:
    summary = L.parse_layout_message(["something else", ""])
    assert summary["partitions_to_transfer"] is None and summary["nodes"] == {}
    assert L.parse_layout_message(None)["replication_factor"] is None


@pytest.mark.parametrize(
    "field",
    ["storageNodesOk", "storageNodesUp"],  # Garage 2.0 / Garage >= 2.1
)
def test_health_view_reads_both_names_of_storage_nodes_up(field: str) -> None:
    raw = {"status": "degraded", "knownNodes": 3, "connectedNodes": 2, "storageNodes": 3, field: 2,
           "partitions": 256, "partitionsQuorum": 256, "partitionsAllOk": 0}  # fmt: skip
    view = V.health_view(raw)
    assert view["storage_nodes_up"] == 2 and view["storage_nodes_ok"] == 2
    assert view["storage_nodes"] == 3 and view["partitions_all_ok"] == 0 and view["status"] == "degraded"
