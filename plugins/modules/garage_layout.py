#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_layout
short_description: Converge the whole Garage cluster layout in one staged, previewed change applied exactly once
version_added: 0.1.0
description:
  - Declares the cluster layout of a Garage cluster as data (zone, capacity, tags or gateway role per node),
    and converges it in B(one) staged change that is previewed, applied exactly once with the current
    layout version + 1, and verified by a re-read.
  - Nodes are identified by their full 64-hex id, a unique id prefix, or the hostname or RPC address
    the cluster reports for them (C(GetClusterStatus)).
  - Removes nodes (O(purge) or O(nodes[].state=absent)) and replaces failed machines (O(replace)), carrying the
    old node's zone, capacity and tags over to the new node.
  - Refuses, before touching anything, plans that cannot satisfy the replication factor (fewer storage nodes
    than the factor, fewer zones than the zone redundancy).
  - Detects changes staged by someone else (O(stale_staged_changes)) and concurrent operators. When a concurrent
    change is detected after staging, the module clears B(its own) staged entries again (staging a node's current
    role back clears its staged change), re-reads, and re-plans only when nothing but its own changes happened
    underneath; otherwise it fails naming what the other operator changed. It never applies the same layout
    version twice.
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
attributes:
  check_mode:
    support: full
    details:
      - Check mode reads the layout, validates the plan (including the replication factor) and returns the
        planned role changes in RV(staged_changes) and the predicted layout in RV(layout). It stages nothing.
      - Garage's partition preview (C(PreviewClusterLayoutChanges)) computes the B(staged) layout, so it cannot
        be obtained without staging. In check mode RV(partition_moves) is therefore V(null); it is returned on
        a real run, from the preview and the apply.
  diff_mode:
    support: full
  idempotent:
    support: full
