#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_info
short_description: Read Garage buckets
version_added: 0.1.0
description:
  - Read one bucket of a Garage cluster, addressed by a global alias (O(name)), its id (O(id)) or a
    Garage search string (O(search)), or read all buckets.
  - Returns the bucket's counters (objects, bytes, unfinished uploads), global aliases, local aliases
    with the key that holds each, the keys with their permissions, website access and quotas, in the
    same shape as RV(cellar.garage.garage_bucket#module:bucket).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage
options:
  name:
    description:
      - A global alias of the bucket to read.
      - Mutually exclusive with O(id) and O(search). Without O(name), O(id) and O(search), every bucket is read.
    type: str
  id:
    description:
      - The id of the bucket to read (64 lowercase hexadecimal characters).
      - Mutually exclusive with O(name) and O(search).
    type: str
    aliases: [bucket_id]
  search:
    description:
      - "What Garage's C(garage bucket info) accepts: a global alias, a full id, or a prefix of at least two
        hexadecimal characters of an id."
      - The module fails when a prefix matches several buckets.
      - Local aliases are never found by a search.
      - Mutually exclusive with O(name) and O(id).
    type: str
notes:
  - Reading one bucket costs one Admin API read; reading all buckets costs one ListBuckets plus one read
    per bucket.
  - Garage's counters (RV(bucket.objects), RV(bucket.bytes), ...) are eventually consistent.
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_manifest
  - module: cellar.garage.garage_key_info
"""

EXAMPLES = r"""
---
- name: Read the bucket photos
  cellar.garage.garage_bucket_info:
    name: photos
  register: photos

- name: Fail unless it exists and is within 90 % of its size quota
  ansible.builtin.assert:
    that:
      - photos.exists
      - photos.bucket.quotas.max_size is none or photos.bucket.bytes < 0.9 * photos.bucket.quotas.max_size

- name: Find a bucket by an id prefix, as garage bucket info does
  cellar.garage.garage_bucket_info:
    search: 8a1c3f
  register: found

- name: Read every bucket
  cellar.garage.garage_bucket_info:
  register: all_buckets

- name: Buckets served as websites
  ansible.builtin.debug:
    msg: "{{ all_buckets.buckets | selectattr('website.enabled') | map(attribute='global_aliases') | list }}"
"""

RETURN = r"""
---
exists:
  description: Whether the bucket addressed by O(name), O(id) or O(search) exists.
  returned: when O(name), O(id) or O(search) is set
  type: bool
  sample: true
bucket:
  description:
    - The bucket, or V(null) when it does not exist.
  returned: when O(name), O(id) or O(search) is set
  type: dict
  contains: &bucket
    id:
      description: The bucket id (64 hex characters).
      type: str
      sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    created:
      description: Creation time (RFC 3339), when Garage reports it.
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    global_aliases:
      description: Global aliases, sorted.
      type: list
      elements: str
      sample: [photos]
    local_aliases:
      description: Local aliases, each with the access key whose namespace holds it.
      type: list
      elements: dict
      sample: [{access_key_id: GK31c2f218a2e44f485b94239e, alias: my-photos}]
    website:
      description: Website access and documents.
      type: dict
      sample: {enabled: false, index_document: null, error_document: null}
    quotas:
      description: Quotas in bytes and objects; V(null) means unlimited.
      type: dict
      sample: {max_size: 10000000000, max_objects: null}
    objects:
      description: Number of objects.
      type: int
      sample: 1250
    bytes:
      description: Total size of the objects in bytes.
      type: int
      sample: 73400320
    unfinished_uploads:
      description: Number of unfinished uploads.
      type: int
      sample: 0
    unfinished_multipart_uploads:
      description: Number of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_parts:
      description: Number of parts of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_bytes:
      description: Bytes in unfinished multipart uploads.
      type: int
      sample: 0
    keys:
      description:
        - Access keys that appear on the bucket, with their permissions and local aliases, sorted by id.
        - A key may be listed with all permissions false (for example after they were all denied).
      type: list
      elements: dict
      sample:
        - access_key_id: GK31c2f218a2e44f485b94239e
          name: app
          permissions: {read: true, write: true, owner: false}
          local_aliases: [my-photos]
buckets:
  description:
    - Every bucket, sorted by id; V([]) when there is none.
  returned: when none of O(name), O(id) and O(search) is set
  type: list
  elements: dict
  contains: *bucket
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import buckets
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import reference_problem
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN

ARGUMENT_SPEC: dict[str, t.Any] = {
    "name": {"type": "str"},
    "id": {"type": "str", "aliases": ["bucket_id"]},
    "search": {"type": "str"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,), mutually_exclusive=[["name", "id", "search"]])
    name, bucket_id, search = (module.params.get(k) for k in ("name", "id", "search"))

    def body() -> dict[str, t.Any]:
        problem = reference_problem(bucket=name, bucket_id=bucket_id)
        if problem:
            raise InputError(problem)
        if search is not None and len(search.strip()) < 2:
            raise InputError(
                f"Invalid search '{search}': give a global alias, a full id or an id prefix of at least 2 characters"
            )
        if name is None and bucket_id is None and search is None:
            return buckets.info_all(module.admin)
        return buckets.info(module.admin, name=name, bucket_id=bucket_id, search=search)

    module.run(body)


if __name__ == "__main__":
    main()
