# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``garage_customer_bucket``: a bucket the customer sees under its own name, and its admin key.

No Ansible here. :func:`build` reads Garage and returns a :class:`Plan`: the saga of steps this
run needs and how to report it; ``plan.run(dry_run=...)`` runs it.

present (``display_name``, ``key_name``):

- not provisioned yet: create the bucket with a throwaway global alias (Garage wants a name at
  creation), create the admin key, grant it read/write/owner, attach ``display_name`` as a local
  alias in that key's namespace, remove the throwaway alias, prove the key works (a signed S3
  request), store the credentials in OpenBao when asked. A failure undoes what was done, in
  reverse (the key, then the bucket).
- provisioned (the key named ``key_name`` reaches a bucket through its local alias
  ``display_name``): make sure the key still holds read/write/owner, no throwaway alias is left,
  and OpenBao (when asked) holds the key's credentials. Nothing is written when all that holds.

absent (``bucket_id``): refuse a bucket that is not empty (nothing changed); attach a temporary
global alias when the bucket has none, detach every local alias, delete the bucket (a failure
up to here re-attaches and detaches again), then delete every key that the bucket's removal
leaves without any bucket. A key whose delete fails is reported in ``manual_cleanup_required``
and does not fail the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError, describe
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import aliases, buckets, keys
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import FLAGS, permissions_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, Undo, present
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaResult, Step, StepContext
from ansible_collections.cellar.garage.plugins.module_utils._tenants import common
from ansible_collections.cellar.garage.plugins.module_utils._tenants.common import Info, Plan, Services

#: Global aliases this orchestration gives a bucket for a moment (creation, deletion).
THROWAWAY_PREFIX = "cellar-tmp-"
THROWAWAY_RE = re.compile(r"^cellar-tmp-[0-9a-f]{16}$")
TEMPORARY_PREFIX = "cellar-del-"


@dataclasses.dataclass(frozen=True)
class Request:
    state: str
    display_name: str | None = None
    key_name: str | None = None
    bucket_id: str | None = None


def request_from_params(params: t.Mapping[str, t.Any]) -> Request:
    """Validate the module's options (before any call). Raises :class:`InputError`."""
    state = params.get("state") or "present"
    if state == "absent":
        if params.get("bucket_id") is None:
            raise InputError("state=absent needs bucket_id (the id returned when the bucket was provisioned)")
        return Request(state=state, bucket_id=common.check_bucket_id("bucket_id", params["bucket_id"]))
    if params.get("display_name") is None or params.get("key_name") is None:
        raise InputError("state=present needs display_name and key_name")
    return Request(
        state=state,
        display_name=common.check_alias("display_name", params["display_name"]),
        key_name=common.check_key_name("key_name", params["key_name"]),
    )


def build(services: Services, request: Request) -> Plan:
    if request.state == "absent":
        return _build_absent(services, t.cast(str, request.bucket_id))
    display_name, key_name = t.cast(str, request.display_name), t.cast(str, request.key_name)
    key = common.read_key_by_name(services.admin, key_name)
    if key is None:
        return _build_create(services, display_name, key_name)
    return _build_converge(services, display_name, key_name, key)


def run(services: Services, request: Request, *, dry_run: bool) -> Outcome:
    return build(services, request).run(dry_run=dry_run)


# --------------------------------------------------------------------------- present: create


def throwaway_alias(display_name: str, key_name: str) -> str:
    """The throwaway global alias of a creation: the same for the same request, so that check mode
    shows what the run does, and a throwaway left by a failed run is recognised."""
    digest = hashlib.sha256(f"{key_name}\0{display_name}".encode()).hexdigest()
    return THROWAWAY_PREFIX + digest[:16]


