#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_alias
short_description: Manage global and local (key-scoped) aliases of Garage buckets
version_added: 0.1.0
description:
  - Add or remove one alias of a bucket of a Garage cluster.
  - A B(global) alias is a cluster-wide bucket name. A B(local) alias lives in the namespace of one
    access key (O(access_key_id) or O(access_key_name)) and is only seen by S3 requests signed with
    that key, where it shadows a global alias of the same name.
  - The target bucket is given by one of its global aliases (O(bucket)) or by its id (O(bucket_id)).
  - To manage all global aliases of a bucket at once, use O(cellar.garage.garage_bucket#module:global_aliases).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  alias:
    description:
      - The alias. Garage's bucket naming rules apply (3 to 63 characters of lowercase letters, digits,
        C(.) and C(-), not an IP address).
    type: str
    required: true
  bucket:
    description:
      - An existing global alias of the target bucket.
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  bucket_id:
    description:
      - The id of the target bucket (64 lowercase hexadecimal characters).
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  access_key_id:
    description:
      - Makes O(alias) a local alias in the namespace of this access key (C(GK) followed by 24 hexadecimal
        characters). Without O(access_key_id) and O(access_key_name), O(alias) is a global alias.
      - Mutually exclusive with O(access_key_name).
    type: str
  access_key_name:
    description:
      - Like O(access_key_id), with the key given by its exact name. A name that several keys carry is refused.
      - Mutually exclusive with O(access_key_id).
    type: str
  state:
    description:
      - V(present) adds the alias. It fails when the alias already points to another bucket (in the
        global namespace, or in the key's namespace for a local alias), or when the bucket or key does not exist.
      - V(absent) removes the alias from the target bucket. When the alias does not point to that bucket
        (or the bucket or key does not exist), nothing is changed.
      - Garage refuses to remove the last alias of a bucket (global and local aliases count together);
        the module detects this before calling Garage and fails with a clear message. Delete the bucket instead.
    type: str
    choices: [present, absent]
    default: present
notes:
  - When nothing has to change this costs one Admin API read (GetBucketInfo for a global alias,
    GetKeyInfo for a local alias).
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_bucket_permission
  - module: cellar.garage.garage_key
  - name: Garage aliases
    description: How Garage resolves global and local bucket aliases.
    link: https://garagehq.deuxfleurs.fr/documentation/reference-manual/features/
"""

EXAMPLES = r"""
---
- name: Give the bucket photos a second global name
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: pictures

- name: Let the key of the app see the bucket photos as "media"
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: media
    access_key_name: app

- name: Remove that local alias again
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: media
    access_key_id: GK31c2f218a2e44f485b94239e
    state: absent

- name: Remove a global alias from a bucket addressed by id
  cellar.garage.garage_bucket_alias:
    bucket_id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    alias: pictures
    state: absent
"""

RETURN = r"""
---
alias:
  description:
    - The alias after the run (in check mode, as the run would leave it).
  returned: success
  type: dict
  contains:
    alias:
      description: The alias name.
      type: str
      sample: media
    bucket_id:
      description: The id of the target bucket; V(null) when it does not exist (O(state=absent) only).
      type: str
      sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    access_key_id:
      description: The key whose namespace holds a local alias; V(null) for a global alias.
      type: str
      sample: GK31c2f218a2e44f485b94239e
    state:
      description: V(present) when the alias points to the bucket, else V(absent).
      type: str
      sample: present
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import aliases
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "alias": {"type": "str", "required": True},
    "bucket": {"type": "str"},
    "bucket_id": {"type": "str"},
    "access_key_id": {"type": "str", "no_log": False},
    "access_key_name": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(ADMIN,),
        mutually_exclusive=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
        required_one_of=[["bucket", "bucket_id"]],
    )

    def body() -> Outcome:
        return aliases.ensure(module.admin, aliases.spec_from_params(module.params), dry_run=module.check_mode)

    module.run(body, what=f"manage alias '{module.params['alias']}'")


if __name__ == "__main__":
    main()
