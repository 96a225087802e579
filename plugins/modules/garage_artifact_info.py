#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_info
short_description: List the packages of a Garage artifact store, or show one with its retention state
version_added: 0.2.0
description:
  - Without O(package_id), lists the packages of the artifact store in O(bucket) under O(prefix), oldest first,
    optionally filtered.
  - With O(package_id), returns that package's manifest (files included) and its retention state (expiry, holds,
    history); RV(exists) is V(false) when there is no such package.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._artifacts
  - cellar.garage._artifacts.retention
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_garage_s3
options:
  package_id:
    description:
      - Show this package only.
    type: str
  producer:
    description: Only packages of this producer.
    type: str
  subject:
    description: Only packages with this subject.
    type: str
  name:
    description: Only packages with this name.
    type: str
  retention_class:
    description: Only packages of this retention class.
    type: str
    choices: [transient, raw-evidence, summary-evidence, release-evidence, permanent-record]
  expired:
    description: Only expired (V(true)) or unexpired (V(false)) packages.
    type: bool
  held:
    description: Only packages with (V(true)) or without (V(false)) a hold.
    type: bool
seealso:
  - module: cellar.garage.garage_artifact_push
  - module: cellar.garage.garage_artifact_retention
"""

EXAMPLES = r"""
---
- name: Expired packages that a hold keeps
  cellar.garage.garage_artifact_info:
    bucket: evidence
    expired: true
    held: true
  register: kept

- name: One package with its retention history
  cellar.garage.garage_artifact_info:
    bucket: artifacts
    package_id: "{{ pushed.package_id }}"
  register: package
"""

RETURN = r"""
---
packages:
  description:
    - The packages (one with O(package_id)), oldest first. Empty list when none match.
  returned: success
  type: list
  elements: dict
  contains:
    package_id:
      description: The package id.
      type: str
    manifest_digest:
      description: C(sha256:<hex>) of the stored manifest.
      type: str
    name:
      description: Name.
      type: str
    producer:
      description: Producer.
      type: str
    subject:
      description: Subject.
      type: str
    metadata:
      description: Metadata.
      type: dict
    created_at:
      description: Creation time (UTC).
      type: str
    algorithm:
      description: Digest algorithm of the files.
      type: str
    file_count:
      description: Number of files.
      type: int
    size:
      description: Total bytes of the files.
      type: int
    retention_class:
      description: Current retention class.
      type: str
    expires_at:
      description: Expiry (UTC), V(null) for never.
      type: str
    holds:
      description: Holds (name, reason, actor, since).
      type: list
      elements: dict
    held:
      description: Whether any hold applies.
      type: bool
    expired:
      description: Whether the expiry has passed (server clock).
      type: bool
    eligible_for_gc:
      description: Expired and not held; the next collection deletes it.
      type: bool
  sample: [{package_id: 9f2c..., name: shop-frontend, producer: ci, subject: "1.4.2", retention_class: release-evidence,
            expires_at: "2033-01-13T10:00:00Z", held: false, expired: false, file_count: 42, size: 1048576}]
count:
  description: Number of packages listed.
  returned: without O(package_id)
  type: int
  sample: 3
exists:
  description: Whether the package exists.
  returned: with O(package_id)
  type: bool
package:
  description: The package with its manifest's files and its full retention state (history included).
  returned: with O(package_id)
  type: dict
  sample: {package_id: 9f2c..., files: [{path: bin/run, size: 12, media_type: application/octet-stream,
           digest: "sha256:5891..."}], retention: {expires_at: null, holds: [], history: []}}
unreadable:
  description: Manifests that could not be read, with why.
  returned: when some could not be read
  type: list
  elements: dict
  sample: [{package_id: 0b1c..., error: not in canonical form}]
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import inspection, options
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3

CLASSES = ["transient", "raw-evidence", "summary-evidence", "release-evidence", "permanent-record"]
ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": "artifacts"},
    "retention_durations": {"type": "dict"},
    "package_id": {"type": "str"},
    "producer": {"type": "str"},
    "subject": {"type": "str"},
    "name": {"type": "str"},
    "retention_class": {"type": "str", "choices": CLASSES},
    "expired": {"type": "bool"},
    "held": {"type": "bool"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> dict[str, t.Any]:
        prefix, table = options.common(params)
        package_id = params.get("package_id")
        if package_id is not None and not inspection.paths.PACKAGE_ID_RE.match(package_id):
            raise InputError(f"package_id must be 64 lowercase hex digits, got {package_id!r}")
        names = ("producer", "subject", "name", "retention_class", "expired", "held")
        filters = inspection.Filters(**{k: params.get(k) for k in names})
        return inspection.info(
            Store(module.s3, params["bucket"], prefix),
            package_id=package_id,
            filters=filters,
            table=table,
            access_key_id=params.get("access_key_id"),
        )

    module.run(body, what="read the artifact store")


if __name__ == "__main__":
    main()
