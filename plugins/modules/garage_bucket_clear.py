#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_clear
short_description: Delete every object of a Garage bucket, or of one prefix, fast
version_added: 0.2.0
description:
  - Deletes every object of a bucket (or only those whose key starts with O(prefix)) through Garage's
    S3 API, with the credentials of an access key that has write permission on the bucket.
  - The listing and the deletes overlap; keys are deleted in batches of 1000 (C(DeleteObjects)),
    O(workers) batches at a time. Memory stays bounded whatever the number of objects.
  - Before anything is deleted, a C(HeadBucket) pre-flight checks the credentials and the bucket
    (see RV(failure_reason)).
  - With O(abort_multipart_uploads=true), unfinished multipart uploads under the prefix are aborted too.
  - Use it before deleting a bucket with M(cellar.garage.garage_bucket) (Garage refuses to delete a
    bucket that still holds objects).
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
attributes:
  check_mode:
    details:
      - Lists and counts the objects (and uploads) that would be deleted, and deletes nothing.
  idempotent:
    details:
      - A second run finds nothing to delete and reports C(changed=false), unless objects were added meanwhile.
options:
  bucket:
    description:
      - The bucket to clear, by global alias, local alias of the access key, or bucket id.
    type: str
    required: true
  prefix:
    description:
      - Only delete objects whose key starts with this string (for example V(tmp/)).
      - The default, an empty prefix, clears the whole bucket.
    type: str
    default: ""
  abort_multipart_uploads:
    description:
      - Also abort the unfinished multipart uploads under O(prefix), which hold space too.
    type: bool
    default: false
  workers:
    description:
      - How many C(DeleteObjects) requests of up to 1000 keys run at the same time (1 to 64).
      - Garage deletes the keys of one request one after the other, so parallel requests are what makes a
        large clear fast; beyond the cluster's CPU capacity more workers only wait.
    type: int
    default: 8
notes:
  - Works with Ansible's C(async)/C(poll) for long clears; the module prints nothing until it is done.
  - Deleting is final, Garage has no object versioning.
  - When some keys cannot be deleted, the task fails with RV(failure_reason=partial_failure) after trying
    every key; the result still says how many were deleted. Running the task again deletes what is left.
seealso:
  - module: cellar.garage.garage_bucket_usage
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_bucket_lifecycle
"""

EXAMPLES = r"""
---
- name: Empty the bucket of a customer who leaves
  cellar.garage.garage_bucket_clear:
    bucket: customer-42
    abort_multipart_uploads: true
    s3_url: https://s3.example.net
    access_key_id: "{{ customer_key_id }}"
    secret_access_key: "{{ customer_key_secret }}"

- name: Drop the temporary files only, in the background
  cellar.garage.garage_bucket_clear:
    bucket: builds
    prefix: tmp/
  async: 3600
  poll: 10

- name: How many objects would go (nothing is deleted)
  cellar.garage.garage_bucket_clear:
    bucket: builds
    prefix: tmp/
  check_mode: true
  register: would
"""

RETURN = r"""
---
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: builds
prefix:
  description: The prefix that was cleared (V("") for the whole bucket).
  returned: always
  type: str
  sample: tmp/
deleted_count:
  description:
    - Number of objects deleted (in check mode, the number that would be deleted).
  returned: always, also on failure after the pre-flight
  type: int
  sample: 100000
failed_count:
  description: Number of objects (and uploads) that could not be deleted.
  returned: always, also on failure after the pre-flight
  type: int
  sample: 0
errors:
  description: Up to 10 of the keys that could not be deleted, with the error of each.
  returned: always, also on failure after the pre-flight
  type: list
  elements: dict
  contains:
    key:
      description: The object key (or the key of the upload).
      type: str
    code:
      description: The S3 error code.
      type: str
    message:
      description: The error message.
      type: str
  sample: [{key: tmp/a.bin, code: InternalError, message: "..."}]
aborted_uploads_count:
  description: Number of unfinished multipart uploads aborted (in check mode, that would be aborted).
  returned: when O(abort_multipart_uploads=true)
  type: int
  sample: 2
duration_seconds:
  description: Time the listing and deleting took.
  returned: always, also on failure after the pre-flight
  type: float
  sample: 41.2
failure_reason:
  description:
    - On failure, why, as a stable code to match in playbooks.
    - V(auth_failed) (access key id, secret or region refused; nothing was deleted),
      V(access_denied) (the key has no permission on the bucket; nothing was deleted),
      V(bucket_not_found) (nothing was deleted), V(os_error) (the endpoint could not be reached;
      nothing was deleted), V(partial_failure) (some keys could not be deleted, see RV(errors)),
      V(bucket_clear_failed) (the listing failed part way), V(invalid_input), V(credentials_missing).
  returned: on failure
  type: str
  sample: partial_failure
"""

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import clear

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": ""},
    "abort_multipart_uploads": {"type": "bool", "default": False},
    "workers": {"type": "int", "default": 8},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> Outcome:
        spec = clear.spec_from_params(params)
        return clear.clear(module.s3, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"clear bucket '{params['bucket']}'")


if __name__ == "__main__":
    main()
