#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_customer_key
short_description: Add a read-write or read-only key to a customer's bucket in one task, with rollback
version_added: 0.2.0
description:
  - Create one more access key for a bucket provisioned with M(cellar.garage.garage_customer_bucket) (or any
    bucket), grant it the tier O(key_tier) on the bucket, and attach the customer's name for the bucket as a local
    alias O(local_alias) in the new key's namespace, so applications using this key see the bucket under that name.
  - The new key is proven to work (O(verify_new_key)) and its credentials handed to OpenBao (O(openbao_path)) before
    the task reports success.
  - A later run finds the key by O(new_key_name) and makes its permissions on the bucket exactly the tier's.
  - When a step fails, the key is deleted again and the task fails with RV(ignore:failure_reason) naming the step;
    if that fails too, with C(rollback_failed) and RV(ignore:manual_cleanup_required).
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
  bucket_id:
    description: The customer's bucket (its 64-hex id).
    type: str
    required: true
  new_key_name:
    description:
      - Name of the key. A key carrying this name that does not reach O(bucket_id) through O(local_alias) is refused
        (RV(ignore:failure_reason=key_name_taken)).
    type: str
    required: true
  local_alias:
    description: The customer's name for the bucket, attached as a local alias in the new key's namespace.
    type: str
    required: true
  key_tier:
    description:
      - V(rw) grants read and write, V(ro) read only. Anything else fails with
        RV(ignore:failure_reason=invalid_key_tier) before any call.
    type: str
    default: rw
notes:
  - "Failure reasons: C(invalid_key_tier), C(bucket_not_found), C(key_name_taken), C(new_key_create_failed),
    C(new_key_permission_grant_failed), C(new_key_alias_attach_failed), C(new_key_verify_failed),
    C(openbao_write_failed), C(rollback_failed)."
  - In check mode every step is planned and nothing is written; the id of a key the run would create is V(null).
seealso:
  - module: cellar.garage.garage_customer_bucket
  - module: cellar.garage.garage_key_rotation
"""

EXAMPLES = r"""
---
- name: A read-only key for acme's reporting job, handed to OpenBao
  cellar.garage.garage_customer_key:
    bucket_id: "{{ acme.bucket_id }}"
    new_key_name: acme-reporting
    local_alias: acme-data
    key_tier: ro
    openbao_path: tenants/acme/reporting-key
"""

RETURN = r"""
---
bucket_id:
  description: The bucket's id.
  returned: always
  type: str
access_key_id:
  description: The key's id (V(null) in check mode when the key would be created).
  returned: always
  type: str
  sample: GK31c2f218a2e44f485b94239e
secret_access_key:
  description: The key's secret. Register the result with C(no_log).
  returned: when the key is created and O(openbao_path) is not set
  type: str
key_name:
  description: The key's name.
  returned: always
  type: str
local_alias:
  description: The bucket's local alias in the key's namespace.
  returned: always
  type: str
key_tier:
  description: The key's tier.
  returned: always
  type: str
created:
  description: Whether this run created the key.
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
from ansible_collections.cellar.garage.plugins.module_utils._tenants import customer_key
from ansible_collections.cellar.garage.plugins.module_utils._tenants.glue import (
    OPENBAO_WHEN,
    TENANT_OPTIONS,
    services_for,
)

ARGUMENT_SPEC: dict[str, t.Any] = {
    **TENANT_OPTIONS,
    "bucket_id": {"type": "str", "required": True},
    "new_key_name": {"type": "str", "required": True, "no_log": False},
    "local_alias": {"type": "str", "required": True},
    "key_tier": {"type": "str", "default": "rw", "no_log": False},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN, OPENBAO), groups_used_when=OPENBAO_WHEN)

    def body() -> Outcome:
        request = customer_key.request_from_params(module.params)
        return customer_key.run(services_for(module), request, dry_run=module.check_mode)

    module.run(body, what="add the customer key")


if __name__ == "__main__":
    main()
