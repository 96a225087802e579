#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_key
short_description: Manage Garage S3 access keys
version_added: 0.1.0
description:
  - Create, import, rename, update and delete access keys of a Garage cluster through the Admin API v2.
  - A key is addressed by O(id) or by O(name). Garage does not keep key names unique, so a name
    carried by several keys is refused; address such keys by O(id).
  - Garage generates the ids and secrets of the keys it creates. To bring a key with a known id and
    secret (for example from another cluster), give O(id) and O(secret_access_key) and the key is imported
    when it does not exist.
  - "The secret of a key is returned only when this module creates it (RV(secret_access_key)). Register
    the result with C(no_log: true) and store the secret right away; it cannot be read back by later runs
    of this module."
  - Options that are not set are left untouched on an existing key.
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  state:
    description:
      - V(present) makes sure the key exists (creating or importing it if needed) with the given settings.
      - V(absent) deletes the key. Garage also drops the key's permissions and local bucket aliases.
      - Deleting a key that does not exist is not a change.
    type: str
    choices: [present, absent]
    default: present
  id:
    description:
      - The access key id, C(GK) followed by 24 lowercase hexadecimal characters.
      - When set, the key is addressed by its id and O(name), if also set, is the name it must carry
        (the key is renamed when it differs).
      - A key with this id that does not exist can only be created by importing it, see O(secret_access_key).
    type: str
    aliases: [access_key_id]
  name:
    description:
      - The name of the key.
      - Without O(id), the key is addressed by this exact (case-sensitive) name, and created with it when
        no key carries it. The module fails when several keys carry this name.
      - With O(id), the key is renamed to this name if needed.
    type: str
  secret_access_key:
    description:
      - The secret of a key to import, 64 hexadecimal characters. Requires O(id).
      - When the key O(id) does not exist, it is imported with this secret (Garage's C(ImportKey)).
        Garage refuses to import an id that was ever used, even by a deleted key.
      - When the key exists, its secret must be this one (a key's secret cannot be changed); the module
        fails otherwise.
      - Never logged or returned.
    type: str
  allow_create_bucket:
    description:
      - Whether the key may create buckets through the S3 API (Garage's C(createBucket) key permission).
      - New keys are created without this permission unless V(true) is given.
    type: bool
  expiration:
    description:
      - Date and time at which the key expires, as an RFC 3339 / ISO 8601 datetime with a UTC offset,
        for example V(2030-01-31T00:00:00Z) or V(2030-01-31T01:00:00+01:00).
      - Compared with the key's expiration after normalisation to UTC, at Garage's millisecond precision.
      - An expired key stays listed but S3 refuses it.
      - Mutually exclusive with O(never_expires).
    type: str
  never_expires:
    description:
      - V(true) removes any expiration from the key.
      - V(false) has no effect; use O(expiration) to set one.
      - Mutually exclusive with O(expiration).
    type: bool
notes:
  - With the key addressed by O(id) or by a name that is not ambiguous, a run that changes nothing costs
    one Admin API read.
  - Garage refuses to import an id once used by a key that was deleted, and its API offers no way to
    see such ids beforehand. Check mode therefore predicts such an import as a change, and the real run
    fails with C(KeyAlreadyExists).
  - The key's bucket permissions and local aliases are managed by M(cellar.garage.garage_bucket_permission)
    and M(cellar.garage.garage_bucket_alias).
seealso:
  - module: cellar.garage.garage_key_info
  - module: cellar.garage.garage_bucket_permission
  - module: cellar.garage.garage_admin_token
  - name: Garage Admin API v2
    description: Reference of the CreateKey, ImportKey, UpdateKey and DeleteKey endpoints.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: Create a key for the backup job and keep its secret
  cellar.garage.garage_key:
    name: backup-job
  register: backup_key
  no_log: true

- name: Store the new secret (only returned when the key was just created)
  ansible.builtin.copy:
    content: "{{ backup_key.secret_access_key }}"
    dest: /etc/backup/s3-secret
    mode: "0600"
  when: backup_key.secret_access_key is defined
  no_log: true

- name: Let a key create buckets and expire at the end of the year
  cellar.garage.garage_key:
    name: ci-runner
    allow_create_bucket: true
    expiration: "2030-12-31T23:59:59Z"

- name: Rename a key addressed by its id and make it never expire
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    name: photos-uploader
    never_expires: true

- name: Import a key with a known id and secret (e.g. migrated from another cluster)
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    secret_access_key: "{{ vault_photos_secret }}"
    name: photos-uploader

- name: Delete a key
  cellar.garage.garage_key:
    id: GK31c2f218a2e44f485b94239e
    state: absent
"""

RETURN = r"""
---
key:
  description:
    - The key after the run (in check mode, as it would be). Never contains the secret.
    - V(null) when O(state=absent).
    - When a key would be created in check mode, RV(key.id) is V(null) (Garage chooses it).
  returned: always
  type: dict
  contains:
    id:
      description: The access key id.
      type: str
      sample: GK31c2f218a2e44f485b94239e
    name:
      description: The key's name.
      type: str
      sample: backup-job
    created:
      description: Creation time (RFC 3339), V(null) for keys from Garage 1.x.
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    expiration:
      description: Expiration time (RFC 3339), V(null) when the key never expires.
      type: str
      sample: "2030-12-31T23:59:59Z"
    expired:
      description: Whether the key has expired.
      type: bool
      sample: false
    permissions:
      description: Key-level permissions.
      type: dict
      contains:
        create_bucket:
          description: Whether the key may create buckets through S3.
          type: bool
          sample: false
    buckets:
      description: Buckets this key has an entry on, sorted by bucket id.
      type: list
      elements: dict
      sample:
        - id: 9f0e1a44b8c6d2c1f0a9b6e3d5c7a1e2f4b6d8c0a2e4f6b8d0c2e4a6b8d0f2a4
          global_aliases: [photos]
          local_aliases: []
          permissions: {read: true, write: true, owner: false}
secret_access_key:
  description:
    - The secret of the key, 64 hexadecimal characters.
    - "Returned only when the module creates the key (not in check mode, not for an imported key whose
      secret you supplied, never on later runs). Register the result with C(no_log: true)."
  returned: when the key is created
  type: str
  sample: 7c2b5d1e0a9f8e7d6c5b4a3928171605f4e3d2c1b0a99887766554433221100f
"""

import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._resources import (
    AmbiguousKeyName,
    find_key,
    is_key_id,
    key_view,
)
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import (
    TimestampError,
    desired_expiration,
    expiration_body,
    is_expired,
    normalize_lenient,
    parse_timestamp,
)

SECRET_RE = re.compile(r"^[0-9a-fA-F]{64}$")

ARGUMENT_SPEC: dict[str, t.Any] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "id": {"type": "str", "aliases": ["access_key_id"], "no_log": False},
    "name": {"type": "str"},
    "secret_access_key": {"type": "str", "no_log": True},
    "allow_create_bucket": {"type": "bool"},
    "expiration": {"type": "str"},
    "never_expires": {"type": "bool"},
}


def validation_problems(params: dict[str, t.Any]) -> list[str]:
    """Everything wrong with the options, found before any API call. Never echoes the secret."""
    problems = []
    key_id = params.get("id")
    if key_id is not None and not is_key_id(key_id):
        problems.append(f"id '{key_id}' is not a Garage key id (GK followed by 24 lowercase hexadecimal characters)")
    name = params.get("name")
    if name is not None and not name.strip():
        problems.append("name must not be empty")
    secret = params.get("secret_access_key")
    if secret is not None and not SECRET_RE.match(secret):
        problems.append("secret_access_key must be exactly 64 hexadecimal characters")
    if params.get("expiration") is not None:
        try:
            parse_timestamp(params["expiration"])
        except TimestampError as exc:
            problems.append(f"expiration: {exc}")
    return problems


def managed_state(view: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The attributes this module manages (the diff content). Never the secret."""
    if view is None:
        return {}
    return {
        "id": view["id"],
        "name": view["name"],
        "allow_create_bucket": view["permissions"]["create_bucket"],
        "expiration": normalize_lenient(view["expiration"]),
    }


def plan_update(current: dict[str, t.Any], params: dict[str, t.Any]) -> tuple[DifferenceTracker, dict[str, t.Any]]:
    """Compare the managed state with the options that are set; return the tracker and UpdateKey body."""
    tracker = DifferenceTracker()
    body: dict[str, t.Any] = {}
    if params.get("name") is not None:
        tracker.add("name", before=current["name"], after=params["name"])
        if current["name"] != params["name"]:
            body["name"] = params["name"]
    if params.get("allow_create_bucket") is not None:
        wanted = params["allow_create_bucket"]
        tracker.add("allow_create_bucket", before=current["allow_create_bucket"], after=wanted)
        if current["allow_create_bucket"] != wanted:
            body["allow" if wanted else "deny"] = {"createBucket": True}
    managed, expiration = desired_expiration(params)
    if managed:
        tracker.add("expiration", before=current["expiration"], after=expiration)
        if current["expiration"] != expiration:
            body.update(expiration_body(expiration))
    return tracker, body


def predict_view(view: dict[str, t.Any], after: dict[str, t.Any]) -> dict[str, t.Any]:
    """``view`` with the managed attributes of ``after`` applied (check mode's answer)."""
    predicted = dict(view)
    predicted["name"] = after["name"]
    predicted["permissions"] = {"create_bucket": after["allow_create_bucket"]}
    predicted["expiration"] = after["expiration"]
    predicted["expired"] = is_expired(after["expiration"])
    return predicted


def new_key_view(key_id: str | None, name: str) -> dict[str, t.Any]:
    return {
        "id": key_id,
        "name": name,
        "created": None,
        "expiration": None,
        "expired": False,
        "permissions": {"create_bucket": False},
        "buckets": [],
    }


class KeyManager:
    def __init__(self, module: GarageModule) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client
        self.label = self.params.get("id") or self.params.get("name")

    def read(self) -> dict[str, t.Any] | None:
        key_id = self.params.get("id")
        # The secret is read only to verify an import against an existing key; it is never returned.
        show_secret = (
            key_id is not None
            and self.params.get("secret_access_key") is not None
            and self.params["state"] == "present"
        )
        with self.module.api_errors("read", "key", self.label):
            try:
                return find_key(
                    self.client, key_id=key_id, name=None if key_id else self.params["name"], show_secret=show_secret
                )
            except AmbiguousKeyName as exc:
                self.module.fail_json(msg=str(exc), key_ids=exc.ids)
        return None  # pragma: no cover - fail_json exits

    def absent(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        if info is None:
            self.module.exit_resource(False, {}, {}, key=None)
        before = managed_state(key_view(info))
        if not self.module.check_mode:
            with self.module.api_errors("delete", "key", self.label):
                self.client.delete_key(before["id"])
        self.module.exit_resource(True, before, {}, key=None)

    def present(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        if info is None:
            if self.params.get("secret_access_key") is not None:
                self.import_key()
            elif self.params.get("id") is not None:
                self.module.fail_json(
                    msg=f"Key '{self.params['id']}' does not exist. Garage chooses the ids of the keys it "
                    "creates: to create a key with this id, import it by also giving secret_access_key, "
                    "or create the key by name only."
                )
                raise AssertionError("unreachable")  # pragma: no cover - fail_json exits
            else:
                self.create()
        else:
            self.update(info)

    def create(self) -> t.NoReturn:
        name = self.params["name"]
        body: dict[str, t.Any] = {"name": name}
        if self.params.get("allow_create_bucket"):
            body["allow"] = {"createBucket": True}
        managed, expiration = desired_expiration(self.params)
        if managed:
            body.update(expiration_body(expiration))
        predicted = new_key_view(None, name)
        after = managed_state(predicted)
        after["allow_create_bucket"] = bool(self.params.get("allow_create_bucket"))
        after["expiration"] = expiration
        if self.module.check_mode:
            self.module.exit_resource(True, {}, after, key=predict_view(predicted, after))
        with self.module.api_errors("create", "key", name):
            created = self.client.create_key(body)
        secret = created.get("secretAccessKey")
        view = key_view(created)
        result: dict[str, t.Any] = {"key": view}
        if secret:
            result["secret_access_key"] = secret
        self.module.exit_resource(True, {}, managed_state(view), **result)

    def import_key(self) -> t.NoReturn:
        key_id = self.params["id"]
        name = self.params.get("name")
        # What ImportKey gives: createBucket false, no expiration, Garage's default name.
        imported = new_key_view(key_id, name if name is not None else "Imported key")
        tracker, update_body = plan_update(managed_state(imported), self.params)
        after = managed_state(imported)
        after.update(tracker.get_before_after()[1])
        if self.module.check_mode:
            self.module.exit_resource(True, {}, after, key=predict_view(imported, after))
        body: dict[str, t.Any] = {"accessKeyId": key_id, "secretAccessKey": self.params["secret_access_key"]}
        if name is not None:
            body["name"] = name
        with self.module.api_errors("import", "key", key_id):
            info = self.client.import_key(body)
        if update_body:
            with self.module.api_errors("update imported key", "key", key_id, changed=True):
                info = self.client.update_key(key_id, update_body)
        view = key_view(info)
        self.module.exit_resource(True, {}, managed_state(view), key=view)

    def update(self, info: dict[str, t.Any]) -> t.NoReturn:
        secret = self.params.get("secret_access_key")
        if secret is not None and info.get("secretAccessKey") != secret:
            self.module.fail_json(
                msg=f"Key '{info['accessKeyId']}' already exists with a different secret; Garage cannot change "
                "the secret of a key (delete it and import it again if you really mean to)."
            )
        view = key_view(info)
        current = managed_state(view)
        tracker, body = plan_update(current, self.params)
        after = dict(current)
        after.update(tracker.get_before_after()[1])
        if not body:
            self.module.exit_resource(False, current, after, key=view)
        if self.module.check_mode:
            self.module.exit_resource(True, current, after, key=predict_view(view, after))
        with self.module.api_errors("update", "key", current["id"]):
            updated = self.client.update_key(current["id"], body)
        new_view = key_view(updated)
        self.module.exit_resource(True, current, managed_state(new_view), key=new_view)


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        mutually_exclusive=[["expiration", "never_expires"]],
        required_one_of=[["id", "name"]],
        required_by={"secret_access_key": ["id"]},
        supports_check_mode=True,
    )
    problems = validation_problems(module.params)
    if problems:
        module.fail_json(msg="Invalid options: " + "; ".join(problems))
    manager = KeyManager(module)
    info = manager.read()
    if module.params["state"] == "absent":
        manager.absent(info)
    manager.present(info)


if __name__ == "__main__":
    main()
