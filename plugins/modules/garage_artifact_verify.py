#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_verify
short_description: Re-read the blobs of a Garage artifact store and report missing or corrupt ones
version_added: 0.2.0
description:
  - Reads stored blobs back, recomputes their digests and sizes, and reports the blobs that are missing or
    corrupt and the packages they break. Manifests are checked too (canonical form, package id).
  - Scope; one package (O(package_id)), a random sample of the referenced blobs (O(sample)), or everything
    (every manifest and every stored blob, referenced or not).
  - Writes nothing; check mode is its natural mode.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._artifacts
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage_s3
options:
  package_id:
    description:
      - Verify this package only. By default, every package.
    type: str
  sample:
    description:
      - Verify only this many blobs, chosen at random among those referenced (with O(package_id), among its
        blobs).
    type: int
  fail_on_damage:
    description:
      - Fail (RV(failure_reason=artifacts_damaged)) when something is missing or corrupt. With V(false) the
        module succeeds and RV(ok) tells.
    type: bool
    default: true
  workers:
    description:
      - How many blobs are read at the same time (1 to 64).
    type: int
    default: 16
seealso:
  - module: cellar.garage.garage_artifact_fetch
  - module: cellar.garage.garage_artifact_gc
"""

EXAMPLES = r"""
---
- name: Verify everything (nightly)
  cellar.garage.garage_artifact_verify:
    bucket: evidence

- name: Spot-check 100 blobs, report only
  cellar.garage.garage_artifact_verify:
    bucket: artifacts
    sample: 100
    fail_on_damage: false
  register: spot
"""

RETURN = r"""
---
ok:
  description: Whether nothing is missing, corrupt or damaged.
  returned: always
  type: bool
  sample: true
checked:
  description: What was read (blobs, bytes, packages).
  returned: always
  type: dict
  sample: {blobs: 42, bytes: 1048576, packages: 3}
missing:
  description: Blobs that are referenced but not stored (digest, key, packages).
  returned: always
  type: list
  elements: dict
  sample: [{digest: "sha256:5891...", key: artifacts/blobs/sha256/58/91/5891..., packages: [9f2c...]}]
corrupt:
  description: Blobs whose content does not match their digest or size (digest, actual_digest, size, key, packages).
  returned: always
  type: list
  elements: dict
  sample: []
damaged_manifests:
  description: Manifests that could not be read or do not match their package id.
  returned: always
  type: list
  elements: dict
  sample: []
broken_packages:
  description: Ids of the packages that cannot be fetched whole.
  returned: always
  type: list
  elements: str
  sample: []
failure_reason:
  description:
    - On failure, why, as a stable code. V(artifacts_damaged) (with the report above), V(package_not_found),
      V(manifest_corrupt), V(missing_dependency), V(invalid_input), V(artifact_read_failed), V(auth_failed),
      V(access_denied), V(bucket_not_found), V(os_error).
  returned: on failure
  type: str
  sample: artifacts_damaged
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import inspection, options
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": "artifacts"},
    "package_id": {"type": "str"},
    "sample": {"type": "int"},
    "fail_on_damage": {"type": "bool", "default": True},
    "workers": {"type": "int", "default": 16},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> dict[str, t.Any]:
        prefix, table = options.common(params)
        package_id = params.get("package_id")
        problems = []
        if package_id is not None and not inspection.paths.PACKAGE_ID_RE.match(package_id):
            problems.append(f"package_id must be 64 lowercase hex digits, got {package_id!r}")
        if params.get("sample") is not None and params["sample"] < 1:
            problems.append("sample must be at least 1")
        if not 1 <= params["workers"] <= 64:
            problems.append("workers must be between 1 and 64")
        if problems:
            raise InputError("; ".join(problems))
        report = inspection.verify(
            Store(module.s3, params["bucket"], prefix, workers=params["workers"]),
            package_id=package_id,
            sample=params.get("sample"),
            table=table,
            access_key_id=params.get("access_key_id"),
        )
        if params["fail_on_damage"] and not report["ok"]:
            raise inspection.verify_failure(report)
        return report

    module.run(body, what="verify the artifact store")


if __name__ == "__main__":
    main()
