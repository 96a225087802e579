# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The collector (sweep + collect) and retention changes: the I/O around :func:`.gc.plan`. No Ansible.

Collector, in this order (docs/artifacts.md explains why the order matters):

1. write its lock; stand down if another collector is live;
2. read the intents of writers in flight, then every manifest and retention document, then
   list the blobs;
3. :func:`.gc.plan` decides;
4. delete the manifests of eligible packages, then retention documents, then blobs, then stale
   intents -- refreshing the lock between steps (and stopping if it could not be kept fresh);
5. delete its lock.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import (
    coordination,
    gc,
    manifest,
    paths,
    reading,
    retention,
)
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store, parse_time
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, present
from ansible_collections.cellar.garage.plugins.module_utils._s3 import batch
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import PARTIAL_FAILURE


@dataclasses.dataclass(frozen=True)
class GcSpec:
    grace: float
    durations: t.Mapping[str, int | None]


def gc_spec_from_params(params: t.Mapping[str, t.Any], table: t.Mapping[str, int | None]) -> GcSpec:
    try:
        grace = retention.parse_duration(params.get("grace_period") if params.get("grace_period") is not None else "1h")
    except retention.RetentionError as exc:
        raise InputError(f"grace_period: {exc}") from None
    if grace is None:
        raise InputError("grace_period: a grace window cannot be 'never' (nothing would ever be collected)")
    return GcSpec(float(grace), table)


def _view(decision: gc.Plan | None) -> dict[str, t.Any]:
    if decision is None:
        return present({"packages": [], "retention": [], "blobs": [], "intents": []})
    return present(
        {
            "packages": list(decision.packages),
            "retention": list(decision.retention),
            "blobs": list(decision.blobs),
            "intents": list(decision.stale_intents),
        }
    )


def _result(decision: gc.Plan | None, **extra: t.Any) -> dict[str, t.Any]:
    if decision is None:
        return {
            "deleted": {"packages": [], "retention": [], "blobs": [], "intents": []},
            "bytes_freed": 0,
            **extra,
        }
    return {
        "deleted": {
            "packages": list(decision.packages),
            "retention": list(decision.retention),
            "blobs": list(decision.blobs),
            "intents": list(decision.stale_intents),
        },
        "bytes_freed": decision.bytes_freed,
        "kept": {
            "expired_held": list(decision.expired_held),
            "protected_by_intent": list(decision.protected_by_intent),
            "young_unreferenced_blobs": decision.young_unreferenced,
        },
        "blobs_blocked_by": decision.blobs_blocked_by,
        **extra,
    }


def decide(store: Store, spec: GcSpec, now: float) -> gc.Plan:
    """Read the store (intents, then packages, then blobs) and plan (see the module docstring)."""
    intents, bad_intents = coordination.read_intents(store)
    catalog = reading.load_all(store, spec.durations)
    blobs: list[gc.Blob] = []
    for entry in store.list_area(paths.BLOBS):
        digest = paths.digest_of_blob_key(store.prefix, entry.key)
        if digest is not None:
            blobs.append(gc.Blob(digest, entry.size, parse_time(entry.last_modified)))
    return gc.plan(
        now=now,
        grace=spec.grace,
        blobs=blobs,
        packages=[
            gc.Package(pid, manifest.digests(p.manifest), p.state, p.state_readable)
            for pid, p in catalog.packages.items()
        ],
        unreadable_manifests=catalog.unreadable,
        unreadable_intents=bad_intents,
        orphan_retention=catalog.orphan_retention,
        intents=intents,
    )


