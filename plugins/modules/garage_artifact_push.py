#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_push
short_description: Push a directory or files as one content-addressed package into a Garage bucket
version_added: 0.2.0
description:
  - Turns a directory (every regular file below it) or a list of files into one package of the artifact store
    in O(bucket) under O(prefix).
  - Every file is hashed locally; its content is stored once as a blob named by its digest and shared by every
    package that contains the same bytes. Blobs already in the store are not sent again.
  - Missing blobs are uploaded O(workers) at a time; files larger than O(multipart_threshold) in parts. Garage
    checks every body against its C(Content-MD5) and refuses a damaged one.
  - The manifest (paths, sizes, media types, digests, name, producer, subject, metadata, retention class and
    creation time) is written last, after the retention state. The package id is the digest of the manifest's
    identity (everything but the creation time), so pushing the same files with the same identity again finds
    the existing package and changes nothing.
  - A push announces the blobs it relies on before it looks at them, and waits for a garbage collection that is
    running to finish (O(gc_wait)), so M(cellar.garage.garage_artifact_gc) never deletes a blob a push in flight
    relies on.
  - Paths in O(src) are on the host the module runs on.
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
      - Hashes the files and reads the store; reports the package id and the blobs that would be uploaded with
        their bytes. RV(manifest_digest) is V(null) for a package that does not exist yet (it depends on the
        creation time).
  diff_mode:
    details:
      - The diff shows the package's identity, file count and size.
options:
  src:
    description:
      - One directory, or a list of files (each stored under its base name).
    type: list
    elements: path
    required: true
  name:
    description:
      - Name of the package (for example the application or evidence set).
    type: str
    required: true
  producer:
    description:
      - Who or what produced the package (a CI job, a host, a team).
    type: str
    required: true
  subject:
    description:
      - What the package is about (a version, a commit, a ticket).
    type: str
    default: ""
  metadata:
    description:
      - Free metadata (string values) stored in the manifest; part of the package's identity.
    type: dict
  retention_class:
    description:
      - How long the package is kept by default (see O(retention_durations)).
      - Change it later with M(cellar.garage.garage_artifact_retention).
    type: str
    required: true
    choices: [transient, raw-evidence, summary-evidence, release-evidence, permanent-record]
  algorithm:
    description:
      - Digest of the file contents. V(blake3) needs the Python package C(blake3) on every host that pushes,
        fetches or verifies the package.
      - The package identity is always a sha256 of the manifest.
    type: str
    choices: [sha256, blake3]
    default: sha256
  actor:
    description:
      - Recorded in the retention history as who created the package. Default C(<user>@<host>).
    type: str
  workers:
    description:
      - How many uploads (or parts of one large file) run at the same time (1 to 64).
    type: int
    default: 16
  part_size:
    description:
      - Size of the parts of a multipart upload (bytes or with a unit, at least 1 MiB).
    type: str
    default: 8MiB
  multipart_threshold:
    description:
      - Files larger than this are uploaded in parts.
    type: str
    default: 8MiB
  gc_wait:
    description:
      - Seconds to wait for a running garbage collection to finish before failing with
        RV(failure_reason=gc_in_progress).
    type: int
    default: 900
notes:
  - Files are read as they are when the task runs; do not change them while it runs.
  - File permissions, owners and empty directories are not part of a package.
seealso:
  - module: cellar.garage.garage_artifact_fetch
  - module: cellar.garage.garage_artifact_info
  - module: cellar.garage.garage_artifact_retention
  - module: cellar.garage.garage_artifact_gc
"""

EXAMPLES = r"""
---
- name: Push the build output as one package
  cellar.garage.garage_artifact_push:
    bucket: artifacts
    src: /srv/build/out
    name: shop-frontend
    producer: ci/shop-frontend
    subject: "1.4.2"
    retention_class: release-evidence
    metadata:
      commit: 3f9c2e1
  register: pushed

- name: Push two evidence files
  cellar.garage.garage_artifact_push:
    bucket: evidence
    prefix: audits
    src:
      - /var/tmp/scan.json
      - /var/tmp/scan.sig
    name: nightly-scan
    producer: "{{ inventory_hostname }}"
    retention_class: raw-evidence
"""

RETURN = r"""
---
package_id:
  description: The package id (sha256 of the manifest's identity, 64 hex digits).
  returned: success
  type: str
  sample: 9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a
manifest_digest:
  description:
    - C(sha256:<hex>) of the stored manifest bytes. V(null) in check mode for a package that does not exist yet.
  returned: success
  type: str
  sample: sha256:0b1c2d3e4f5a9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a
created_at:
  description: Creation time of the package (UTC).
  returned: success
  type: str
  sample: "2026-01-15T10:00:00Z"
exists:
  description: Whether the package existed already (then nothing was written).
  returned: success
  type: bool
upload:
  description: The blobs uploaded (or that would be, in check mode).
  returned: success
  type: dict
  contains:
    count:
      description: Number of blobs.
      type: int
    bytes:
      description: Their bytes.
      type: int
    blobs:
      description: Each blob's digest, size and one path of the package that has that content.
      type: list
      elements: dict
  sample: {count: 1, bytes: 12, blobs: [{digest: "sha256:5891b5b5...", size: 12, path: bin/run}]}
reused:
  description: Blobs that were already in the store (count and bytes).
  returned: success
  type: dict
  sample: {count: 41, bytes: 1048576}
duration_seconds:
  description: Seconds the module spent (hashing included, Ansible's own start-up not).
  returned: success
  type: float
  sample: 12.3
phases:
  description: Seconds per phase of a push that wrote something (hash, intent, check, upload, manifest).
  returned: when a package was written
  type: dict
  sample: {hash: 1.2, intent: 0.05, check: 0.1, upload: 10.4, manifest: 0.05}
failure_reason:
  description:
    - On failure, why, as a stable code.
    - V(invalid_input), V(missing_dependency) (blake3), V(gc_in_progress), V(intent_expired), V(object_put_failed),
      V(checksum_mismatch), V(artifact_read_failed), V(auth_failed), V(access_denied), V(bucket_not_found),
      V(os_error), V(credentials_missing).
    - Blobs uploaded before a failure stay until M(cellar.garage.garage_artifact_gc) collects them.
  returned: on failure
  type: str
  sample: gc_in_progress
"""

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import options, push
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": "artifacts"},
    "retention_durations": {"type": "dict"},
    "src": {"type": "list", "elements": "path", "required": True},
    "name": {"type": "str", "required": True},
    "producer": {"type": "str", "required": True},
    "subject": {"type": "str", "default": ""},
    "metadata": {"type": "dict"},
    "retention_class": {
        "type": "str",
        "required": True,
        "choices": ["transient", "raw-evidence", "summary-evidence", "release-evidence", "permanent-record"],
    },
    "algorithm": {"type": "str", "choices": ["sha256", "blake3"], "default": "sha256"},
    "actor": {"type": "str"},
    "workers": {"type": "int", "default": 16},
    "part_size": {"type": "str", "default": "8MiB"},
    "multipart_threshold": {"type": "str", "default": "8MiB"},
    "gc_wait": {"type": "int", "default": 900},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> Outcome:
        prefix, table = options.common(params)
        spec = push.spec_from_params(params, table)
        store = Store(module.s3, params["bucket"], prefix, workers=spec.workers)
        return push.push(store, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"push package '{params['name']}'")


if __name__ == "__main__":
    main()
