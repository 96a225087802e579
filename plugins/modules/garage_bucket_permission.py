#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_permission
short_description: Manage the read, write and owner permissions of one access key on one Garage bucket
version_added: 0.1.0
description:
  - Allow or deny the C(read), C(write) and C(owner) permissions of one access key on one bucket of a
    Garage cluster.
  - Each of O(read), O(write) and O(owner) that is set decides its permission (V(true) allows,
    V(false) denies); one that is not set is left as it is.
  - The key is given by its id (O(access_key_id)) or its exact name (O(access_key_name)); the bucket by
    one of its global aliases (O(bucket)) or its id (O(bucket_id)).
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  bucket:
    description:
      - A global alias of the bucket.
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  bucket_id:
    description:
      - The id of the bucket (64 lowercase hexadecimal characters).
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  access_key_id:
    description:
      - The id of the access key (C(GK) followed by 24 lowercase hexadecimal characters).
      - Exactly one of O(access_key_id) and O(access_key_name) is required.
    type: str
  access_key_name:
    description:
      - The exact name of the access key. A name that several keys carry is refused; use O(access_key_id).
      - Exactly one of O(access_key_id) and O(access_key_name) is required.
    type: str
  read:
    description:
      - Read permission (GET, HEAD and listing of objects). Not set leaves it as it is.
    type: bool
  write:
    description:
      - Write permission (PUT, DELETE and multipart uploads of objects, lifecycle). Not set leaves it as it is.
    type: bool
  owner:
    description:
      - Owner permission (deleting the bucket through S3, website and CORS configuration). Not set leaves
        it as it is.
    type: bool
  state:
    description:
      - V(present) applies O(read), O(write) and O(owner); at least one of them must be set.
      - V(absent) denies all three permissions. Garage keeps listing the key on the bucket with all
        permissions false; that counts as absent. O(read), O(write) and O(owner) must not be V(true) then.
      - With V(absent), a key or bucket that does not exist means there is nothing to deny (not changed).
    type: str
    choices: [present, absent]
    default: present
notes:
  - The module sends at most one AllowBucketKey and one DenyBucketKey request, with only the permissions
    that must change (Garage only touches the permissions that are true in such a request).
  - When nothing has to change this costs one Admin API read (GetKeyInfo) in the common case, two when
    the key has never been related to the bucket.
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_key
  - module: cellar.garage.garage_bucket_alias
  - name: Garage permissions
    description: Which S3 operations need read, write or owner.
    link: https://garagehq.deuxfleurs.fr/documentation/reference-manual/s3-compatibility/
"""

EXAMPLES = r"""
---
- name: Let the app read and write the bucket photos, but not own it
  cellar.garage.garage_bucket_permission:
    bucket: photos
    access_key_name: app
    read: true
    write: true
    owner: false

- name: Add read access for the backup key, leaving its other permissions as they are
  cellar.garage.garage_bucket_permission:
    bucket_id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    access_key_id: GK31c2f218a2e44f485b94239e
    read: true

- name: Revoke every permission of a key on a bucket
  cellar.garage.garage_bucket_permission:
    bucket: photos
    access_key_name: old-app
    state: absent
"""

RETURN = r"""
---
permissions:
  description: The key's permissions on the bucket after the run (in check mode, as the run would leave them).
  returned: success
  type: dict
  contains:
    read:
      description: Read permission.
      type: bool
      sample: true
    write:
      description: Write permission.
      type: bool
      sample: true
    owner:
      description: Owner permission.
      type: bool
      sample: false
  sample: {read: true, write: true, owner: false}
bucket_id:
  description: The id of the bucket; V(null) when it does not exist (O(state=absent) only).
  returned: success
  type: str
  sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
access_key_id:
  description: The id of the access key; V(null) when it does not exist (O(state=absent) only).
  returned: success
  type: str
  sample: GK31c2f218a2e44f485b94239e
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._resources import (
    AmbiguousKeyName,
    find_bucket,
    find_key,
    permissions_view,
    reference_problem,
)

FLAGS = ("read", "write", "owner")

