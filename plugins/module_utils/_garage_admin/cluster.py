# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Cluster operations: connect nodes, wait until they are connected or the cluster is healthy,
and the read-only cluster information (``garage_cluster_info``).

No Ansible here. Connecting is an action without a state of its own, so these functions return
result dicts (``changed`` included) and raise :class:`OperationError` s.
"""

from __future__ import annotations

import re
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import (
    health_view,
    hostnames,
    layout_history_view,
    layout_view,
    node_info_view,
    node_label,
    status_view,
)

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

PEER_RE = re.compile(r"^(?P<id>[0-9a-fA-F]{64})@(?P<host>\[[0-9a-fA-F:.]+\]|[^\s@:\[\]]+):(?P<port>[0-9]{1,5})$")
SUBSETS = ("status", "health", "statistics", "layout", "layout_history", "node_info")
PEER_CONNECT_FAILED = "peer_connect_failed"
WAIT_TIMEOUT = "wait_timeout"


def parse_peer(peer: str) -> str | None:
    """Return the node id of ``id@host:port``, or None when the spec is malformed."""
    match = PEER_RE.match(peer.strip())
    if not match or not 0 < int(match.group("port")) < 65536:
        return None
    return match.group("id").lower()


def label(node_id: str, status: t.Mapping[str, t.Any] | None) -> str:
    return node_label(node_id, hostnames(status))


def missing_nodes(status: t.Mapping[str, t.Any], expected: t.Iterable[str]) -> list[str]:
    """Nodes expected up (the given peers + nodes with a role) that are not up."""
    up = {raw["id"] for raw in status.get("nodes") or [] if raw.get("isUp")}
    wanted = set(expected) | {raw["id"] for raw in status.get("nodes") or [] if raw.get("role")}
    return sorted(node for node in wanted if node not in up)


def read_status(client: GarageAdminClient) -> dict[str, t.Any]:
    with api_context("read", "cluster status", failure_reason="cluster_read_failed"):
        return t.cast(dict[str, t.Any], client.get_cluster_status())


def validate(peers: t.Sequence[str], wait_timeout: float, poll_interval: float) -> dict[str, str]:
    """``{peer: node id}``; raises :class:`InputError` before anything is called."""
    bad = [p for p in peers if parse_peer(p) is None]
    if bad:
        raise InputError(
            f"Invalid peer(s) {', '.join(repr(p) for p in bad)}: expected '<64-hex node id>@<host>:<port>'"
        )
    if wait_timeout < 0 or poll_interval <= 0:
        raise InputError("wait_timeout must be >= 0 and poll_interval > 0")
    return {p: t.cast(str, parse_peer(p)) for p in peers}


def converge(
    client: GarageAdminClient,
    peers: t.Sequence[str],
    *,
    wait_for: str | None,
    wait_timeout: float,
    poll_interval: float,
    dry_run: bool,
    sleep: t.Callable[[float], None] | None = None,
) -> dict[str, t.Any]:
    """Connect ``peers`` that are not up, then wait for ``wait_for`` (``connected``/``healthy``).

    In check mode nothing is connected and nothing is waited for: the state is read once and a
    warning says what a real run would wait for (check mode cannot create that state).
    """
    peers = [p.strip() for p in peers]
    peer_ids = validate(peers, wait_timeout, poll_interval)
    result: dict[str, t.Any] = {"connected": [], "already_connected": [], "waited": 0.0}
    status: dict[str, t.Any] | None = None
    to_connect: list[str] = []
    if peers:
        status = read_status(client)
        up = {raw["id"] for raw in status.get("nodes") or [] if raw.get("isUp")}
        result["already_connected"] = [p for p in peers if peer_ids[p] in up]
        to_connect = [p for p in peers if peer_ids[p] not in up]
    result["connected"] = to_connect
    result["changed"] = bool(to_connect)

    if to_connect and not dry_run:
        _connect(client, to_connect, peer_ids, status, result)
        status = None  # stale now

    if wait_for and dry_run:
        return _check_once(client, wait_for, set(peer_ids.values()), status, bool(to_connect), result)
    if wait_for:
        _wait(client, wait_for, set(peer_ids.values()), status, result, wait_timeout, poll_interval, sleep)
    elif status is not None:
        result["status"] = status_view(status)
    return result


def _connect(
    client: GarageAdminClient,
    to_connect: list[str],
    peer_ids: t.Mapping[str, str],
    status: t.Mapping[str, t.Any] | None,
    result: dict[str, t.Any],
) -> None:
    with api_context("connect", "cluster nodes", failure_reason=PEER_CONNECT_FAILED):
        answers = client.connect_cluster_nodes(to_connect)
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
        raise OperationError(
            "Failed to connect to "
            + "; ".join(f"{label(peer_ids.get(f['peer'], ''), status)} ({f['peer']}): {f['error']}" for f in failed),
            failure_reason=PEER_CONNECT_FAILED,
            changed=bool(ok),
            details={"failed_peers": failed, "connected": ok, "already_connected": result["already_connected"]},
        )


def _reached(
    client: GarageAdminClient, wait_for: str, expected: set[str], status: t.Mapping[str, t.Any]
) -> tuple[bool, list[str], t.Any]:
    missing = missing_nodes(status, expected)
    if wait_for == "connected":
        return not missing, missing, None
    with api_context("read", "cluster health", failure_reason="cluster_read_failed"):
        health = client.get_cluster_health()
    return (health or {}).get("status") == "healthy", missing, health


def _check_once(
    client: GarageAdminClient,
    wait_for: str,
    expected: set[str],
    status: dict[str, t.Any] | None,
    would_connect: bool,
    result: dict[str, t.Any],
) -> dict[str, t.Any]:
    status = status if status is not None else read_status(client)
    done, missing, health = _reached(client, wait_for, expected, status)
    result["status"] = status_view(status)
    if health is not None:
        result["health"] = health_view(health)
    if not done:
        result["warnings"] = [
            f"Check mode: the cluster is not {wait_for} now"
            + (" (the peers are not connected in check mode)" if would_connect else "")
            + "; a real run would wait for it, up to wait_timeout"
        ]
        result["missing_nodes"] = [label(node, status) for node in missing]
    return result


def _wait(
    client: GarageAdminClient,
    wait_for: str,
    expected: set[str],
    status: dict[str, t.Any] | None,
    result: dict[str, t.Any],
    wait_timeout: float,
    poll_interval: float,
    sleep: t.Callable[[float], None] | None,
) -> None:
    start = time.monotonic()
    deadline = start + wait_timeout
    while True:
        if status is None:
            status = read_status(client)
        done, missing, health = _reached(client, wait_for, expected, status)
        now = time.monotonic()
        if done or now >= deadline:
            break
        (sleep or time.sleep)(min(poll_interval, max(deadline - now, 0.0)))
        status = None
    result["waited"] = round(time.monotonic() - start, 2)
    result["status"] = status_view(status)
    if health is not None:
        result["health"] = health_view(health)
    if done:
        return
    names = [label(node, status) for node in missing]
    if wait_for == "connected":
        msg = f"Timed out after {wait_timeout}s waiting for nodes to connect; still missing: " + ", ".join(names)
    else:
        msg = (
            f"Timed out after {wait_timeout}s waiting for the cluster to be healthy; "
            f"health is {(health or {}).get('status')!r}"
        )
        if names:
            msg += f"; nodes down: {', '.join(names)}"
        elif not (health or {}).get("storageNodes"):
            msg += " (the applied layout has no storage node: apply a layout with garage_layout first)"
        else:
            msg += " (all known nodes are up: data is still syncing)"
    details = {k: v for k, v in result.items() if k != "changed"}
    raise OperationError(
        msg,
        failure_reason=WAIT_TIMEOUT,
        changed=bool(result["connected"]),
        details={**details, "missing_nodes": names},
    )


# --------------------------------------------------------------------------- info


def gather(client: GarageAdminClient, subsets: t.Sequence[str]) -> dict[str, t.Any]:
    """The read-only subsets of ``garage_cluster_info``."""
    reads: dict[str, tuple[str, t.Callable[[], t.Any], t.Callable[[t.Any], t.Any]]] = {
        "status": ("cluster status", client.get_cluster_status, status_view),
        "health": ("cluster health", client.get_cluster_health, health_view),
        "statistics": (
            "cluster statistics",
            client.get_cluster_statistics,
            lambda stats: {"freeform": (stats or {}).get("freeform")},
        ),
        "layout": ("cluster layout", client.get_cluster_layout, layout_view),
        "layout_history": ("cluster layout history", client.get_cluster_layout_history, layout_history_view),
        "node_info": ("node information", lambda: client.get_node_info("*"), node_info_view),
    }
    result: dict[str, t.Any] = {}
    for subset in SUBSETS:
        if subset in subsets:
            what, read, view = reads[subset]
            with api_context("read", what, failure_reason="cluster_read_failed"):
                result[subset] = view(read())
    return result