options:
  nodes:
    description:
      - The nodes whose role is managed. Nodes not listed keep their role unless O(purge=true).
      - For a node that already has a role, unset O(nodes[].zone), O(nodes[].capacity) and O(nodes[].tags) keep
        their current values. A node without a role needs O(nodes[].zone) and O(nodes[].capacity) or
        O(nodes[].gateway=true).
    type: list
    elements: dict
    default: []
    suboptions:
      node:
        description:
          - The node's full 64-hex id, a unique prefix of it, or the hostname or RPC address (C(host:port)
            or host) that C(GetClusterStatus) reports for it.
          - A full id is accepted even when the node is not (yet) connected.
        type: str
        required: true
      zone:
        description:
          - Zone (failure domain, for example a data centre) of the node.
        type: str
      capacity:
        description:
          - Storage capacity given to the node, as bytes or a human size such as V(500G), V(2T) or V(512GiB)
            (K/M/G/T/P are powers of 1000, KiB/MiB/GiB/TiB/PiB powers of 1024). At least 1K (1024 bytes).
          - Mutually exclusive with O(nodes[].gateway=true).
        type: raw
      tags:
        description:
          - Tags of the node. When set, they replace the node's tags (order matters, as in Garage).
        type: list
        elements: str
      gateway:
        description:
          - V(true) makes the node a gateway (it stores no data). V(false) with O(nodes[].capacity) turns a
            gateway into a storage node.
        type: bool
      state:
        description:
          - V(absent) removes the node's role from the layout.
        type: str
        choices: [present, absent]
        default: present
  purge:
    description:
      - Remove the role of every node that has one and is neither listed in O(nodes) nor the new node of a
        O(replace) entry.
    type: bool
    default: false
  replace:
    description:
      - Replace failed nodes. The new node gets the old node's zone, capacity and tags (a O(nodes) entry for the
        new node may override them), and the old node's role is removed, in the same layout version.
      - Once done, the entry is a no-op (the old node has no role and the new node has one), so it can stay in the
        playbook.
    type: list
    elements: dict
    default: []
    suboptions:
      old:
        description:
          - The failed node (full id, unique id prefix, hostname or address as reported by the cluster).
        type: str
        required: true
      new:
        description:
          - The node that takes its place (full id, unique id prefix, hostname or address).
        type: str
        required: true
  zone_redundancy:
    description:
      - V(maximum), or the minimum number of distinct zones each partition is replicated in (an integer between 1
        and the replication factor). When not set, the current setting is kept.
    type: str
  replication_factor:
    description:
      - The cluster's C(replication_factor) (from C(garage.toml); the Admin API does not expose it). Used to refuse
        layouts that Garage cannot compute before anything is staged.
      - When not set, it is derived from the applied layout (total stored partitions / 256), or V(3) on a cluster
        without a layout. When set and an applied layout shows another factor, the module fails.
    type: int
  stale_staged_changes:
    description:
      - What to do with staged layout changes that somebody else left behind (found before this module stages
        anything).
      - V(fail) fails naming them, changing nothing.
      - V(discard) clears them (each such node's current role is staged back) and converges the layout as declared.
      - V(merge) keeps them as part of the change; they are applied together with the declared changes, and the
        declaration wins where both touch the same node.
    type: str
    choices: [fail, discard, merge]
    default: fail
  conflict_retries:
    description:
      - How many times the module re-reads and re-plans after detecting a concurrent layout change (foreign staged
        entries appearing next to its own, or the layout version moving underneath it). Its own staged entries
        are always cleared first. V(0) fails at the first conflict.
      - A re-plan only happens when the re-read shows that nothing changed underneath except this run's own
        changes (for example the other operator cleared its staged changes, or its apply took ours along);
        if other roles changed, the module fails naming them instead of re-planning on top of them.
    type: int
    default: 2
notes:
  - The apply always uses the version read at the start + 1. If Garage answers C(Invalid new layout version)
    (HTTP 500), the module re-reads the layout and never re-applies blindly.
  - A change staged by another operator between our staging check and our apply would be included in the
    version we apply (Garage's apply takes whatever is staged). The module compares the applied layout with its
    plan and reports such foreign changes in RV(foreign_changes) with a warning.
seealso:
  - module: cellar.garage.garage_cluster
  - module: cellar.garage.garage_cluster_info
  - name: Garage cluster layout management
    description: How layouts, staging and versions work in Garage.
    link: https://garagehq.deuxfleurs.fr/documentation/operations/layout/
  - name: Garage recovering from failures
    description: Replacing a failed disk or node.
    link: https://garagehq.deuxfleurs.fr/documentation/operations/recovering/
"""

EXAMPLES = r"""
---
- name: Converge a three-zone layout
  cellar.garage.garage_layout:
    nodes:
      - node: node1
        zone: dc1
        capacity: 2T
      - node: node2
        zone: dc2
        capacity: 2T
        tags: [rack-b]
      - node: node3
        zone: dc3
        capacity: 2T
      - node: 5f1a9c
        zone: dc1
        gateway: true
    zone_redundancy: maximum

- name: Preview the role changes without staging anything
  cellar.garage.garage_layout:
    nodes:
      - node: node2
        capacity: 4T
  check_mode: true
  diff: true
  register: planned

- name: Remove every node that is not declared
  cellar.garage.garage_layout:
    nodes: "{{ garage_layout_nodes }}"
    purge: true

- name: Replace a dead machine by a new one, carrying its zone, capacity and tags over
  cellar.garage.garage_layout:
    replace:
      - old: 8c2e4f0a1b3d5e7f
        new: node4

- name: Apply changes an operator staged by hand together with ours
  cellar.garage.garage_layout:
    nodes:
      - node: node1
        capacity: 3T
    stale_staged_changes: merge
"""

RETURN = r"""
previous_layout:
  description: The layout before the run.
  returned: always
  type: dict
  contains:
    version:
      description: Layout version.
      type: int
    zone_redundancy:
      description: V(maximum) or an integer.
      type: raw
    roles:
      description: Roles by node id, each with C(zone), C(capacity) (bytes, V(null) for gateways),
        C(capacity_human), C(tags) and C(gateway).
      type: dict
  sample:
    version: 1
    zone_redundancy: maximum
    roles:
      3c1d0b7e9f2a4c6e8d0b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f:
        zone: dc1
        capacity: 2000000000000
        capacity_human: 2T
        tags: []
        gateway: false
layout:
  description: The layout after the run (in check mode, the predicted layout). Same shape as RV(previous_layout).
  returned: always
  type: dict
version:
  description: The layout version after the run (in check mode, the version a real run would apply).
  returned: always
  type: int
  sample: 2
previous_version:
  description: The layout version read at the start.
  returned: always
  type: int
  sample: 1
applied:
  description: Whether this run applied a new layout version.
  returned: always
  type: bool
staged_changes:
  description: The role changes planned relative to the current layout (staged and applied on a real run).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Full node id.
      type: str
    node:
      description: Hostname and id prefix when known, else the 16-hex id prefix.
      type: str
    action:
      description: V(add), V(update) or V(remove).
      type: str
    before:
      description: The node's current role (V(null) for none).
      type: dict
    after:
      description: The node's new role (V(null) for a removal).
      type: dict
  sample:
    - id: 3c1d0b7e9f2a4c6e8d0b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f
      node: node2 (3c1d0b7e9f2a4c6e)
      action: update
      before: {zone: dc2, capacity: 2000000000000, capacity_human: 2T, tags: [], gateway: false}
      after: {zone: dc2, capacity: 4000000000000, capacity_human: 4T, tags: [], gateway: false}
stale_staged_changes:
  description: Staged role changes found before this run staged anything (same shape as RV(staged_changes)),
    and how they were handled in RV(stale_staged_action).
  returned: always
  type: list
  elements: dict
stale_staged_action:
  description: V(none), V(discarded) or V(merged).
  returned: always
  type: str
partition_moves:
  description:
    - Summary of Garage's layout computation (from the preview and apply messages), best effort.
    - V(null) in check mode and when nothing was applied.
  returned: always
  type: dict
  contains:
    partitions_to_transfer:
      description: Number of new partition copies that must be transferred.
      type: int
    replication_factor:
      description: The replication factor Garage used.
      type: int
    zone_redundancy:
      description: The effective zone redundancy.
      type: int
    optimal_partition_size:
      description: As Garage prints it, e.g. C(3.9 GB).
      type: str
    nodes:
      description: Per node id prefix, C(partitions) and C(new_partitions).
      type: dict
  sample:
    partitions_to_transfer: 85
    replication_factor: 3
    zone_redundancy: 3
    optimal_partition_size: 7.8 GB
message:
  description: Garage's layout computation text from the apply (do not parse it; see RV(partition_moves)).
  returned: when a layout was applied
  type: list
  elements: str
replication_factor:
  description: The replication factor the plan was checked against.
  returned: always
  type: int
  sample: 3
applied_versions:
  description: Layout versions applied by this run; more than one only when a concurrent operator overwrote our
    staged roles before our apply and the module re-planned.
  returned: always
  type: list
  elements: int
  sample: [2]
conflicts:
  description: The concurrent layout changes this run detected (one line each) before it re-planned.
  returned: when a concurrent change was detected
  type: list
  elements: str
  sample:
    - "foreign staged changes appeared next to ours: node3 (7ec138a7a96a02d7): update zone=dc3 capacity=7T"
layout_changes_underneath:
  description: On failure after a conflict, the role changes another operator applied underneath this run
    (same shape as RV(staged_changes)).
  returned: when the layout changed underneath this run
  type: list
  elements: dict
waited_for_staged_changes:
  description: Seconds spent waiting for changes staged by someone else (a concurrent operator's change in flight)
    to be applied or cleared before planning. V(0) when nothing else was staged.
  returned: always
  type: float
  sample: 0.0
foreign_changes:
  description: Role changes in the applied version that this run did not plan (staged concurrently by another
    operator between our check and our apply).
  returned: always
  type: list
  elements: dict
"""

import random
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageError, GarageServerError
from ansible_collections.cellar.garage.plugins.module_utils._layout import (
    DEFAULT_REPLICATION_FACTOR,
    ChangeMap,
    KnownNode,
    LayoutPlanError,
    Plan,
    RoleMap,
    changes_to_api,
    current_roles,
    derive_replication_factor,
    describe_changes,
    foreign_staged,
    format_change,
    known_nodes,
    layout_parameters,
    needs_status,
    node_label,
    parse_layout_message,
    parse_node_specs,
    parse_zone_redundancy,
    plan_layout,
    replication_problem,
    resolve_node,
    role_diff,
    roles_view,
    staged_role_changes,
    undo_entries,
    zone_redundancy_to_api,
)
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule

#: How long a re-plan waits for changes staged by a concurrent operator to be applied or cleared.
CONFLICT_WAIT = 5.0
#: How long staged changes found at the start (stale_staged_changes=fail) may take to be applied by their owner.
STALE_GRACE = 3.0
POLL = 0.2


class LayoutConflict(Exception):
    """A concurrent layout change was detected; our staged entries have been cleared."""


class LayoutManager:
    def __init__(self, module: GarageModule, *, sleep: t.Callable[[float], None] | None = None) -> None:
        self.module = module
        self.client = module.client
        self.sleep = sleep if sleep is not None else time.sleep
        self.params = module.params
        self.warnings: list[str] = []
        self.nodes: list[KnownNode] = []
        #: layout versions applied by this run (more than one only after a concurrent overwrite)
        self.applied_versions: list[int] = []
        #: seconds spent waiting for changes staged by someone else to be applied or cleared
        self.waited = 0.0
        #: the plan of the last attempt (what a retry compares the re-read layout with)
        self.last_plan: Plan | None = None

    # ------------------------------------------------------------------ helpers

    def fail(self, msg: str, **result: t.Any) -> t.NoReturn:
        # A failure after an earlier attempt applied a version must still say so.
        result["applied_versions"] = self.applied_versions
        result["changed"] = bool(self.applied_versions) or bool(result.get("changed"))
        self.module.fail_json(msg=msg, **result)
        raise AssertionError("unreachable")  # pragma: no cover

    def read_layout(self) -> dict[str, t.Any]:
        with self.module.api_errors("read", "cluster layout"):
            return t.cast(dict[str, t.Any], self.client.get_cluster_layout())
        raise AssertionError("unreachable")  # pragma: no cover

    def read_status(self) -> dict[str, t.Any]:
        with self.module.api_errors("read", "cluster status"):
            return t.cast(dict[str, t.Any], self.client.get_cluster_status())
        raise AssertionError("unreachable")  # pragma: no cover

    def labels(self) -> dict[str, str]:
        return {n.id: f"{n.hostname} ({n.id[:16]})" for n in self.nodes if n.hostname}

    def describe(self, before: RoleMap, changes: ChangeMap) -> list[dict[str, t.Any]]:
        return describe_changes(before, changes, self.labels())

    @staticmethod
    def view(layout: t.Mapping[str, t.Any], roles: RoleMap | None = None, zr: t.Any = None) -> dict[str, t.Any]:
        current_zr, _staged = layout_parameters(layout)
        return {
            "version": int(layout.get("version") or 0),
            "zone_redundancy": current_zr if zr is None else zr,
            "roles": roles_view(current_roles(layout) if roles is None else roles),
        }

    # ------------------------------------------------------------------ validation

    def validate(self) -> tuple[list[t.Any], list[tuple[str, str]], str | int | None]:
        try:
            specs = parse_node_specs(self.params["nodes"] or [])
            zr = (
                parse_zone_redundancy(self.params["zone_redundancy"])
                if self.params["zone_redundancy"] not in (None, "")
                else None
            )
        except LayoutPlanError as exc:
            self.fail(str(exc))
        replace: list[tuple[str, str]] = []
        for index, item in enumerate(self.params["replace"] or []):
            old, new = (item.get("old") or "").strip(), (item.get("new") or "").strip()
            if not old or not new:
                self.fail(f"replace[{index}]: both 'old' and 'new' are required")
            if old.lower() == new.lower():
                self.fail(f"replace[{index}]: old and new are the same node ({old})")
            replace.append((old, new))
        rf = self.params["replication_factor"]
        if rf is not None and rf < 1:
            self.fail(f"replication_factor must be at least 1, got {rf}")
        if zr is not None and zr != "maximum" and rf is not None and int(zr) > rf:
            self.fail(f"zone_redundancy {zr} is larger than replication_factor {rf}")
        if self.params["conflict_retries"] < 0:
            self.fail("conflict_retries must not be negative")
        return specs, replace, zr

    def resolve(
        self, layout: dict[str, t.Any], specs: list[t.Any], replace: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, t.Any]], list[tuple[str | None, str]]]:
        idents = [s.node for s in specs] + [x for pair in replace for x in pair]
        status = self.read_status() if needs_status(idents) else None
        self.nodes = known_nodes(status, layout)
        try:
            resolved_specs = [(resolve_node(s.node, self.nodes), s) for s in specs]
            resolved_replace: list[tuple[str | None, str]] = []
            for old, new in replace:
                new_id = resolve_node(new, self.nodes)
                try:
                    old_id: str | None = resolve_node(old, self.nodes)
                except LayoutPlanError as exc:
                    # A replaced node eventually disappears from the cluster: fine once the new one has a role.
                    if new_id not in current_roles(layout):
                        raise LayoutPlanError(f"replace: {exc}") from None
                    old_id = None
                resolved_replace.append((old_id, new_id))
        except LayoutPlanError as exc:
            self.fail(str(exc))
        ids = [node for node, _s in resolved_specs]
        dupes = sorted({node for node in ids if ids.count(node) > 1})
        if dupes:
            self.fail(f"nodes: the same node is listed more than once ({', '.join(d[:16] for d in dupes)})")
        return resolved_specs, resolved_replace

    def replication_factor(self, layout: dict[str, t.Any]) -> int:
        derived = derive_replication_factor(layout)
        wanted = self.params["replication_factor"]
        if wanted is not None and derived is not None and wanted != derived:
            self.fail(
                f"replication_factor is {wanted} but the applied layout (version {layout.get('version')}) stores "
                f"each partition {derived} times; set replication_factor to the value of garage.toml"
            )
        return wanted or derived or DEFAULT_REPLICATION_FACTOR

    # ------------------------------------------------------------------ staging

    def undo(self, ours: ChangeMap, params_ours: t.Any) -> list[dict[str, t.Any]]:
        """Clear OUR staged entries that are still staged (never someone else's)."""
        layout_now = self.read_layout()
        entries = undo_entries(layout_now, ours)
        parameters = None
        if params_ours is not None:
            current_zr, staged_zr = layout_parameters(layout_now)
            if staged_zr == params_ours and current_zr != params_ours:
                parameters = {"zoneRedundancy": zone_redundancy_to_api(current_zr)}
        if entries or parameters:
            with self.module.api_errors("clear our staged changes from", "cluster layout", changed=False):
                self.client.update_cluster_layout(roles=changes_to_api(entries) or None, parameters=parameters)
        return self.describe(current_roles(layout_now), entries)

    def wait_for_foreign_staging(
        self, layout: dict[str, t.Any] | None = None, wait: float = CONFLICT_WAIT
    ) -> dict[str, t.Any]:
        """Give a concurrent operator a moment to apply (or clear) the changes it has staged."""
        started = time.monotonic()
        deadline = started + wait
        while True:
            layout = layout or self.read_layout()
            current = current_roles(layout)
            staged = {n: r for n, r in staged_role_changes(layout).items() if current.get(n) != r}
            if not staged or time.monotonic() >= deadline:
                self.waited += time.monotonic() - started
                return layout
            self.sleep(POLL)
            layout = None

    # ------------------------------------------------------------------ main flow

    def run(self) -> None:
        specs, replace, zr = self.validate()
        stale_mode = self.params["stale_staged_changes"]
        retries = self.params["conflict_retries"]
        first_layout: dict[str, t.Any] | None = None
        conflicts: list[str] = []
        attempt = 0
        while True:
            if attempt == 0:
                layout = self.read_layout()
                if stale_mode == "fail" and layout.get("stagedRoleChanges"):
                    # Staged changes may be another operator's change in flight: let it land before
                    # calling them stale (costs nothing when nothing is staged).
                    layout = self.wait_for_foreign_staging(layout, STALE_GRACE)
            else:
                layout = self.wait_for_foreign_staging()
                self.check_drift(layout, conflicts)
            if first_layout is None:
                first_layout = layout
            try:
                self.attempt(layout, first_layout, specs, replace, zr, stale_mode, conflicts)
            except LayoutConflict as exc:
                conflicts.append(str(exc))
                if attempt >= retries:
                    applied = (
                        f" This run applied layout version(s) {', '.join(map(str, self.applied_versions))}."
                        if self.applied_versions
                        else ""
                    )
                    self.fail(
                        f"Concurrent layout change detected, giving up after {attempt + 1} attempt(s): "
                        + " | ".join(conflicts)
                        + f". Our own staged changes were cleared; nothing of this run is staged.{applied}",
                        changed=bool(self.applied_versions),
                        conflicts=conflicts,
                        applied_versions=self.applied_versions,
                    )
                attempt += 1
                self.sleep(random.uniform(0.05, 0.5) * attempt)

    def check_drift(self, layout: dict[str, t.Any], conflicts: list[str]) -> None:
        """Retry only when the re-read shows that nothing but OUR changes happened underneath.

        If another operator changed other roles (or our nodes to other values), re-planning on top
        of it could undo or contradict their change: stop and say precisely what changed.
        """
        plan = self.last_plan
        if plan is None:
            return
        now = current_roles(layout)
        moved = role_diff(plan.current, now)
        theirs = {node: role for node, role in moved.items() if plan.desired.get(node) != role}
        ours = sorted(node for node, role in moved.items() if plan.desired.get(node) == role)
        current_zr, _staged = layout_parameters(layout)
        zr_moved = current_zr not in (plan.current_zone_redundancy, plan.desired_zone_redundancy)
        if not theirs and not zr_moved:
            return
        what = [format_change(c) for c in self.describe(plan.current, theirs)]
        if zr_moved:
            what.append(f"zone_redundancy={current_zr}")
        note = (
            f" (their apply also took our staged changes for {', '.join(node_label(n, self.nodes) for n in ours)})"
            if ours
            else ""
        )
        self.fail(
            "Concurrent layout change detected: "
            + " | ".join(conflicts)
            + f". Another operator changed the layout underneath this run (version {layout.get('version')}): "
            + "; ".join(what)
            + f"{note}. Not re-planning on top of a change this run did not plan: nothing of this run is staged; "
            "review the layout and run again.",
            conflicts=conflicts,
            layout_changes_underneath=self.describe(plan.current, theirs),
        )

    def attempt(
        self,
        layout: dict[str, t.Any],
        first_layout: dict[str, t.Any],
        specs: list[t.Any],
        replace: list[tuple[str, str]],
        zr: str | int | None,
        stale_mode: str,
        conflicts: list[str],
    ) -> None:
        resolved_specs, resolved_replace = self.resolve(layout, specs, replace)
        rf = self.replication_factor(layout)
        try:
            plan = plan_layout(
                layout=layout,
                specs=resolved_specs,
                replace=resolved_replace,
                purge=self.params["purge"],
                zone_redundancy=zr,
                stale_mode=stale_mode,
            )
        except LayoutPlanError as exc:
            self.fail(str(exc))
        version = int(layout.get("version") or 0)
        self.last_plan = plan
        stale = self.describe(plan.current, plan.stale)
        result: dict[str, t.Any] = {
            "previous_version": int(first_layout.get("version") or 0),
            "replication_factor": rf,
            "stale_staged_changes": stale,
            "stale_staged_action": "none",
            "partition_moves": None,
            "applied": bool(self.applied_versions),
            "applied_versions": self.applied_versions,
            "foreign_changes": [],
            "waited_for_staged_changes": round(self.waited, 2),
        }
        if conflicts:
            result["conflicts"] = list(conflicts)
        if (plan.stale or plan.stale_parameters is not None) and stale_mode == "fail":
            if not self.nodes or all(n.hostname is None for n in self.nodes):
                self.nodes = known_nodes(self.read_status(), layout)
                stale = self.describe(plan.current, plan.stale)
            what = [format_change(c) for c in stale]
            if plan.stale_parameters is not None:
                what.append(f"zone_redundancy={plan.stale_parameters}")
            self.fail(
                f"The cluster layout has staged changes that this task did not make: {'; '.join(what)}. "
                "Apply or revert them first, or set stale_staged_changes=discard or merge.",
                changed=False,
                stale_staged_changes=stale,
            )
        if plan.stale or plan.stale_parameters is not None:
            result["stale_staged_action"] = "discarded" if stale_mode == "discard" else "merged"

        before = self.view(first_layout)
        planned = self.describe(plan.current, plan.expected_staged)
        if not plan.changed:
            after = self.view(layout)
            if conflicts and after != before:
                self.warnings.append(
                    f"The layout was changed concurrently (version {before['version']} -> {after['version']}); "
                    "it now matches the declared layout, this run applied nothing"
                )
            self.exit(bool(self.applied_versions), before, after, version=version, staged_changes=[], **result)

        if plan.apply_needed:
            problem = replication_problem(plan.desired, rf, plan.desired_zone_redundancy)
            if problem:
                self.fail(
                    f"Refusing to change the layout: {problem} (nothing was staged)",
                    changed=False,
                    staged_changes=planned,
                    replication_factor=rf,
                )

        predicted = {
            "version": version + 1 if plan.apply_needed else version,
            "zone_redundancy": plan.desired_zone_redundancy if plan.apply_needed else plan.current_zone_redundancy,
            "roles": roles_view(plan.desired if plan.apply_needed else plan.current),
        }
        if self.module.check_mode:
            self.exit(True, before, predicted, version=predicted["version"], staged_changes=planned, **result)

        # ---- stage, in ONE UpdateClusterLayout
        params_ours = plan.desired_zone_redundancy if plan.stage_parameters else None
        parameters = {"zoneRedundancy": zone_redundancy_to_api(params_ours)} if params_ours is not None else None
        if plan.to_stage or parameters:
            with self.module.api_errors("stage changes to", "cluster layout", changed=False):
                staged_resp = self.client.update_cluster_layout(
                    roles=changes_to_api(plan.to_stage) or None, parameters=parameters
                )
            self.check_staged(staged_resp, version, plan, params_ours)

        if not plan.apply_needed:
            # Only stale staged changes were cleared (stale_staged_changes=discard).
            self.exit(True, before, self.view(layout), version=version, staged_changes=[], **result)

        # ---- preview
        try:
            preview = self.client.preview_cluster_layout_changes()
        except GarageError as exc:
            cleared = self.undo(plan.to_stage, params_ours)
            self.fail(
                f"Failed to preview cluster layout: {exc.code + ': ' if exc.code else ''}{exc.message}; "
                f"our staged changes were cleared ({len(cleared)} entries)",
                changed=False,
                staged_changes=planned,
            )
        if isinstance(preview, dict) and preview.get("error"):
            self.undo(plan.to_stage, params_ours)
            self.fail(
                f"Garage cannot compute this layout: {preview['error']}. Our staged changes were cleared; "
                "nothing is staged.",
                changed=False,
                staged_changes=planned,
            )
        new_layout = (preview or {}).get("newLayout") if isinstance(preview, dict) else None
        if isinstance(new_layout, dict) and "roles" in new_layout:
            extra = role_diff(plan.desired, current_roles(new_layout))
            if extra:
                self.undo(plan.to_stage, params_ours)
                raise LayoutConflict(
                    "the preview contains changes staged concurrently by another operator: "
                    + "; ".join(format_change(c) for c in self.describe(plan.desired, extra))
                )
        preview_summary = parse_layout_message((preview or {}).get("message") if isinstance(preview, dict) else None)

        # ---- apply, exactly once, with the version read at the start of this attempt + 1
        try:
            applied = self.client.apply_cluster_layout(version + 1)
        except GarageError as exc:
            self.handle_apply_error(exc, version, plan, params_ours, planned, result, before)
            raise AssertionError("unreachable") from None  # pragma: no cover
        applied_layout = (applied or {}).get("layout") or {}
        messages = list((applied or {}).get("message") or [])
        summary = parse_layout_message(messages) if messages else preview_summary

        # ---- re-read to confirm
        confirmed = self.read_layout()
        if int(confirmed.get("version") or 0) < version + 1:
            self.fail(
                f"ApplyClusterLayout answered but the re-read shows layout version {confirmed.get('version')} "
                f"(expected {version + 1} or later)",
                changed=True,
                staged_changes=planned,
            )
        final_roles = (
            current_roles(applied_layout) if applied_layout.get("roles") is not None else current_roles(confirmed)
        )
        foreign = role_diff(plan.desired, final_roles)
        self.applied_versions.append(version + 1)
        lost = sorted(node for node in plan.expected_staged if final_roles.get(node) != plan.desired.get(node))
        if lost:
            # A concurrent operator's staged entries for the same nodes replaced ours before our apply.
            raise LayoutConflict(
                f"version {version + 1} was applied, but it holds another operator's roles for "
                + ", ".join(node_label(node, self.nodes) for node in lost)
                + " instead of ours"
            )
        result["foreign_changes"] = self.describe(plan.desired, foreign)
        if foreign:
            self.warnings.append(
                f"Layout version {version + 1} also contains changes staged concurrently by another operator: "
                + "; ".join(format_change(c) for c in result["foreign_changes"])
            )
        result.update(applied=True, partition_moves=summary, message=messages)
        after = self.view(applied_layout if applied_layout.get("roles") is not None else confirmed)
        after["version"] = version + 1
        self.exit(True, before, after, version=version + 1, staged_changes=planned, **result)

    def check_staged(self, resp: t.Any, version: int, plan: Plan, params_ours: t.Any) -> None:
        """After our UpdateClusterLayout the staged set must be exactly ours (+ merged stale ones)."""
        resp = resp if isinstance(resp, dict) else {}
        resp_version = int(resp.get("version") or 0)
        if resp_version != version:
            self.undo(plan.to_stage, params_ours)
            raise LayoutConflict(
                f"the layout version moved from {version} to {resp_version} while planning (concurrent apply)"
            )
        foreign = foreign_staged(staged_role_changes(resp), current_roles(resp), plan.expected_staged)
        if foreign:
            self.undo(plan.to_stage, params_ours)
            raise LayoutConflict(
                "foreign staged changes appeared next to ours: "
                + "; ".join(format_change(c) for c in self.describe(current_roles(resp), foreign))
            )

    def handle_apply_error(
        self,
        exc: GarageError,
        version: int,
        plan: Plan,
        params_ours: t.Any,
        planned: list[dict[str, t.Any]],
        result: dict[str, t.Any],
        before: dict[str, t.Any],
    ) -> None:
        now = self.read_layout()
        now_version = int(now.get("version") or 0)
        invalid_version = isinstance(exc, GarageServerError) and "version" in (exc.message or "").lower()
        if now_version == version + 1 and current_roles(now) == plan.desired and not undo_entries(now, plan.to_stage):
            # Our apply landed although its answer was lost (e.g. a retried request), or a concurrent apply
            # took exactly our staged changes: version+1 holds exactly the declared layout.
            self.warnings.append(
                f"ApplyClusterLayout answered '{exc.message}', but the re-read shows version {now_version} "
                "with exactly the declared roles"
            )
            self.applied_versions.append(now_version)
            result.update(applied=True)
            self.exit(True, before, self.view(now), version=now_version, staged_changes=planned, **result)
        cleared = self.undo(plan.to_stage, params_ours)
        if invalid_version or now_version != version:
            raise LayoutConflict(
                f"applying version {version + 1} failed ({exc.code or 'error'}: {exc.message}); the layout is now "
                f"at version {now_version} (another operator applied concurrently)"
            )
        self.fail(
            f"Failed to apply cluster layout version {version + 1}: {exc.code + ': ' if exc.code else ''}"
            f"{exc.message}. Our staged changes were cleared ({len(cleared)} entries); the layout is still at "
            f"version {now_version}.",
            changed=False,
            staged_changes=planned,
            status=exc.status,
            garage_code=exc.code,
        )

    def exit(self, changed: bool, before: dict[str, t.Any], after: dict[str, t.Any], **result: t.Any) -> t.NoReturn:
        for warning in self.warnings:
            self.module.warn(warning)
        self.module.exit_resource(changed, before, after, previous_layout=before, layout=after, **result)


def main() -> None:
    module = GarageModule(
        argument_spec={
            "nodes": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "node": {"type": "str", "required": True},
                    "zone": {"type": "str"},
                    "capacity": {"type": "raw"},
                    "tags": {"type": "list", "elements": "str"},
                    "gateway": {"type": "bool"},
                    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
                },
            },
            "purge": {"type": "bool", "default": False},
            "replace": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "old": {"type": "str", "required": True},
                    "new": {"type": "str", "required": True},
                },
            },
            "zone_redundancy": {"type": "str"},
            "replication_factor": {"type": "int"},
            "stale_staged_changes": {"type": "str", "choices": ["fail", "discard", "merge"], "default": "fail"},
            "conflict_retries": {"type": "int", "default": 2},
        },
        supports_check_mode=True,
    )
    LayoutManager(module).run()


if __name__ == "__main__":
    main()
