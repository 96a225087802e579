# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``garage_customer_key``: one more key (tier ``rw`` or ``ro``) for a provisioned bucket, with the
customer's local alias in the new key's namespace. No Ansible here.

- the key named ``new_key_name`` does not exist: create it, grant its tier, attach
  ``local_alias``, prove it works (a signed S3 request), store its credentials in OpenBao when
  asked; a failure deletes the key again;
- it exists and reaches the bucket through ``local_alias``: make its flags exactly the tier's,
  and OpenBao (when asked) hold its credentials.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import permissions_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaResult, StepContext
from ansible_collections.cellar.garage.plugins.module_utils._tenants import common
from ansible_collections.cellar.garage.plugins.module_utils._tenants.common import Flags, Info, Plan, Services

TIER_CHOICES = ("rw", "ro")


@dataclasses.dataclass(frozen=True)
class Request:
    bucket_id: str
    new_key_name: str
    local_alias: str
    key_tier: str
    flags: Flags


def request_from_params(params: t.Mapping[str, t.Any]) -> Request:
    """Validate the module's options (before any call). Raises :class:`InputError`."""
    missing = [o for o in ("bucket_id", "new_key_name", "local_alias") if params.get(o) in (None, "")]
    if missing:
        raise InputError(f"missing required options: {', '.join(missing)}")
    tier = params.get("key_tier") or "rw"
    flags = t.cast(Flags, common.tier_flags(tier, TIER_CHOICES))
    return Request(
        bucket_id=common.check_bucket_id("bucket_id", params["bucket_id"]),
        new_key_name=common.check_key_name("new_key_name", params["new_key_name"]),
        local_alias=common.check_alias("local_alias", params["local_alias"]),
        key_tier=tier,
        flags=flags,
    )


def build(services: Services, request: Request) -> Plan:
    admin = services.admin
    common.require_bucket(admin, request.bucket_id)
    key = common.read_key_by_name(admin, request.new_key_name)
    if key is not None:
        return _build_converge(services, request, key)
    return _build_create(services, request)


def run(services: Services, request: Request, *, dry_run: bool) -> Outcome:
    return build(services, request).run(dry_run=dry_run)


def _build_create(services: Services, request: Request) -> Plan:
    def key_id(ctx: StepContext) -> str | None:
        return common.created_key(ctx, "create_key")[0]

    def bucket_id(ctx: StepContext) -> str:
        return request.bucket_id

    steps = common.new_key_steps(
        services, request.new_key_name, request.local_alias, request.flags, bucket_id=request.bucket_id
    )
    if services.stores_credentials:
        steps.append(
            common.store_step(
                services,
                step="store_credentials",
                data=lambda ctx: common.credentials(
                    key_id=key_id(ctx),
                    secret=common.created_key(ctx, "create_key")[1],
                    bucket_id=bucket_id(ctx),
                    bucket=request.local_alias,
                    key_name=request.new_key_name,
                ),
            )
        )

    def report(result: SagaResult, dry_run: bool) -> Outcome:
        key_id_, secret = common.created_key(common.Finished(result), "create_key")
        extra = {"secret_access_key": secret} if secret and not services.stores_credentials else {}
        return result.outcome(
            bucket_id=request.bucket_id,
            access_key_id=key_id_,
            key_name=request.new_key_name,
            local_alias=request.local_alias,
            key_tier=request.key_tier,
            created=True,
            **common.stored(result),
            **extra,
        )

    return Plan(Saga(steps), report)


def _build_converge(services: Services, request: Request, key: Info) -> Plan:
    key_id = common.key_id_of(key)
    entry = common.bucket_entry(key, request.bucket_id)
    if entry is None or request.local_alias not in (entry.get("localAliases") or []):
        raise common.key_name_taken(
            request.new_key_name, key_id, f"it has no local alias '{request.local_alias}' on bucket {request.bucket_id}"
        )
    current = permissions_view(entry.get("permissions"))
    steps = common.converge_grant_steps(
        services,
        step="grant_tier",
        reason="new_key_permission_grant_failed",
        bucket_id=request.bucket_id,
        key_id=key_id,
        flags=request.flags,
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

    def report(result: SagaResult, dry_run: bool) -> Outcome:
        return result.outcome(
            bucket_id=request.bucket_id,
            access_key_id=key_id,
            key_name=request.new_key_name,
            local_alias=request.local_alias,
            key_tier=request.key_tier,
            created=False,
            **common.stored(result),
        )

    return Plan(Saga(steps), report)
