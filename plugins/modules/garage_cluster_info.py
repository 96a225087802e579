#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_cluster_info
short_description: Read a Garage cluster's status, health, statistics, layout and node information
version_added: 0.1.0
description:
  - Reads the cluster side of Garage's Admin API v2 and returns it in snake_case, in the same shapes as
    M(cellar.garage.garage_layout) returns.
  - Choose what to read with O(gather); each subset costs one Admin API request.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage
options:
  gather:
    description:
      - The subsets to read. V(all) reads every subset.
      - V(status) is C(GetClusterStatus), V(health) C(GetClusterHealth), V(statistics) C(GetClusterStatistics),
        V(layout) C(GetClusterLayout) (with staged changes), V(layout_history) C(GetClusterLayoutHistory),
        V(node_info) C(GetNodeInfo) for every node.
    type: list
    elements: str
    choices: [all, status, health, statistics, layout, layout_history, node_info]
    default: [all]
seealso:
  - module: cellar.garage.garage_cluster
  - module: cellar.garage.garage_layout
  - name: Garage Admin API v2
    description: The reference of the endpoints this module reads.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: Read everything about the cluster
  cellar.garage.garage_cluster_info:
  register: cluster

- name: Show the nodes that are down
  ansible.builtin.debug:
    msg: "{{ cluster.status.nodes | rejectattr('is_up') | map(attribute='hostname') | list }}"

- name: Watch a resync after a layout change (only health and layout history)
  cellar.garage.garage_cluster_info:
    gather: [health, layout_history]
  register: sync
  until: sync.health.status == 'healthy' and sync.layout_history.versions | length == 1
  retries: 60
  delay: 10
"""

RETURN = r"""
gathered:
  description: The subsets that were read.
  returned: always
  type: list
  elements: str
  sample: [status, health, statistics, layout, layout_history, node_info]
status:
  description: Cluster status (C(GetClusterStatus)).
  returned: when V(status) is gathered
  type: dict
  contains:
    layout_version:
      description: Current layout version.
      type: int
    nodes:
      description: Nodes sorted by id, each with C(id), C(hostname), C(addr), C(is_up), C(last_seen_secs_ago),
        C(garage_version), C(draining), C(role) (C(zone), C(capacity), C(capacity_human), C(tags), C(gateway), or
        V(null)), C(data_partition) and C(metadata_partition) (C(available), C(total) bytes, or V(null)).
      type: list
      elements: dict
  sample:
    layout_version: 1
    nodes:
      - id: 3c1d0b7e9f2a4c6e8d0b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f
        hostname: node1
        addr: 10.0.0.1:3901
        is_up: true
        last_seen_secs_ago: null
        garage_version: v2.0.0
        draining: false
        role: {zone: dc1, capacity: 2000000000000, capacity_human: 2T, tags: [], gateway: false}
        data_partition: {available: 1500000000000, total: 2000000000000}
        metadata_partition: null
health:
  description:
    - Cluster health (C(GetClusterHealth)); C(status) is V(healthy), V(degraded) or V(unavailable).
    - C(storage_nodes_up) is the number of storage nodes that are up (Garage 2.1+ C(storageNodesUp),
      2.0 C(storageNodesOk)); C(storage_nodes_ok) is the same value under its Garage 2.0 name.
  returned: when V(health) is gathered
  type: dict
  sample:
    status: healthy
    known_nodes: 3
    connected_nodes: 3
    storage_nodes: 3
    storage_nodes_up: 3
    storage_nodes_ok: 3
    partitions: 256
    partitions_quorum: 256
    partitions_all_ok: 256
statistics:
  description: Cluster statistics (C(GetClusterStatistics)); Garage returns a free-form text table.
  returned: when V(statistics) is gathered
  type: dict
  sample:
    freeform: "Storage nodes:\n  ID  Hostname  Zone ..."
layout:
  description: The applied layout and what is staged for the next version (C(GetClusterLayout)).
  returned: when V(layout) is gathered
  type: dict
  contains:
    version:
      description: Applied layout version (V(0) before the first apply).
      type: int
    zone_redundancy:
      description: V(maximum) or an integer.
      type: raw
    partition_size:
      description: Bytes in one partition.
      type: int
    roles:
      description: Roles by node id (same shape as M(cellar.garage.garage_layout)'s C(layout.roles)), plus
        C(stored_partitions) and C(usable_capacity) (V(null) for gateways).
      type: dict
    staged_role_changes:
      description: Staged changes, each C(id), C(remove) and the new role (C(zone), C(capacity), C(tags),
        C(gateway)) unless removed.
      type: list
      elements: dict
    staged_zone_redundancy:
      description: Staged zone redundancy, V(null) when none is staged.
      type: raw
layout_history:
  description: Layout versions still live or kept (C(GetClusterLayoutHistory)). More than one non-historical
    version means data is still being moved (a resync is running).
  returned: when V(layout_history) is gathered
  type: dict
  sample:
    current_version: 2
    min_ack: 2
    versions:
      - {version: 2, status: Current, storage_nodes: 3, gateway_nodes: 0}
      - {version: 1, status: Historical, storage_nodes: 3, gateway_nodes: 0}
    update_trackers: null
node_info:
  description: Per node id, C(garage_version), C(rust_version), C(db_engine) and C(garage_features)
    (C(GetNodeInfo?node=*)); nodes that did not answer are listed in C(errors).
  returned: when V(node_info) is gathered
  type: dict
  sample:
    nodes:
      3c1d0b7e9f2a4c6e8d0b1a3c5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f:
        garage_version: v2.0.0
        rust_version: 1.84.0
        db_engine: LMDB (using Heed crate)
        garage_features: [k2v, lmdb, sqlite, metrics, bundled-libs]
    errors: {}
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import cluster
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN

ARGUMENT_SPEC: dict[str, t.Any] = {
    "gather": {
        "type": "list",
        "elements": "str",
        "choices": ["all", *cluster.SUBSETS],
        "default": ["all"],
    },
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,))
    wanted = module.params["gather"] or ["all"]
    subsets = list(cluster.SUBSETS) if "all" in wanted else [s for s in cluster.SUBSETS if s in wanted]
    module.run(lambda: {"gathered": subsets, **cluster.gather(module.admin, subsets)})


if __name__ == "__main__":
    main()
