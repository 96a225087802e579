# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Small synthetic Packages / status data for the .deb closure tests."""

from __future__ import annotations

import hashlib

from ansible_collections.cellar.garage.plugins.module_utils._deb.control import Package, parse_packages, parse_status

MIRROR = "http://deb.example.org/debian"


def paragraph(name: str, version: str = "1.0", arch: str = "amd64", **fields: str) -> str:
    lines = [f"Package: {name}", f"Version: {version}", f"Architecture: {arch}"]
    for key, value in fields.items():
        lines.append(f"{key.replace('_', '-').title().replace('Sha256', 'SHA256')}: {value}")
    return "\n".join(lines) + "\n"


def index_entry(name: str, version: str = "1.0", arch: str = "amd64", **fields: str) -> str:
    """A Packages paragraph with Filename, Size and a SHA256 derived from the name (stable, unique)."""
    # Like Debian's pool: the file name carries the version without its epoch.
    fname = f"pool/main/{name[0]}/{name}/{name}_{version.split(':', 1)[-1]}_{arch}.deb"
    digest = hashlib.sha256(f"{name} {version} {arch}".encode()).hexdigest()
    return paragraph(name, version, arch, Filename=fname, Size=str(len(name) * 1000), SHA256=digest, **fields)


def status_entry(name: str, version: str = "1.0", arch: str = "amd64", state: str = "install ok installed",
                 **fields: str) -> str:
    return paragraph(name, version, arch, Status=state, **fields)


def packages(*entries: str, url: str = MIRROR) -> list[Package]:
    return parse_packages("\n".join(entries), url)


def status(*entries: str) -> list[Package]:
    return parse_status("\n".join(entries))
