#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_estate
short_description: Converge a whole Garage estate (keys, buckets, local aliases, permissions, admin tokens) in one task
version_added: 0.2.0
description:
  - Declares the tenants' side of a Garage cluster as one data structure and converges it in one task,
    the way Terraform plans a whole state in one pass.
  - The estate is B(read) once (list the keys, buckets and admin tokens, then read each one it needs),
    B(planned) entirely (the same operations as M(cellar.garage.garage_key), M(cellar.garage.garage_bucket),
    M(cellar.garage.garage_bucket_alias), M(cellar.garage.garage_bucket_permission) and
    M(cellar.garage.garage_admin_token), so the results mean the same), then B(applied) in dependency order
    (keys, buckets, local aliases, permissions, removals, admin tokens).
  - A bad entry (invalid name, unknown bucket or key, ambiguous key name, ...) fails before anything changes.
  - Keys, buckets and admin tokens are identified by name; a name two keys carry is refused.
  - Options that are not set in an entry leave the resource's current settings untouched, as with the
    per-resource modules. With O(purge), what the estate does not declare is removed, per kind.
  - "New key secrets and new admin tokens are returned once, in RV(secrets). Register the result with
    C(no_log: true) and store them. They never appear in the diff. An administrator can read a key's secret
    again with M(cellar.garage.garage_key_info); an admin token's secret cannot be read again."
  - A failure half-way stops, and reports what was applied and what was not (RV(applied), RV(not_applied)),
    with the secrets of what was created before it (RV(secrets)), so no created secret is lost.
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
      - Check mode returns the full plan in RV(changes), including the local aliases and permissions of keys
        and buckets that the run would create.
  diff_mode:
    support: full
    details:
      - One diff per resource that changes, headed by the resource as the estate names it.
options:
  keys:
    description:
      - Access keys, by name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the key (unique among keys).
        type: str
        required: true
      state:
        description: V(present) creates or updates the key, V(absent) deletes it.
        type: str
        choices: [present, absent]
        default: present
      allow_create_bucket:
        description: Whether the key may create buckets through S3. Not set leaves it as it is.
        type: bool
      expiration:
        description:
          - When the key expires, an RFC 3339 datetime with a UTC offset (V(2030-01-31T00:00:00Z)).
          - Mutually exclusive with O(keys[].never_expires).
        type: str
      never_expires:
        description: V(true) removes any expiration.
        type: bool
  buckets:
    description:
      - Buckets, by global alias.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: A global alias of the bucket (its name for S3 clients).
        type: str
        required: true
      state:
        description:
          - V(present) creates or updates the bucket, V(absent) deletes it.
          - Garage deletes only empty buckets; a bucket that holds objects fails the run before anything changes.
        type: str
        choices: [present, absent]
        default: present
      global_aliases:
        description: More global aliases the bucket must have (see M(cellar.garage.garage_bucket)).
        type: list
        elements: str
      purge_global_aliases:
        description: Remove the bucket's global aliases that are neither O(buckets[].name) nor listed.
        type: bool
        default: false
      website:
        description: Website access, as in M(cellar.garage.garage_bucket).
        type: dict
        suboptions:
          enabled:
            description: Whether the bucket is served as a website.
            type: bool
            default: true
          index_document:
            description: Index document.
            type: str
          error_document:
            description: Error document; an empty string removes it.
            type: str
      quotas:
        description:
          - Quotas, as in M(cellar.garage.garage_bucket) (V(none) or V(unlimited) removes a limit).
        type: dict
        suboptions:
          max_size:
            description: Maximum total size, in bytes or with a unit (V(10G), V(512MiB)).
            type: raw
          max_objects:
            description: Maximum number of objects.
            type: raw
  local_aliases:
    description:
      - "Local aliases: a bucket name in one key's namespace."
    type: list
    elements: dict
    default: []
    suboptions:
      alias:
        description: The alias.
        type: str
        required: true
      bucket:
        description: A global alias of the target bucket.
        type: str
        required: true
      key:
        description: Name of the key whose namespace holds the alias.
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  permissions:
    description:
      - Permissions of keys on buckets. Each of O(permissions[].read), O(permissions[].write) and
        O(permissions[].owner) that is set decides its flag; one that is not set is left as it is.
    type: list
    elements: dict
    default: []
    suboptions:
      bucket:
        description: A global alias of the bucket.
        type: str
        required: true
      key:
        description: Name of the key.
        type: str
        required: true
      read:
        description: Read permission.
        type: bool
      write:
        description: Write permission.
        type: bool
      owner:
        description: Owner permission.
        type: bool
      state:
        description: V(present) applies the flags that are set, V(absent) denies all three.
        type: str
        choices: [present, absent]
        default: present
  admin_tokens:
    description:
      - Dynamic admin API tokens, by name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the token (unique among tokens).
        type: str
        required: true
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
      scope:
        description: Endpoints the token may call, or V(*); compared as a set. A new token without a scope gets V(*).
        type: list
        elements: str
      expiration:
        description: When the token expires (RFC 3339 with a UTC offset).
        type: str
      never_expires:
        description: V(true) removes any expiration.
        type: bool
  purge:
    description:
      - Per kind, remove what the estate does not declare.
      - A bucket that is not declared but still holds objects is never deleted; it is reported in RV(not_purged)
        and in a warning. A local alias that is the last alias of its bucket is kept and reported too.
      - The admin token this task authenticates with is never purged.
    type: dict
    default: {}
    suboptions:
      keys:
        description: Delete the keys the estate does not declare.
        type: bool
        default: false
      buckets:
        description: Delete the (empty) buckets none of whose global aliases the estate declares.
        type: bool
        default: false
      local_aliases:
        description: Remove the local aliases the estate does not declare.
        type: bool
        default: false
      permissions:
        description: Deny every permission the estate does not declare.
        type: bool
        default: false
      admin_tokens:
        description: Delete the dynamic admin tokens the estate does not declare.
        type: bool
        default: false