def _build_create(services: Services, display_name: str, key_name: str) -> Plan:
    throwaway = throwaway_alias(display_name, key_name)

    def bucket_id(ctx: StepContext | common.Finished) -> str | None:
        return t.cast("str | None", (ctx.outcomes["create_bucket"].result.get("bucket") or {}).get("id"))

    def key_id(ctx: StepContext) -> str | None:
        return common.created_key(ctx, "create_admin_key")[0]

    steps = [
        Step(
            "create_bucket",
            "bucket_create_failed",
            lambda ctx: buckets.create(services.admin, buckets.BucketSpec(name=throwaway), dry_run=ctx.dry_run),
        ),
        common.create_key_step(services, key_name, step="create_admin_key", reason="admin_key_create_failed"),
        common.grant_step(
            services,
            step="grant_permissions",
            reason="permission_grant_failed",
            bucket_id=bucket_id,
            key_id=key_id,
            flags=common.TIERS["owner"],
            covered_by="the admin key's permissions go with it",
        ),
        common.attach_local_alias_step(
            services,
            step="attach_local_alias",
            reason="local_alias_attach_failed",
            alias=display_name,
            bucket_id=bucket_id,
            key_id=key_id,
            covered_by=f"the local alias '{display_name}' goes with the admin key",
        ),
        Step(
            "remove_throwaway_alias",
            "unalias_throwaway_failed",
            lambda ctx: common.covered(
                _remove_global_alias(services, throwaway, bucket_id(ctx), ctx),
                "the throwaway alias stays removed: the bucket goes",
                ctx,
            ),
        ),
    ]
    if services.s3 is not None:
        steps.append(
            common.verify_step(
                services,
                step="verify_key",
                reason="key_verify_failed",
                alias=display_name,
                key=lambda ctx: common.created_key(ctx, "create_admin_key"),
            )
        )
    if services.stores_credentials:
        steps.append(
            common.store_step(
                services,
                step="store_credentials",
                data=lambda ctx: common.credentials(
                    key_id=key_id(ctx),
                    secret=common.created_key(ctx, "create_admin_key")[1],
                    bucket_id=bucket_id(ctx),
                    bucket=display_name,
                    key_name=key_name,
                ),
            )
        )

    def report(result: SagaResult, dry_run: bool) -> Outcome:
        key_id_, secret = common.created_key(common.Finished(result), "create_admin_key")
        extra: dict[str, t.Any] = {}
        if secret and not services.stores_credentials:
            extra["secret_access_key"] = secret
        return result.outcome(
            bucket_id=bucket_id(common.Finished(result)),
            access_key_id=key_id_,
            key_name=key_name,
            display_name=display_name,
            created=True,
            **common.stored(result),
            **extra,
        )

    return Plan(Saga(steps), report)


def _remove_throwaway_step(services: Services, name: str, alias: str, bucket_id: str) -> Step:
    return Step(name, "unalias_throwaway_failed", lambda ctx: _remove_global_alias(services, alias, bucket_id, ctx))


def _remove_global_alias(services: Services, alias: str, bucket_id: str | None, ctx: StepContext) -> Outcome:
    if bucket_id is None:  # check mode: the bucket is not created
        identity = {"alias": alias, "bucket_id": None, "access_key_id": None}
        return Outcome(before=present(identity), after=ABSENT, result={"alias": {**identity, "state": "absent"}})
    spec = aliases.AliasSpec(alias=alias, bucket=aliases.BucketRef(bucket_id=bucket_id), state="absent")
    return aliases.ensure(services.admin, spec, dry_run=ctx.dry_run)


# --------------------------------------------------------------------------- present: converge


def _build_converge(services: Services, display_name: str, key_name: str, key: Info) -> Plan:
    key_id = common.key_id_of(key)
    entry = common.entry_with_local_alias(key, display_name)
    if entry is None:
        raise common.key_name_taken(key_name, key_id, f"it has no local alias '{display_name}'")
    bucket_id = t.cast(str, entry["id"])
    info = common.read_bucket(services.admin, bucket_id)
    if info is None:
        raise OperationError(
            f"Bucket {bucket_id} of key '{key_name}' disappeared while it was read; run again",
            failure_reason=common.BUCKET_NOT_FOUND,
        )
    current = permissions_view(entry.get("permissions"))
    steps = common.converge_grant_steps(
        services,
        step="grant_permissions",
        reason="permission_grant_failed",
        bucket_id=bucket_id,
        key_id=key_id,
        flags=common.TIERS["owner"],
        current=current,
    )
    for alias in sorted(a for a in info.get("globalAliases") or [] if THROWAWAY_RE.match(a)):
        steps.append(_remove_throwaway_step(services, f"remove_throwaway_alias_{alias}", alias, bucket_id))
    if services.stores_credentials:
        secret = common.secret_of(services.admin, key_id, services.on_secret)
        data = common.credentials(
            key_id=key_id, secret=secret, bucket_id=bucket_id, bucket=display_name, key_name=key_name
        )
        steps.append(common.store_step(services, step="store_credentials", data=lambda ctx: data))

    def report(result: SagaResult, dry_run: bool) -> Outcome:
        return result.outcome(
            bucket_id=bucket_id,
            access_key_id=key_id,
            key_name=key_name,
            display_name=display_name,
            created=False,
            **common.stored(result),
        )

    return Plan(Saga(steps), report)


# --------------------------------------------------------------------------- absent


