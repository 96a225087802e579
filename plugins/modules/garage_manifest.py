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
  - cellar.garage maintainers (@cellar-garage)
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
      description:
        - Version of the manifest format.
        - V(2) since zone redundancy is an integer or V(maximum) and node tags keep Garage's order.
      type: int
      sample: 2
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
          description:
            - Zone redundancy of the current layout, V(maximum) or an integer, as
              O(cellar.garage.garage_layout#module:zone_redundancy) takes it and
              M(cellar.garage.garage_cluster_info) returns it.
            - Manifest version 1 wrote C({at_least = n}) for an integer.
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
              description: Tags of the node's role, in Garage's order (as M(cellar.garage.garage_layout) sets them).
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

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import manifest as manifests
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN

ARGUMENT_SPEC: dict[str, t.Any] = {
    "dest": {"type": "path"},
    "include_timestamp": {"type": "bool", "default": False},
    "include_admin_tokens": {"type": "bool", "default": True, "no_log": False},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,))
    params = module.params

    def body() -> dict[str, t.Any]:
        problem = manifests.dest_problem(params.get("dest"))
        if problem:
            raise InputError(problem)
        manifest = manifests.read_manifest(
            module.admin,
            include_admin_tokens=params["include_admin_tokens"],
            include_timestamp=params["include_timestamp"],
        )
        content = manifests.render(manifest)
        result: dict[str, t.Any] = {"changed": False, "manifest": manifest, "checksum": manifests.checksum(content)}
        if params.get("dest") is None:
            return result
        try:
            result.update(manifests.write_file(params["dest"], content, dry_run=module.check_mode, diff=module._diff))
        except OperationError as exc:
            exc.details.update(manifest=manifest, checksum=result["checksum"], dest=params["dest"])
            raise
        return result

    module.run(body)


if __name__ == "__main__":
    main()
