# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Permission operations: the read / write / owner flags of one key on one bucket.

No Ansible here. ``ensure(client, spec, dry_run=...)`` returns an :class:`Outcome` whose
before/after are the three flags (a key without any permission has all three false: Garage keeps
listing it that way) and whose result is ``{"permissions", "bucket_id", "access_key_id"}``.
At most one AllowBucketKey and one DenyBucketKey are sent, with only the flags that change.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.aliases import (
    BucketRef,
    KeyRef,
    bucket_missing,
    key_entry,
    key_missing,
    read_bucket,
    read_key,
    refs_from_params,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import FLAGS, permissions_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

NONE = {flag: False for flag in FLAGS}


@dataclasses.dataclass(frozen=True)
class PermissionSpec:
    bucket: BucketRef
    key: KeyRef
    #: flag -> wanted value; a flag not present is left as it is
    flags: t.Mapping[str, bool]
    state: str = "present"


def spec_from_params(params: t.Mapping[str, t.Any]) -> PermissionSpec:
    bucket, key = refs_from_params(params)
    state = params.get("state") or "present"
    if state == "present" and all(params.get(f) is None for f in FLAGS):
        raise InputError("state=present needs at least one of read, write and owner (use state=absent to deny all)")
    if state == "absent":
        allowed = [f for f in FLAGS if params.get(f)]
        if allowed:
            raise InputError(
                f"state=absent denies every permission, but {', '.join(f'{f}=true' for f in allowed)} "
                "asks to allow: remove it or use state=present"
            )
    flags = dict(NONE) if state == "absent" else {f: bool(params[f]) for f in FLAGS if params.get(f) is not None}
    return PermissionSpec(bucket=bucket, key=t.cast(KeyRef, key), flags=flags, state=state)


def plan(current: t.Mapping[str, bool], desired: t.Mapping[str, bool]) -> tuple[dict[str, bool], dict[str, bool]]:
    """``(allow, deny)`` request bodies: only the flags that must change, each set to true."""
    allow = {f: True for f in FLAGS if desired[f] and not current[f]}
    deny = {f: True for f in FLAGS if not desired[f] and current[f]}
    return allow, deny


def answered_permissions(answer: t.Any, key_id: str) -> dict[str, bool] | None:
    """The key's permissions in a bucket info answer of Allow/DenyBucketKey, if present."""
    if not isinstance(answer, dict):
        return None
    for entry in answer.get("keys") or []:
        if entry.get("accessKeyId") == key_id:
            return permissions_view(entry.get("permissions"))
    return None


def finish(
    spec: PermissionSpec,
    bucket_id: str | None,
    key_id: str | None,
    before: t.Mapping[str, bool],
    after: t.Mapping[str, bool],
) -> Outcome:
    return Outcome(
        before=dict(before),
        after=dict(after),
        result={"permissions": dict(after), "bucket_id": bucket_id, "access_key_id": key_id},
        label=f"permissions of key '{spec.key.label}' on bucket '{spec.bucket.label}'",
    )


def apply(
    client: GarageAdminClient,
    spec: PermissionSpec,
    bucket_id: str,
    key_id: str,
    current: t.Mapping[str, bool],
    *,
    dry_run: bool,
) -> Outcome:
    """Converge the flags of ``key_id`` on ``bucket_id`` from ``current`` (already read)."""
    desired = {f: spec.flags.get(f, current[f]) for f in FLAGS}
    allow, deny = plan(current, desired)
    after: t.Mapping[str, bool] = desired
    if (allow or deny) and not dry_run:
        answer: t.Any = None
        if allow:
            with api_context(
                "allow permissions on", "bucket", spec.bucket.label, failure_reason="permission_update_failed"
            ):
                answer = client.allow_bucket_key(bucket_id, key_id, allow)
        if deny:
            with api_context(
                "deny permissions on",
                "bucket",
                spec.bucket.label,
                failure_reason="permission_update_failed",
                changed=bool(allow),
            ):
                answer = client.deny_bucket_key(bucket_id, key_id, deny)
        after = answered_permissions(answer, key_id) or desired
    return finish(spec, bucket_id, key_id, current, after)


def ensure(client: GarageAdminClient, spec: PermissionSpec, *, dry_run: bool) -> Outcome:
    present_wanted = spec.state == "present"
    key = read_key(client, spec.key)
    if key is None:
        if present_wanted:
            raise key_missing(spec.key)
        return finish(spec, spec.bucket.bucket_id, None, NONE, NONE)
    key_id = t.cast(str, key.get("accessKeyId") or key.get("id"))
    entry = key_entry(key, spec.bucket)
    if entry is not None:
        bucket_id = entry["id"]
        current = permissions_view(entry.get("permissions"))
    else:
        # The key has never been related to this bucket: all permissions are false, but the
        # bucket must exist (Garage answers 404 otherwise).
        info = read_bucket(client, spec.bucket)
        if info is None:
            if present_wanted:
                raise bucket_missing(spec.bucket)
            return finish(spec, None, key_id, NONE, NONE)
        bucket_id = info["id"]
        current = dict(NONE)
    return apply(client, spec, bucket_id, key_id, current, dry_run=dry_run)
