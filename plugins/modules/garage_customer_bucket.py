#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_customer_bucket
short_description: Provision a customer's bucket and admin key in one task, with rollback
version_added: 0.2.0
description:
  - Provision a bucket that a customer sees under its own name, a local alias in the namespace of the customer's
    admin key (never a name claimed cluster-wide), and that admin key; or remove such a bucket and the keys it
    leaves without any bucket.
  - "O(state=present): create the bucket with a throwaway global alias (Garage wants a name at creation), create the
    admin key O(key_name), grant it read, write and owner on the bucket, attach O(display_name) as a local alias in
    the key's namespace, remove the throwaway alias, prove the key works (O(verify_new_key)) and hand its credentials
    to OpenBao (O(openbao_path))."
  - A later run finds the bucket through the local alias O(display_name) of the key O(key_name) (not by guessing
    names), and changes nothing when the key still has read, write and owner on it.
  - "O(state=absent) with O(bucket_id): attach a temporary global alias when the bucket has none (Garage refuses to
    leave a bucket without any alias), detach every local alias, delete the bucket, then delete every key that the
    bucket's removal leaves without any bucket."
  - Each run is one unit. When a step fails, the steps done before it are undone in reverse and the task fails with
    RV(ignore:failure_reason) naming the step; if an undo fails too, with C(rollback_failed) and
    RV(ignore:manual_cleanup_required) listing exactly what is left.
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
  state:
    description:
      - V(present) provisions the bucket and its admin key; V(absent) deletes the bucket O(bucket_id).
    type: str
    choices: [present, absent]
    default: present
  display_name:
    description:
      - The name the customer uses for the bucket in S3 requests made with its keys, attached as a local alias in
        the admin key's namespace. Required with O(state=present).
      - A valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens).
    type: str
  key_name:
    description:
      - Name of the customer's admin key. Required with O(state=present).
      - Also how a later run finds the bucket; a key carrying this name that does not reach a bucket through the
        local alias O(display_name) is refused (RV(ignore:failure_reason=key_name_taken)).
    type: str
  bucket_id:
    description:
      - The bucket to delete with O(state=absent) (RV(bucket_id) of the run that provisioned it).
      - A bucket that holds objects or unfinished uploads is refused before anything changes
        (RV(ignore:failure_reason=bucket_not_empty)).
    type: str
notes:
  - "Failure reasons of O(state=present): C(bucket_create_failed), C(admin_key_create_failed),
    C(permission_grant_failed), C(local_alias_attach_failed), C(unalias_throwaway_failed), C(key_verify_failed),
    C(openbao_write_failed); of O(state=absent): C(temporary_alias_attach_failed), C(local_alias_detach_failed),
    C(bucket_delete_failed), C(bucket_not_empty); and C(rollback_failed) when an undo failed too."
  - Past the bucket's deletion nothing is rolled back. A key whose deletion fails then is listed in
    RV(ignore:manual_cleanup_required) with a warning, and the task succeeds.
  - In check mode every step is planned and nothing is written; ids the run would create are V(null).
seealso:
  - module: cellar.garage.garage_customer_key
  - module: cellar.garage.garage_key_rotation
  - module: cellar.garage.openbao_kv
"""

EXAMPLES = r"""
---
- name: Provision the bucket of customer acme and hand the admin key to OpenBao
  cellar.garage.garage_customer_bucket:
    display_name: acme-data
    key_name: acme-admin
    openbao_path: tenants/acme/admin-key
    s3_url: https://s3.example.com
  register: acme

- name: Provision without OpenBao (the secret is returned once, keep it out of the log)
  cellar.garage.garage_customer_bucket:
    display_name: globex
    key_name: globex-admin
  register: globex
  no_log: true

- name: Remove the customer's bucket and the keys that only served it
  cellar.garage.garage_customer_bucket:
    state: absent
    bucket_id: "{{ acme.bucket_id }}"
"""

RETURN = r"""
---
bucket_id:
  description: The bucket's id.
  returned: always
  type: str
  sample: 2c6f1a7b2b1f45a3bd9c0c8a6b3e0a1f2c6f1a7b2b1f45a3bd9c0c8a6b3e0a1f
access_key_id:
  description: The admin key's id (V(null) in check mode when the key would be created).
  returned: when O(state=present)
  type: str
  sample: GK31c2f218a2e44f485b94239e
secret_access_key:
  description: The admin key's secret. Register the result with C(no_log).
  returned: when the key is created and O(openbao_path) is not set
  type: str
key_name:
  description: The admin key's name.
  returned: when O(state=present)
  type: str
display_name:
  description: The local alias of the bucket in the admin key's namespace.
  returned: when O(state=present)
  type: str
created:
  description: Whether this run provisioned the bucket and key.
  returned: when O(state=present)
  type: bool
openbao:
  description: Where the credentials are stored, and the secret's version (never values).
  returned: when O(openbao_path) is set
  type: dict
  sample: {mount: secret, path: tenants/acme/admin-key, version: 1}
deleted_keys:
  description: The keys deleted with the bucket (C(access_key_id), C(name)).
  returned: when O(state=absent)
  type: list
  elements: dict
steps:
  description: The steps of this run, in order, with whether each changed something.
  returned: always
  type: list
  elements: dict
  sample: [{name: create_bucket, changed: true}, {name: create_admin_key, changed: true}]
manual_cleanup_required:
  description: What is left for a human (each with C(resource), ids, C(action) and C(error)).
  returned: when something could not be cleaned up
  type: list
  elements: dict
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN, OPENBAO
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._tenants import customer_bucket
from ansible_collections.cellar.garage.plugins.module_utils._tenants.glue import (
    OPENBAO_WHEN,
    TENANT_OPTIONS,
    services_for,
)

ARGUMENT_SPEC: dict[str, t.Any] = {
    **TENANT_OPTIONS,
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "display_name": {"type": "str"},
    "key_name": {"type": "str", "no_log": False},
    "bucket_id": {"type": "str"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN, OPENBAO), groups_used_when=OPENBAO_WHEN)

    def body() -> Outcome:
        request = customer_bucket.request_from_params(module.params)
        return customer_bucket.run(services_for(module), request, dry_run=module.check_mode)

    module.run(body, what="provision the customer bucket")


if __name__ == "__main__":
    main()
