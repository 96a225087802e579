#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: oci_image_archive
short_description: Build a reproducible OCI image archive from plain files, with no registry and no container engine
version_added: 0.2.0
description:
  - Writes an OCI image layout archive (what C(podman load) reads) holding the given O(files) in one layer,
    plus the shared libraries they need (O(include_libraries)), with the given entrypoint, command,
    environment and labels.
  - The archive is reproducible (files sorted, owned by root, dated 1970), so the same inputs give the same
    bytes and the same image id; the file is only replaced when its content changes.
  - The C(cellar.garage.garage) role uses it on the controller to turn the pinned Garage binary into the
    image its podman variant runs.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._attributes
attributes:
  check_mode:
    details:
      - Check mode builds the image in a temporary file to know its id and removes it; O(dest) is left alone.
options:
  dest:
    description: The archive to write.
    type: path
    required: true
  ref:
    description: The image name and tag recorded in the archive (C(org.opencontainers.image.ref.name)), which
      C(podman load) gives the loaded image, for example C(localhost/cellar/garage:2.4.1).
    type: str
    required: true
  files:
    description: Files to put in the image.
    type: list
    elements: dict
    required: true
    suboptions:
      src:
        description: Path of the file on the host the module runs on.
        type: path
        required: true
      dest:
        description: Absolute path in the image.
        type: str
        required: true
      mode:
        description: Octal mode in the image.
        type: raw
        default: "0755"
  include_libraries:
    description:
      - Add the shared libraries and the dynamic loader that each file needs (from C(ldd)) at the same paths.
        A statically linked file needs none.
    type: bool
    default: true
  directories:
    description: Extra empty directories (for example C(/tmp) with mode C(1777)).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path in the image.
        type: str
        required: true
      mode:
        description: Octal mode.
        type: raw
        default: "0755"
  entrypoint:
    description: The image's entrypoint.
    type: list
    elements: str
    default: []
  cmd:
    description: The image's default command (arguments of the entrypoint).
    type: list
    elements: str
    default: []
  env:
    description: Environment, as C(NAME=value) strings.
    type: list
    elements: str
    default: []
  labels:
    description: Image labels.
    type: dict
    default: {}
  architecture:
    description: The image's architecture.
    type: str
    default: amd64
requirements:
  - ldd (glibc) on the host the module runs on when O(include_libraries=true).
"""

EXAMPLES = r"""
---
- name: Build the Garage image from the pinned binary
  cellar.garage.oci_image_archive:
    dest: /var/cache/cellar-garage/garage-2.4.1.oci.tar
    ref: localhost/cellar/garage:2.4.1
    files:
      - {src: /opt/garage/2.4.1/garage, dest: /garage}
    directories:
      - {path: /tmp, mode: "1777"}
    entrypoint: [/garage]
    cmd: [server]
    env: [RUST_BACKTRACE=1, RUST_LOG=garage=info]
  delegate_to: localhost
  run_once: true
  register: garage_image
"""

RETURN = r"""
image:
  description: The archive and the ids of the image in it.
  returned: success
  type: dict
  contains:
    path:
      description: Path of the archive.
      type: str
    ref:
      description: Name and tag of the image.
      type: str
    image_id:
      description: The image id (sha256 of its config), as C(podman images --no-trunc) shows it without C(sha256:).
      type: str
    manifest_digest:
      description: Digest of the image manifest.
      type: str
    archive_sha256:
      description: sha256 of the archive file.
      type: str
    archive_size:
      description: Size of the archive in bytes.
      type: int
  sample:
    path: /var/cache/cellar-garage/garage-2.4.1.oci.tar
    ref: localhost/cellar/garage:2.4.1
    image_id: 5fef54c06feb174dd28e5dbcbca89ea7a813295fd688caa702747eb88fae98a7
    manifest_digest: sha256:e05667dba1c0eed3e24675bcc545fc67e07bf5eb15da18063e7be857cfd7c8de
    archive_sha256: 3e2411da6c077329654e44929bffd1f944578886a3fb18497f0c05dea4c10229
    archive_size: 58920960
"""

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._oci import image

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "ref": {"type": "str", "required": True},
    "files": {
        "type": "list",
        "elements": "dict",
        "required": True,
        "options": {
            "src": {"type": "path", "required": True},
            "dest": {"type": "str", "required": True},
            "mode": {"type": "raw", "default": "0755"},
        },
    },
    "include_libraries": {"type": "bool", "default": True},
    "directories": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "str", "required": True},
            "mode": {"type": "raw", "default": "0755"},
        },
    },
    "entrypoint": {"type": "list", "elements": "str", "default": []},
    "cmd": {"type": "list", "elements": "str", "default": []},
    "env": {"type": "list", "elements": "str", "default": []},
    "labels": {"type": "dict", "default": {}},
    "architecture": {"type": "str", "default": "amd64"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=())

    def body() -> image.Outcome:
        spec = image.spec_from_params(module.params)
        return image.ensure(spec, module.params["dest"], dry_run=module.check_mode)

    module.run(body, what=f"build the image archive {module.params['dest']}")


if __name__ == "__main__":
    main()
