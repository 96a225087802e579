# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Push: local files -> one package (blobs first, retention state, manifest last). No Ansible.

1. Hash every file locally (one read per file).
2. Build the manifest; its identity gives the package id. A manifest already stored under that
   id means the package exists: nothing is written (``changed=false``).
3. Write an intent naming every blob and the package, wait for collectors running now
   (:mod:`.coordination`), HEAD the blobs, upload the missing ones in parallel (multipart for
   large files, each body checked by the server through ``Content-MD5``).
4. Write the retention state, then the manifest, then delete the intent.

A failure leaves at most blobs (and a retention document) without a manifest: the collector
removes them once they are older than its grace window.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as _dt
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import coordination, manifest, options, retention
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    MISSING_DEPENDENCY,
    InputError,
    OperationError,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, absent, present
from ansible_collections.cellar.garage.plugins.module_utils._s3 import transfer
from ansible_collections.cellar.garage.plugins.module_utils._sizes import parse_size

DEFAULT_GC_WAIT = 900


@dataclasses.dataclass(frozen=True)
class PushSpec:
    files: tuple[tuple[str, str], ...]
    name: str
    producer: str
    subject: str
    metadata: t.Mapping[str, str]
    retention_class: str
    algorithm: str
    durations: t.Mapping[str, int | None]
    actor: str
    workers: int
    part_size: int
    threshold: int
    gc_wait: float


