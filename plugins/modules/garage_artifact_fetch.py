#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_artifact_fetch
short_description: Fetch a content-addressed package (or some of its paths) from a Garage bucket into a directory
version_added: 0.2.0
description:
  - Materializes a package of the artifact store in O(bucket) under O(prefix) into O(dest), on the host the
    module runs on, so a play can push on the controller and fetch on every target.
  - Every file is checked against the size and digest in the manifest; the manifest itself against its package id.
  - Files already in O(dest) with the right digest are not written again (V(changed=false) when nothing was
    written). Other files in O(dest) are left alone.
  - Atomic; files are downloaded into a staging directory next to O(dest) and moved into place only once all of
    them are verified. A new O(dest) appears in one rename; on any failure before that, O(dest) is left as it was.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._artifacts
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
attributes:
  check_mode:
    details:
      - Reads the manifest and hashes the local files; reports the files that would be written.
  diff_mode:
    details:
      - The diff maps each selected path to its local digest before (V(null) when absent) and the package's after.
options:
  package_id:
    description:
      - The package to fetch (RV(cellar.garage.garage_artifact_push#module:package_id)).
    type: str
    required: true
  dest:
    description:
      - Directory to write the package into. Created (with its parents) when missing.
    type: path
    required: true
  paths:
    description:
      - Only these paths of the package; a path may name a directory of the package (every file below it).
      - Every path must exist in the package.
    type: list
    elements: str
  workers:
    description:
      - How many files are downloaded at the same time (1 to 64).
    type: int
    default: 16
notes:
  - New files get the default permissions (umask); file modes are not part of a package.
seealso:
  - module: cellar.garage.garage_artifact_push
  - module: cellar.garage.garage_artifact_verify
"""

EXAMPLES = r"""
---
- name: Deploy a release on every web host
  cellar.garage.garage_artifact_fetch:
    bucket: artifacts
    package_id: "{{ hostvars['localhost'].pushed.package_id }}"
    dest: /opt/shop/releases/1.4.2

- name: Only the configuration directory of the package
  cellar.garage.garage_artifact_fetch:
    bucket: artifacts
    package_id: 9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a
    dest: /etc/shop
    paths: [conf]
"""

RETURN = r"""
---
package_id:
  description: The package.
  returned: success
  type: str
  sample: 9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a
manifest_digest:
  description: C(sha256:<hex>) of the manifest read.
  returned: success
  type: str
  sample: sha256:0b1c2d3e4f5a9f2c0d5b6e8e4b0f3c1a7d2e5f6a8b9c0d1e2f3a4b5c6d7e8f9a
dest:
  description: The absolute path of the directory.
  returned: success
  type: str
  sample: /opt/shop/releases/1.4.2
written:
  description: Paths written (or that would be, in check mode).
  returned: success
  type: list
  elements: str
  sample: [bin/run, conf/app.toml]
skipped:
  description: Number of selected files that were already right.
  returned: success
  type: int
  sample: 40
bytes_written:
  description: Bytes of the files written.
  returned: success
  type: int
  sample: 1048576
duration_seconds:
  description: Seconds the module spent (Ansible's own start-up not included).
  returned: success
  type: float
  sample: 4.2
failure_reason:
  description:
    - On failure, why, as a stable code.
    - V(package_not_found), V(manifest_corrupt), V(blob_missing), V(blob_corrupt) (O(dest) untouched in these
      cases), V(path_not_in_package), V(dest_conflict), V(fetch_incomplete), V(missing_dependency),
      V(invalid_input), V(object_get_failed), V(auth_failed), V(access_denied), V(bucket_not_found), V(os_error).
  returned: on failure
  type: str
  sample: blob_corrupt
"""

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import fetch, options
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "prefix": {"type": "str", "default": "artifacts"},
    "package_id": {"type": "str", "required": True},
    "dest": {"type": "path", "required": True},
    "paths": {"type": "list", "elements": "str"},
    "workers": {"type": "int", "default": 16},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(S3,))
    params = module.params

    def body() -> Outcome:
        prefix, table = options.common(params)
        spec = fetch.spec_from_params(params, table)
        store = Store(module.s3, params["bucket"], prefix, workers=spec.workers)
        return fetch.fetch(store, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"fetch package '{params['package_id']}'")


if __name__ == "__main__":
    main()
