#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket_alias
short_description: Manage global and local (key-scoped) aliases of Garage buckets
version_added: 0.1.0
description:
  - Add or remove one alias of a bucket of a Garage cluster.
  - A B(global) alias is a cluster-wide bucket name. A B(local) alias lives in the namespace of one
    access key (O(access_key_id) or O(access_key_name)) and is only seen by S3 requests signed with
    that key, where it shadows a global alias of the same name.
  - The target bucket is given by one of its global aliases (O(bucket)) or by its id (O(bucket_id)).
  - To manage all global aliases of a bucket at once, use O(cellar.garage.garage_bucket#module:global_aliases).
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  alias:
    description:
      - The alias. Garage's bucket naming rules apply (3 to 63 characters of lowercase letters, digits,
        C(.) and C(-), not an IP address).
    type: str
    required: true
  bucket:
    description:
      - An existing global alias of the target bucket.
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  bucket_id:
    description:
      - The id of the target bucket (64 lowercase hexadecimal characters).
      - Exactly one of O(bucket) and O(bucket_id) is required.
    type: str
  access_key_id:
    description:
      - Makes O(alias) a local alias in the namespace of this access key (C(GK) followed by 24 hexadecimal
        characters). Without O(access_key_id) and O(access_key_name), O(alias) is a global alias.
      - Mutually exclusive with O(access_key_name).
    type: str
  access_key_name:
    description:
      - Like O(access_key_id), with the key given by its exact name. A name that several keys carry is refused.
      - Mutually exclusive with O(access_key_id).
    type: str
  state:
    description:
      - V(present) adds the alias. It fails when the alias already points to another bucket (in the
        global namespace, or in the key's namespace for a local alias), or when the bucket or key does not exist.
      - V(absent) removes the alias from the target bucket. When the alias does not point to that bucket
        (or the bucket or key does not exist), nothing is changed.
      - Garage refuses to remove the last alias of a bucket (global and local aliases count together);
        the module detects this before calling Garage and fails with a clear message. Delete the bucket instead.
    type: str
    choices: [present, absent]
    default: present
notes:
  - When nothing has to change this costs one Admin API read (GetBucketInfo for a global alias,
    GetKeyInfo for a local alias).
seealso:
  - module: cellar.garage.garage_bucket
  - module: cellar.garage.garage_bucket_permission
  - module: cellar.garage.garage_key
  - name: Garage aliases
    description: How Garage resolves global and local bucket aliases.
    link: https://garagehq.deuxfleurs.fr/documentation/reference-manual/features/
"""

EXAMPLES = r"""
---
- name: Give the bucket photos a second global name
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: pictures

- name: Let the key of the app see the bucket photos as "media"
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: media
    access_key_name: app

- name: Remove that local alias again
  cellar.garage.garage_bucket_alias:
    bucket: photos
    alias: media
    access_key_id: GK31c2f218a2e44f485b94239e
    state: absent

- name: Remove a global alias from a bucket addressed by id
  cellar.garage.garage_bucket_alias:
    bucket_id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    alias: pictures
    state: absent
"""

RETURN = r"""
---
alias:
  description:
    - The alias after the run (in check mode, as the run would leave it).
  returned: success
  type: dict
  contains:
    alias:
      description: The alias name.
      type: str
      sample: media
    bucket_id:
      description: The id of the target bucket; V(null) when it does not exist (O(state=absent) only).
      type: str
      sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    access_key_id:
      description: The key whose namespace holds a local alias; V(null) for a global alias.
      type: str
      sample: GK31c2f218a2e44f485b94239e
    state:
      description: V(present) when the alias points to the bucket, else V(absent).
      type: str
      sample: present
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._resources import (
    AmbiguousKeyName,
    bucket_name_problem,
    find_bucket,
    find_key,
    reference_problem,
)

ARGUMENT_SPEC: dict[str, t.Any] = {
    "alias": {"type": "str", "required": True},
    "bucket": {"type": "str"},
    "bucket_id": {"type": "str"},
    "access_key_id": {"type": "str", "no_log": False},
    "access_key_name": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def validate(params: dict[str, t.Any]) -> str | None:
    problem = bucket_name_problem(params["alias"])
    if problem:
        return f"Invalid alias '{params['alias']}': a bucket name {problem}"
    return reference_problem(
        bucket=params.get("bucket"),
        bucket_id=params.get("bucket_id"),
        access_key_id=params.get("access_key_id"),
        access_key_name=params.get("access_key_name"),
    )


def alias_count(info: dict[str, t.Any]) -> int:
    """Active aliases of a bucket, global and local together (what Garage's last-alias rule counts)."""
    local = sum(len(k.get("bucketLocalAliases") or []) for k in info.get("keys") or [])
    return len(info.get("globalAliases") or []) + local


def last_alias_message(alias: str, bucket_id: str) -> str:
    return (
        f"Cannot remove alias '{alias}': it is the last alias of bucket {bucket_id} (global and local aliases "
        "count together) and Garage refuses to leave a bucket without any alias. Delete the bucket instead "
        "(cellar.garage.garage_bucket with state=absent), or add another alias first"
    )


class AliasManager:
    def __init__(self, module: GarageModule) -> None:
        self.module = module
        self.client = module.client
        p = module.params
        self.alias: str = p["alias"]
        self.bucket_name: str | None = p.get("bucket")
        self.bucket_id: str | None = p.get("bucket_id")
        self.present = p["state"] == "present"
        self.key_ref: str | None = p.get("access_key_id") or p.get("access_key_name")
        self.local = self.key_ref is not None

    def fail(self, msg: str, **result: t.Any) -> t.NoReturn:
        self.module.fail_json(msg=msg, **result)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    @property
    def bucket_label(self) -> str:
        return t.cast(str, self.bucket_name or self.bucket_id)

    def finish(self, changed: bool, bucket_id: str | None, key_id: str | None, before: bool, after: bool) -> t.NoReturn:
        def state(present: bool) -> dict[str, t.Any]:
            return {
                "alias": self.alias,
                "bucket_id": bucket_id,
                "access_key_id": key_id,
                "state": "present" if present else "absent",
            }

        self.module.exit_resource(changed, state(before), state(after), alias=state(after))

    def read_bucket(self, name: str | None = None, bucket_id: str | None = None) -> dict[str, t.Any] | None:
        with self.module.api_errors("read", "bucket", name or bucket_id):
            return find_bucket(self.client, name=name, bucket_id=bucket_id)

    # ------------------------------------------------------------------ global

    def run_global(self) -> t.NoReturn:
        module = self.module
        info = self.read_bucket(self.bucket_name, self.bucket_id)
        if info is None:
            if self.present:
                self.fail(f"Bucket '{self.bucket_label}' does not exist")
            self.finish(False, None, None, False, False)
        bucket_id = info["id"]
        has = self.alias in (info.get("globalAliases") or [])
        if self.present:
            if has:
                self.finish(False, bucket_id, None, True, True)
            other = self.read_bucket(self.alias)
            if other is not None and other.get("id") != bucket_id:
                module.fail_json(
                    msg=(
                        f"Global alias '{self.alias}' already points to another bucket ({other.get('id')}); "
                        "remove it from that bucket first"
                    )
                )
            if not module.check_mode:
                with module.api_errors("add global alias to", "bucket", self.bucket_label):
                    self.client.add_bucket_alias({"bucketId": bucket_id, "globalAlias": self.alias})
            self.finish(True, bucket_id, None, False, True)
        if not has:
            self.finish(False, bucket_id, None, False, False)
        if alias_count(info) <= 1:
            self.fail(last_alias_message(self.alias, bucket_id))
        if not module.check_mode:
            with module.api_errors("remove global alias from", "bucket", self.bucket_label):
                self.client.remove_bucket_alias({"bucketId": bucket_id, "globalAlias": self.alias})
        self.finish(True, bucket_id, None, True, False)

    # ------------------------------------------------------------------ local

    def read_key(self) -> dict[str, t.Any] | None:
        p = self.module.params
        with self.module.api_errors("read", "access key", self.key_ref):
            try:
                return find_key(self.client, key_id=p.get("access_key_id"), name=p.get("access_key_name"))
            except AmbiguousKeyName as exc:
                self.fail(str(exc), key_ids=exc.ids)
        raise AssertionError("unreachable")  # pragma: no cover

    def target_entry(self, key: dict[str, t.Any]) -> dict[str, t.Any] | None:
        """The key's view of the target bucket (GetKeyInfo.buckets[]), if the key relates to it."""
        for entry in key.get("buckets") or []:
            if self.bucket_id is not None and entry.get("id") == self.bucket_id:
                return entry
            if self.bucket_name is not None and self.bucket_name in (entry.get("globalAliases") or []):
                return entry
        return None

    def run_local(self) -> t.NoReturn:
        module = self.module
        key = self.read_key()
        if key is None:
            if self.present:
                self.fail(f"Access key '{self.key_ref}' does not exist")
            self.finish(False, self.bucket_id, None, False, False)
        key_id = key.get("accessKeyId") or key.get("id")
        entry = self.target_entry(key)
        has = entry is not None and self.alias in (entry.get("localAliases") or [])
        if self.present:
            if has:
                self.finish(False, t.cast(dict, entry)["id"], key_id, True, True)
            for other in key.get("buckets") or []:
                if other is not entry and self.alias in (other.get("localAliases") or []):
                    module.fail_json(
                        msg=(
                            f"Local alias '{self.alias}' of access key {key_id} already points to another bucket "
                            f"({other.get('id')}); remove it from that bucket first"
                        )
                    )
            if entry is not None:
                bucket_id = entry["id"]
            else:
                info = self.read_bucket(self.bucket_name, self.bucket_id)
                if info is None:
                    self.fail(f"Bucket '{self.bucket_label}' does not exist")
                bucket_id = info["id"]
            if not module.check_mode:
                with module.api_errors("add local alias to", "bucket", self.bucket_label):
                    self.client.add_bucket_alias(
                        {"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": self.alias}
                    )
            self.finish(True, bucket_id, key_id, False, True)
        if not has:
            self.finish(False, entry["id"] if entry else self.bucket_id, key_id, False, False)
        bucket_id = t.cast(dict, entry)["id"]
        info = self.read_bucket(bucket_id=bucket_id)
        if info is None:  # deleted meanwhile
            self.finish(False, None, key_id, False, False)
        if alias_count(info) <= 1:
            self.fail(last_alias_message(self.alias, bucket_id))
        if not module.check_mode:
            with module.api_errors("remove local alias from", "bucket", self.bucket_label):
                self.client.remove_bucket_alias(
                    {"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": self.alias}
                )
        self.finish(True, bucket_id, key_id, True, False)


def main() -> None:
    module = GarageModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[["bucket", "bucket_id"], ["access_key_id", "access_key_name"]],
        required_one_of=[["bucket", "bucket_id"]],
        supports_check_mode=True,
    )
    problem = validate(module.params)
    if problem:
        module.fail_json(msg=problem)
    manager = AliasManager(module)
    if manager.local:
        manager.run_local()
    manager.run_global()


if __name__ == "__main__":
    main()