def _build_absent(services: Services, bucket_id: str) -> Plan:
    admin = services.admin
    info = common.read_bucket(admin, bucket_id)
    if info is None:
        return Plan(
            Saga([]), lambda result, dry_run: Outcome.unchanged(ABSENT, bucket_id=bucket_id, deleted_keys=[], steps=[])
        )
    view = buckets.bucket_view(info)
    objects = int(info.get("objects") or 0)
    if objects or int(info.get("unfinishedUploads") or 0):
        raise buckets.not_empty_error(bucket_id, view, objects)
    local = [
        (common.key_id_of(k), a) for k in info.get("keys") or [] for a in sorted(k.get("bucketLocalAliases") or [])
    ]
    # Keys that reach no other bucket are deleted with it: read each one before anything changes.
    related = sorted({common.key_id_of(k) for k in info.get("keys") or []})
    orphans: list[Info] = []
    for kid in related:
        key = common.read_key_by_id(admin, kid)
        if key is not None and all(b.get("id") == bucket_id for b in key.get("buckets") or []):
            orphans.append(key)

    steps: list[Step] = []
    if not info.get("globalAliases"):
        temporary = TEMPORARY_PREFIX + bucket_id[:16]
        steps.append(
            Step(
                "attach_temporary_alias",
                "temporary_alias_attach_failed",
                lambda ctx: _global_alias(services, temporary, bucket_id, "present", ctx),
            )
        )
    for number, (kid, alias) in enumerate(local, start=1):
        steps.append(_detach_step(services, f"detach_local_alias_{number}", alias, bucket_id, kid))
    steps.append(
        Step(
            "delete_bucket",
            "bucket_delete_failed",
            lambda ctx: buckets.ensure_absent(
                admin, buckets.BucketSpec(bucket_id=bucket_id), info, dry_run=ctx.dry_run
            ),
        )
    )
    for number, key in enumerate(orphans, start=1):
        steps.append(_delete_orphan_step(services, f"delete_orphan_key_{number}", key))

    def report(result: SagaResult, dry_run: bool) -> Outcome:
        left = [o.result["left"] for o in result.outcomes.values() if o.result.get("left")]
        deleted = [o.result["deleted_key"] for o in result.outcomes.values() if o.result.get("deleted_key")]
        outcome = result.outcome(
            bucket_id=bucket_id, deleted_keys=deleted, **({"manual_cleanup_required": left} if left else {})
        )
        return outcome.with_warnings(*(f"{item['action']}: {item['error']}" for item in left))

    return Plan(Saga(steps), report)


def _global_alias(services: Services, alias: str, bucket_id: str, state: str, ctx: StepContext) -> Outcome:
    spec = aliases.AliasSpec(alias=alias, bucket=aliases.BucketRef(bucket_id=bucket_id), state=state)
    outcome = aliases.ensure(services.admin, spec, dry_run=ctx.dry_run)
    if not outcome.changed or ctx.dry_run:
        return outcome
    return outcome.with_undo(
        Undo(
            f"remove the global alias '{alias}' of bucket {bucket_id}",
            lambda: aliases.ensure(services.admin, dataclasses.replace(spec, state="absent"), dry_run=False),
            {"resource": "global_alias", "alias": alias, "bucket_id": bucket_id},
            done=f"the temporary global alias '{alias}' was removed again",
        )
    )


def _detach_step(services: Services, name: str, alias: str, bucket_id: str, key_id: str) -> Step:
    return Step(name, "local_alias_detach_failed", lambda ctx: _detach_local(services, alias, bucket_id, key_id, ctx))


def _delete_orphan_step(services: Services, name: str, key: Info) -> Step:
    return Step(name, "key_delete_failed", lambda ctx: _delete_orphan(services, key, ctx))


def _detach_local(services: Services, alias: str, bucket_id: str, key_id: str, ctx: StepContext) -> Outcome:
    spec = aliases.AliasSpec(
        alias=alias, bucket=aliases.BucketRef(bucket_id=bucket_id), key=aliases.KeyRef(key_id=key_id), state="absent"
    )
    outcome = aliases.ensure(services.admin, spec, dry_run=ctx.dry_run)
    if not outcome.changed or ctx.dry_run:
        return outcome
    return outcome.with_undo(
        Undo(
            f"attach the local alias '{alias}' of key {key_id} to bucket {bucket_id} again",
            lambda: aliases.ensure(services.admin, dataclasses.replace(spec, state="present"), dry_run=False),
            {"resource": "local_alias", "alias": alias, "access_key_id": key_id, "bucket_id": bucket_id},
            done=f"the local alias '{alias}' of key {key_id} was attached again",
        )
    )


def _delete_orphan(services: Services, key: Info, ctx: StepContext) -> Outcome:
    """Past the bucket's deletion nothing is rolled back: a failed key delete is reported, not raised."""
    kid = common.key_id_of(key)
    spec = keys.KeySpec(key_id=kid, state="absent")
    try:
        outcome = keys.ensure_absent(services.admin, spec, key, dry_run=ctx.dry_run)
    except OperationError as exc:
        left = {
            "resource": "key",
            "access_key_id": kid,
            "name": key.get("name"),
            "action": f"delete key '{key.get('name')}' ({kid}), which no bucket uses any more",
            "error": describe(exc),
        }
        return Outcome.unchanged(present({"id": kid}), left=left)
    return outcome.with_result(deleted_key={"access_key_id": kid, "name": key.get("name")})


__all__ = ["FLAGS", "Plan", "Request", "build", "request_from_params", "run"]
