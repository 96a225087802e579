#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_gc
short_description: Collect expired packages and unreferenced blobs of a Garage artifact store
version_added: 0.2.0
description:
  - Sweep; every package that has expired and has no hold is eligible. Collect; their manifests and retention
    documents are deleted, then every blob that no remaining package references and that was written more than
    O(grace_period) ago.
  - Never robs a push in flight. Pushes announce the blobs they rely on before looking at them and wait for a
    running collection; blobs younger than O(grace_period) are kept anyway. If any manifest cannot be read, no
    blob is deleted.
  - A collection that finds another one running stands down (V(changed=false), RV(skipped=true)).
  - Meant to run from cron or CI; see the C(playbooks/retention_gc.yml) playbook of the collection.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._artifacts
  - cellar.garage._artifacts.retention
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
attributes:
  check_mode:
    details:
      - Lists what would go and the bytes it would free, without taking the collector's lock.
  diff_mode:
    details:
      - The diff lists the package ids, retention documents, blob digests and stale intents deleted.
options:
  grace_period:
    description:
      - Blobs written less than this long ago are never deleted. Seconds or C(<n><unit>) (C(s), C(m), C(h), C(d)).
    type: str
    default: 1h
seealso:
  - module: cellar.garage.garage_artifact_retention
  - module: cellar.garage.garage_artifact_info
"""

EXAMPLES = r"""
---
- name: What would go
  cellar.garage.garage_artifact_gc:
    bucket: artifacts
  check_mode: true
  register: preview

- name: Collect
  cellar.garage.garage_artifact_gc:
    bucket: artifacts
    grace_period: 2h
"""

RETURN = r"""
---
deleted:
  description: What was deleted (or would be, in check mode).
  returned: success
  type: dict
  contains:
    packages:
      description: Ids of the packages whose manifests were deleted.
      type: list
      elements: str
    retention:
      description: Package ids whose retention documents were deleted (theirs, and leftovers of failed pushes).
      type: list
      elements: str
    blobs:
      description: Digests of the blobs deleted.
      type: list
      elements: str
    intents:
      description: Tokens of stale intents (of pushes that died) removed.
      type: list
      elements: str
  sample: {packages: [9f2c...], retention: [9f2c...], blobs: ["sha256:5891..."], intents: []}
bytes_freed:
  description: Bytes of the blobs deleted.
  returned: success
  type: int
  sample: 1048576
kept:
  description:
    - Expired packages kept by a hold (C(expired_held)), eligible ones kept because a change is in flight
      (C(protected_by_intent)), and the number of unreferenced blobs younger than the grace period.
  returned: when the collection ran
  type: dict
  sample: {expired_held: [], protected_by_intent: [], young_unreferenced_blobs: 0}
blobs_blocked_by:
  description: Why no blob was deleted at all (an unreadable manifest or intent), else V(null).
  returned: when the collection ran
  type: str
  sample: null
skipped:
  description: Whether the collection stood down because another one was running.
  returned: success
  type: bool
  sample: false
failure_reason:
  description:
    - On failure, why, as a stable code. V(partial_failure) (see RV(deleted) in the result), V(gc_lock_expired),
      V(invalid_input), V(artifact_list_failed), V(artifact_read_failed), V(auth_failed), V(access_denied),
      V(bucket_not_found), V(os_error).
    - A collection that fails half-way leaves a consistent store; manifests are deleted before their blobs.
      Run it again.
  returned: on failure
  type: str
  sample: partial_failure
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
    "grace_period": {"type": "str", "default": "1h"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> Outcome:
        prefix, table = options.common(params)
        spec = collect.gc_spec_from_params(params, table)
        store = Store(module.s3, params["bucket"], prefix)
        return collect.collect(store, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what="collect the artifact store")


if __name__ == "__main__":
    main()
