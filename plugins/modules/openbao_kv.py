#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: openbao_kv
short_description: Converge a secret in OpenBao (or Vault) KV version 2, writing only on difference
version_added: 0.2.0
description:
  - Make sure a secret of a KV version 2 secrets engine holds the given fields (O(state=present)), or that
    its latest version is deleted (O(state=absent)).
  - The secret is read first and written only when what it holds differs from what is asked, so a run that
    changes nothing does not create a new version.
  - Every write uses check-and-set on the version that was read. A secret written by someone else between
    the read and the write is not overwritten; the module fails with RV(ignore:failure_reason=cas_mismatch)
    and a later run converges on the new version.
  - Fields in O(generate) get a random value when the secret does not hold them yet and are never
    regenerated afterwards. This is how cluster secrets (an RPC secret, an admin token) are created once and
    shared by every later run.
  - Values are never returned or shown unless O(return_values=true). The diff shows the field names with masked
    values and marks the fields a run writes.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._openbao
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_openbao
options:
  mount:
    description:
      - Path of the KV version 2 secrets engine.
    type: str
    default: secret
  path:
    description:
      - Path of the secret inside O(mount), for example V(garage/prod/cluster).
    type: str
    required: true
  state:
    description:
      - V(present) makes the secret hold O(data) and the O(generate) fields.
      - V(absent) soft-deletes the latest version (C(bao kv delete)), so the secret reads as absent; older
        versions and the metadata are kept and C(bao kv undelete) can bring it back. Nothing is written when
        the secret is absent already.
    type: str
    choices: [present, absent]
    default: present
  data:
    description:
      - Fields and values the secret must hold. Values may be any JSON value.
      - Compared with the latest version; the secret is written only when a value differs, a field is missing
        or (with O(purge=true)) the secret holds other fields.
      - Never logged or returned (unless O(return_values=true)).
    type: dict
  generate:
    description:
      - Fields to fill with a random value once, as a mapping of field name to value format.
      - "Formats: V(hex<N>) (N random bytes as 2N hexadecimal digits, e.g. V(hex32) like C(openssl rand -hex 32)),
        V(base64<N>) and V(base64url<N>) (N random bytes, base64url without padding), V(alnum<N>) (N letters and
        digits). N is from 8 to 512."
      - A field the secret holds with a non-empty value is kept as it is, whatever its format.
      - A field must not be in both O(data) and O(generate).
    type: dict
  purge:
    description:
      - Whether to remove fields the secret holds that are in neither O(data) nor O(generate).
      - With V(false), such fields are kept (and written again unchanged when the secret is written).
    type: bool
    default: true
  return_values:
    description:
      - Return the secret's values in RV(data). Register the result with C(no_log) when you use this.
      - Values the module reads or generates are otherwise masked in all output.
    type: bool
    default: false
notes:
  - A run that changes nothing costs one read (two for a secret whose latest version is deleted). A write costs
    one more call.
  - The token needs the C(read) capability on C(<mount>/data/<path>) (and on C(<mount>/metadata/<path>) for secrets
    that do not exist yet), C(create) and C(update) to write, C(delete) for O(state=absent).
  - Values given in O(data) are masked by Ansible wherever they appear in the output, as for every C(no_log) option.
seealso:
  - module: cellar.garage.openbao_kv_check
  - plugin: cellar.garage.openbao_kv
    plugin_type: lookup
  - name: OpenBao KV version 2 secrets engine
    description: The API this module uses (read, write with check-and-set, metadata, delete).
    link: https://openbao.org/api-docs/secret/kv/kv-v2/
"""

EXAMPLES = r"""
---
- name: Create the Garage cluster secrets once (never regenerated)
  cellar.garage.openbao_kv:
    url: https://bao.example.com:8200
    token_file: /etc/ansible/bao-token
    path: garage/prod/cluster
    generate:
      rpc_secret: hex32
      admin_token: base64url32
      metrics_token: base64url32

- name: Store a value and keep what else the secret holds
  cellar.garage.openbao_kv:
    mount: kv
    path: apps/photos/s3
    data:
      endpoint: https://s3.example.com
    purge: false

- name: Write a secret from variables, logging in with AppRole
  cellar.garage.openbao_kv:
    auth_method: approle
    role_id: "{{ bao_role_id }}"
    secret_id: "{{ bao_secret_id }}"
    path: apps/backup/db
    data:
      username: backup
      password: "{{ backup_db_password }}"

- name: Delete the latest version of a secret
  cellar.garage.openbao_kv:
    path: apps/old
    state: absent
"""

RETURN = r"""
---
mount:
  description: The KV mount.
  returned: always
  type: str
  sample: secret
path:
  description: The secret's path in the mount.
  returned: always
  type: str
  sample: garage/prod/cluster
version:
  description:
    - The secret's current version after the run (the version written, or the one found unchanged).
    - In check mode, the version a write would create.
    - With O(state=absent), the version that was deleted or found deleted (V(0) when the secret never existed).
  returned: always
  type: int
  sample: 3
created:
  description: Whether the secret did not exist (or its latest version was deleted) and was written.
  returned: when O(state=present)
  type: bool
  sample: false
fields:
  description: Names of the fields the secret holds after the run.
  returned: when O(state=present)
  type: list
  elements: str
  sample: [admin_token, metrics_token, rpc_secret]
generated:
  description: Names of the fields this run generated (empty when they were all there already).
  returned: when O(state=present)
  type: list
  elements: str
  sample: [rpc_secret]
data:
  description:
    - The secret's fields and values after the run.
    - In check mode, fields that would be generated are left out.
  returned: when O(return_values=true) and O(state=present)
  type: dict
  sample: {endpoint: "https://s3.example.com"}
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.module_utils._options import OPENBAO
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "mount": {"type": "str", "default": "secret"},
    "path": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "data": {"type": "dict", "no_log": True},
    "generate": {"type": "dict"},
    "purge": {"type": "bool", "default": True},
    "return_values": {"type": "bool", "default": False},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(OPENBAO,))

    def body() -> Outcome:
        spec = kv.spec_from_params(module.params)
        on_secret = (lambda value: None) if spec.return_values else module.no_log_values.add
        return kv.ensure(module.openbao, spec, dry_run=module.check_mode, on_secret=on_secret)

    module.run(body, what=f"manage secret '{module.params['mount']}/{module.params['path']}'")


if __name__ == "__main__":
    main()
