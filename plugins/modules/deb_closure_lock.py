#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: deb_closure_lock
short_description: Resolve the closure of Debian packages against a target's base and write its lock
version_added: 0.2.0
description:
  - Resolves every package that O(packages) need and that the target base (its dpkg status file,
    O(status_file)) does not already have, with or without Recommends, from the archive O(sources).
  - Trusts the archive through its signed C(InRelease) (checked with C(gpgv) against O(keyring)); each
    C(Packages) index through the SHA256 the signed Release gives for it; and takes each package's
    SHA256 from the index.
  - Writes the lock O(dest) (package, version, architecture, file name, sha256, size and URL of every
    C(.deb)) that the C(cellar.garage.deb_closure) role installs offline.
  - The file is only rewritten when what it pins changes (packages, versions, hashes, the request, the
    architecture, Recommends); a newer archive date alone changes nothing. Regenerating a lock is a
    deliberate act; review the diff like code.
  - "Runs where the archive is reachable, usually the controller (C(delegate_to: localhost))."
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._attributes
attributes:
  check_mode:
    details:
      - Check mode resolves the closure and reports the change without writing the lock.
options:
  dest:
    description: The lock file to write (YAML).
    type: path
    required: true
  packages:
    description:
      - The packages to install, as C(name) or C(name=version).
      - A virtual package with several providers must be resolved by listing the provider you want.
    type: list
    elements: str
    required: true
  status_file:
    description:
      - A copy of the target base's C(/var/lib/dpkg/status) (fetch it from a representative host). Packages
        installed there are not part of the closure.
    type: path
    required: true
  name:
    description: Name of the closure, written into the lock (default the first package).
    type: str
  architecture:
    description: Debian architecture of the target.
    type: str
    default: amd64
  recommends:
    description: Follow Recommends too (what apt does by default). Unsatisfiable Recommends are skipped.
    type: bool
    default: false
  sources:
    description:
      - The archive sources, in order. Default Debian 12 (bookworm, bookworm-updates and bookworm-security
        from deb.debian.org, component main).
    type: list
    elements: dict
    suboptions:
      url:
        description: Base URL of the archive (C(http://), C(https://) or C(file://)).
        type: str
        required: true
      suite:
        description: Suite (C(dists/<suite>)).
        type: str
        required: true
      components:
        description: Components to read.
        type: list
        elements: str
        default: [main]
  keyring:
    description: Keyring that signs the archive's C(InRelease).
    type: path
    default: /usr/share/keyrings/debian-archive-keyring.gpg
  base_description:
    description: A few words about the target base, written into the lock.
    type: str
  regenerate_hint:
    description: The command that regenerates this lock, written into its header.
    type: str
requirements:
  - gpgv (Debian package C(gpgv)) and the archive's keyring on the host the module runs on.
seealso:
  - name: The deb_closure role
    description: Installs a lock offline (C(cellar.garage.deb_closure)).
    link: https://example.invalid/cellar/garage/roles/deb_closure
"""

EXAMPLES = r"""
---
- name: Fetch the dpkg status of a representative host
  ansible.builtin.fetch:
    src: /var/lib/dpkg/status
    dest: files/base.status
    flat: true

- name: Lock podman's closure for Debian 12 hosts like that one
  cellar.garage.deb_closure_lock:
    dest: files/podman.lock.yml
    packages: [podman, containernetworking-plugins]
    status_file: files/base.status
    base_description: Debian 12 minbase + systemd + openssh-server + python3
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
lock:
  description: Path of the lock.
  returned: success
  type: str
packages:
  description: The packages of the closure, each C(package), C(version), C(architecture), C(size).
  returned: success
  type: list
  elements: dict
  sample: [{"package": "conmon", "version": "2.1.6+ds1-1", "architecture": "amd64", "size": 37100}]
count:
  description: Number of packages in the closure.
  returned: success
  type: int
  sample: 33
total_size:
  description: Total size of the C(.deb) files in bytes.
  returned: success
  type: int
  sample: 28439664
upgrades:
  description: Packages of the base that the closure upgrades, with the version the base has.
  returned: success
  type: dict
  sample: {"libc6": "2.36-9+deb12u3"}
skipped_recommends:
  description: Recommends that no source could satisfy (skipped, as apt does).
  returned: success
  type: list
  elements: str
"""

from ansible_collections.cellar.garage.plugins.module_utils._deb import generate
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule

ARGUMENT_SPEC = {
    "dest": {"type": "path", "required": True},
    "packages": {"type": "list", "elements": "str", "required": True},
    "status_file": {"type": "path", "required": True},
    "name": {"type": "str"},
    "architecture": {"type": "str", "default": "amd64"},
    "recommends": {"type": "bool", "default": False},
    "sources": {
        "type": "list",
        "elements": "dict",
        "options": {
            "url": {"type": "str", "required": True},
            "suite": {"type": "str", "required": True},
            "components": {"type": "list", "elements": "str", "default": ["main"]},
        },
    },
    "keyring": {"type": "path", "default": "/usr/share/keyrings/debian-archive-keyring.gpg"},
    "base_description": {"type": "str"},
    "regenerate_hint": {"type": "str"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=())

    def body() -> generate.Outcome:
        spec = generate.spec_from_params(module.params)
        return generate.generate(spec, dry_run=module.check_mode)

    module.run(body, what=f"lock the closure of {', '.join(module.params['packages'])}")


if __name__ == "__main__":
    main()
