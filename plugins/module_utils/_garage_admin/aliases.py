# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Bucket alias operations: one global alias, or one local alias in a key's namespace.

No Ansible here. ``ensure(client, spec, dry_run=...)`` returns an :class:`Outcome` whose
before/after are :data:`ABSENT` or ``present({alias, bucket_id, access_key_id})`` and whose result
is ``{"alias": {alias, bucket_id, access_key_id, state}}``. Garage's last-alias rule
(:func:`buckets.alias_count`) is checked before anything is removed.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import buckets
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import find_bucket, find_key
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    bucket_name_problem,
    reference_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, present

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

Info = dict[str, t.Any]
KEY_NOT_FOUND = "key_not_found"


@dataclasses.dataclass(frozen=True)
class BucketRef:
    """A bucket given by one of its global aliases or by its id."""

    name: str | None = None
    bucket_id: str | None = None

    @property
    def label(self) -> str:
        return t.cast(str, self.name or self.bucket_id)

    def matches(self, entry: t.Mapping[str, t.Any]) -> bool:
        """Whether a key's bucket entry (GetKeyInfo ``buckets[]``) is this bucket."""
        if self.bucket_id is not None:
            return entry.get("id") == self.bucket_id
        return self.name in (entry.get("globalAliases") or [])


@dataclasses.dataclass(frozen=True)
class KeyRef:
    """An access key given by id or by exact name."""

    key_id: str | None = None
    name: str | None = None

    @property
    def label(self) -> str:
        return t.cast(str, self.key_id or self.name)


def refs_from_params(params: t.Mapping[str, t.Any]) -> tuple[BucketRef, KeyRef | None]:
    """The ``bucket``/``bucket_id`` and ``access_key_id``/``access_key_name`` options, validated."""
    problem = reference_problem(
        bucket=params.get("bucket"),
        bucket_id=params.get("bucket_id"),
        access_key_id=params.get("access_key_id"),
        access_key_name=params.get("access_key_name"),
    )
    if problem:
        raise InputError(problem)
    bucket = BucketRef(params.get("bucket"), params.get("bucket_id"))
    if params.get("access_key_id") is None and params.get("access_key_name") is None:
        return bucket, None
    return bucket, KeyRef(params.get("access_key_id"), params.get("access_key_name"))


def read_bucket(client: GarageAdminClient, ref: BucketRef) -> Info | None:
    with api_context("read", "bucket", ref.label, failure_reason="bucket_read_failed"):
        return find_bucket(client, name=ref.name, bucket_id=ref.bucket_id)


def read_key(client: GarageAdminClient, ref: KeyRef) -> Info | None:
    with api_context("read", "access key", ref.label, failure_reason="key_read_failed"):
        return find_key(client, key_id=ref.key_id, name=ref.name)


def key_entry(key: t.Mapping[str, t.Any], bucket: BucketRef) -> dict[str, t.Any] | None:
    """The key's view of the bucket (GetKeyInfo ``buckets[]``), if the key relates to it."""
    return next((entry for entry in key.get("buckets") or [] if bucket.matches(entry)), None)


def bucket_missing(ref: BucketRef) -> OperationError:
    return OperationError(f"Bucket '{ref.label}' does not exist", failure_reason=buckets.BUCKET_NOT_FOUND)


def key_missing(ref: KeyRef) -> OperationError:
    return OperationError(f"Access key '{ref.label}' does not exist", failure_reason=KEY_NOT_FOUND)


# --------------------------------------------------------------------------- alias


@dataclasses.dataclass(frozen=True)
class AliasSpec:
    alias: str
    bucket: BucketRef
    key: KeyRef | None = None
    state: str = "present"


def spec_from_params(params: t.Mapping[str, t.Any]) -> AliasSpec:
    problem = bucket_name_problem(params["alias"])
    if problem:
        raise InputError(f"Invalid alias '{params['alias']}': a bucket name {problem}")
    bucket, key = refs_from_params(params)
    return AliasSpec(alias=params["alias"], bucket=bucket, key=key, state=params.get("state") or "present")