notes:
  - A run that changes nothing costs one C(ListKeys), one C(GetKeyInfo) per declared key, one C(ListBuckets),
    one C(GetBucketInfo) per bucket the estate names (every bucket with a purge of buckets, permissions or
    local aliases), and one C(ListAdminTokens) when admin tokens are involved.
  - The per-resource modules stay available for ad-hoc and fine-grained use.
seealso:
  - module: cellar.garage.garage_manifest
  - module: cellar.garage.garage_key
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_bucket_permission
"""

EXAMPLES = r"""
---
- name: Converge the tenants' estate and keep the new secrets
  cellar.garage.garage_estate:
    keys:
      - name: photos-app
      - name: backup
        allow_create_bucket: true
    buckets:
      - name: photos
        quotas: {max_size: 10G}
      - name: backups
    local_aliases:
      - {alias: media, bucket: photos, key: photos-app}
    permissions:
      - {bucket: photos, key: photos-app, read: true, write: true}
      - {bucket: backups, key: backup, read: true, write: true, owner: true}
    admin_tokens:
      - name: prometheus
        scope: [Metrics, GetClusterHealth]
  register: estate
  no_log: true

- name: Store the secrets created by this run (only returned once)
  ansible.builtin.copy:
    content: "{{ item.value.secret_access_key }}"
    dest: "/etc/garage-tenants/{{ item.key }}.secret"
    mode: "0600"
  loop: "{{ estate.secrets['keys'] | default({}) | dict2items }}"
  loop_control:
    label: "{{ item.key }}"
  no_log: true

- name: Remove every key and (empty) bucket that is not declared
  cellar.garage.garage_estate:
    keys: "{{ garage_keys }}"
    buckets: "{{ garage_buckets }}"
    purge:
      keys: true
      buckets: true
