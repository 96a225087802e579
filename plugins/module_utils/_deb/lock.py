# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The lock file of a closure: what the ``deb_closure`` role installs, byte for byte.

The lock is YAML (read by the role with ``from_yaml``) written in a fixed, diff-friendly shape: a few header
keys, the archive sources with the date of the signed ``Release`` they were read from, then one flow mapping
per package::

    lock_version: 1
    architecture: "amd64"
    ...
    packages:
      - {"package": "conmon", "version": "2.1.6+ds1-1", "architecture": "amd64", "filename": "conmon_....deb",
         "sha256": "...", "size": 37100, "url": "http://deb.debian.org/debian/pool/main/c/conmon/conmon_....deb"}

Every scalar is written JSON-quoted, which YAML reads back unchanged, so rendering needs no YAML library and
the same input always gives the same bytes.
"""

from __future__ import annotations

import json
import posixpath
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._deb.closure import Closure
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._deb.version import split

LOCK_VERSION = 1
PACKAGE_KEYS = ("package", "version", "architecture", "filename", "sha256", "size", "url")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_FILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.~_-]*\.deb$")


def _q(value: t.Any) -> str:
    return json.dumps(value, ensure_ascii=True)


def lock_entries(closure: Closure) -> list[dict[str, t.Any]]:
    entries = []
    for package in closure.packages:
        entries.append({
            "package": package.name,
            "version": package.version,
            "architecture": package.architecture,
            "filename": posixpath.basename(package.filename),
            "sha256": package.sha256,
            "size": package.size,
            "url": f"{package.source_url.rstrip('/')}/{package.filename}" if package.source_url else "",
        })
    return entries


def render_lock(
    closure: Closure,
    *,
    name: str,
    sources: t.Sequence[t.Mapping[str, t.Any]],
    base: t.Mapping[str, t.Any],
    command: str = "",
) -> str:
    """The lock text for ``closure``. ``sources``: [{url, suite, components, date}]; ``base``: facts about the
    dpkg status the closure was resolved against (``status_sha256``, ``packages``, ``description``)."""
    lines = [
        f"# Lock of the {name!s} .deb closure, written by cellar.garage (deb_closure_lock). Do not edit by hand:",
        "# regenerating it is a deliberate act (new versions, new hashes), reviewed like code.",
    ]
    if command:
        lines.append(f"# Regenerate with: {command}")
    lines += [
        f"lock_version: {LOCK_VERSION}",
        f"name: {_q(name)}",
        f"architecture: {_q(closure.architecture)}",
        f"recommends: {'true' if closure.recommends else 'false'}",
        f"requested: {_q(list(closure.requested))}",
        "base:",
    ]
    for key in sorted(base):
        lines.append(f"  {key}: {_q(base[key])}")
    lines.append("sources:")
    for source in sources:
        lines.append(f"  - {_q({k: source[k] for k in ('url', 'suite', 'components', 'date') if k in source})}")
    lines.append(f"total_size: {closure.total_size}")
    lines.append("packages:")
    entries = lock_entries(closure)
    if not entries:
        lines[-1] = "packages: []"
    for entry in entries:
        lines.append("  - {" + ", ".join(f"{_q(k)}: {_q(entry[k])}" for k in PACKAGE_KEYS) + "}")
    return "\n".join(lines) + "\n"


def validate_lock(data: t.Any) -> dict[str, t.Any]:
    """Check a parsed lock (from YAML) and return it; raise ``malformed_lock`` naming the first problem."""

    def bad(msg: str) -> DebClosureError:
        return DebClosureError(f"invalid lock: {msg}", failure_reason="malformed_lock")

    if not isinstance(data, dict):
        raise bad("expected a mapping at the top level")
    if data.get("lock_version") != LOCK_VERSION:
        raise bad(f"lock_version must be {LOCK_VERSION}, got {data.get('lock_version')!r}")
    arch = data.get("architecture")
    if not isinstance(arch, str) or not _NAME_RE.match(arch):
        raise bad(f"architecture {arch!r} is not an architecture name")
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise bad("packages must be a list")
    seen: set[str] = set()
    files: set[str] = set()
    for i, entry in enumerate(packages):
        where = f"packages[{i}]"
        if not isinstance(entry, dict):
            raise bad(f"{where} is not a mapping")
        missing = [k for k in PACKAGE_KEYS[:5] if not entry.get(k)]
        if missing:
            raise bad(f"{where} lacks {', '.join(missing)}")
        name = entry["package"]
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise bad(f"{where}: {name!r} is not a package name")
        try:
            split(str(entry["version"]))
        except DebClosureError as exc:
            raise bad(f"{where} ({name}): {exc.message}") from None
        if entry["architecture"] not in (arch, "all"):
            raise DebClosureError(
                f"invalid lock: {name} is for architecture {entry['architecture']!r}, the lock for {arch!r}",
                failure_reason="architecture_mismatch",
            )
        if not re.fullmatch(r"[0-9a-f]{64}", str(entry["sha256"])):
            raise bad(f"{where} ({name}): sha256 must be 64 lowercase hex digits")
        if not isinstance(entry["filename"], str) or not _FILE_RE.match(entry["filename"]):
            raise bad(f"{where} ({name}): filename {entry['filename']!r} must be a plain *.deb file name")
        if name in seen:
            raise bad(f"{name} is listed twice")
        if entry["filename"] in files:
            raise bad(f"file {entry['filename']} is listed twice")
        seen.add(name)
        files.add(entry["filename"])
    return data


def sha256sums(data: t.Mapping[str, t.Any]) -> str:
    """The ``sha256sum -c`` input that checks every file of a (validated) lock."""
    return "".join(f"{entry['sha256']}  {entry['filename']}\n" for entry in data["packages"])
