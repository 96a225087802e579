#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_lifecycle
short_description: Manage the lifecycle rules of a Garage bucket (expiration, abandoned uploads)
version_added: 0.2.0
description:
  - Sets the lifecycle rules of a bucket through Garage's S3 API, or removes them. Garage then deletes
    expired objects and aborts old unfinished multipart uploads by itself, once a day.
  - The rules given replace the bucket's rules as a whole; they are written only when they differ from
    what is set.
  - Garage supports two actions, expiration (O(rules[].expiration_days) or O(rules[].expiration_date)) and
    aborting incomplete multipart uploads (O(rules[].abort_incomplete_multipart_upload_days)), filtered by
    key prefix and object size.
  - Rules that ask for anything else (transitions, noncurrent versions, delete markers, tag filters) are
    refused before anything is sent, with RV(failure_reason=lifecycle_rule_unsupported) and the reason.
    Garage would otherwise drop those parts silently.
  - Needs an access key with the B(write) permission on the bucket.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
options:
  bucket:
    description:
      - The bucket, by global alias, local alias of the access key, or bucket id.
    type: str
    required: true
  state:
    description:
      - V(present) sets O(rules); V(absent) removes the lifecycle configuration.
    type: str
    choices: [present, absent]
    default: present
  rules:
    description:
      - The lifecycle rules. Required with O(state=present).
      - Each rule needs at least one action.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - A name for the rule (at most 255 characters, unique among the rules).
        type: str
      status:
        description:
          - A disabled rule is kept but not applied.
        type: str
        choices: [enabled, disabled]
        default: enabled
      prefix:
        description:
          - Apply the rule only to objects whose key starts with this string.
        type: str
      object_size_greater_than:
        description:
          - Apply the rule only to objects larger than this many bytes.
        type: int
      object_size_less_than:
        description:
          - Apply the rule only to objects smaller than this many bytes.
        type: int
      expiration_days:
        description:
          - Delete objects this many days after they were written (at least 1).
          - Mutually exclusive with O(rules[].expiration_date).
        type: int
      expiration_date:
        description:
          - Delete objects from this date on (V(YYYY-MM-DD), midnight UTC).
        type: str
      abort_incomplete_multipart_upload_days:
        description:
          - Abort multipart uploads still unfinished this many days after they started (at least 1).
        type: int
      transitions:
        description:
          - Not supported by Garage (a single storage class). Setting it fails with
            RV(failure_reason=lifecycle_rule_unsupported); it exists so that rules written for other S3
            services are refused with a reason instead of an unknown option.
        type: list
        elements: dict
      noncurrent_version_expiration_days:
        description:
          - Not supported by Garage (no versioning); refused like O(rules[].transitions).
        type: int
      noncurrent_version_transitions:
        description:
          - Not supported by Garage (no versioning); refused like O(rules[].transitions).
        type: list
        elements: dict
      expired_object_delete_marker:
        description:
          - Not supported by Garage (no versioning); refused like O(rules[].transitions).
        type: bool
      tags:
        description:
          - Not supported by Garage (no object tagging); refused like O(rules[].transitions).
        type: dict
notes:
  - Garage's lifecycle worker runs once a day, at midnight UTC (or local time with C(use_local_tz)); changes
    take effect at its next run.
seealso:
  - module: cellar.garage.garage_bucket_clear
  - module: cellar.garage.garage_bucket_cors
"""

EXAMPLES = r"""
---
- name: Expire temporary files after a week, and abandoned uploads after 3 days
  cellar.garage.garage_bucket_lifecycle:
    bucket: builds
    rules:
      - id: tmp-files
        prefix: tmp/
        expiration_days: 7
      - id: abandoned-uploads
        abort_incomplete_multipart_upload_days: 3

- name: Big logs of the old system go at the end of the year
  cellar.garage.garage_bucket_lifecycle:
    bucket: logs
    rules:
      - prefix: legacy/
        object_size_greater_than: 104857600
        expiration_date: "2026-01-01"

- name: No lifecycle rules
  cellar.garage.garage_bucket_lifecycle:
    bucket: builds
    state: absent
"""

RETURN = r"""
---
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: builds
rules:
  description:
    - The rules now set (V([]) when there are none), every key present (V(null) when unset).
  returned: always
  type: list
  elements: dict
  sample:
    - id: tmp-files
      status: enabled
      prefix: tmp/
      object_size_greater_than: null
      object_size_less_than: null
      expiration_days: 7
      expiration_date: null
      abort_incomplete_multipart_upload_days: null
unsupported:
  description: What Garage cannot do, one sentence per option, when RV(failure_reason=lifecycle_rule_unsupported).
  returned: on failure with RV(failure_reason=lifecycle_rule_unsupported)
  type: list
  elements: str
  sample: ["rules[0].transitions: Garage has a single storage class: objects cannot transition to another one"]
failure_reason:
  description:
    - On failure, why, as a stable code to match in playbooks.
    - V(lifecycle_rule_unsupported) and V(invalid_input) (nothing was sent), V(auth_failed), V(access_denied),
      V(bucket_not_found), V(os_error), V(bucket_lifecycle_read_failed), V(bucket_lifecycle_update_failed),
      V(credentials_missing).
  returned: on failure
  type: str
  sample: lifecycle_rule_unsupported
"""

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import lifecycle

RULE_SPEC = {
    "id": {"type": "str"},
    "status": {"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
    "prefix": {"type": "str"},
    "object_size_greater_than": {"type": "int"},
    "object_size_less_than": {"type": "int"},
    "expiration_days": {"type": "int"},
    "expiration_date": {"type": "str"},
    "abort_incomplete_multipart_upload_days": {"type": "int"},
    # Refused with a reason (lifecycle.UNSUPPORTED): declared so that they are not "unknown options".
    "transitions": {"type": "list", "elements": "dict"},
    "noncurrent_version_expiration_days": {"type": "int"},
    "noncurrent_version_transitions": {"type": "list", "elements": "dict"},
    "expired_object_delete_marker": {"type": "bool"},
    "tags": {"type": "dict"},
}
ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "rules": {"type": "list", "elements": "dict", "options": RULE_SPEC},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,), required_if=[["state", "present", ["rules"]]])
    params = module.params

    def body() -> Outcome:
        spec = lifecycle.spec_from_params(params)
        return lifecycle.ensure(module.s3, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"manage the lifecycle rules of bucket '{params['bucket']}'")


if __name__ == "__main__":
    main()
