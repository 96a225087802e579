# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""One view per resource: Garage's camelCase answers -> the snake_case shapes modules return.

No Ansible here. The state module, its info module, the manifest and ``garage_estate`` all call
these, so a bucket (key, token, node, layout) has one shape everywhere:

- *views* (``bucket_view``, ``key_view``, ...) are what modules return; sorted where Garage's
  order means nothing, so two runs compare equal; never secrets;
- *managed views* (``bucket_managed``, ...) are the diff content of the state modules: the
  attributes a module manages, named like its options, :data:`ABSENT` when the resource does not
  exist;
- zone redundancy is ``"maximum"`` or an int everywhere (the ``zone_redundancy`` option's values);
  node tags keep Garage's order (it is meaningful).
"""

from __future__ import annotations

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, present
from ansible_collections.cellar.garage.plugins.module_utils._sizes import format_size
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import normalize_lenient

Info = t.Mapping[str, t.Any]
View = dict[str, t.Any]
FLAGS = ("read", "write", "owner")


# --------------------------------------------------------------------------- buckets


def permissions_view(perms: Info | None) -> dict[str, bool]:
    perms = perms or {}
    return {flag: bool(perms.get(flag, False)) for flag in FLAGS}


def bucket_view(info: Info) -> View:
    """Snake_case view of a GetBucketInfo answer (no secrets; sorted for stable diffs)."""
    website = info.get("websiteConfig") or {}
    quotas = info.get("quotas") or {}
    keys: list[View] = []
    local_aliases: list[dict[str, str]] = []
    for k in info.get("keys") or []:
        aliases = sorted(k.get("bucketLocalAliases") or [])
        keys.append(
            {
                "access_key_id": k["accessKeyId"],
                "name": k.get("name"),
                "permissions": permissions_view(k.get("permissions")),
                "local_aliases": aliases,
            }
        )
        local_aliases.extend({"access_key_id": k["accessKeyId"], "alias": a} for a in aliases)
    keys.sort(key=lambda k: k["access_key_id"])
    local_aliases.sort(key=lambda a: (a["access_key_id"], a["alias"]))
    return {
        "id": info["id"],
        "created": info.get("created"),
        "global_aliases": sorted(info.get("globalAliases") or []),
        "local_aliases": local_aliases,
        "website": {
            "enabled": bool(info.get("websiteAccess")),
            "index_document": website.get("indexDocument"),
            "error_document": website.get("errorDocument"),
        },
        "quotas": {"max_size": quotas.get("maxSize"), "max_objects": quotas.get("maxObjects")},
        "objects": info.get("objects", 0),
        "bytes": info.get("bytes", 0),
        "unfinished_uploads": info.get("unfinishedUploads", 0),
        "unfinished_multipart_uploads": info.get("unfinishedMultipartUploads", 0),
        "unfinished_multipart_upload_parts": info.get("unfinishedMultipartUploadParts", 0),
        "unfinished_multipart_upload_bytes": info.get("unfinishedMultipartUploadBytes", 0),
        "keys": keys,
    }


def bucket_managed(view: View | None) -> View:
    """What ``garage_bucket`` manages (its diff): aliases, website, quotas."""
    if not view:
        return dict(ABSENT)
    return present(
        {
            "id": view["id"],
            "global_aliases": view["global_aliases"],
            "website": view["website"],
            "quotas": view["quotas"],
        }
    )


def bucket_label(view: View | None, fallback: str | None = None) -> str:
    """``photos`` (the first global alias), else the given name, else the id."""
    if view and view.get("global_aliases"):
        return str(view["global_aliases"][0])
    return str(fallback or (view or {}).get("id") or "?")


# --------------------------------------------------------------------------- keys


def key_view(info: Info) -> View:
    """Snake_case view of a GetKeyInfo answer. Never includes the secret."""
    buckets = [
        {
            "id": b["id"],
            "global_aliases": sorted(b.get("globalAliases") or []),
            "local_aliases": sorted(b.get("localAliases") or []),
            "permissions": permissions_view(b.get("permissions")),
        }
        for b in info.get("buckets") or []
    ]
    buckets.sort(key=lambda b: b["id"])
    return {
        "id": info.get("accessKeyId") or info.get("id"),
        "name": info.get("name"),
        "created": info.get("created"),
        "expiration": info.get("expiration"),
        "expired": bool(info.get("expired", False)),
        "permissions": {"create_bucket": bool((info.get("permissions") or {}).get("createBucket", False))},
        "buckets": buckets,
    }


def key_managed(view: View | None) -> View:
    """What ``garage_key`` manages (its diff). Never the secret."""
    if view is None:
        return dict(ABSENT)
    return present(
        {
            "id": view["id"],
            "name": view["name"],
            "allow_create_bucket": view["permissions"]["create_bucket"],
            "expiration": normalize_lenient(view["expiration"]),
        }
    )


# --------------------------------------------------------------------------- admin tokens


def token_view(info: Info) -> View:
    """Snake_case view of an admin token answer. Never the secret."""
    return {
        "id": info.get("id"),
        "name": info.get("name"),
        "created": info.get("created"),
        "expiration": info.get("expiration"),
        "expired": bool(info.get("expired", False)),
        "scope": sorted(set(info.get("scope") or [])),
    }


def token_managed(view: View | None) -> View:
    """What ``garage_admin_token`` manages (its diff). Never the secret."""
    if view is None:
        return dict(ABSENT)
    return present(
        {
            "id": view["id"],
            "name": view["name"],
            "scope": view["scope"],
            "expiration": normalize_lenient(view["expiration"]),
        }
    )


# --------------------------------------------------------------------------- cluster and layout


def zone_redundancy_from_api(value: t.Any) -> str | int:
    """API ZoneRedundancy (``"maximum"`` or ``{"atLeast": n}``) -> ``"maximum"`` or int."""
    if isinstance(value, dict) and "atLeast" in value:
        return int(value["atLeast"])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return "maximum"


def zone_redundancy_to_api(value: str | int) -> t.Any:
    return "maximum" if value == "maximum" else {"atLeast": int(value)}


def layout_parameters(layout: Info) -> tuple[str | int, str | int | None]:
    """``(current zone redundancy, staged zone redundancy or None)``."""
    current = zone_redundancy_from_api((layout.get("parameters") or {}).get("zoneRedundancy", "maximum"))
    staged_raw = layout.get("stagedParameters")
    staged = zone_redundancy_from_api(staged_raw.get("zoneRedundancy")) if isinstance(staged_raw, dict) else None
    return current, staged


def role_from_api(raw: Info | None) -> dict[str, t.Any] | None:
    """An API role (LayoutNodeRole / NodeAssignedRole / NodeRoleChange) -> role, or None for removal."""
    if raw is None or raw.get("remove"):
        return None
    capacity = raw.get("capacity")
    return {
        "zone": str(raw.get("zone", "")),
        "capacity": int(capacity) if capacity is not None else None,
        "tags": list(raw.get("tags") or []),
    }


def role_view(role: t.Mapping[str, t.Any] | None) -> View | None:
    """``{zone, capacity, capacity_human, tags, gateway}``; tags in Garage's order."""
    if role is None:
        return None
    return {
        "zone": role["zone"],
        "capacity": role["capacity"],
        "capacity_human": format_size(role["capacity"]) if role["capacity"] is not None else None,
        "tags": list(role["tags"]),
        "gateway": role["capacity"] is None,
    }


def _space(raw: t.Any) -> dict[str, t.Any] | None:
    if not isinstance(raw, dict):
        return None
    return {"available": raw.get("available"), "total": raw.get("total")}


def node_label(node_id: str, hostnames: t.Mapping[str, str | None] | None = None) -> str:
    """``hostname (id-prefix)`` when the hostname is known, else the 16-hex id prefix."""
    hostname = (hostnames or {}).get(node_id)
    return f"{hostname} ({node_id[:16]})" if hostname else node_id[:16]


def hostnames(status: Info | None) -> dict[str, str | None]:
    """Node id -> hostname from a GetClusterStatus answer."""
    return {raw["id"]: raw.get("hostname") for raw in (status or {}).get("nodes") or []}


def status_view(status: Info) -> View:
    nodes = []
    for raw in sorted(status.get("nodes") or [], key=lambda n: n["id"]):
        role = raw.get("role")
        nodes.append(
            {
                "id": raw["id"],
                "hostname": raw.get("hostname"),
                "addr": raw.get("addr"),
                "is_up": bool(raw.get("isUp")),
                "last_seen_secs_ago": raw.get("lastSeenSecsAgo"),
                "garage_version": raw.get("garageVersion"),
                "draining": bool(raw.get("draining")),
                "role": role_view(role_from_api(role)) if isinstance(role, dict) else None,
                "data_partition": _space(raw.get("dataPartition")),
                "metadata_partition": _space(raw.get("metadataPartition")),
            }
        )
    return {"layout_version": status.get("layoutVersion"), "nodes": nodes}


_HEALTH_NAMES = {
    "status": "status",
    "knownNodes": "known_nodes",
    "connectedNodes": "connected_nodes",
    "storageNodes": "storage_nodes",
    "partitions": "partitions",
    "partitionsQuorum": "partitions_quorum",
    "partitionsAllOk": "partitions_all_ok",
}


def health_view(health: Info) -> View:
    """GetClusterHealth in snake_case, the same on every Garage 2.x.

    Garage 2.0 names the count of storage nodes that are up ``storageNodesOk``; 2.1 renamed it
    ``storageNodesUp``. Both shapes give ``storage_nodes_up``, and ``storage_nodes_ok`` keeps
    the value under the older name for playbooks written against 2.0.
    """
    view = {snake: health.get(camel) for camel, snake in _HEALTH_NAMES.items()}
    up = health.get("storageNodesUp", health.get("storageNodesOk"))
    view["storage_nodes_up"] = up
    view["storage_nodes_ok"] = up
    return view


def layout_view(layout: Info) -> View:
    current_zr, staged_zr = layout_parameters(layout)
    roles: dict[str, t.Any] = {}
    for raw in sorted(layout.get("roles") or [], key=lambda r: r["id"]):
        view = role_view(role_from_api(raw)) or {}
        view["stored_partitions"] = raw.get("storedPartitions")
        view["usable_capacity"] = raw.get("usableCapacity")
        roles[raw["id"]] = view
    staged = []
    for raw in sorted(layout.get("stagedRoleChanges") or [], key=lambda r: r["id"]):
        role = role_from_api(raw)
        entry: dict[str, t.Any] = {"id": raw["id"], "remove": role is None}
        if role is not None:
            entry.update(role_view(role) or {})
        staged.append(entry)
    return {
        "version": int(layout.get("version") or 0),
        "zone_redundancy": current_zr,
        "partition_size": layout.get("partitionSize"),
        "roles": roles,
        "staged_role_changes": staged,
        "staged_zone_redundancy": staged_zr,
    }


def layout_history_view(history: Info) -> View:
    trackers = history.get("updateTrackers")
    return {
        "current_version": history.get("currentVersion"),
        "min_ack": history.get("minAck"),
        "versions": [
            {
                "version": v.get("version"),
                "status": v.get("status"),
                "storage_nodes": v.get("storageNodes"),
                "gateway_nodes": v.get("gatewayNodes"),
            }
            for v in history.get("versions") or []
        ],
        "update_trackers": (
            {
                node: {"ack": tr.get("ack"), "sync": tr.get("sync"), "sync_ack": tr.get("syncAck")}
                for node, tr in sorted(trackers.items())
            }
            if isinstance(trackers, dict)
            else None
        ),
    }


def node_info_view(info: Info) -> View:
    nodes = {}
    for node, raw in sorted((info.get("success") or {}).items()):
        nodes[node] = {
            "garage_version": raw.get("garageVersion"),
            "rust_version": raw.get("rustVersion"),
            "db_engine": raw.get("dbEngine"),
            "garage_features": raw.get("garageFeatures"),
        }
    return {"nodes": nodes, "errors": dict(sorted((info.get("error") or {}).items()))}


def cluster_view(status: Info, layout: Info) -> View:
    """The manifest's cluster: nodes of GetClusterStatus joined with the layout's roles, by id."""
    status_nodes = {n["id"]: n for n in status.get("nodes") or []}
    layout_roles = {r["id"]: r for r in layout.get("roles") or []}
    nodes = []
    for node_id in sorted(set(status_nodes) | set(layout_roles)):
        node = status_nodes.get(node_id, {})
        role = role_from_api(layout_roles.get(node_id) or node.get("role"))
        nodes.append(
            {
                "id": node_id,
                "hostname": node.get("hostname"),
                "addr": node.get("addr"),
                "zone": role["zone"] if role else None,
                "capacity": role["capacity"] if role else None,
                "tags": list(role["tags"]) if role else [],
                "gateway": bool(role) and t.cast(dict, role)["capacity"] is None,
                "stored_partitions": layout_roles.get(node_id, {}).get("storedPartitions"),
                "usable_capacity": layout_roles.get(node_id, {}).get("usableCapacity"),
                "version": node.get("garageVersion"),
                "is_up": bool(node.get("isUp", False)),
                "draining": bool(node.get("draining", False)),
            }
        )
    staged = []
    for change in sorted(layout.get("stagedRoleChanges") or [], key=lambda c: c.get("id") or ""):
        role = role_from_api(change)
        if role is None:
            staged.append({"id": change.get("id"), "remove": True})
        else:
            staged.append({"id": change.get("id"), "remove": False, **role})
    current_zr, _staged_zr = layout_parameters(layout)
    return {
        "layout_version": layout.get("version", status.get("layoutVersion")),
        "zone_redundancy": current_zr,
        "partition_size": layout.get("partitionSize"),
        "staged_role_changes": staged,
        "nodes": nodes,
    }
