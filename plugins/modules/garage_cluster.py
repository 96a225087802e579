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
  - cellar.garage maintainers (!UNKNOWN)
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

import re
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._layout import health_view, status_view
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule

PEER_RE = re.compile(r"^(?P<id>[0-9a-fA-F]{64})@(?P<host>\[[0-9a-fA-F:.]+\]|[^\s@:\[\]]+):(?P<port>[0-9]{1,5})$")


def parse_peer(peer: str) -> str | None:
    """Return the node id of ``id@host:port``, or None when the spec is malformed."""
    match = PEER_RE.match(peer.strip())
    if not match or not 0 < int(match.group("port")) < 65536:
        return None
    return match.group("id").lower()


def label(node_id: str, status: t.Mapping[str, t.Any] | None) -> str:
    for raw in (status or {}).get("nodes") or []:
        if raw.get("id") == node_id and raw.get("hostname"):
            return f"{raw['hostname']} ({node_id[:16]})"
    return node_id[:16]


def missing_nodes(status: t.Mapping[str, t.Any], expected: t.Iterable[str]) -> list[str]:
    """Nodes expected up (the given peers + nodes with a role) that are not up."""
    up = {raw["id"] for raw in status.get("nodes") or [] if raw.get("isUp")}
    wanted = set(expected) | {raw["id"] for raw in status.get("nodes") or [] if raw.get("role")}
    return sorted(node for node in wanted if node not in up)


class ClusterManager:
    def __init__(self, module: GarageModule, *, sleep: t.Callable[[float], None] | None = None) -> None:
        self.module = module
        self.client = module.client
        self.sleep = sleep if sleep is not None else time.sleep
        self.params = module.params

    def read_status(self) -> dict[str, t.Any]:
        with self.module.api_errors("read", "cluster status"):
            return t.cast(dict[str, t.Any], self.client.get_cluster_status())
        raise AssertionError("unreachable")  # pragma: no cover

    def run(self) -> None:
        peers = [p.strip() for p in self.params["peers"] or []]
        bad = [p for p in peers if parse_peer(p) is None]
        if bad:
            self.module.fail_json(
                msg=f"Invalid peer(s) {', '.join(repr(p) for p in bad)}: expected '<64-hex node id>@<host>:<port>'"
            )
        if self.params["wait_timeout"] < 0 or self.params["poll_interval"] <= 0:
            self.module.fail_json(msg="wait_timeout must be >= 0 and poll_interval > 0")
        peer_ids = {p: t.cast(str, parse_peer(p)) for p in peers}
        result: dict[str, t.Any] = {"connected": [], "already_connected": [], "waited": 0.0}

        status: dict[str, t.Any] | None = None
        to_connect: list[str] = []
        if peers:
            status = self.read_status()
            up = {raw["id"] for raw in status.get("nodes") or [] if raw.get("isUp")}
            result["already_connected"] = [p for p in peers if peer_ids[p] in up]
            to_connect = [p for p in peers if peer_ids[p] not in up]
        result["connected"] = to_connect
        changed = bool(to_connect)

        if to_connect and not self.module.check_mode:
            with self.module.api_errors("connect", "cluster nodes", changed=False):
                answers = self.client.connect_cluster_nodes(to_connect)
            failed = [
                {"peer": peer, "error": (answer or {}).get("error") or "unknown error"}
                for peer, answer in zip(to_connect, answers or [])
                if not (answer or {}).get("success")
            ]
            if len(answers or []) != len(to_connect):
                failed.append(
                    {"peer": "*", "error": f"Garage answered {len(answers or [])} results for {len(to_connect)} peers"}
                )
            if failed:
                ok = [p for p in to_connect if p not in {f["peer"] for f in failed}]
                self.module.fail_json(
                    msg="Failed to connect to "
                    + "; ".join(
                        f"{label(peer_ids.get(f['peer'], ''), status)} ({f['peer']}): {f['error']}" for f in failed
                    ),
                    failed_peers=failed,
                    changed=bool(ok),
                    connected=ok,
                    already_connected=result["already_connected"],
                )
            status = None  # stale now

        wait_for = self.params["wait_for"]
        if wait_for and not (self.module.check_mode and to_connect):
            self.wait(wait_for, set(peer_ids.values()), status, result)
        elif status is not None:
            result["status"] = status_view(status)
        self.module.exit_json(changed=changed, **result)

    def wait(
        self, wait_for: str, expected: set[str], status: dict[str, t.Any] | None, result: dict[str, t.Any]
    ) -> None:
        start = time.monotonic()
        deadline = start + self.params["wait_timeout"]
        while True:
            if status is None:
                status = self.read_status()
            health = None
            if wait_for == "connected":
                missing = missing_nodes(status, expected)
                done = not missing
            else:
                with self.module.api_errors("read", "cluster health"):
                    health = self.client.get_cluster_health()
                missing = missing_nodes(status, expected)
                done = (health or {}).get("status") == "healthy"
            now = time.monotonic()
            if done or now >= deadline:
                break
            self.sleep(min(self.params["poll_interval"], max(deadline - now, 0.0)))
            status = None
        result["waited"] = round(time.monotonic() - start, 2)
        result["status"] = status_view(status)
        if health is not None:
            result["health"] = health_view(health)
        if done:
            return
        names = [label(node, status) for node in missing]
        if wait_for == "connected":
            msg = f"Timed out after {self.params['wait_timeout']}s waiting for nodes to connect; still missing: "
            msg += ", ".join(names)
        else:
            msg = (
                f"Timed out after {self.params['wait_timeout']}s waiting for the cluster to be healthy; "
                f"health is {(health or {}).get('status')!r}"
            )
            if names:
                msg += f"; nodes down: {', '.join(names)}"
            elif not (health or {}).get("storageNodes"):
                msg += " (the applied layout has no storage node: apply a layout with garage_layout first)"
            else:
                msg += " (all known nodes are up: data is still syncing)"
        self.module.fail_json(msg=msg, missing_nodes=names, changed=bool(result["connected"]), **result)


def main() -> None:
    module = GarageModule(
        argument_spec={
            "peers": {"type": "list", "elements": "str", "default": []},
            "wait_for": {"type": "str", "choices": ["connected", "healthy"]},
            "wait_timeout": {"type": "int", "default": 120},
            "poll_interval": {"type": "float", "default": 2.0},
        },
        supports_check_mode=True,
    )
    ClusterManager(module).run()


if __name__ == "__main__":
    main()
