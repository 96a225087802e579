#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: openbao_kv_check
short_description: Check that required secrets and fields exist in OpenBao (or Vault) KV version 2
version_added: 0.2.0
description:
  - Read every secret in O(secrets) and fail once, listing every secret that is absent, not readable with the
    token, or missing one of its required fields; or succeed with the version of each secret.
  - Meant for the start of a play, so that every missing secret is known before anything changes, rather than
    one at a time as tasks fail.
  - Values are never returned.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._openbao
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_openbao
options:
  secrets:
    description:
      - The secrets that must exist.
    type: list
    elements: dict
    required: true
    suboptions:
      mount:
        description: Path of the KV version 2 secrets engine.
        type: str
        default: secret
      path:
        description: Path of the secret inside O(secrets[].mount).
        type: str
        required: true
      fields:
        description:
          - Fields the secret must hold with a non-empty value. Without it, the secret only has to exist.
        type: list
        elements: str
        default: []
notes:
  - A secret whose latest version is deleted counts as absent.
  - Connection failures and server errors fail the task at once; only absent, unreadable and incomplete
    secrets are collected.
seealso:
  - module: cellar.garage.openbao_kv
  - plugin: cellar.garage.openbao_kv
    plugin_type: lookup
"""

EXAMPLES = r"""
---
- name: Make sure the cluster and tenant secrets exist before deploying
  cellar.garage.openbao_kv_check:
    secrets:
      - path: garage/prod/cluster
        fields: [rpc_secret, admin_token]
      - mount: kv
        path: tenants/acme/admin-key
        fields: [access_key_id, secret_access_key]
  register: bao_check

- name: Report what is missing, and go on
  cellar.garage.openbao_kv_check:
    secrets:
      - path: garage/prod/cluster
        fields: [rpc_secret]
  register: bao_check
  failed_when: false

- name: Show the missing ones
  ansible.builtin.debug:
    msg: "{{ bao_check.missing | default([]) }}"
"""

RETURN = r"""
---
secrets:
  description:
    - Every secret that exists, with its version and field names, in the order given.
    - On failure, the secrets that were found.
  returned: always
  type: list
  elements: dict
  contains:
    mount:
      description: The KV mount.
      type: str
      sample: secret
    path:
      description: The secret's path.
      type: str
      sample: garage/prod/cluster
    version:
      description: The secret's current version.
      type: int
      sample: 2
    fields:
      description: Names of the fields the secret holds.
      type: list
      elements: str
      sample: [admin_token, rpc_secret]
missing:
  description:
    - Every secret that is not complete (on failure only, with RV(ignore:failure_reason) C(secrets_missing), or
      C(secrets_unreadable) when every problem is a refused read).
  returned: on failure
  type: list
  elements: dict
  contains:
    mount:
      description: The KV mount.
      type: str
    path:
      description: The secret's path.
      type: str
    problem:
      description: V(absent), V(unreadable) (the token may not read it) or V(fields_missing).
      type: str
    missing_fields:
      description: The required fields it lacks (all of them when the secret is absent or unreadable).
      type: list
      elements: str
  sample:
    - {mount: secret, path: garage/prod/cluster, problem: fields_missing, missing_fields: [admin_token]}
    - {mount: kv, path: tenants/acme/admin-key, problem: absent, missing_fields: [access_key_id]}
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.module_utils._options import OPENBAO

ARGUMENT_SPEC: dict[str, t.Any] = {
    "secrets": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "no_log": False,
        "options": {
            "mount": {"type": "str", "default": "secret"},
            "path": {"type": "str", "required": True},
            "fields": {"type": "list", "elements": "str", "default": []},
        },
    },
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(OPENBAO,))

    def body() -> dict[str, t.Any]:
        required = kv.required_from_params(module.params["secrets"])
        return kv.check(module.openbao, required, on_secret=module.no_log_values.add)

    module.run(body, what="check the required secrets")


if __name__ == "__main__":
    main()
