#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_key
short_description: Manage Garage S3 access keys
version_added: 0.1.0
description:
  - Create, import, rename, update and delete access keys of a Garage cluster through the Admin API v2.
  - A key is addressed by O(id) or by O(name). Garage does not keep key names unique, so a name
    carried by several keys is refused; address such keys by O(id).
  - Garage generates the ids and secrets of the keys it creates. To bring a key with a known id and
    secret (for example from another cluster), give O(id) and O(secret_access_key) and the key is imported
    when it does not exist.
  - "The secret of a key is returned only when this module creates it (RV(secret_access_key)). Register
    the result with C(no_log: true) and store the secret right away. Later runs of this module do not return
    it; an administrator can read it again with M(cellar.garage.garage_key_info) and
    O(cellar.garage.garage_key_info#module:show_secret=true)."
  - Options that are not set are left untouched on an existing key.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  state:
    description:
      - V(present) makes sure the key exists (creating or importing it if needed) with the given settings.
      - V(absent) deletes the key. Garage also drops the key's permissions and local bucket aliases.
      - Deleting a key that does not exist is not a change.
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - The access key id, C(GK) followed by 24 lowercase hexadecimal characters.
      - When set, the key is addressed by its id and O(name), if also set, is the name it must carry
        (the key is renamed when it differs).
      - A key with this id that does not exist can only be created by importing it, see O(secret_access_key).
    type: str
    aliases: [access_key_id]
  name:
    description:
      - The name of the key.
      - Without O(id), the key is addressed by this exact (case-sensitive) name, and created with it when
        no key carries it. The module fails when several keys carry this name.
      - With O(id), the key is renamed to this name if needed. A rename onto a name that another key
        already carries is refused, so that names stay unique.
    type: str
  secret_access_key:
    description:
      - The secret of a key to import, 64 hexadecimal characters. Requires O(id).
      - When the key O(id) does not exist, it is imported with this secret (Garage's C(ImportKey)).
        Garage refuses to import an id that was ever used, even by a deleted key.
      - When the key exists, its secret must be this one (a key's secret cannot be changed); the module
        fails otherwise.
      - Never logged or returned.
    type: str
  allow_create_bucket:
    description:
      - Whether the key may create buckets through the S3 API (Garage's C(createBucket) key permission).
      - New keys are created without this permission unless V(true) is given.
    type: bool
  expiration:
    description:
      - Date and time at which the key expires, as an RFC 3339 / ISO 8601 datetime with a UTC offset,
        for example V(2030-01-31T00:00:00Z) or V(2030-01-31T01:00:00+01:00).
      - Compared with the key's expiration after normalisation to UTC, at Garage's millisecond precision.
      - An expired key stays listed but S3 refuses it.
      - Mutually exclusive with O(never_expires).
    type: str
  never_expires:
    description:
      - V(true) removes any expiration from the key.
      - V(false) has no effect; use O(expiration) to set one.
      - Mutually exclusive with O(expiration).
    type: bool
notes:
  - With the key addressed by O(id) or by a name that is not ambiguous, a run that changes nothing costs
    one Admin API read.
  - Garage refuses to import an id once used by a key that was deleted, and its API offers no way to
    see such ids beforehand. Check mode therefore predicts such an import as a change, and the real run
    fails with C(KeyAlreadyExists).
  - The key's bucket permissions and local aliases are managed by M(cellar.garage.garage_bucket_permission)
    and M(cellar.garage.garage_bucket_alias).
seealso:
  - module: cellar.garage.garage_key_info
  - module: cellar.garage.garage_bucket_permission
  - module: cellar.garage.garage_admin_token
  - name: Garage Admin API v2
    description: Reference of the CreateKey, ImportKey, UpdateKey and DeleteKey endpoints.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: Create a key for the backup job and keep its secret
  cellar.garage.garage_key:
    name: backup-job
  register: backup_key
  no_log: true

- name: Store the new secret (only returned when the key was just created)
  ansible.builtin.copy:
    content: "{{ backup_key.secret_access_key }}"
    dest: /etc/backup/s3-secret
    mode: "0600"
  when: backup_key.secret_access_key is defined
  no_log: true

- name: Let a key create buckets and expire at the end of the year
  cellar.garage.garage_key:
    name: ci-runner
    allow_create_bucket: true
    expiration: "2030-12-31T23:59:59Z"

- name: Rename a key addressed by its id and make it never expire
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    name: photos-uploader
    never_expires: true

- name: Import a key with a known id and secret (e.g. migrated from another cluster)
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    secret_access_key: "{{ vault_photos_secret }}"
    name: photos-uploader

- name: Delete a key
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    state: absent
"""

RETURN = r"""
---
key:
  description:
    - The key after the run (in check mode, as it would be). Never contains the secret.
    - V(null) when O(state=absent).
    - When a key would be created in check mode, RV(key.id) is V(null) (Garage chooses it).
  returned: always
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
      description: Key-level permissions.
      type: dict
      contains:
        create_bucket:
          description: Whether the key may create buckets through S3.
          type: bool
          sample: false
    buckets:
      description: Buckets this key has an entry on, sorted by bucket id.
      type: list
      elements: dict
      sample:
        - id: 9f0e1a44b8c6d2c1f0a9b6e3d5c7a1e2f4b6d8c0a2e4f6b8d0c2e4a6b8d0f2a4
          global_aliases: [photos]
          local_aliases: []
          permissions: {read: true, write: true, owner: false}
secret_access_key:
  description:
    - The secret of the key, 64 hexadecimal characters.
    - "Returned only when the module creates the key (not in check mode, not for an imported key whose
      secret you supplied, never on later runs). Register the result with C(no_log: true)."
  returned: when the key is created
  type: str
  sample: 7c2b5d1e0a9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766554433221100f
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import keys
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "id": {"type": "str", "aliases": ["access_key_id"], "no_log": False},
    "name": {"type": "str"},
    "secret_access_key": {"type": "str", "no_log": True},
    "allow_create_bucket": {"type": "bool"},
    "expiration": {"type": "str"},
    "never_expires": {"type": "bool"},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(ADMIN,),
        mutually_exclusive=[["expiration", "never_expires"]],
        required_one_of=[["id", "name"]],
        required_by={"secret_access_key": ["id"]},
    )

    def body() -> Outcome:
        return keys.ensure(module.admin, keys.spec_from_params(module.params), dry_run=module.check_mode)

    module.run(body, what=f"manage key '{module.params.get('id') or module.params.get('name')}'")


if __name__ == "__main__":
    main()
