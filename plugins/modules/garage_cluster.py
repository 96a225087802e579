#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_cluster
short_description: Connect Garage nodes to each other and wait for the cluster to be connected or healthy
version_added: 0.1.0
description:
  - Connects the node behind O(admin_url) to the given peers (C(ConnectClusterNodes)). Peers that the cluster
    already reports as up are not connected again and do not count as a change.
  - Optionally waits until every expected node is connected, or until the cluster is healthy, and fails naming
    the nodes still missing (hostname and id prefix) when the wait times out.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes.action_module
  - cellar.garage._attributes.actiongroup_garage
attributes:
  check_mode:
    support: full
    details:
      - Check mode reports the peers that would be connected in RV(connected) and connects nothing. It only waits
        (O(wait_for)) when nothing would be connected, since the wait could not succeed otherwise.
  idempotent:
    support: full
    details:
      - Peers already up are skipped. Waiting never changes anything.
options:
  peers:
    description:
      - Nodes to connect to, as C(<64-hex node id>@<host or ip>:<port>) (the output of C(garage node id)).
      - All entries are validated before anything is connected.
    type: list
    elements: str
    default: []
  wait_for:
    description:
      - V(connected) waits until every peer in O(peers) and every node with a role in the current layout is up.
      - V(healthy) waits until C(GetClusterHealth) says V(healthy) (all storage nodes up, all partitions complete).
      - Not set, the module does not wait.
      - In check mode the module never waits, since check mode connects nothing and a layout applied in check
        mode does not exist. It reads the state once and warns when a real run would have to wait.
    type: str
    choices: [connected, healthy]
  wait_timeout:
    description:
      - Seconds to wait for O(wait_for). (The connection option O(timeout) is the timeout of each HTTP request.)
    type: int
    default: 120
  poll_interval:
    description:
      - Seconds between two checks while waiting.
    type: float
    default: 2
seealso:
  - module: cellar.garage.garage_cluster_info
  - module: cellar.garage.garage_layout
  - name: Garage deployment on a cluster
    description: Connecting nodes and creating the first layout.
    link: https://garagehq.deuxfleurs.fr/documentation/cookbook/real-world/
"""

EXAMPLES = r"""
---
- name: Connect the first node to the others and wait until all are connected
  cellar.garage.garage_cluster:
    peers:
      - "563e1ac825ee3323aa441e72c26d1030d6d4414aeb3dd25287c531e7fc2bc95d@10.0.0.2:3901"
      - "86f0f26ae4afbd59aaf9cfb059eefac844951efd5b8caeec0d53f4ed6c85f332@10.0.0.3:3901"
    wait_for: connected

- name: Wait until the cluster is healthy after a layout change
  cellar.garage.garage_cluster:
    wait_for: healthy
    wait_timeout: 600
    poll_interval: 5
"""

RETURN = r"""
connected:
  description: Peers that were connected by this run (in check mode, that would be connected).
  returned: always
  type: list
  elements: str
  sample: ["86f0f26ae4afbd59aaf9cfb059eefac844951efd5b8caeec0d53f4ed6c85f332@10.0.0.3:3901"]
already_connected:
  description: Peers that were already up and were left alone.
  returned: always
  type: list
  elements: str
failed_peers:
  description: Peers Garage could not connect to, each with C(peer) and C(error).
  returned: on failure to connect
  type: list
  elements: dict
missing_nodes:
  description: Nodes still down when the wait timed out (C(hostname (id prefix))).
  returned: on a wait timeout
  type: list
  elements: str
health:
  description: The last C(GetClusterHealth) answer (snake_case, see M(cellar.garage.garage_cluster_info)).
  returned: when O(wait_for=healthy)
  type: dict
status:
  description: The last cluster status (snake_case, see M(cellar.garage.garage_cluster_info)).
  returned: when the status was read
  type: dict
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 4.2
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import cluster
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN

ARGUMENT_SPEC: dict[str, t.Any] = {
    "peers": {"type": "list", "elements": "str", "default": []},
    "wait_for": {"type": "str", "choices": ["connected", "healthy"]},
    "wait_timeout": {"type": "int", "default": 120},
    "poll_interval": {"type": "float", "default": 2.0},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,))
    p = module.params

    def body() -> dict[str, t.Any]:
        return cluster.converge(
            module.admin,
            p["peers"] or [],
            wait_for=p["wait_for"],
            wait_timeout=p["wait_timeout"],
            poll_interval=p["poll_interval"],
            dry_run=module.check_mode,
        )

    module.run(body)


if __name__ == "__main__":
    main()
