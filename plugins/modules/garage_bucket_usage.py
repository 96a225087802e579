#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_usage
short_description: Count the objects and bytes of a Garage bucket, per prefix
version_added: 0.2.0
description:
  - Counts the objects under a prefix of a bucket and adds up their sizes, through Garage's S3 API, with
    the credentials of an access key that can read the bucket. Use it for billing and dashboards.
  - Optionally splits the totals per "folder" (O(group_by_prefix)), and counts unfinished multipart
    uploads apart.
  - One streaming listing; memory stays bounded whatever the number of objects. Counting stops at
    O(max_objects) (RV(truncated) is then V(true)).
  - A C(HeadBucket) pre-flight checks the credentials and the bucket first (see RV(failure_reason)).
  - For the whole bucket, M(cellar.garage.garage_bucket_info) reads Garage's own counters through the Admin
    API without listing; this module counts what the S3 listing shows, under any prefix.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage_s3
options:
  bucket:
    description:
      - The bucket, by global alias, local alias of the access key, or bucket id.
    type: str
    required: true
  prefix:
    description:
      - Count only objects whose key starts with this string. The default counts the whole bucket.
    type: str
    default: ""
  max_objects:
    description:
      - Stop counting after this many objects; RV(truncated) is then V(true) and the totals are lower bounds.
    type: int
    default: 100000
  group_by_prefix:
    description:
      - Also return totals per prefix of this many path segments after O(prefix) (RV(prefixes)).
      - With V(1), every top-level "folder" gets its totals; with V(2), every folder of the second level.
      - Objects in shallower folders are counted in the folder they are in, like C(du --max-depth).
      - V(0) returns no groups.
    type: int
    default: 0
  delimiter:
    description:
      - The character that separates path segments, for O(group_by_prefix).
    type: str
    default: /
  multipart_uploads:
    description:
      - Count the unfinished multipart uploads under O(prefix) (RV(multipart_uploads)); one more listing.
    type: bool
    default: true
notes:
  - The counts are a listing at one moment; objects written during the listing may or may not be counted.
seealso:
  - module: cellar.garage.garage_bucket_info
  - module: cellar.garage.garage_bucket_clear
"""

EXAMPLES = r"""
---
- name: Usage of a customer's bucket, per top-level folder
  cellar.garage.garage_bucket_usage:
    bucket: customer-42
    group_by_prefix: 1
    s3_url: https://s3.example.net
    access_key_id: "{{ customer_key_id }}"
    secret_access_key: "{{ customer_key_secret }}"
  register: usage

- name: Report it
  ansible.builtin.debug:
    msg: "{{ usage.count }} objects, {{ usage.bytes | human_readable }}"

- name: Size of the logs of 2024, at most one million objects
  cellar.garage.garage_bucket_usage:
    bucket: logs
    prefix: 2024/
    max_objects: 1000000
"""

RETURN = r"""
---
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: customer-42
prefix:
  description: The prefix counted.
  returned: always
  type: str
  sample: ""
count:
  description: Number of objects under O(prefix) (at most O(max_objects)).
  returned: always
  type: int
  sample: 1250
bytes:
  description: Total size of those objects, in bytes.
  returned: always
  type: int
  sample: 73400320
truncated:
  description: Whether counting stopped at O(max_objects) with more objects left.
  returned: always
  type: bool
  sample: false
max_objects:
  description: The O(max_objects) used.
  returned: always
  type: int
  sample: 100000
prefixes:
  description: Totals per prefix (see O(group_by_prefix)), sorted by prefix.
  returned: when O(group_by_prefix) is above 0
  type: list
  elements: dict
  contains:
    prefix:
      description: The prefix (V("") for objects directly under O(prefix)).
      type: str
    count:
      description: Number of objects.
      type: int
    bytes:
      description: Total size in bytes.
      type: int
  sample: [{prefix: "photos/", count: 1200, bytes: 73000000}, {prefix: "docs/", count: 50, bytes: 400320}]
multipart_uploads:
  description: Number of unfinished multipart uploads under O(prefix) (not counted in RV(count)).
  returned: when O(multipart_uploads=true)
  type: int
  sample: 0
failure_reason:
  description:
    - On failure, why, as a stable code to match in playbooks.
    - V(auth_failed), V(access_denied), V(bucket_not_found), V(os_error) (see
      M(cellar.garage.garage_bucket_clear)), V(bucket_usage_failed), V(invalid_input), V(credentials_missing).
  returned: on failure
  type: str
  sample: bucket_not_found
"""

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._s3 import usage

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": ""},
    "max_objects": {"type": "int", "default": usage.DEFAULT_MAX_OBJECTS},
    "group_by_prefix": {"type": "int", "default": 0},
    "delimiter": {"type": "str", "default": "/"},
    "multipart_uploads": {"type": "bool", "default": True},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params
    module.run(
        lambda: usage.usage(module.s3, usage.spec_from_params(params), access_key_id=params.get("access_key_id")),
        what=f"count the usage of bucket '{params['bucket']}'",
    )


if __name__ == "__main__":
    main()