def finish(spec: AliasSpec, bucket_id: str | None, key_id: str | None, before: bool, after: bool) -> Outcome:
    identity = {"alias": spec.alias, "bucket_id": bucket_id, "access_key_id": key_id}
    where = f" of key '{spec.key.label}'" if spec.key is not None else ""
    kind = "local" if spec.key is not None else "global"
    return Outcome(
        before=present(identity) if before else ABSENT,
        after=present(identity) if after else ABSENT,
        result={"alias": {**identity, "state": "present" if after else "absent"}},
        label=f"{kind} alias '{spec.alias}'{where} {'on' if spec.key else 'of'} bucket '{spec.bucket.label}'",
    )


def ensure(client: GarageAdminClient, spec: AliasSpec, *, dry_run: bool) -> Outcome:
    if spec.key is not None:
        return _ensure_local(client, spec, spec.key, dry_run=dry_run)
    return _ensure_global(client, spec, dry_run=dry_run)


def _ensure_global(client: GarageAdminClient, spec: AliasSpec, *, dry_run: bool) -> Outcome:
    present_wanted = spec.state == "present"
    info = read_bucket(client, spec.bucket)
    if info is None:
        if present_wanted:
            raise bucket_missing(spec.bucket)
        return finish(spec, None, None, False, False)
    bucket_id = info["id"]
    has = spec.alias in (info.get("globalAliases") or [])
    if present_wanted:
        if has:
            return finish(spec, bucket_id, None, True, True)
        buckets.check_global_alias_free(client, spec.alias, bucket_id, verb="points to")
        if not dry_run:
            with api_context("add global alias to", "bucket", spec.bucket.label, failure_reason="alias_add_failed"):
                client.add_bucket_alias({"bucketId": bucket_id, "globalAlias": spec.alias})
        return finish(spec, bucket_id, None, False, True)
    if not has:
        return finish(spec, bucket_id, None, False, False)
    if buckets.alias_count(info) <= 1:
        raise buckets.last_alias_error(spec.alias, bucket_id)
    if not dry_run:
        with api_context("remove global alias from", "bucket", spec.bucket.label, failure_reason="alias_remove_failed"):
            client.remove_bucket_alias({"bucketId": bucket_id, "globalAlias": spec.alias})
    return finish(spec, bucket_id, None, True, False)


def _ensure_local(client: GarageAdminClient, spec: AliasSpec, ref: KeyRef, *, dry_run: bool) -> Outcome:
    present_wanted = spec.state == "present"
    key = read_key(client, ref)
    if key is None:
        if present_wanted:
            raise key_missing(ref)
        return finish(spec, spec.bucket.bucket_id, None, False, False)
    key_id = key.get("accessKeyId") or key.get("id")
    entry = key_entry(key, spec.bucket)
    has = entry is not None and spec.alias in (entry.get("localAliases") or [])
    if present_wanted:
        if has:
            return finish(spec, t.cast(dict, entry)["id"], key_id, True, True)
        for other in key.get("buckets") or []:
            if other is not entry and spec.alias in (other.get("localAliases") or []):
                raise OperationError(
                    f"Local alias '{spec.alias}' of access key {key_id} already points to another bucket "
                    f"({other.get('id')}); remove it from that bucket first",
                    failure_reason=buckets.ALIAS_TAKEN,
                    details={"other_bucket_id": other.get("id")},
                )
        if entry is not None:
            bucket_id = entry["id"]
        else:
            info = read_bucket(client, spec.bucket)
            if info is None:
                raise bucket_missing(spec.bucket)
            bucket_id = info["id"]
        if not dry_run:
            with api_context("add local alias to", "bucket", spec.bucket.label, failure_reason="alias_add_failed"):
                client.add_bucket_alias({"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": spec.alias})
        return finish(spec, bucket_id, key_id, False, True)
    if not has:
        return finish(spec, entry["id"] if entry else spec.bucket.bucket_id, key_id, False, False)
    bucket_id = t.cast(dict, entry)["id"]
    info = read_bucket(client, BucketRef(bucket_id=bucket_id))
    if info is None:  # deleted meanwhile
        return finish(spec, None, key_id, False, False)
    if buckets.alias_count(info) <= 1:
        raise buckets.last_alias_error(spec.alias, bucket_id)
    if not dry_run:
        with api_context("remove local alias from", "bucket", spec.bucket.label, failure_reason="alias_remove_failed"):
            client.remove_bucket_alias({"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": spec.alias})
    return finish(spec, bucket_id, key_id, True, False)
