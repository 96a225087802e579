#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_permission
short_description: Manage the read, write and owner permissions of one access key on one Garage bucket
version_added: 0.1.0
description:
  - Allow or deny the C(read), C(write) and C(owner) permissions of one access key on one bucket of a
    Garage cluster.
  - Each of O(read), O(write) and O(owner) that is set decides its permission (V(true) allows,
    V(false) denies); one that is not set is left as it is.
  - The key is given by its id (O(access_key_id)) or its exact name (O(access_key_name)); the bucket by
    one of its global aliases (O(bucket)) or its id (O(bucket_id)).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  bucket:
    description:
      - A global alias of the bucket.
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  bucket_id:
    description:
      - The id of the bucket (64 lowercase hexadecimal characters).
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  access_key_id:
    description:
      - The id of the access key (C(GK) followed by 24 lowercase hexadecimal characters).
      - Exactly one of O(access_key_id) and O(access_key_name) is required.
    type: str
  access_key_name:
    description:
      - The exact name of the access key. A name that several keys carry is refused; use O(access_key_id).
      - Exactly one of O(access_key_id) and O(access_key_name) is required.
    type: str
  read:
    description:
      - Read permission (GET, HEAD and listing of objects). Not set leaves it as it is.
    type: bool
  write:
    description:
      - Write permission (PUT, DELETE and multipart uploads of objects, lifecycle). Not set leaves it as it is.
    type: bool
  owner:
    description:
      - Owner permission (deleting the bucket through S3, website and CORS configuration). Not set leaves
        it as it is.
    type: bool
  state:
    description:
      - V(present) applies O(read), O(write) and O(owner); at least one of them must be set.
      - V(absent) denies all three permissions. Garage keeps listing the key on the bucket with all
        permissions false; that counts as absent. O(read), O(write) and O(owner) must not be V(true) then.
      - With V(absent), a key or bucket that does not exist means there is nothing to deny (not changed).
    type: str
    choices: [present, absent]
    default: present
notes:
  - The module sends at most one AllowBucketKey and one DenyBucketKey request, with only the permissions
    that must change (Garage only touches the permissions that are true in such a request).
  - When nothing has to change this costs one Admin API read (GetKeyInfo) in the common case, two when
    the key has never been related to the bucket.
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_key
  - module: cellar.garage.garage_bucket_alias
  - name: Garage permissions
    description: Which S3 operations need read, write or owner.
    link: https://garagehq.deuxfleurs.fr/documentation/reference-manual/s3-compatibility/
"""

EXAMPLES = r"""
---
- name: Let the app read and write the bucket photos, but not own it
  cellar.garage.garage_bucket_permission:
    bucket: photos
    access_key_name: app
    read: true
    write: true
    owner: false

- name: Add read access for the backup key, leaving its other permissions as they are
  cellar.garage.garage_bucket_permission:
    bucket_id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    access_key_id: GK31c2f218a2e44f485b94239e
    read: true

- name: Revoke every permission of a key on a bucket
  cellar.garage.garage_bucket_permission:
    bucket: photos
    access_key_name: old-app
    state: absent
"""

RETURN = r"""
---
permissions:
  description: The key's permissions on the bucket after the run (in check mode, as the run would leave them).
  returned: success
  type: dict
  contains:
    read:
      description: Read permission.
      type: bool
      sample: true
    write:
      description: Write permission.
      type: bool
      sample: true
    owner:
      description: Owner permission.
      type: bool
      sample: false
  sample: {read: true, write: true, owner: false}
bucket_id:
  description: The id of the bucket; V(null) when it does not exist (O(state=absent) only).
  returned: success
  type: str
  sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
access_key_id:
  description: The id of the access key; V(null) when it does not exist (O(state=absent) only).
  returned: success
  type: str
  sample: GK31c2f218a2e44f485b94239e
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import permissions
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "bucket": {"type": "str"},
    "bucket_id": {"type": "str"},
    "access_key_id": {"type": "str", "no_log": False},
    "access_key_name": {"type": "str"},
    "read": {"type": "bool"},
    "write": {"type": "bool"},
    "owner": {"type": "bool"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(ADMIN,),
        mutually_exclusive=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
        required_one_of=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
    )

    def body() -> Outcome:
        spec = permissions.spec_from_params(module.params)
        return permissions.ensure(module.admin, spec, dry_run=module.check_mode)

    module.run(body, what="manage bucket permissions")


if __name__ == "__main__":
    main()