ARGUMENT_SPEC: dict[str, t.Any] = {
    "bucket": {"type": "str"},
    "bucket_id": {"type": "str"},
    "access_key_id": {"type": "str", "no_log": False},
    "access_key_name": {"type": "str"},
    "read": {"type": "bool"},
    "write": {"type": "bool"},
    "owner": {"type": "bool"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def validate(params: dict[str, t.Any]) -> str | None:
    problem = reference_problem(
        bucket=params.get("bucket"),
        bucket_id=params.get("bucket_id"),
        access_key_id=params.get("access_key_id"),
        access_key_name=params.get("access_key_name"),
    )
    if problem:
        return problem
    if params["state"] == "present" and all(params.get(f) is None for f in FLAGS):
        return "state=present needs at least one of read, write and owner (use state=absent to deny all)"
    if params["state"] == "absent":
        allowed = [f for f in FLAGS if params.get(f)]
        if allowed:
            return (
                f"state=absent denies every permission, but {', '.join(f'{f}=true' for f in allowed)} "
                "asks to allow: remove it or use state=present"
            )
    return None


def desired_permissions(current: dict[str, bool], params: dict[str, t.Any]) -> dict[str, bool]:
    if params["state"] == "absent":
        return {f: False for f in FLAGS}
    return {f: current[f] if params.get(f) is None else bool(params[f]) for f in FLAGS}


def plan(current: dict[str, bool], desired: dict[str, bool]) -> tuple[dict[str, bool], dict[str, bool]]:
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


class PermissionManager:
    def __init__(self, module: GarageModule) -> None:
        self.module = module
        self.client = module.client
        p = module.params
        self.params = p
        self.present = p["state"] == "present"
        self.bucket_name: str | None = p.get("bucket")
        self.bucket_id: str | None = p.get("bucket_id")
        self.key_ref = t.cast(str, p.get("access_key_id") or p.get("access_key_name"))

    @property
    def bucket_label(self) -> str:
        return t.cast(str, self.bucket_name or self.bucket_id)

    def fail(self, msg: str, **result: t.Any) -> t.NoReturn:
        self.module.fail_json(msg=msg, **result)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    def finish(
        self, changed: bool, bucket_id: str | None, key_id: str | None, before: dict[str, bool], after: dict[str, bool]
    ) -> t.NoReturn:
        self.module.exit_resource(
            changed, dict(before), dict(after), permissions=dict(after), bucket_id=bucket_id, access_key_id=key_id
        )

    def read_key(self) -> dict[str, t.Any] | None:
        with self.module.api_errors("read", "access key", self.key_ref):
            try:
                return find_key(
                    self.client, key_id=self.params.get("access_key_id"), name=self.params.get("access_key_name")
                )
            except AmbiguousKeyName as exc:
                self.fail(str(exc), key_ids=exc.ids)

    def target_entry(self, key: dict[str, t.Any]) -> dict[str, t.Any] | None:
        for entry in key.get("buckets") or []:
            if self.bucket_id is not None and entry.get("id") == self.bucket_id:
                return entry
            if self.bucket_name is not None and self.bucket_name in (entry.get("globalAliases") or []):
                return entry
        return None

    def run(self) -> t.NoReturn:
        none = {f: False for f in FLAGS}
        key = self.read_key()
        if key is None:
            if self.present:
                self.fail(f"Access key '{self.key_ref}' does not exist")
            self.finish(False, self.bucket_id, None, none, none)
        key_id = t.cast(str, key.get("accessKeyId") or key.get("id"))
        entry = self.target_entry(key)
        if entry is not None:
            bucket_id = entry["id"]
            current = permissions_view(entry.get("permissions"))
        else:
            # The key has never been related to this bucket: all permissions are false, but the
            # bucket must exist (Garage answers 404 otherwise).
            with self.module.api_errors("read", "bucket", self.bucket_label):
                info = find_bucket(self.client, name=self.bucket_name, bucket_id=self.bucket_id)
            if info is None:
                if self.present:
                    self.fail(f"Bucket '{self.bucket_label}' does not exist")
                self.finish(False, None, key_id, none, none)
            bucket_id = info["id"]
            current = dict(none)
        desired = desired_permissions(current, self.params)
        allow, deny = plan(current, desired)
        changed = bool(allow or deny)
        after = desired
        if changed and not self.module.check_mode:
            answer: t.Any = None
            if allow:
                with self.module.api_errors("allow permissions on", "bucket", self.bucket_label):
                    answer = self.client.allow_bucket_key(bucket_id, key_id, allow)
            if deny:
                with self.module.api_errors("deny permissions on", "bucket", self.bucket_label, changed=bool(allow)):
                    answer = self.client.deny_bucket_key(bucket_id, key_id, deny)
            after = answered_permissions(answer, key_id) or desired
        self.finish(changed, bucket_id, key_id, current, after)


def main() -> None:
    module = GarageModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
        required_one_of=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
        supports_check_mode=True,
    )
    problem = validate(module.params)
    if problem:
        module.fail_json(msg=problem)
    PermissionManager(module).run()


if __name__ == "__main__":
    main()
