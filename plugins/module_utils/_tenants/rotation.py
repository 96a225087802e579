# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``garage_key_rotation``: replace a customer key by a new one, with an overlap window the caller
controls. No Ansible here.

- the new key (``new_key_name``) does not exist: create it, grant its tier (``all`` copies the
  old key's flags on the bucket exactly, ``rw``/``ro`` set the tier's), attach ``local_alias`` in
  its namespace, prove it works (a signed S3 request), store its credentials in OpenBao when
  asked, then -- with ``retire_old`` -- delete the old key. A failure at any step deletes the new
  key again and restores OpenBao.
- the new key exists (a later run, e.g. after the overlap window): make its flags the tier's,
  OpenBao hold its credentials, and with ``retire_old`` delete the old key if it is still there.

Between a run with ``retire_old: false`` and one with ``retire_old: true``, both keys work, so
running applications can switch over at their own pace.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import keys
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import FLAGS, permissions_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaResult, Step, StepContext
from ansible_collections.cellar.garage.plugins.module_utils._tenants import common
from ansible_collections.cellar.garage.plugins.module_utils._tenants.common import Flags, Info, Plan, Services

TIER_CHOICES = ("all", "rw", "ro")
OLD_KEY_NOT_FOUND = "old_key_not_found"
OLD_KEY_WITHOUT_ACCESS = "old_key_without_access"


@dataclasses.dataclass(frozen=True)
class Request:
    old_key_id: str
    new_key_name: str
    bucket_id: str
    local_alias: str
    key_tier: str
    #: ``None`` for tier ``all`` (the old key's flags)
    flags: Flags | None
    retire_old: bool


def request_from_params(params: t.Mapping[str, t.Any]) -> Request:
    """Validate the module's options (before any call). Raises :class:`InputError`."""
    missing = [o for o in ("old_key_id", "new_key_name", "bucket_id", "local_alias") if params.get(o) in (None, "")]
    if missing:
        raise InputError(f"missing required options: {', '.join(missing)}")
    tier = params.get("key_tier") or "all"
    flags = common.tier_flags(tier, TIER_CHOICES)
    retire = params.get("retire_old")
    return Request(
        old_key_id=common.check_key_id("old_key_id", params["old_key_id"]),
        new_key_name=common.check_key_name("new_key_name", params["new_key_name"]),
        bucket_id=common.check_bucket_id("bucket_id", params["bucket_id"]),
        local_alias=common.check_alias("local_alias", params["local_alias"]),
        key_tier=tier,
        flags=flags,
        retire_old=True if retire is None else bool(retire),
    )


def build(services: Services, request: Request) -> Plan:
    admin = services.admin
    common.require_bucket(admin, request.bucket_id)
    old = common.read_key_by_id(admin, request.old_key_id)
    new = common.read_key_by_name(admin, request.new_key_name)
    if new is not None and common.key_id_of(new) == request.old_key_id:
        raise InputError(
            f"new_key_name '{request.new_key_name}' is the name of the old key {request.old_key_id}: "
            "give the new key another name"
        )
    if new is None:
        if old is None:
            raise OperationError(
                f"The old key {request.old_key_id} does not exist, and no key named "
                f"'{request.new_key_name}' replaces it yet: nothing to rotate",
                failure_reason=OLD_KEY_NOT_FOUND,
            )
        return _build_rotate(services, request, old)
    return _build_resume(services, request, old, new)


def run(services: Services, request: Request, *, dry_run: bool) -> Outcome:
    return build(services, request).run(dry_run=dry_run)


def _flags(request: Request, old: Info | None) -> Flags | None:
    """The new key's flags: the tier's, or the old key's on the bucket (``None``: old key gone)."""
    if request.flags is not None:
        return dict(request.flags)
    if old is None:
        return None
    entry = common.bucket_entry(old, request.bucket_id)
    flags = permissions_view((entry or {}).get("permissions"))
    if not any(flags.values()):
        raise OperationError(
            f"key_tier=all copies the old key's permissions, but key {request.old_key_id} has none on bucket "
            f"{request.bucket_id}: give key_tier rw or ro",
            failure_reason=OLD_KEY_WITHOUT_ACCESS,
        )
    return flags


def _retire_step(services: Services, old: Info) -> Step:
    kid = common.key_id_of(old)

    def do(ctx: StepContext) -> Outcome:
        return keys.ensure_absent(services.admin, keys.KeySpec(key_id=kid, state="absent"), old, dry_run=ctx.dry_run)

    return Step("retire_old_key", "old_key_delete_failed", do)


def _report(
    services: Services, request: Request, *, old: Info | None, new_key_id: str | None, created: bool
) -> t.Callable[[SagaResult, bool], Outcome]:
    def report(result: SagaResult, dry_run: bool) -> Outcome:
        key_id, secret = common.created_key(common.Finished(result), "create_key") if created else (new_key_id, None)
        extra = {"secret_access_key": secret} if secret and not services.stores_credentials else {}
        retired = "retire_old_key" in result.outcomes and result.outcomes["retire_old_key"].changed
        return result.outcome(
            bucket_id=request.bucket_id,
            old_key_id=request.old_key_id,
            access_key_id=key_id,
            key_name=request.new_key_name,
            local_alias=request.local_alias,
            key_tier=request.key_tier,
            created=created,
            old_key_retired=retired or old is None,
            **common.stored(result),
            **extra,
        )

    return report


def _build_rotate(services: Services, request: Request, old: Info) -> Plan:
    flags = t.cast(Flags, _flags(request, old))
    steps = common.new_key_steps(
        services, request.new_key_name, request.local_alias, flags, bucket_id=request.bucket_id
    )
    if services.stores_credentials:
        steps.append(
            common.store_step(
                services,
                step="store_credentials",
                data=lambda ctx: common.credentials(
                    key_id=common.created_key(ctx, "create_key")[0],
                    secret=common.created_key(ctx, "create_key")[1],
                    bucket_id=request.bucket_id,
                    bucket=request.local_alias,
                    key_name=request.new_key_name,
                ),
            )
        )
    if request.retire_old:
        steps.append(_retire_step(services, old))
    return Plan(Saga(steps), _report(services, request, old=old, new_key_id=None, created=True))


def _build_resume(services: Services, request: Request, old: Info | None, new: Info) -> Plan:
    key_id = common.key_id_of(new)
    entry = common.bucket_entry(new, request.bucket_id)
    if entry is None or request.local_alias not in (entry.get("localAliases") or []):
        raise common.key_name_taken(
            request.new_key_name, key_id, f"it has no local alias '{request.local_alias}' on bucket {request.bucket_id}"
        )
    steps: list[Step] = []
    flags = _flags(request, old)
    if flags is not None:
        current = permissions_view(entry.get("permissions"))
        steps += common.converge_grant_steps(
            services,
            step="grant_tier",
            reason="new_key_permission_grant_failed",
            bucket_id=request.bucket_id,
            key_id=key_id,
            flags=flags,
            current=current,
        )
    if services.stores_credentials:
        data = common.credentials(
            key_id=key_id,
            secret=common.secret_of(services.admin, key_id, services.on_secret),
            bucket_id=request.bucket_id,
            bucket=request.local_alias,
            key_name=request.new_key_name,
        )
        steps.append(common.store_step(services, step="store_credentials", data=lambda ctx: data))
    if request.retire_old and old is not None:
        steps.append(_retire_step(services, old))
    return Plan(Saga(steps), _report(services, request, old=old, new_key_id=key_id, created=False))


__all__ = ["FLAGS", "Request", "build", "request_from_params", "run"]
