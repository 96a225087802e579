#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_retention
short_description: Extend the expiry of a Garage artifact package, hold or release it, or change its retention class
version_added: 0.2.0
description:
  - Changes the retention state of one package of the artifact store in O(bucket) under O(prefix); the state is a
    document next to the manifest, with every change recorded in its history (when, who, what).
  - A package is deleted by M(cellar.garage.garage_artifact_gc) once it has expired and no hold applies.
  - Changes apply in this order; class (O(retention_class)), expiry (O(expires_at) or O(extend_by); a class change
    alone moves the expiry to the new class's), holds (O(hold), O(release_hold)).
  - Waits for a garbage collection that is running to finish first (O(gc_wait)), so a hold applied now cannot be
    missed by a collection that already started.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._artifacts
  - cellar.garage._artifacts.retention
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
attributes:
  diff_mode:
    details:
      - The diff shows the class, the expiry and the holds (name, reason, actor).
options:
  package_id:
    description:
      - The package.
    type: str
    required: true
  retention_class:
    description:
      - The new retention class. Unless O(expires_at) or O(extend_by) is set too, the expiry becomes the creation
        time plus the new class's duration.
    type: str
    choices: [transient, raw-evidence, summary-evidence, release-evidence, permanent-record]
  expires_at:
    description:
      - The new expiry, an RFC 3339 time with an offset (V(2027-01-01T00:00:00Z)), or V(never).
      - Mutually exclusive with O(extend_by).
    type: str
  extend_by:
    description:
      - Keep the package this much longer than its class says; the expiry becomes creation time + class duration
        + O(extend_by). Repeating the task changes nothing; to extend further, give a larger value.
      - Seconds or C(<n><unit>) (C(s), C(m), C(h), C(d), C(w), C(y)).
    type: str
  hold:
    description:
      - Apply a hold of this name (1 to 128 letters, digits or C(._:@/-)). A held package is never deleted,
        even after its expiry. Applying a hold that is already there changes nothing.
    type: str
  release_hold:
    description:
      - Release the hold of this name (nothing changes when there is no such hold).
    type: str
  reason:
    description:
      - Why; recorded with the hold and in the history.
    type: str
  actor:
    description:
      - Who makes the change, recorded in the history and with a hold. Default C(<user>@<host>).
    type: str
  gc_wait:
    description:
      - Seconds to wait for a running garbage collection before failing with RV(failure_reason=gc_in_progress).
    type: int
    default: 900
notes:
  - Two changes of the same package at the same moment are not merged; the last write wins (Garage has no
    conditional writes).
seealso:
  - module: cellar.garage.garage_artifact_info
  - module: cellar.garage.garage_artifact_gc
"""

EXAMPLES = r"""
---
- name: Legal hold
  cellar.garage.garage_artifact_retention:
    bucket: evidence
    package_id: "{{ package_id }}"
    hold: case-2026-017
    reason: requested by legal, ticket LEG-17
    actor: alice

- name: Release it
  cellar.garage.garage_artifact_retention:
    bucket: evidence
    package_id: "{{ package_id }}"
    release_hold: case-2026-017
    actor: alice

- name: Keep this raw evidence 30 days longer than its class says
  cellar.garage.garage_artifact_retention:
    bucket: evidence
    package_id: "{{ package_id }}"
    extend_by: 30d

- name: Promote to release evidence
  cellar.garage.garage_artifact_retention:
    bucket: evidence
    package_id: "{{ package_id }}"
    retention_class: release-evidence
"""

RETURN = r"""
---
package_id:
  description: The package.
  returned: success
  type: str
  sample: 9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a
retention:
  description: The retention state after the change (class, expiry, holds, history).
  returned: success
  type: dict
  sample: {retention_class: raw-evidence, expires_at: "2026-04-15T10:00:00Z",
           holds: [{name: case-2026-017, reason: LEG-17, actor: alice, since: "2026-01-20T08:00:00Z"}],
           history: [{at: "2026-01-15T10:00:00Z", actor: ci, action: create}]}
expired:
  description: Whether the expiry has passed (server clock).
  returned: success
  type: bool
held:
  description: Whether a hold applies.
  returned: success
  type: bool
failure_reason:
  description:
    - On failure, why, as a stable code.
    - V(package_not_found), V(manifest_corrupt), V(retention_state_corrupt), V(gc_in_progress), V(invalid_input),
      V(object_put_failed), V(artifact_read_failed), V(auth_failed), V(access_denied), V(bucket_not_found),
      V(os_error).
  returned: on failure
  type: str
  sample: package_not_found
"""

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import collect, options
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": "artifacts"},
    "retention_durations": {"type": "dict"},
    "package_id": {"type": "str", "required": True},
    "retention_class": {
        "type": "str",
        "choices": ["transient", "raw-evidence", "summary-evidence", "release-evidence", "permanent-record"],
    },
    "expires_at": {"type": "str"},
    "extend_by": {"type": "str"},
    "hold": {"type": "str"},
    "release_hold": {"type": "str"},
    "reason": {"type": "str"},
    "actor": {"type": "str"},
    "gc_wait": {"type": "int", "default": 900},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(S3,),
        mutually_exclusive=[["expires_at", "extend_by"]],
        required_one_of=[["retention_class", "expires_at", "extend_by", "hold", "release_hold"]],
    )
    params = module.params

    def body() -> Outcome:
        prefix, table = options.common(params)
        spec = collect.retention_spec_from_params(params, table, options.actor(params))
        store = Store(module.s3, params["bucket"], prefix)
        return collect.change_retention(
            store, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id")
        )

    module.run(body, what=f"change the retention of package '{params['package_id']}'")


if __name__ == "__main__":
    main()
