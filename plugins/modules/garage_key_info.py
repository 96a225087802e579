#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_key_info
short_description: Read Garage S3 access keys
version_added: 0.1.0
description:
  - Read one access key of a Garage cluster, addressed by O(id) or by its exact O(name), or all of them.
  - The keys' secrets are not returned unless O(show_secret=true) is asked for explicitly.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage
options:
  id:
    description:
      - Id of the key to read (C(GK) followed by 24 lowercase hexadecimal characters).
      - Mutually exclusive with O(name). Without O(id) and O(name), every key is read.
    type: str
    aliases: [access_key_id]
  name:
    description:
      - Exact (case-sensitive) name of the key to read.
      - The module fails when several keys carry this name; read them by O(id), or read all keys.
      - Mutually exclusive with O(id).
    type: str
  show_secret:
    description:
      - Also return each key's secret, in RV(key.secret_access_key) and in each entry of RV(keys).
      - "The result then contains secrets: run the task with C(no_log: true) and register it, otherwise
        the secrets are printed (for example with C(-v)) and may end up in logs."
    type: bool
    default: false
notes:
  - Reading one key costs one Admin API read (two when a name search is ambiguous and must be resolved);
    reading all keys costs one ListKeys plus one read per key.
seealso:
  - module: cellar.garage.garage_key
  - module: cellar.garage.garage_manifest
"""

EXAMPLES = r"""
---
- name: Read a key by name
  cellar.garage.garage_key_info:
    name: backup-job
  register: backup_key

- name: Fail when the key is missing
  ansible.builtin.assert:
    that: backup_key.exists

- name: List every key
  cellar.garage.garage_key_info:
  register: all_keys

- name: Names of the expired keys
  ansible.builtin.debug:
    msg: "{{ all_keys['keys'] | selectattr('expired') | map(attribute='name') | list }}"

- name: Read a key's secret to hand it over to a vault (never print it)
  cellar.garage.garage_key_info:
    id: GK31c2f218a2e44f485b94239e
    show_secret: true
  register: key_with_secret
  no_log: true
"""

RETURN = r"""
---
exists:
  description: Whether the key addressed by O(id) or O(name) exists.
  returned: when O(id) or O(name) is set
  type: bool
  sample: true
key:
  description:
    - The key addressed by O(id) or O(name), V(null) when it does not exist.
  returned: when O(id) or O(name) is set
  type: dict
  contains:
    id:
      description: The access key id.
      type: str
      sample: GK31c2f218a2e44f485b94239e
    name:
      description: The key's name.
      type: str
      sample: backup-job
    created:
      description: Creation time (RFC 3339), V(null) for keys from Garage 1.x.
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    expiration:
      description: Expiration time (RFC 3339), V(null) when the key never expires.
      type: str
      sample: "2030-12-31T23:59:59Z"
    expired:
      description: Whether the key has expired.
      type: bool
      sample: false
    permissions:
      description: Key-level permissions (C(create_bucket)).
      type: dict
      sample: {create_bucket: false}
    buckets:
      description: Buckets this key has an entry on (even with all permissions false), sorted by id.
      type: list
      elements: dict
      sample:
        - id: 9f0e1a44b8c6d2c1f0a9b6e3d5c7a1e2f4b6d8c0a2e4f6b8d0c2e4a6b8d0f2a4
          global_aliases: [photos]
          local_aliases: []
          permissions: {read: true, write: true, owner: false}
    secret_access_key:
      description: The key's secret. A secret; see O(show_secret).
      type: str
      returned: only when O(show_secret=true)
      sample: 7c2b5d1e0a9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766554433221100f
keys:
  description:
    - Every key of the cluster, sorted by id, each with the same fields as RV(key).
    - An empty list when the cluster has no key.
    - Write C(result['keys']) in Jinja, not C(result.keys), which is the dictionary method.
  returned: when neither O(id) nor O(name) is set
  type: list
  elements: dict
  sample:
    - id: GK31c2f218a2e44f485b94239e
      name: backup-job
      created: "2025-06-14T12:00:00.123Z"
      expiration: null
      expired: false
      permissions: {create_bucket: false}
      buckets: []
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import expiring, keys
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import key_id_problem, name_problem
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN

ARGUMENT_SPEC: dict[str, t.Any] = {
    "id": {"type": "str", "aliases": ["access_key_id"], "no_log": False},
    "name": {"type": "str"},
    "show_secret": {"type": "bool", "default": False, "no_log": False},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,), mutually_exclusive=[["id", "name"]])
    key_id, name, show_secret = module.params.get("id"), module.params.get("name"), module.params["show_secret"]

    def body() -> dict[str, t.Any]:
        expiring.invalid_options([p for p in (key_id_problem(key_id), name_problem(name)) if p])
        if key_id is None and name is None:
            return keys.info_all(module.admin, show_secret=show_secret)
        return keys.info(module.admin, key_id=key_id, name=name, show_secret=show_secret)

    module.run(body)


if __name__ == "__main__":
    main()