def collect(store: Store, spec: GcSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    store.check(access_key_id)
    if dry_run:
        decision = decide(store, spec, store.server_now())
        return Outcome(before=_view(decision), after=_view(None), result=_result(decision, skipped=False))
    lock = coordination.Lock(store)
    try:
        others = lock.acquire()
        if others:
            return Outcome.unchanged(
                _view(None),
                **_result(
                    None, skipped=True, skip_reason=f"another collector is running ({', '.join(sorted(others))})"
                ),
            )
        decision = decide(store, spec, store.server_now())
        lock.keep_alive()
        _delete(store, lock, decision)
    finally:
        try:
            lock.release()
        except OperationError:
            pass  # a lock left behind stops writers for LOCK_TTL at most
    return Outcome(before=_view(decision), after=_view(None), result=_result(decision, skipped=False))


def _delete(store: Store, lock: coordination.Lock, decision: gc.Plan) -> None:
    steps: list[tuple[str, list[str]]] = [
        ("manifests", [store.manifest_key(p) for p in decision.packages]),
        ("retention documents", [store.retention_key(p) for p in decision.retention]),
        ("blobs", [store.blob_key(d) for d in decision.blobs]),
        ("stale intents", [paths.inflight_key(store.prefix, tok) for tok in decision.stale_intents]),
    ]
    done: dict[str, int] = {}
    for what, keys in steps:
        if not keys:
            continue
        report = store.delete_keys(_guarded(keys, lock))
        done[what] = report.done
        if report.failed or report.source_error is not None:
            cause = report.source_error
            if isinstance(cause, OperationError):
                cause.changed = True
                cause.details.update({"deleted": done})
                raise cause
            raise OperationError(
                f"Failed to delete {report.failed} of {len(keys)} {what} from bucket '{store.bucket}' "
                f"({report.errors[:3]}); run the collector again",
                failure_reason=PARTIAL_FAILURE,
                changed=True,
                details={"deleted": done, "errors": report.errors},
            )


def _guarded(keys: list[str], lock: coordination.Lock) -> t.Iterator[list[str]]:
    for chunk in batch.chunks(keys):
        lock.keep_alive()
        yield chunk


# --------------------------------------------------------------------------- retention changes


@dataclasses.dataclass(frozen=True)
class RetentionSpec:
    package_id: str
    durations: t.Mapping[str, int | None]
    actor: str
    retention_class: str | None = None
    expires_at: str | None = None
    never_expires: bool = False
    extend_by: int | None = None
    hold: str | None = None
    release_hold: str | None = None
    reason: str | None = None
    gc_wait: float = 900


def retention_spec_from_params(
    params: t.Mapping[str, t.Any], table: t.Mapping[str, int | None], actor: str
) -> RetentionSpec:
    problems: list[str] = []
    package_id = str(params.get("package_id") or "")
    try:
        paths.check_package_id(package_id)
    except ValueError as exc:
        problems.append(str(exc))
    expires_at = params.get("expires_at")
    never = False
    if expires_at is not None and str(expires_at).strip().lower() == "never":
        expires_at, never = None, True
    elif expires_at is not None:
        try:
            expires_at = retention.timestamp(retention.parse_timestamp(str(expires_at)))
        except ValueError as exc:
            problems.append(f"expires_at: {exc}")
    extend_by = None
    if params.get("extend_by") is not None:
        try:
            extend_by = retention.parse_duration(params["extend_by"])
        except retention.RetentionError as exc:
            problems.append(f"extend_by: {exc}")
        if extend_by is None:
            problems.append("extend_by: use expires_at=never for a package that must never expire")
    for option in ("hold", "release_hold"):
        if params.get(option) is not None:
            try:
                retention.check_name(option, params[option])
            except retention.RetentionError as exc:
                problems.append(str(exc))
    if params.get("hold") is not None and params.get("hold") == params.get("release_hold"):
        problems.append("hold and release_hold name the same hold")
    retention_class = params.get("retention_class")
    if retention_class is not None and retention_class not in retention.CLASSES:
        problems.append(f"retention_class must be one of {', '.join(retention.CLASSES)}")
    if problems:
        raise InputError("; ".join(problems))
    return RetentionSpec(
        package_id=package_id,
        durations=table,
        actor=actor,
        retention_class=retention_class,
        expires_at=expires_at,
        never_expires=never,
        extend_by=extend_by,
        hold=params.get("hold"),
        release_hold=params.get("release_hold"),
        reason=params.get("reason"),
        gc_wait=float(900 if params.get("gc_wait") is None else int(params["gc_wait"])),
    )


def _changed_state(package: reading.Package, spec: RetentionSpec, now: str) -> dict[str, t.Any]:
    if not package.state_readable:
        raise OperationError(
            f"The retention document of package {spec.package_id} is damaged; it is not overwritten",
            failure_reason="retention_state_corrupt",
            details={"package_id": spec.package_id},
        )
    return retention.change(
        package.state,
        now=now,
        actor=spec.actor,
        table=spec.durations,
        retention_class=spec.retention_class,
        expires_at=spec.expires_at,
        never_expires=spec.never_expires,
        extend_by=spec.extend_by,
        hold=spec.hold,
        release_hold=spec.release_hold,
        reason=spec.reason,
    )


def change_retention(store: Store, spec: RetentionSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    store.check(access_key_id)
    now = store.server_now()
    stamp = retention.from_epoch(now)
    package = reading.load(store, spec.package_id, spec.durations)
    new = _changed_state(package, spec, stamp)
    before = present(retention.view(package.state))
    after = present(retention.view(new))

    def result(state: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        return {
            "package_id": spec.package_id,
            "retention": dict(state),
            "expired": retention.is_expired(state, now),
            "held": retention.is_held(state),
        }

    if before == after or dry_run:
        return Outcome(before=before, after=after, result=result(new))
    with coordination.Intent(store, kind="retention", packages=[spec.package_id]) as intent:
        coordination.wait_for_collectors(store, intent, timeout=spec.gc_wait)
        package = reading.load(store, spec.package_id, spec.durations)  # a collector may have taken it
        new = _changed_state(package, spec, stamp)
        store.put(store.retention_key(spec.package_id), manifest.encode(new))
    return Outcome(
        before=present(retention.view(package.state)), after=present(retention.view(new)), result=result(new)
    )
