# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Reading packages back: one manifest with its retention state, or all of them. No Ansible.

Shared by fetch, info, verify, retention and the collector, so that every module reads a
package -- and reports a missing or damaged one -- the same way.
"""

from __future__ import annotations

import dataclasses
import json
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import manifest, paths, retention
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store, parse_time
from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError

PACKAGE_NOT_FOUND = "package_not_found"
MANIFEST_CORRUPT = "manifest_corrupt"


@dataclasses.dataclass
class Package:
    package_id: str
    manifest: dict[str, t.Any]
    manifest_digest: str
    state: dict[str, t.Any]
    state_stored: bool  # False: the retention document is missing, the class default applies
    state_readable: bool = True


def _state(
    data: bytes | None, document: t.Mapping[str, t.Any], table: t.Mapping[str, int | None]
) -> tuple[dict[str, t.Any], bool, bool]:
    if data is None:
        return retention.state_for_manifest(document, table), False, True
    try:
        return retention.parse_state(json.loads(data.decode("utf-8")), document["package_id"]), True, True
    except (ValueError, UnicodeDecodeError):
        return retention.state_for_manifest(document, table), True, False


def load(store: Store, package_id: str, table: t.Mapping[str, int | None]) -> Package:
    """One package; raises ``package_not_found`` / ``manifest_corrupt``."""
    paths.check_package_id(package_id)
    data = store.get(store.manifest_key(package_id))
    if data is None:
        raise OperationError(
            f"Package {package_id} does not exist in bucket '{store.bucket}' (prefix '{store.prefix}')",
            failure_reason=PACKAGE_NOT_FOUND,
            details={"package_id": package_id},
        )
    try:
        document = manifest.parse(data, package_id=package_id)
    except manifest.ManifestError as exc:
        raise OperationError(
            f"The manifest of package {package_id} is damaged: {exc}",
            failure_reason=MANIFEST_CORRUPT,
            details={"package_id": package_id},
        ) from None
    state, stored, readable = _state(store.get(store.retention_key(package_id)), document, table)
    return Package(package_id, document, manifest.digest_of_bytes(data), state, stored, readable)


@dataclasses.dataclass
class Catalog:
    """Every package of a store, read at one point in time."""

    packages: dict[str, Package]
    unreadable: dict[str, str]  # package_id (or key) -> why
    orphan_retention: dict[str, float]  # package_id -> modified, for retention documents without manifest


def load_all(store: Store, table: t.Mapping[str, int | None]) -> Catalog:
    """Every manifest and retention document (read in parallel)."""
    manifest_keys: dict[str, str] = {}
    for entry in store.list_area(paths.PACKAGES):
        pid = paths.package_id_of_manifest_key(store.prefix, entry.key)
        if pid is not None:
            manifest_keys[pid] = entry.key
    retention_entries: dict[str, tuple[str, float]] = {}
    for entry in store.list_area(paths.RETENTION):
        pid = paths.package_id_of_retention_key(store.prefix, entry.key)
        if pid is not None:
            retention_entries[pid] = (entry.key, parse_time(entry.last_modified))
    bodies = store.get_many(list(manifest_keys.values()))
    states = store.get_many([retention_entries[p][0] for p in manifest_keys if p in retention_entries])
    packages: dict[str, Package] = {}
    unreadable: dict[str, str] = {}
    for pid, key in manifest_keys.items():
        data = bodies.get(key)
        if data is None:
            continue  # deleted in between
        try:
            document = manifest.parse(data, package_id=pid)
        except manifest.ManifestError as exc:
            unreadable[pid] = str(exc)
            continue
        state_data = states.get(retention_entries[pid][0]) if pid in retention_entries else None
        state, stored, readable = _state(state_data, document, table)
        packages[pid] = Package(pid, document, manifest.digest_of_bytes(data), state, stored, readable)
    orphans = {pid: modified for pid, (_key, modified) in retention_entries.items() if pid not in manifest_keys}
    return Catalog(packages, unreadable, orphans)


def summary(package: Package, now: float) -> dict[str, t.Any]:
    """What info lists for a package."""
    document = package.manifest
    state = package.state
    return {
        "package_id": package.package_id,
        "manifest_digest": package.manifest_digest,
        "name": document["name"],
        "producer": document["producer"],
        "subject": document["subject"],
        "metadata": document["metadata"],
        "created_at": document["created_at"],
        "algorithm": document["algorithm"],
        "file_count": len(document["files"]),
        "size": manifest.total_size(document),
        "retention_class": state["retention_class"],
        "expires_at": state["expires_at"],
        "holds": [dict(h) for h in state["holds"]],
        "held": retention.is_held(state),
        "expired": retention.is_expired(state, now),
        "eligible_for_gc": retention.is_eligible(state, now) and package.state_readable,
    }
