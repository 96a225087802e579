# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: openbao_kv
short_description: Read a secret (or one of its fields) from OpenBao (or Vault) KV version 2
version_added: 0.2.0
description:
  - Returns, for each path in the terms, the latest version of the secret as a dictionary, or the value of O(field).
  - Uses the same connection options and client as the C(openbao) modules of the collection, read on the controller.
  - Fails when a secret is absent (or its latest version deleted) or lacks O(field).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._openbao.plugins
options:
  _terms:
    description: Paths of the secrets inside O(mount).
    type: list
    elements: str
    required: true
  mount:
    description: Path of the KV version 2 secrets engine.
    type: str
    default: secret
  field:
    description:
      - Return only this field's value (it must be present and not empty).
      - Without it, the whole secret is returned as a dictionary.
    type: str
notes:
  - Lookups run on the controller whenever the value is templated. Put the result in C(module_defaults) or a task
    argument marked C(no_log) (connection secrets of this collection's modules are), never in a plain variable that
    is printed.
seealso:
  - module: cellar.garage.openbao_kv
  - module: cellar.garage.openbao_kv_check
"""

EXAMPLES = r"""
---
- name: Use the Garage admin token kept in OpenBao for every Garage task of the play
  hosts: localhost
  vars:
    cellar_garage_openbao_url: https://bao.example.com:8200
  module_defaults:
    group/cellar.garage.garage:
      admin_url: https://garage.example.com:3903
      admin_token: "{{ lookup('cellar.garage.openbao_kv', 'garage/prod/cluster', field='admin_token') }}"
  tasks:
    - name: Create a bucket
      cellar.garage.garage_bucket:
        name: photos

- name: Read a whole secret
  ansible.builtin.set_fact:
    db: "{{ lookup('cellar.garage.openbao_kv', 'apps/backup/db', mount='kv') }}"
  no_log: true
"""

RETURN = r"""
---
_raw:
  description: One item per term, the secret's data (a dictionary) or the value of O(field).
  type: list
  elements: raw
"""

import typing as t

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.plugin_utils._openbao import openbao_client

display = Display()


class LookupModule(LookupBase):
    def run(self, terms: list[t.Any], variables: dict[str, t.Any] | None = None, **kwargs: t.Any) -> list[t.Any]:
        self.set_options(var_options=variables, direct=kwargs)
        mount = self.get_option("mount")
        field = self.get_option("field")
        values: list[t.Any] = []
        try:
            client = openbao_client(self.get_option, warn=display.warning)
            for term in terms:
                path = str(term).strip().strip("/")
                stored = kv.read_values(client, mount, path, [field] if field else [])
                data = t.cast("dict[str, t.Any]", stored.data)
                values.append(data[field] if field else data)
        except OperationError as exc:
            message = f"cellar.garage.openbao_kv: {exc.message} (failure_reason: {exc.failure_reason})"
            raise AnsibleLookupError(message) from None
        return values
