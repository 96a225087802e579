#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_cors
short_description: Manage the CORS rules of a Garage bucket
version_added: 0.2.0
description:
  - Sets the CORS (cross-origin resource sharing) rules of a bucket through Garage's S3 API, so that
    browsers may upload to or read from it directly, or removes them.
  - The rules given replace the bucket's rules as a whole; they are written only when they differ from
    what is set. Rules keep their order (a browser request gets the first rule that matches); the lists
    inside a rule are compared as sets.
  - Origins and methods are validated before anything is sent.
  - Needs an access key with the B(owner) permission on the bucket.
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
      - V(present) sets O(rules); V(absent) removes the CORS configuration.
    type: str
    choices: [present, absent]
    default: present
  rules:
    description:
      - The CORS rules, in order. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      allowed_origins:
        description:
          - Origins allowed to make cross-origin requests, V(*) or C(scheme://host[:port]) with at most one
            V(*) (for example V(https://*.example.com)).
        type: list
        elements: str
        required: true
      allowed_methods:
        description:
          - HTTP methods allowed, among V(GET), V(PUT), V(POST), V(DELETE) and V(HEAD) (any case).
        type: list
        elements: str
        required: true
      allowed_headers:
        description:
          - Request headers a browser may send in the pre-flight C(Access-Control-Request-Headers), V(*) for any.
        type: list
        elements: str
        default: []
      expose_headers:
        description:
          - Response headers the browser lets scripts read (for example V(ETag)).
        type: list
        elements: str
        default: []
      max_age_seconds:
        description:
          - How long browsers may cache the pre-flight answer.
        type: int
      id:
        description:
          - A name for the rule (at most 255 characters, unique among the rules).
        type: str
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_bucket_lifecycle
"""

EXAMPLES = r"""
---
- name: Let the web app upload straight from the browser
  cellar.garage.garage_bucket_cors:
    bucket: uploads
    rules:
      - allowed_origins: [https://app.example.com]
        allowed_methods: [GET, PUT, POST]
        allowed_headers: ["*"]
        expose_headers: [ETag]
        max_age_seconds: 3000

- name: No cross-origin access any more
  cellar.garage.garage_bucket_cors:
    bucket: uploads
    state: absent
"""

RETURN = r"""
---
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: uploads
rules:
  description:
    - The rules now set (V([]) when there are none), lists sorted, methods in upper case.
  returned: always
  type: list
  elements: dict
  sample:
    - allowed_origins: [https://app.example.com]
      allowed_methods: [GET, POST, PUT]
      allowed_headers: ["*"]
      expose_headers: [ETag]
      max_age_seconds: 3000
failure_reason:
  description:
    - On failure, why, as a stable code to match in playbooks.
    - V(invalid_input) (nothing was sent), V(auth_failed), V(access_denied), V(bucket_not_found), V(os_error),
      V(bucket_cors_read_failed), V(bucket_cors_update_failed), V(credentials_missing).
  returned: on failure
  type: str
  sample: invalid_input
"""

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import cors

RULE_SPEC = {
    "allowed_origins": {"type": "list", "elements": "str", "required": True},
    "allowed_methods": {"type": "list", "elements": "str", "required": True},
    "allowed_headers": {"type": "list", "elements": "str", "default": []},
    "expose_headers": {"type": "list", "elements": "str", "default": []},
    "max_age_seconds": {"type": "int"},
    "id": {"type": "str"},
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
        spec = cors.spec_from_params(params)
        return cors.ensure(module.s3, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"manage the CORS rules of bucket '{params['bucket']}'")


if __name__ == "__main__":
    main()