def spec_from_params(params: t.Mapping[str, t.Any], table: t.Mapping[str, int | None]) -> PushSpec:
    problems: list[str] = []
    files: list[tuple[str, str]] = []
    src = list(params.get("src") or [])
    if not src:
        problems.append("src must name a directory or at least one file")
    else:
        try:
            files = manifest.collect_files(src)
        except ValueError as exc:
            problems.append(f"src: {exc}")
        else:
            if not files:
                problems.append(f"src '{src[0]}' holds no file")
    for option in ("name", "producer"):
        if not str(params.get(option) or "").strip():
            problems.append(f"{option} must not be empty")
    retention_class = params.get("retention_class") or ""
    if retention_class not in retention.CLASSES:
        problems.append(f"retention_class must be one of {', '.join(retention.CLASSES)}")
    metadata: dict[str, str] = {}
    for key, value in (params.get("metadata") or {}).items():
        if isinstance(value, (dict, list)) or value is None:
            problems.append(f"metadata '{key}': values must be strings, numbers or booleans")
        else:
            metadata[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    workers = int(params.get("workers") or DEFAULT_WORKERS)
    if not 1 <= workers <= 64:
        problems.append(f"workers must be between 1 and 64, got {workers}")
    part_size = threshold = transfer.DEFAULT_PART_SIZE
    try:
        part_size = parse_size(params.get("part_size") or "8MiB")
        threshold = parse_size(params.get("multipart_threshold") or "8MiB")
    except ValueError as exc:
        problems.append(str(exc))
    if part_size < transfer.MIN_PART_SIZE:
        problems.append("part_size must be at least 1 MiB")
    algorithm = params.get("algorithm") or "sha256"
    if problems:
        raise InputError("; ".join(problems))
    if algorithm == "blake3" and not manifest.blake3_available():
        raise OperationError(
            "algorithm=blake3 needs the Python package 'blake3' on the host the module runs on "
            "(pip install blake3), or use algorithm=sha256",
            failure_reason=MISSING_DEPENDENCY,
        )
    return PushSpec(
        files=tuple(files),
        name=str(params["name"]),
        producer=str(params["producer"]),
        subject=str(params.get("subject") or ""),
        metadata=metadata,
        retention_class=retention_class,
        algorithm=algorithm,
        durations=table,
        actor=options.actor(params),
        workers=workers,
        part_size=part_size,
        threshold=threshold,
        gc_wait=float(DEFAULT_GC_WAIT if params.get("gc_wait") is None else int(params["gc_wait"])),
    )


DEFAULT_WORKERS = 16


def package_view(document: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The managed view of a package (diff): identity, file count and size."""
    return present(
        {
            "package_id": document["package_id"],
            "name": document["name"],
            "producer": document["producer"],
            "subject": document["subject"],
            "retention_class": document["retention_class"],
            "metadata": dict(document["metadata"]),
            "file_count": len(document["files"]),
            "size": manifest.total_size(document),
        }
    )


def push(store: Store, spec: PushSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """See the module docstring; the result carries ``duration_seconds``."""
    started = time.monotonic()
    outcome = _push(store, spec, dry_run=dry_run, access_key_id=access_key_id)
    return outcome.with_result(duration_seconds=round(time.monotonic() - started, 3))


def _push(store: Store, spec: PushSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    clock = Phases()
    entries = manifest.hash_files(spec.files, spec.algorithm, workers=min(4, spec.workers))
    clock.done("hash")
    created_at = retention.timestamp(_dt.datetime.now(_dt.timezone.utc))
    document = manifest.build(
        files=entries,
        name=spec.name,
        producer=spec.producer,
        subject=spec.subject,
        metadata=spec.metadata,
        retention_class=spec.retention_class,
        algorithm=spec.algorithm,
        created_at=created_at,
    )
    package_id = document["package_id"]
    store.check(access_key_id)
    warnings: list[str] = []
    stored = store.get(store.manifest_key(package_id))
    if stored is not None:
        try:
            existing = manifest.parse(stored, package_id=package_id)
        except manifest.ManifestError as exc:
            warnings.append(f"The stored manifest of package {package_id} is damaged ({exc}): it is written again")
        else:
            return Outcome.unchanged(
                package_view(existing),
                package_id=package_id,
                manifest_digest=manifest.digest_of_bytes(stored),
                created_at=existing["created_at"],
                exists=True,
                upload={"count": 0, "bytes": 0, "blobs": []},
                reused={"count": len(manifest.digests(existing)), "bytes": 0},
            )
    # One blob per distinct content.
    blobs: dict[str, manifest.FileEntry] = {}
    local: dict[str, str] = {}
    for entry, (_rel, path) in zip(entries, spec.files):
        if entry.digest not in blobs:
            blobs[entry.digest] = entry
            local[entry.digest] = path
    keys = {store.blob_key(d): d for d in blobs}
    after = package_view(document)
    if dry_run:
        missing = _missing(store, keys, blobs)
        return Outcome(
            before=absent(),
            after=after,
            result=_result(package_id, None, created_at, blobs, missing),
            warnings=tuple(warnings),
        )
    data = manifest.encode(document)
    with coordination.Intent(store, kind="push", blobs=blobs, packages=[package_id]) as intent:
        coordination.wait_for_collectors(store, intent, timeout=spec.gc_wait)
        clock.done("intent")
        missing = _missing(store, keys, blobs)
        clock.done("check")
        try:
            _upload(store, spec, [blobs[d] for d in missing], local, intent)
        except OperationError as exc:
            exc.changed = True
            exc.details.setdefault("package_id", package_id)
            raise
        state = retention.initial_state(package_id, created_at, spec.retention_class, spec.durations, spec.actor)
        clock.done("upload")
        store.put(store.retention_key(package_id), manifest.encode(state))
        store.put(store.manifest_key(package_id), data)
    clock.done("manifest")
    return Outcome(
        before=absent(),
        after=after,
        result={
            **_result(package_id, manifest.digest_of_bytes(data), created_at, blobs, missing),
            "phases": clock.phases,
        },
        warnings=tuple(warnings),
    )


class Phases:
    """Seconds spent in each phase of a push (reported as ``phases``: where the time goes)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = time.monotonic()

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = round(now - self._last, 3)
        self._last = now


def _missing(store: Store, keys: t.Mapping[str, str], blobs: t.Mapping[str, manifest.FileEntry]) -> list[str]:
    heads = store.head_blobs(keys)
    return sorted(keys[key] for key, head in heads.items() if head is None or head.size != blobs[keys[key]].size)


def _result(
    package_id: str,
    manifest_digest: str | None,
    created_at: str,
    blobs: t.Mapping[str, manifest.FileEntry],
    missing: t.Sequence[str],
) -> dict[str, t.Any]:
    reused = [d for d in blobs if d not in set(missing)]
    return {
        "package_id": package_id,
        "manifest_digest": manifest_digest,
        "created_at": created_at,
        "exists": False,
        "upload": {
            "count": len(missing),
            "bytes": sum(blobs[d].size for d in missing),
            "blobs": [{"digest": d, "size": blobs[d].size, "path": blobs[d].path} for d in missing],
        },
        "reused": {"count": len(reused), "bytes": sum(blobs[d].size for d in reused)},
    }


#: Large files uploaded at the same time (each with its own parts in flight): bounds memory to
#: LARGE_AT_ONCE * (part workers + 1) * part_size.
LARGE_AT_ONCE = 2


def _upload(
    store: Store,
    spec: PushSpec,
    entries: t.Sequence[manifest.FileEntry],
    local: t.Mapping[str, str],
    intent: coordination.Intent,
) -> None:
    """Small blobs ``workers`` at a time and, alongside, large ones LARGE_AT_ONCE at a time with
    their parts in parallel (memory stays under ``LARGE_AT_ONCE * 5 * part_size``)."""
    small = [e for e in entries if e.size <= spec.threshold]
    large = sorted((e for e in entries if e.size > spec.threshold), key=lambda e: -e.size)
    part_workers = max(1, min(4, spec.workers // 2))

    def put_small(entry: manifest.FileEntry) -> None:
        store.upload_blob(entry.digest, local[entry.digest], content_type=entry.media_type, threshold=spec.threshold)

    def put_large(entry: manifest.FileEntry) -> None:
        store.upload_blob(
            entry.digest,
            local[entry.digest],
            content_type=entry.media_type,
            part_size=spec.part_size,
            threshold=spec.threshold,
            workers=part_workers,
        )

    with concurrent.futures.ThreadPoolExecutor(spec.workers, thread_name_prefix="cellar-push") as pool:
        with concurrent.futures.ThreadPoolExecutor(LARGE_AT_ONCE, thread_name_prefix="cellar-push-large") as big:
            futures = [big.submit(put_large, e) for e in large] + [pool.submit(put_small, e) for e in small]
            try:
                for future in concurrent.futures.as_completed(futures):
                    future.result()
                    intent.refresh_if_due()
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
