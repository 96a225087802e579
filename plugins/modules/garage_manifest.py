#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_manifest
short_description: The complete state manifest of a Garage cluster, optionally written to a file
version_added: 0.1.0
description:
  - Read the whole state of a Garage cluster in one task and return it as one deterministic document,
    RV(manifest) - the cluster (layout and nodes), every bucket, every key and every dynamic admin token.
  - Buckets are identified by their id, the join key between buckets, keys and permissions.
  - Every list is sorted (nodes, buckets, keys and tokens by id; aliases and scopes alphabetically), so two
    manifests of the same state are identical and two manifests of different states diff cleanly.
  - The manifest never contains a secret (no key secret, no admin token).
  - With O(dest), the manifest is also written as JSON to a file on the host the module runs on, with mode
    C(0600), atomically, and only when its content (or mode) differs - so the task is idempotent.
  - Nothing in the cluster is ever changed.
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes.actiongroup_garage
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - The cluster is only read. In check mode O(dest) is not written; C(changed) says whether it would be.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
    details:
      - The diff is the change of the content (and mode) of the O(dest) file.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details:
      - Not with O(include_timestamp=true) and O(dest), since the timestamp changes the content on every run.
options:
  dest:
    description:
      - Path of a JSON file to write the manifest to, on the host the module runs on. Its directory must exist.
      - The file is written atomically with mode C(0600), and only when its content or mode differs.
      - When not set, the manifest is only returned.
    type: path
  include_timestamp:
    description:
      - Add RV(manifest.generated_at), the time the manifest was read.
      - Off by default so that two manifests of the same state are byte-identical.
    type: bool
    default: false
  include_admin_tokens:
    description:
      - Include the dynamic admin tokens (without their secrets) in RV(manifest.admin_tokens).
      - Needs an admin token allowed to call C(ListAdminTokens); turn it off for a narrowly scoped token.
    type: bool
    default: true
notes:
  - The cost is one C(GetClusterStatus), one C(GetClusterLayout), one C(ListBuckets) plus one read per bucket,
    one C(ListKeys) plus one read per key, and one C(ListAdminTokens).
  - Byte and object counters of buckets are eventually consistent in Garage; a manifest taken during writes
    may differ from the next one.
  - Tokens from Garage's configuration file (C(admin_token), C(metrics_token)) are not part of the manifest.
seealso:
  - module: cellar.garage.garage_bucket_info
  - module: cellar.garage.garage_key_info
  - module: cellar.garage.garage_cluster_info
"""

EXAMPLES = r"""
---
- name: Export the state manifest of the cluster
  cellar.garage.garage_manifest:
    dest: /var/backups/garage/manifest.json
  register: manifest

- name: Ids of the buckets that have no global alias
  ansible.builtin.debug:
    msg: "{{ manifest.manifest.buckets | rejectattr('global_aliases') | map(attribute='id') | list }}"

- name: Fail when any key has expired
  ansible.builtin.assert:
    that: manifest.manifest['keys'] | selectattr('expired') | list | length == 0

- name: Snapshot with a timestamp (changes the file on every run)
  cellar.garage.garage_manifest:
    dest: "/var/backups/garage/manifest-{{ ansible_date_time.date }}.json"
    include_timestamp: true
