# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Saga steps shared by the tenant orchestrations. No Ansible here.

Every step is built over the existing operations (``_garage_admin.keys``, ``permissions``,
``aliases``, ``_openbao.kv``) and takes the ids it needs from the outcomes of earlier steps
(``None`` in check mode, where nothing is created). What a step creates is undone by the undo of
the step that created the resource: deleting a key also drops its permissions and local aliases,
deleting a bucket drops its aliases, so grant and attach steps need no undo of their own.

A new key's secret lives in the ``create`` step's result (``secret_access_key``) and leaves the
orchestration only through :func:`credentials` (for OpenBao) or the module's return value when
no OpenBao path is given.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    MISSING_DEPENDENCY,
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import aliases, keys, permissions
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import (
    AmbiguousName,
    find_bucket,
    find_key,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    bucket_name_problem,
    is_bucket_id,
    is_key_id,
    name_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import FLAGS
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, Undo, present
from ansible_collections.cellar.garage.plugins.module_utils._s3 import client as s3_client_module
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import is_botocore_error, s3_context
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaResult, Step, StepContext

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient
    from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient

Info = dict[str, t.Any]
Flags = dict[str, bool]

INVALID_KEY_TIER = "invalid_key_tier"
KEY_NAME_TAKEN = "key_name_taken"
BUCKET_NOT_FOUND = "bucket_not_found"
OPENBAO_WRITE_FAILED = "openbao_write_failed"

#: Permission flags of each key tier (``all`` is resolved by the rotation: the old key's flags).
TIERS: dict[str, Flags] = {
    "owner": {"read": True, "write": True, "owner": True},
    "rw": {"read": True, "write": True, "owner": False},
    "ro": {"read": True, "write": False, "owner": False},
}
NO_FLAGS: Flags = {flag: False for flag in FLAGS}

#: Attempts (and the pause between them) of the signed S3 request that proves a new key works:
#: only an authentication refusal is tried again, in case the key is not visible yet.
VERIFY_ATTEMPTS = 4
VERIFY_PAUSE = 0.5


# --------------------------------------------------------------------------- the services


S3Factory = t.Callable[[str, str], t.Any]


@dataclasses.dataclass(frozen=True)
class Services:
    """What an orchestration talks to.

    :param admin: the Admin API client.
    :param s3: ``s3(access_key_id, secret) -> boto3 client`` to prove a new key works, or
        ``None`` to skip that proof (``verify_new_key: false``).
    :param openbao: returns the OpenBao client (built on first use), or ``None`` when no
        ``openbao_path`` is given.
    :param on_secret: called with every secret the orchestration handles that must not show up
        in any output (the module's ``no_log_values.add``).
    """

    admin: GarageAdminClient
    s3: S3Factory | None = None
    openbao: t.Callable[[], OpenBaoClient] | None = None
    openbao_mount: str = "secret"
    openbao_path: str | None = None
    on_secret: t.Callable[[str], None] = lambda secret: None
    sleep: t.Callable[[float], None] = time.sleep

    @property
    def stores_credentials(self) -> bool:
        return self.openbao is not None and bool(self.openbao_path)


def s3_factory(*, s3_url: str, region: str, validate_certs: bool, ca_path: str | None, user_agent: str) -> S3Factory:
    """The S3 client factory of :class:`Services` (boto3 must be importable: checked here)."""
    error = s3_client_module.boto3_import_error()
    if error is not None:
        raise OperationError(
            "boto3 is needed to prove that a new key works (a signed S3 request); install it on the host "
            "the module runs on, or set verify_new_key: false",
            failure_reason=MISSING_DEPENDENCY,
            details={"exception": error},
        )

    def make(access_key_id: str, secret: str) -> t.Any:
        return s3_client_module.s3_client(
            endpoint_url=s3_url,
            access_key_id=access_key_id,
            secret_access_key=secret,
            region=region,
            validate_certs=validate_certs,
            ca_path=ca_path,
            max_attempts=1,
            user_agent=user_agent,
        )

    return make


# --------------------------------------------------------------------------- plans


@dataclasses.dataclass(frozen=True)
class Plan:
    """The saga a run needs (built after reading Garage), and how to report its result."""

    saga: Saga
    report: t.Callable[[SagaResult, bool], Outcome]

    def run(self, *, dry_run: bool) -> Outcome:
        return self.report(self.saga.run(dry_run=dry_run), dry_run)


@dataclasses.dataclass(frozen=True)
class Finished:
    """A finished saga's outcomes, read like a step context (for the report)."""

    result: SagaResult

    @property
    def outcomes(self) -> t.Mapping[str, Outcome]:
        return self.result.outcomes


# --------------------------------------------------------------------------- validation


def tier_flags(tier: t.Any, allowed: t.Sequence[str]) -> Flags | None:
    """The flags of ``tier`` (``None`` for ``all``); :class:`InputError` ``invalid_key_tier`` otherwise."""
    if tier not in allowed:
        raise InputError(
            f"key_tier '{tier}' is not one of {', '.join(allowed)}",
            failure_reason=INVALID_KEY_TIER,
        )
    return None if tier == "all" else dict(TIERS[tier])


def check_bucket_id(option: str, value: t.Any) -> str:
    if not isinstance(value, str) or not is_bucket_id(value):
        raise InputError(f"{option} '{value}' is not a Garage bucket id (64 lowercase hexadecimal characters)")
    return value


def check_key_id(option: str, value: t.Any) -> str:
    if not isinstance(value, str) or not is_key_id(value):
        raise InputError(f"{option} '{value}' is not a Garage key id (GK followed by 24 lowercase hex characters)")
    return value


def check_key_name(option: str, value: t.Any) -> str:
    problem = name_problem(value, option)
    if problem or not isinstance(value, str):
        raise InputError(problem or f"{option} is required")
    return value


def check_alias(option: str, value: t.Any) -> str:
    problem = bucket_name_problem(value) if isinstance(value, str) else "is required"
    if problem:
        raise InputError(f"Invalid {option} '{value}': a bucket name {problem}")
    return t.cast(str, value)


def check_openbao_path(value: t.Any) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip().strip("/")
    if not text or any(part in ("", ".", "..") for part in text.split("/")):
        raise InputError(f"openbao_path '{value}' is not a secret path (for example tenants/acme/admin-key)")
    return text


# --------------------------------------------------------------------------- reads


def read_bucket(admin: GarageAdminClient, bucket_id: str) -> Info | None:
    with api_context("read", "bucket", bucket_id, failure_reason="bucket_read_failed"):
        return find_bucket(admin, bucket_id=bucket_id)


def require_bucket(admin: GarageAdminClient, bucket_id: str) -> Info:
    info = read_bucket(admin, bucket_id)
    if info is None:
        raise OperationError(f"Bucket '{bucket_id}' does not exist", failure_reason=BUCKET_NOT_FOUND)
    return info


def read_key_by_name(admin: GarageAdminClient, name: str) -> Info | None:
    """The key carrying exactly ``name``; several keys carrying it is an error (``ambiguous_name``)."""
    try:
        return find_key(admin, name=name)
    except AmbiguousName:
        raise
    except OperationError:
        with api_context("read", "key", name, failure_reason="key_read_failed"):
            raise


def read_key_by_id(admin: GarageAdminClient, key_id: str, *, show_secret: bool = False) -> Info | None:
    with api_context("read", "key", key_id, failure_reason="key_read_failed"):
        return find_key(admin, key_id=key_id, show_secret=show_secret)


def key_id_of(info: t.Mapping[str, t.Any]) -> str:
    return t.cast(str, info.get("accessKeyId") or info.get("id"))


def bucket_entry(key: t.Mapping[str, t.Any], bucket_id: str) -> Info | None:
    """The key's view of the bucket (GetKeyInfo ``buckets[]``), if any."""
    return next((dict(b) for b in key.get("buckets") or [] if b.get("id") == bucket_id), None)


def entry_with_local_alias(key: t.Mapping[str, t.Any], alias: str) -> Info | None:
    """The bucket the key reaches through its local alias ``alias``, if any."""
    return next((dict(b) for b in key.get("buckets") or [] if alias in (b.get("localAliases") or [])), None)


def key_name_taken(name: str, key_id: str, what: str) -> OperationError:
    return OperationError(
        f"A key named '{name}' exists ({key_id}) but {what}; it was not made by this orchestration (or is "
        "left from a failed run): choose another name, or delete that key (cellar.garage.garage_key "
        "state=absent) and run again",
        failure_reason=KEY_NAME_TAKEN,
        details={"existing_key_id": key_id},
    )


def secret_of(admin: GarageAdminClient, key_id: str, on_secret: t.Callable[[str], None]) -> str:
    """The secret of an existing key (for OpenBao), masked in every output."""
    info = read_key_by_id(admin, key_id, show_secret=True)
    secret = (info or {}).get("secretAccessKey")
    if not secret:
        raise OperationError(
            f"Garage did not return the secret of key {key_id}: the admin token needs the GetKeyInfo scope "
            "with showSecretKey",
            failure_reason="key_read_failed",
        )
    on_secret(secret)
    return t.cast(str, secret)


# --------------------------------------------------------------------------- ids from earlier steps


def created_key(ctx: StepContext | Finished, step: str) -> tuple[str | None, str | None]:
    """``(access_key_id, secret)`` of the key a ``create`` step made (``None`` in check mode)."""
    result = ctx.outcomes[step].result
    key = result.get("key") or {}
    return key.get("id"), result.get("secret_access_key")


# --------------------------------------------------------------------------- steps


def create_key_step(services: Services, name: str, *, step: str, reason: str) -> Step:
    """CreateKey ``name``; undo: DeleteKey (which also drops its permissions and aliases)."""

    def do(ctx: StepContext) -> Outcome:
        outcome = keys.create(services.admin, keys.KeySpec(name=name), dry_run=ctx.dry_run)
        secret = outcome.result.get("secret_access_key")
        if secret and services.stores_credentials:
            services.on_secret(secret)
        return outcome

    return Step(step, reason, do)


def covered(outcome: Outcome, by: str | None, ctx: StepContext) -> Outcome:
    """An outcome whose change is undone by the undo of an earlier step (deleting the key or the
    bucket this run created drops its permissions and aliases): its undo has nothing to call, and
    says so, so that the saga does not count the change as left behind."""
    if by is None or not outcome.changed or ctx.dry_run:
        return outcome
    return outcome.with_undo(Undo(f"nothing to do: {by}", lambda: None, done=by))


def grant_step(
    services: Services,
    *,
    step: str,
    reason: str,
    bucket_id: t.Callable[[StepContext], str | None],
    key_id: t.Callable[[StepContext], str | None],
    flags: Flags,
    current: t.Callable[[StepContext], Flags] = lambda ctx: dict(NO_FLAGS),
    covered_by: str | None = None,
) -> Step:
    """Make the key's flags on the bucket exactly ``flags`` (AllowBucketKey / DenyBucketKey).

    ``covered_by``: for a key this run created, how its rollback removes the grant as well.
    """

    def do(ctx: StepContext) -> Outcome:
        bid, kid, now = bucket_id(ctx), key_id(ctx), current(ctx)
        spec = permissions.PermissionSpec(
            bucket=aliases.BucketRef(bucket_id=bid), key=aliases.KeyRef(key_id=kid), flags=dict(flags)
        )
        if bid is None or kid is None:  # check mode, nothing created: plan only
            if not ctx.dry_run:
                raise AssertionError("ids are only unknown in check mode")
            return Outcome(
                before=dict(now), after={f: flags.get(f, now[f]) for f in FLAGS}, result={"permissions": dict(flags)}
            )
        outcome = permissions.apply(services.admin, spec, bid, kid, now, dry_run=ctx.dry_run)
        return covered(outcome, covered_by, ctx)

    return Step(step, reason, do)


def converge_grant_steps(
    services: Services, *, step: str, reason: str, bucket_id: str, key_id: str, flags: Flags, current: Flags
) -> list[Step]:
    """The grant step of an existing key, only when its flags differ (a step always makes a call)."""
    if dict(current) == dict(flags):
        return []
    return [
        grant_step(
            services,
            step=step,
            reason=reason,
            bucket_id=lambda ctx: bucket_id,
            key_id=lambda ctx: key_id,
            flags=flags,
            current=lambda ctx: dict(current),
        )
    ]


def attach_local_alias_step(
    services: Services,
    *,
    step: str,
    reason: str,
    alias: str,
    bucket_id: t.Callable[[StepContext], str | None],
    key_id: t.Callable[[StepContext], str | None],
    covered_by: str | None = None,
) -> Step:
    """AddBucketAlias ``alias`` in the key's namespace (``covered_by``: see :func:`grant_step`)."""

    def do(ctx: StepContext) -> Outcome:
        bid, kid = bucket_id(ctx), key_id(ctx)
        if bid is None or kid is None:
            if not ctx.dry_run:
                raise AssertionError("ids are only unknown in check mode")
            identity = {"alias": alias, "bucket_id": bid, "access_key_id": kid}
            return Outcome(before=ABSENT, after=present(identity), result={"alias": identity})
        spec = aliases.AliasSpec(alias=alias, bucket=aliases.BucketRef(bucket_id=bid), key=aliases.KeyRef(key_id=kid))
        return covered(aliases.ensure(services.admin, spec, dry_run=ctx.dry_run), covered_by, ctx)

    return Step(step, reason, do)


def verify_step(
    services: Services,
    *,
    step: str,
    reason: str,
    alias: str,
    key: t.Callable[[StepContext], tuple[str | None, str | None]],
) -> Step:
    """Prove the new key works: a signed S3 HeadBucket on ``alias`` (its local alias)."""

    def do(ctx: StepContext) -> Outcome:
        key_id, secret = key(ctx)
        checked = {"verified": "HeadBucket", "bucket": alias, "access_key_id": key_id}
        if ctx.dry_run or services.s3 is None:
            return Outcome.unchanged(ABSENT, verified=None)
        if not key_id or not secret:
            raise AssertionError("a verified key has an id and a secret")
        client = services.s3(key_id, secret)
        for attempt in range(1, VERIFY_ATTEMPTS + 1):
            try:
                with s3_context(
                    "prove with a signed S3 request the new key", "for bucket", alias, failure_reason=reason
                ):
                    client.head_bucket(Bucket=alias)
            except OperationError as exc:
                # A key the S3 endpoint does not know yet is refused: try again, a bounded number of times.
                if exc.details.get("cause") != "access_denied" or attempt == VERIFY_ATTEMPTS:
                    raise
                services.sleep(VERIFY_PAUSE)
            except Exception as exc:
                if is_botocore_error(exc):
                    raise
                raise OperationError(
                    f"Failed to prove with a signed S3 request the new key for bucket '{alias}': "
                    f"{type(exc).__name__}: {exc}",
                    failure_reason=reason,
                    details={"cause": "connection_failed"},
                ) from None
            else:
                break
        return Outcome.unchanged(ABSENT, verified=checked)

    return Step(step, reason, do)


def new_key_steps(services: Services, name: str, alias: str, flags: Flags, *, bucket_id: str) -> list[Step]:
    """Create a key, grant it ``flags`` on the bucket, attach ``alias`` in its namespace and prove it
    works: the steps of ``garage_customer_key`` and ``garage_key_rotation``."""

    def key_id(ctx: StepContext) -> str | None:
        return created_key(ctx, "create_key")[0]

    steps = [
        create_key_step(services, name, step="create_key", reason="new_key_create_failed"),
        grant_step(
            services,
            step="grant_tier",
            reason="new_key_permission_grant_failed",
            bucket_id=lambda ctx: bucket_id,
            key_id=key_id,
            flags=flags,
            covered_by="the new key's permissions go with it",
        ),
        attach_local_alias_step(
            services,
            step="attach_local_alias",
            reason="new_key_alias_attach_failed",
            alias=alias,
            bucket_id=lambda ctx: bucket_id,
            key_id=key_id,
            covered_by=f"the local alias '{alias}' of the new key goes with it",
        ),
    ]
    if services.s3 is not None:
        steps.append(
            verify_step(
                services,
                step="verify_key",
                reason="new_key_verify_failed",
                alias=alias,
                key=lambda ctx: created_key(ctx, "create_key"),
            )
        )
    return steps


#: The fields of :func:`credentials` that are secret (masked in all output).
SECRET_FIELDS = ("secret_access_key",)


def credentials(
    *, key_id: str | None, secret: str | None, bucket_id: str | None, bucket: str, key_name: str
) -> dict[str, t.Any]:
    """What an orchestration writes to OpenBao for a key."""
    return {
        "access_key_id": key_id,
        "secret_access_key": secret,
        "bucket_id": bucket_id,
        "bucket": bucket,
        "key_name": key_name,
    }


def store_step(services: Services, *, step: str, data: t.Callable[[StepContext], dict[str, t.Any]]) -> Step:
    """Write the credentials to OpenBao (write-if-changed, check-and-set); undo: restore what was
    there before (or delete the version written)."""

    def do(ctx: StepContext) -> Outcome:
        if services.openbao is None or services.openbao_path is None:
            raise AssertionError("a store step needs OpenBao and a path")
        values = data(ctx)
        on_secret = services.on_secret
        if ctx.dry_run and values.get("secret_access_key") is None:
            # Check mode, the key is not created: its secret will be new, whatever is stored.
            values = {**values, "secret_access_key": "(created by this run)"}
            on_secret = _ignore
        spec = kv.KvSpec(mount=services.openbao_mount, path=services.openbao_path, data=values)
        try:
            return kv.ensure(
                services.openbao(), spec, dry_run=ctx.dry_run, on_secret=on_secret, secret_fields=SECRET_FIELDS
            )
        except OperationError as exc:
            raise OperationError(
                f"Failed to store the new credentials in OpenBao at '{spec.label}': {exc.message}",
                failure_reason=OPENBAO_WRITE_FAILED,
                details={**exc.details, "cause": exc.failure_reason},
            ) from exc

    return Step(step, OPENBAO_WRITE_FAILED, do)


def _ignore(value: str) -> None:
    del value


def stored(result: SagaResult) -> dict[str, t.Any]:
    """``{"openbao": {mount, path, version}}`` when the run has a store step (never values), else ``{}``."""
    outcome = result.outcomes.get("store_credentials")
    if outcome is None:
        return {}
    return {"openbao": {k: outcome.result.get(k) for k in ("mount", "path", "version")}}
