#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_key_rotation
short_description: Replace a customer's key by a new one, with an overlap window, in one task with rollback
version_added: 0.2.0
description:
  - Create the key O(new_key_name), grant it the tier O(key_tier) on the bucket O(bucket_id), attach the local alias
    O(local_alias) in its namespace, prove it works with a signed S3 request (O(verify_new_key)), hand its
    credentials to OpenBao (O(openbao_path)), and retire (delete) the old key O(old_key_id).
  - "With O(retire_old=false) the old key is kept: both keys work during an overlap window the caller controls, so
    running applications can switch over; a later run with O(retire_old=true) deletes the old key."
  - A later run finds the new key by O(new_key_name) and changes nothing that is already as asked.
  - When a step fails, the new key is deleted again and OpenBao restored, and the task fails with
    RV(ignore:failure_reason) naming the step; if an undo fails too, with C(rollback_failed) and
    RV(ignore:manual_cleanup_required).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._openbao
  - cellar.garage._tenant
  - cellar.garage._attributes
attributes:
  action_group:
    description: Use C(group/cellar.garage.garage) or C(group/cellar.garage.openbao) in C(module_defaults).
    support: full
    membership: [cellar.garage.garage, cellar.garage.openbao]
options:
  old_key_id:
    description: The key being replaced.
    type: str
    required: true
  new_key_name:
    description:
      - Name of the new key. A key carrying this name that does not reach O(bucket_id) through O(local_alias) is
        refused (RV(ignore:failure_reason=key_name_taken)).
    type: str
    required: true
  bucket_id:
    description: The customer's bucket (its 64-hex id).
    type: str
    required: true
  local_alias:
    description: The customer's name for the bucket, attached as a local alias in the new key's namespace.
    type: str
    required: true
  key_tier:
    description:
      - V(all) gives the new key exactly the old key's read, write and owner flags on the bucket; V(rw) read and
        write; V(ro) read only. Anything else fails with RV(ignore:failure_reason=invalid_key_tier).
    type: str
    default: all
  retire_old:
    description:
      - Whether to delete the old key once the new one works and is stored. Deleting a key ends its access to every
        bucket.
    type: bool
    default: true
notes:
  - "Failure reasons: C(invalid_key_tier), C(bucket_not_found), C(old_key_not_found), C(old_key_without_access),
    C(key_name_taken), C(new_key_create_failed), C(new_key_permission_grant_failed), C(new_key_alias_attach_failed),
    C(new_key_verify_failed), C(openbao_write_failed), C(old_key_delete_failed), C(rollback_failed)."
  - In check mode every step is planned and nothing is written; the id of a key the run would create is V(null).
seealso:
  - module: cellar.garage.garage_customer_key
  - module: cellar.garage.openbao_kv
"""

EXAMPLES = r"""
---
- name: Phase 1 - a new key next to the old one; applications switch over during the window
  cellar.garage.garage_key_rotation:
    old_key_id: GK31c2f218a2e44f485b94239e
    new_key_name: acme-admin-2030-01
    bucket_id: "{{ acme.bucket_id }}"
    local_alias: acme-data
    retire_old: false
    openbao_path: tenants/acme/admin-key

- name: Phase 2 - after the window, retire the old key
  cellar.garage.garage_key_rotation:
    old_key_id: GK31c2f218a2e44f485b94239e
    new_key_name: acme-admin-2030-01
    bucket_id: "{{ acme.bucket_id }}"
    local_alias: acme-data
    retire_old: true
    openbao_path: tenants/acme/admin-key
"""

RETURN = r"""
---
bucket_id:
  description: The bucket's id.
  returned: always
  type: str
old_key_id:
  description: The old key's id.
  returned: always
  type: str
old_key_retired:
  description: Whether the old key is gone after this run.
  returned: always
  type: bool
access_key_id:
  description: The new key's id (V(null) in check mode when the key would be created).
  returned: always
  type: str
secret_access_key:
  description: The new key's secret. Register the result with C(no_log).
  returned: when the key is created and O(openbao_path) is not set
  type: str
key_name:
  description: The new key's name.
  returned: always
  type: str
local_alias:
  description: The bucket's local alias in the new key's namespace.
  returned: always
  type: str
key_tier:
  description: The tier asked for.
  returned: always
  type: str
created:
  description: Whether this run created the new key.
  returned: always
  type: bool
openbao:
  description: Where the credentials are stored, and the secret's version (never values).
  returned: when O(openbao_path) is set
  type: dict
steps:
  description: The steps of this run, in order, with whether each changed something.
  returned: always
  type: list
  elements: dict
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN, OPENBAO
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._tenants import rotation
from ansible_collections.cellar.garage.plugins.module_utils._tenants.glue import (
    OPENBAO_WHEN,
    TENANT_OPTIONS,
    services_for,
)

ARGUMENT_SPEC: dict[str, t.Any] = {
    **TENANT_OPTIONS,
    "old_key_id": {"type": "str", "required": True, "no_log": False},
    "new_key_name": {"type": "str", "required": True, "no_log": False},
    "bucket_id": {"type": "str", "required": True},
    "local_alias": {"type": "str", "required": True},
    "key_tier": {"type": "str", "default": "all", "no_log": False},
    "retire_old": {"type": "bool", "default": True},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN, OPENBAO), groups_used_when=OPENBAO_WHEN)

    def body() -> Outcome:
        request = rotation.request_from_params(module.params)
        return rotation.run(services_for(module), request, dry_run=module.check_mode)

    module.run(body, what="rotate the key")


if __name__ == "__main__":
    main()