"""

RETURN = r"""
---
manifest:
  description: The state manifest. Never contains secrets.
  returned: always
  type: dict
  contains:
    manifest_version:
      description: Version of the manifest format.
      type: int
      sample: 1
    generated_at:
      description: When the manifest was read (RFC 3339, UTC).
      returned: when O(include_timestamp=true)
      type: str
      sample: "2025-06-14T12:00:00Z"
    cluster:
      description: The cluster layout and nodes.
      type: dict
      contains:
        layout_version:
          description: Version of the current cluster layout (V(0) before any layout is applied).
          type: int
          sample: 3
        zone_redundancy:
          description: Zone redundancy of the current layout, V(maximum) or C({at_least = n}).
          type: raw
          sample: maximum
        partition_size:
          description: Size in bytes of one partition in the current layout.
          type: int
          sample: 4294967296
        staged_role_changes:
          description: Role changes staged but not applied, sorted by node id.
          type: list
          elements: dict
          sample: []
        nodes:
          description: Every node known to the cluster or with a role in the layout, sorted by id.
          type: list
          elements: dict
          contains:
            id:
              description: Node id (64 hexadecimal characters).
              type: str
            hostname:
              description: Host name reported by the node, V(null) if unknown.
              type: str
            addr:
              description: RPC address of the node, V(null) if unknown.
              type: str
            zone:
              description: Zone of the node's role, V(null) without a role.
              type: str
            capacity:
              description: Capacity of the node's role in bytes, V(null) for a gateway or without a role.
              type: int
            tags:
              description: Tags of the node's role, sorted.
              type: list
              elements: str
            gateway:
              description: Whether the node has a gateway role (a role without capacity).
              type: bool
            stored_partitions:
              description: Partitions the node stores in the current layout, V(null) if unknown.
              type: int
            usable_capacity:
              description: Usable capacity of the node in the current layout, V(null) if unknown.
              type: int
            version:
              description: Garage version of the node, V(null) if unknown.
              type: str
            is_up:
              description: Whether the node is connected.
              type: bool
            draining:
              description: Whether the node is draining data from an older layout version.
              type: bool
          sample:
            - id: 5f0c4ec0a9a3c6f6f1d6c2d2d0a4b5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f
              hostname: garage-a
              addr: "10.0.0.1:3901"
              zone: dc1
              capacity: 1000000000000
              tags: [ssd]
              gateway: false
              stored_partitions: 256
              usable_capacity: 999999999999
              version: v2.0.0
              is_up: true
              draining: false
    buckets:
      description:
        - Every bucket, sorted by id, in the shape returned by M(cellar.garage.garage_bucket_info)
          (id, created, global and local aliases, website, quotas, objects, bytes, unfinished uploads and the
          keys with their permissions).
      type: list
      elements: dict
    keys:
      description:
        - Every access key, sorted by id, in the shape returned by M(cellar.garage.garage_key_info)
          (id, name, created, expiration, expired, permissions, buckets). Never the secret.
      type: list
      elements: dict
    admin_tokens:
      description: Every dynamic admin token (id, name, created, expiration, expired, sorted scope), by id.
      returned: when O(include_admin_tokens=true)
      type: list
      elements: dict
dest:
  description: The file the manifest was written to.
  returned: when O(dest) is set
  type: str
  sample: /var/backups/garage/manifest.json
checksum:
  description: SHA-256 of the JSON document (what is, or would be, written to O(dest)).
  returned: always
  type: str
  sample: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
