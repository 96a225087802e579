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
  - cellar.garage maintainers (@cellar-garage)
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
  node_wait_timeout:
    description:
      - How many seconds to wait for a node named by hostname, address or id prefix that the cluster does not
        report yet, reading the cluster status again every second.
      - Garage learns a peer's hostname from the peer's status broadcast, every 10 seconds, so a node named by
        hostname right after it started or connected can be unknown for a few seconds; V(15) covers that.
      - V(0) fails at once. Nodes named by their full 64-hex id are never waited for (they need no status).
    type: int
    default: 0
    version_added: 0.2.0
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

- name: Give nodes that were just started and connected a moment to be known by hostname
  cellar.garage.garage_layout:
    nodes:
      - node: node4
        zone: dc1
        capacity: 2T
    node_wait_timeout: 15

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
waited_for_nodes:
  description: Seconds spent waiting for nodes named by hostname, address or id prefix to be reported by the
    cluster (O(node_wait_timeout)). V(0) when every node was known at the first read.
  returned: always
  type: float
  sample: 0.0
  version_added: 0.2.0
foreign_changes:
  description: Role changes in the applied version that this run did not plan (staged concurrently by another
    operator between our check and our apply).
  returned: always
  type: list
  elements: dict
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import layout_converge
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
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
    "node_wait_timeout": {"type": "int", "default": 0},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,))

    def body() -> Outcome:
        spec = layout_converge.spec_from_params(module.params)
        return layout_converge.converge(module.admin, spec, dry_run=module.check_mode)

    module.run(body, what="converge the cluster layout")


if __name__ == "__main__":
    main()
