# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Info (list packages, show one) and verify (re-read blobs, recompute digests). No Ansible."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import random
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import manifest, paths, reading
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._errors import MISSING_DEPENDENCY, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import BOTOCORE_ERRORS, http_status, s3_context

ARTIFACTS_DAMAGED = "artifacts_damaged"


@dataclasses.dataclass(frozen=True)
class Filters:
    producer: str | None = None
    subject: str | None = None
    name: str | None = None
    retention_class: str | None = None
    expired: bool | None = None
    held: bool | None = None

    def match(self, item: t.Mapping[str, t.Any]) -> bool:
        for field in ("producer", "subject", "name", "retention_class", "expired", "held"):
            wanted = getattr(self, field)
            if wanted is not None and item[field] != wanted:
                return False
        return True


def info(
    store: Store,
    *,
    package_id: str | None,
    filters: Filters,
    table: t.Mapping[str, int | None],
    access_key_id: str | None = None,
) -> dict[str, t.Any]:
    store.check(access_key_id)
    now = store.server_now()
    if package_id is not None:
        try:
            package = reading.load(store, package_id, table)
        except OperationError as exc:
            if exc.failure_reason == reading.PACKAGE_NOT_FOUND:
                return {"exists": False, "package": {}, "packages": []}
            raise
        item = reading.summary(package, now)
        return {
            "exists": True,
            "package": {**item, "files": package.manifest["files"], "retention": package.state},
            "packages": [item],
        }
    catalog = reading.load_all(store, table)
    items = [reading.summary(p, now) for p in catalog.packages.values()]
    items = sorted((i for i in items if filters.match(i)), key=lambda i: (i["created_at"], i["package_id"]))
    result: dict[str, t.Any] = {"packages": items, "count": len(items)}
    if catalog.unreadable:
        result["unreadable"] = [{"package_id": k, "error": v} for k, v in sorted(catalog.unreadable.items())]
    return result


# --------------------------------------------------------------------------- verify


def _read_digest(store: Store, key: str, algorithm: str) -> tuple[str, int] | None:
    """``(<algorithm>:<hex>, size)`` of a stored blob, streamed; None when it is missing."""
    hasher = manifest.new_hasher(algorithm)
    size = 0
    with s3_context("read", "blob", key, failure_reason="artifact_read_failed"):
        try:
            response = store.client.get_object(Bucket=store.bucket, Key=key)
        except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
            if http_status(exc) == 404:
                return None
            raise
        body = response["Body"]
        try:
            for block in iter(lambda: body.read(manifest.READ_CHUNK), b""):
                hasher.update(block)
                size += len(block)
        finally:
            body.close()
    return f"{algorithm}:{hasher.hexdigest()}", size


def verify(
    store: Store,
    *,
    package_id: str | None,
    sample: int | None,
    table: t.Mapping[str, int | None],
    access_key_id: str | None = None,
    seed: int | None = None,
) -> dict[str, t.Any]:
    """Re-read blobs and report ``missing`` / ``corrupt`` ones and the ``broken_packages``."""
    store.check(access_key_id)
    users: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    damaged_manifests: list[dict[str, str]] = []
    if package_id is not None:
        packages = {package_id: reading.load(store, package_id, table)}
    else:
        catalog = reading.load_all(store, table)
        packages = catalog.packages
        damaged_manifests = [{"package_id": k, "error": v} for k, v in sorted(catalog.unreadable.items())]
    for pid, package in packages.items():
        for digest, size in manifest.digests(package.manifest).items():
            users.setdefault(digest, set()).add(pid)
            sizes[digest] = size
    if package_id is None and sample is None:
        # Every stored blob, referenced or not.
        for entry in store.list_area(paths.BLOBS):
            stored = paths.digest_of_blob_key(store.prefix, entry.key)
            if stored is not None:
                users.setdefault(stored, set())
    digests = sorted(users)
    if sample is not None and sample < len(digests):
        digests = sorted(random.Random(seed).sample(digests, sample))
    if any(paths.split_digest(d)[0] == "blake3" for d in digests) and not manifest.blake3_available():
        raise OperationError(
            "Some blobs use blake3 digests: install the Python package 'blake3' on this host",
            failure_reason=MISSING_DEPENDENCY,
        )

    def check(digest: str) -> tuple[str, tuple[str, int] | None]:
        return digest, _read_digest(store, store.blob_key(digest), paths.split_digest(digest)[0])

    missing: list[dict[str, t.Any]] = []
    corrupt: list[dict[str, t.Any]] = []
    checked_bytes = 0
    with concurrent.futures.ThreadPoolExecutor(store.workers, thread_name_prefix="cellar-verify") as pool:
        for digest, found in pool.map(check, digests):
            refs = sorted(users[digest])
            if found is None:
                missing.append({"digest": digest, "key": store.blob_key(digest), "packages": refs})
                continue
            actual, size = found
            checked_bytes += size
            if actual != digest or (digest in sizes and size != sizes[digest]):
                corrupt.append(
                    {
                        "digest": digest,
                        "key": store.blob_key(digest),
                        "actual_digest": actual,
                        "size": size,
                        "packages": refs,
                    }
                )
    broken = sorted({p for item in missing + corrupt for p in item["packages"]})
    broken += sorted(d["package_id"] for d in damaged_manifests)
    return {
        "ok": not (missing or corrupt or damaged_manifests),
        "checked": {"blobs": len(digests), "bytes": checked_bytes, "packages": len(packages)},
        "missing": missing,
        "corrupt": corrupt,
        "damaged_manifests": damaged_manifests,
        "broken_packages": broken,
    }


def verify_failure(report: t.Mapping[str, t.Any]) -> OperationError:
    what = []
    if report["missing"]:
        what.append(f"{len(report['missing'])} missing blob(s)")
    if report["corrupt"]:
        what.append(f"{len(report['corrupt'])} corrupt blob(s)")
    if report["damaged_manifests"]:
        what.append(f"{len(report['damaged_manifests'])} damaged manifest(s)")
    return OperationError(
        f"Verification found {', '.join(what)}, breaking {len(report['broken_packages'])} package(s): "
        f"{', '.join(report['broken_packages'][:5])}",
        failure_reason=ARTIFACTS_DAMAGED,
        details=dict(report),
    )