"""

RETURN = r"""
---
changes:
  description:
    - The changes of this run (in check mode, of a real run), per kind, in the order they are applied.
    - Each is C({resource, action}) with C(action) V(create), V(update) or V(delete).
  returned: always
  type: dict
  contains:
    keys:
      description: Key changes.
      type: list
      elements: dict
    buckets:
      description: Bucket changes.
      type: list
      elements: dict
    local_aliases:
      description: Local alias changes.
      type: list
      elements: dict
    permissions:
      description: Permission changes.
      type: list
      elements: dict
    admin_tokens:
      description: Admin token changes.
      type: list
      elements: dict
  sample:
    keys: [{resource: "key 'photos-app'", action: create}]
    buckets: []
    local_aliases: []
    permissions: [{resource: "permissions of key 'photos-app' on bucket 'photos'", action: update}]
    admin_tokens: []
counts:
  description: Number of changes per kind.
  returned: always
  type: dict
  sample: {keys: 1, buckets: 0, local_aliases: 0, permissions: 1, admin_tokens: 0}
not_purged:
  description: Undeclared resources that O(purge) kept, each with the reason (a non-empty bucket, a last alias).
  returned: always
  type: list
  elements: dict
  sample:
    - resource: bucket
      bucket_id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
      name: old
      reason: it is not empty (3 objects)
secrets:
  description:
    - The secrets created by this run, returned once. Register the result with C(no_log) set to V(true).
    - C(keys) maps a key name to C({access_key_id, secret_access_key}); C(admin_tokens) maps a token name to
      C({id, secret_token}) (the bearer token).
    - Also returned when the run fails half-way, for what was created before the failure.
  returned: when not in check mode
  type: dict
  sample: {keys: {photos-app: {access_key_id: GK31c2f218a2e44f485b94239e, secret_access_key: "..."}}, admin_tokens: {}}
applied:
  description: On a failure half-way, the changes applied before it.
  returned: on failure after changes were applied
  type: list
  elements: str
not_applied:
  description: On a failure half-way, the planned changes that were not applied.
  returned: on failure after planning
  type: list
  elements: str
failed_resource:
  description: On a failure half-way, the resource whose change failed.
  returned: on failure after planning
  type: str
failure_reason:
  description:
    - On failure, a stable snake_case code of the cause, for example V(bucket_not_empty) or V(key_create_failed).
  returned: on failure
  type: str
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import estate
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

_STATE = {"type": "str", "choices": ["present", "absent"], "default": "present"}
_EXPIRING = {"expiration": {"type": "str"}, "never_expires": {"type": "bool"}}

ARGUMENT_SPEC: dict[str, t.Any] = {
    "keys": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "no_log": False,
        "options": {
            "name": {"type": "str", "required": True},
            "state": _STATE,
            "allow_create_bucket": {"type": "bool"},
            **_EXPIRING,
        },
    },
    "buckets": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str", "required": True},
            "state": _STATE,
            "global_aliases": {"type": "list", "elements": "str"},
            "purge_global_aliases": {"type": "bool", "default": False},
            "website": {
                "type": "dict",
                "options": {
                    "enabled": {"type": "bool", "default": True},
                    "index_document": {"type": "str"},
                    "error_document": {"type": "str"},
                },
            },
            "quotas": {"type": "dict", "options": {"max_size": {"type": "raw"}, "max_objects": {"type": "raw"}}},
        },
    },
    "local_aliases": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "alias": {"type": "str", "required": True},
            "bucket": {"type": "str", "required": True},
            "key": {"type": "str", "required": True, "no_log": False},
            "state": _STATE,
        },
    },
    "permissions": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "bucket": {"type": "str", "required": True},
            "key": {"type": "str", "required": True, "no_log": False},
            "read": {"type": "bool"},
            "write": {"type": "bool"},
            "owner": {"type": "bool"},
            "state": _STATE,
        },
    },
    "admin_tokens": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "no_log": False,
        "options": {
            "name": {"type": "str", "required": True},
            "state": _STATE,
            "scope": {"type": "list", "elements": "str"},
            **_EXPIRING,
        },
    },
    "purge": {
        "type": "dict",
        "default": {},
        "options": {kind: {"type": "bool", "default": False, "no_log": False} for kind in estate.KINDS},
    },
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,))

    def body() -> Outcome:
        return estate.converge(module.admin, estate.spec_from_params(module.params), dry_run=module.check_mode)

    module.run(body, what="converge the estate")


if __name__ == "__main__":
    main()