"""

import datetime as _dt
import hashlib
import json
import os
import stat
import tempfile
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageNotFound
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._resources import bucket_view, key_view
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import format_timestamp

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

MANIFEST_VERSION = 1
FILE_MODE = 0o600

ARGUMENT_SPEC: dict[str, t.Any] = {
    "dest": {"type": "path"},
    "include_timestamp": {"type": "bool", "default": False},
    "include_admin_tokens": {"type": "bool", "default": True, "no_log": False},
}


# --------------------------------------------------------------------------- views


def _zone_redundancy(value: t.Any) -> t.Any:
    if isinstance(value, dict) and "atLeast" in value:
        return {"at_least": value["atLeast"]}
    return value


def role_change_view(change: dict[str, t.Any]) -> dict[str, t.Any]:
    if change.get("remove"):
        return {"id": change.get("id"), "remove": True}
    return {
        "id": change.get("id"),
        "remove": False,
        "zone": change.get("zone"),
        "capacity": change.get("capacity"),
        "tags": sorted(change.get("tags") or []),
    }


def cluster_view(status: dict[str, t.Any], layout: dict[str, t.Any]) -> dict[str, t.Any]:
    """Nodes of GetClusterStatus joined with the roles of GetClusterLayout, by node id."""
    status_nodes = {n["id"]: n for n in status.get("nodes") or []}
    layout_roles = {r["id"]: r for r in layout.get("roles") or []}
    nodes = []
    for node_id in sorted(set(status_nodes) | set(layout_roles)):
        node = status_nodes.get(node_id, {})
        role = layout_roles.get(node_id) or node.get("role")
        nodes.append(
            {
                "id": node_id,
                "hostname": node.get("hostname"),
                "addr": node.get("addr"),
                "zone": role.get("zone") if role else None,
                "capacity": role.get("capacity") if role else None,
                "tags": sorted(role.get("tags") or []) if role else [],
                "gateway": bool(role) and role.get("capacity") is None,
                "stored_partitions": layout_roles.get(node_id, {}).get("storedPartitions"),
                "usable_capacity": layout_roles.get(node_id, {}).get("usableCapacity"),
                "version": node.get("garageVersion"),
                "is_up": bool(node.get("isUp", False)),
                "draining": bool(node.get("draining", False)),
            }
        )
    staged = sorted((role_change_view(c) for c in layout.get("stagedRoleChanges") or []), key=lambda c: c["id"] or "")
    return {
        "layout_version": layout.get("version", status.get("layoutVersion")),
        "zone_redundancy": _zone_redundancy((layout.get("parameters") or {}).get("zoneRedundancy")),
        "partition_size": layout.get("partitionSize"),
        "staged_role_changes": staged,
        "nodes": nodes,
    }


def admin_token_view(info: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "id": info.get("id"),
        "name": info.get("name"),
        "created": info.get("created"),
        "expiration": info.get("expiration"),
        "expired": bool(info.get("expired", False)),
        "scope": sorted(set(info.get("scope") or [])),
    }


# --------------------------------------------------------------------------- reading


def read_manifest(module: GarageModule, client: GarageAdminClient) -> dict[str, t.Any]:
    manifest: dict[str, t.Any] = {"manifest_version": MANIFEST_VERSION}
    with module.api_errors("read", "cluster status"):
        status = client.get_cluster_status() or {}
    with module.api_errors("read", "cluster layout"):
        layout = client.get_cluster_layout() or {}
    manifest["cluster"] = cluster_view(status, layout)

    with module.api_errors("list", "buckets"):
        bucket_list = client.list_buckets() or []
    buckets = []
    for item in sorted(bucket_list, key=lambda b: b["id"]):
        with module.api_errors("read", "bucket", item["id"]):
            try:
                info = client.get_bucket_info(id=item["id"])
            except GarageNotFound:
                continue  # deleted between the listing and the read
        buckets.append(bucket_view(info))
    manifest["buckets"] = buckets

    with module.api_errors("list", "keys"):
        key_list = client.list_keys() or []
    keys = []
    for item in sorted(key_list, key=lambda k: k["id"]):
        with module.api_errors("read", "key", item["id"]):
            try:
                info = client.get_key_info(id=item["id"])
            except GarageNotFound:
                continue
        view = key_view(info)
        view.pop("secret_access_key", None)  # key_view never has it; belt and braces
        keys.append(view)
    manifest["keys"] = keys

    if module.params["include_admin_tokens"]:
        with module.api_errors("list", "admin tokens"):
            tokens = client.list_admin_tokens() or []
        # Id-less entries are the daemon configuration's tokens, not cluster state.
        manifest["admin_tokens"] = sorted(
            (admin_token_view(tok) for tok in tokens if tok.get("id")), key=lambda tok: tok["id"]
        )
    if module.params["include_timestamp"]:
        manifest["generated_at"] = format_timestamp(_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0))
    return manifest


def render(manifest: dict[str, t.Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- file


def current_file(path: str) -> tuple[str | None, int | None]:
    """``(content, mode)`` of the existing file, ``(None, None)`` when absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path} exists and is not a regular file")
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(), stat.S_IMODE(st.st_mode)


def write_atomically(path: str, content: str) -> None:
    """Write ``content`` to ``path`` with mode 0600 through a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".garage_manifest.", dir=directory)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, supports_check_mode=True)
    dest = module.params.get("dest")
    if dest is not None and not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
        module.fail_json(msg=f"Invalid options: the directory of dest '{dest}' does not exist")

    manifest = read_manifest(module, module.client)
    content = render(manifest)
    result: dict[str, t.Any] = {
        "changed": False,
        "manifest": manifest,
        "checksum": hashlib.sha256(content.encode("utf-8")).hexdigest(),
    }
    if dest is None:
        module.exit_json(**result)

    result["dest"] = dest
    try:
        old_content, old_mode = current_file(dest)
    except OSError as exc:
        module.fail_json(msg=f"Failed to read manifest file '{dest}': {exc}", **result)
    content_changed = old_content != content
    mode_changed = old_mode is not None and old_mode != FILE_MODE
    diffs: list[dict[str, t.Any]] = []
    if mode_changed:
        diffs.append({"before": {"path": dest, "mode": f"{old_mode:04o}"}, "after": {"path": dest, "mode": "0600"}})
    if content_changed:
        diffs.append({"before": old_content or "", "after": content, "before_header": dest, "after_header": dest})
    if (content_changed or mode_changed) and not module.check_mode:
        try:
            if content_changed:
                write_atomically(dest, content)
            else:
                os.chmod(dest, FILE_MODE)
        except OSError as exc:
            module.fail_json(msg=f"Failed to write manifest file '{dest}': {exc}", **result)
    result["changed"] = content_changed or mode_changed
    if module._diff and diffs:
        result["diff"] = diffs
    module.exit_json(**result)


if __name__ == "__main__":
    main()
