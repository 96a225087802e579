#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket
short_description: Manage Garage buckets, their global aliases, website and quotas
version_added: 0.1.0
description:
  - Create, update or delete a bucket of a Garage cluster through the Admin API v2.
  - A bucket is addressed by one of its global aliases (O(name)) or by its 64-hex id (O(id)).
  - Manages the bucket's global aliases (O(global_aliases), O(purge_global_aliases)), its website
    access (O(website)) and its quotas (O(quotas)). Options that are not set leave the bucket's
    current settings untouched.
  - Keys, local aliases and permissions are managed by M(cellar.garage.garage_bucket_alias) and
    M(cellar.garage.garage_bucket_permission).
  - All input is validated before anything is changed, and when a new bucket cannot be fully
    configured the bucket created by the same run is deleted again.
author:
  - cellar.garage maintainers (!UNKNOWN)
options:
  name:
    description:
      - A global alias of the bucket, that is its name for S3 clients.
      - With O(state=present) and no bucket carrying that alias, a bucket is created with it.
      - This alias is always kept, even with O(purge_global_aliases=true).
      - Garage's naming rules apply (3 to 63 characters of lowercase letters, digits, C(.) and C(-),
        not an IP address); an invalid name is refused before anything is changed.
      - Exactly one of O(name) and O(id) is required.
    type: str
  id:
    description:
      - The bucket's id, 64 lowercase hexadecimal characters (RV(bucket.id)).
      - Garage chooses bucket ids itself, so O(state=present) with an id that does not exist fails;
        create buckets by O(name).
      - Exactly one of O(name) and O(id) is required.
    type: str
  state:
    description:
      - V(present) creates the bucket if needed and converges the options that are set.
      - V(absent) deletes the bucket. Garage only deletes empty buckets, so a bucket that still
        holds objects is refused (before anything is attempted) with the number of objects;
        empty it first. Deleting a bucket also removes all of its aliases and key permissions.
      - With V(absent), O(global_aliases), O(website) and O(quotas) are ignored.
    type: str
    choices: [present, absent]
    default: present
  global_aliases:
    description:
      - Global aliases the bucket must have, in addition to O(name).
      - Aliases are added first; one that already belongs to another bucket is refused before
        anything is changed.
      - Aliases not in this list are kept unless O(purge_global_aliases=true).
    type: list
    elements: str
  purge_global_aliases:
    description:
      - Remove the bucket's global aliases that are neither O(name) nor in O(global_aliases).
      - Only takes effect when O(global_aliases) is set.
      - Garage refuses to remove the last alias of a bucket (global and local aliases count together);
        such a request fails before anything is changed. Delete the bucket instead.
    type: bool
    default: false
  website:
    description:
      - Website access of the bucket (served by Garage's C([s3_web]) endpoint under its global aliases).
      - Suboptions that are not set keep their current value.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether the bucket is served as a website.
          - V(false) cannot be combined with O(website.index_document) or O(website.error_document).
        type: bool
        default: true
      index_document:
        description:
          - Index document, for example V(index.html).
          - When website access is being enabled and this is not set, V(index.html) is used;
            when it is already enabled, the current index document is kept.
        type: str
      error_document:
        description:
          - Document served on errors, for example V(404.html).
          - An empty string removes the error document.
        type: str
  quotas:
    description:
      - Quotas of the bucket. Garage enforces them on S3 uploads (HTTP 403 when exceeded).
      - Garage replaces both quotas at once; the module sends the current value of a quota
        that is not set here, so it is preserved.
    type: dict
    suboptions:
      max_size:
        description:
          - Maximum total size of the objects, as a number of bytes or a size with a unit,
            for example V(10G) (10 * 1000^3 bytes) or V(512MiB) (512 * 1024^2 bytes).
          - V(none) or V(unlimited) (or an explicit C(null)) removes the limit.
        type: raw
      max_objects:
        description:
          - Maximum number of objects.
          - V(none) or V(unlimited) (or an explicit C(null)) removes the limit.
        type: raw
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
seealso:
  - module: cellar.garage.garage_bucket_info
  - module: cellar.garage.garage_bucket_alias
  - module: cellar.garage.garage_bucket_permission
  - name: Garage Admin API v2 reference
    description: The UpdateBucket, CreateBucket and DeleteBucket endpoints used by this module.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: Ensure the bucket photos exists
  cellar.garage.garage_bucket:
    name: photos

- name: A public website with two names, a 10 GB size limit and at most 100000 objects
  cellar.garage.garage_bucket:
    name: www-example
    global_aliases:
      - www.example.com
    website:
      enabled: true
      index_document: index.html
      error_document: 404.html
    quotas:
      max_size: 10G
      max_objects: 100000

- name: Raise the size quota only (the object quota is preserved)
  cellar.garage.garage_bucket:
    name: www-example
    quotas:
      max_size: 50GiB

- name: Remove the object quota
  cellar.garage.garage_bucket:
    name: www-example
    quotas:
      max_objects: none

- name: Keep exactly these global aliases on a bucket addressed by id
  cellar.garage.garage_bucket:
    id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    global_aliases:
      - archive
      - archive-2024
    purge_global_aliases: true

- name: Stop serving the bucket as a website
  cellar.garage.garage_bucket:
    name: www-example
    website:
      enabled: false

- name: Delete an (empty) bucket
  cellar.garage.garage_bucket:
    name: scratch
    state: absent

- name: Connection options once for all modules of the collection
  module_defaults:
    group/cellar.garage.garage:
      admin_url: http://127.0.0.1:3903
      admin_token_file: /etc/garage/admin.token
  block:
    - name: Ensure the bucket logs exists
      cellar.garage.garage_bucket:
        name: logs
"""

RETURN = r"""
bucket:
  description:
    - The bucket after the run (in check mode, as the run would leave it).
    - In check mode, a bucket that would be created has RV(bucket.id=null).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The bucket id (64 hex characters); V(null) for a bucket that check mode would create.
      type: str
      sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    created:
      description: Creation time (RFC 3339), when Garage reports it.
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    global_aliases:
      description: Global aliases, sorted.
      type: list
      elements: str
      sample: [www-example, www.example.com]
    local_aliases:
      description: Local aliases, each with the access key whose namespace holds it.
      type: list
      elements: dict
      sample: [{access_key_id: GK31c2f218a2e44f485b94239e, alias: mine}]
    website:
      description: Website access and documents.
      type: dict
      sample: {enabled: true, index_document: index.html, error_document: 404.html}
    quotas:
      description: Quotas in bytes and objects; V(null) means unlimited.
      type: dict
      sample: {max_size: 10000000000, max_objects: 100000}
    objects:
      description: Number of objects (Garage's counters are eventually consistent).
      type: int
      sample: 0
    bytes:
      description: Total size of the objects in bytes.
      type: int
      sample: 0
    unfinished_uploads:
      description: Number of unfinished uploads.
      type: int
      sample: 0
    unfinished_multipart_uploads:
      description: Number of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_parts:
      description: Number of parts of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_bytes:
      description: Bytes in unfinished multipart uploads.
      type: int
      sample: 0
    keys:
      description: Access keys that appear on the bucket, with their permissions and local aliases.
        A key may be listed with all permissions false.
      type: list
      elements: dict
      sample:
        - access_key_id: GK31c2f218a2e44f485b94239e
          name: app
          permissions: {read: true, write: true, owner: false}
          local_aliases: []
"""

import copy
import typing as t
from dataclasses import dataclass, field

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageConflict, GarageError
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._resources import (
    bucket_name_problem,
    bucket_view,
    find_bucket,
    reference_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._sizes import parse_size

_UNSET: t.Any = object()
DEFAULT_INDEX_DOCUMENT = "index.html"

ARGUMENT_SPEC: dict[str, t.Any] = {
    "name": {"type": "str"},
    "id": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "global_aliases": {"type": "list", "elements": "str"},
    "purge_global_aliases": {"type": "bool", "default": False},
    "website": {
        "type": "dict",
        "options": {
            "enabled": {"type": "bool", "default": True},
            "index_document": {"type": "str"},
            "error_document": {"type": "str"},
        },
    },
    "quotas": {
        "type": "dict",
        "options": {
            "max_size": {"type": "raw"},
            "max_objects": {"type": "raw"},
        },
    },
}


class InputError(ValueError):
    """Bad module input, detected before any API call."""


# --------------------------------------------------------------------------- input


@dataclass
class Request:
    """The validated, normalised request: ``None`` (or ``_UNSET``) means "leave untouched"."""

    name: str | None
    bucket_id: str | None
    state: str
    global_aliases: list[str] | None
    purge_global_aliases: bool
    website: dict[str, t.Any] | None
    #: ``_UNSET`` keeps the current value, ``None`` clears it, an int sets it.
    max_size: t.Any = _UNSET
    max_objects: t.Any = _UNSET

    @property
    def label(self) -> str:
        return self.name if self.name is not None else t.cast(str, self.bucket_id)

    @property
    def sets_quotas(self) -> bool:
        return self.max_size is not _UNSET or self.max_objects is not _UNSET


def _is_none_word(value: t.Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("none", "unlimited")


def _quota_value(value: t.Any, explicit: bool, parse: t.Callable[[t.Any], int]) -> t.Any:
    if value is None:
        return None if explicit else _UNSET
    if _is_none_word(value):
        return None
    return parse(value)


def _parse_max_objects(value: t.Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"Invalid number of objects {value!r}: expected a whole number or 'none'")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value == int(value):
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError(f"Invalid number of objects {value!r}: expected a whole number or 'none'")
    if number < 0:
        raise ValueError(f"Invalid number of objects {value!r}: must not be negative")
    return number


def build_request(params: dict[str, t.Any], explicit_quota_keys: set[str] | None = None) -> Request:
    """Validate and normalise the module parameters. Raises :class:`InputError`.

    ``explicit_quota_keys`` names the ``quotas`` suboptions the user actually wrote, so that an
    explicit ``null`` (clear the quota) can be told from an unset suboption (keep the quota).
    """
    explicit = explicit_quota_keys or set()
    name = params.get("name")
    bucket_id = params.get("id")
    problem = reference_problem(bucket=name, bucket_id=bucket_id)
    if problem:
        raise InputError(problem)

    aliases = params.get("global_aliases")
    if aliases is not None:
        seen: list[str] = []
        for alias in aliases:
            problem = bucket_name_problem(alias)
            if problem:
                raise InputError(f"Invalid global alias '{alias}' in global_aliases: a bucket name {problem}")
            if alias not in seen:
                seen.append(alias)
        aliases = seen

    website = params.get("website")
    if website is not None:
        website = dict(website)
        if not website.get("enabled", True):
            given = [k for k in ("index_document", "error_document") if website.get(k) is not None]
            if given:
                raise InputError(
                    f"website.enabled is false but website.{given[0]} is set: Garage refuses documents "
                    "when disabling website access; remove " + " and ".join(f"website.{g}" for g in given)
                )
        elif website.get("index_document") is not None and not website["index_document"].strip():
            raise InputError("website.index_document must not be empty")

    request = Request(
        name=name,
        bucket_id=bucket_id,
        state=params.get("state") or "present",
        global_aliases=aliases,
        purge_global_aliases=bool(params.get("purge_global_aliases")),
        website=website,
    )
    quotas = params.get("quotas")
    if quotas is not None:
        try:
            request.max_size = _quota_value(quotas.get("max_size"), "max_size" in explicit, parse_size)
        except ValueError as exc:
            raise InputError(f"quotas.max_size: {exc}") from None
        try:
            request.max_objects = _quota_value(quotas.get("max_objects"), "max_objects" in explicit, _parse_max_objects)
        except ValueError as exc:
            raise InputError(f"quotas.max_objects: {exc}") from None
        if not request.sets_quotas:
            raise InputError(
                "quotas is set but neither quotas.max_size nor quotas.max_objects is: "
                "set a value, or 'none' to remove a limit"
            )
    return request


def explicit_suboptions(option: str) -> set[str] | None:
    """The suboption names the user actually passed for ``option`` (``None`` if unknown).

    Ansible fills suboptions that were not given with ``None``, which cannot be told from an
    explicit ``null``; the raw module arguments can. ``_load_params`` is documented by
    ansible-core for "very dynamic custom modules"; if it is unavailable we only honour ``none``.
    """
    try:
        from ansible.module_utils import basic

        raw = basic._load_params()
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        return None
    value = raw.get(option) if isinstance(raw, dict) else None
    return set(value) if isinstance(value, dict) else None


# --------------------------------------------------------------------------- planning


@dataclass
class Plan:
    add_aliases: list[str] = field(default_factory=list)
    remove_aliases: list[str] = field(default_factory=list)
    update_body: dict[str, t.Any] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.add_aliases or self.remove_aliases or self.update_body)


def new_bucket_info(name: str) -> dict[str, t.Any]:
    """What Garage's CreateBucket answers for ``{globalAlias: name}`` (id unknown before the call)."""
    return {
        "id": None,
        "created": None,
        "globalAliases": [name],
        "websiteAccess": False,
        "websiteConfig": None,
        "keys": [],
        "objects": 0,
        "bytes": 0,
        "unfinishedUploads": 0,
        "unfinishedMultipartUploads": 0,
        "unfinishedMultipartUploadParts": 0,
        "unfinishedMultipartUploadBytes": 0,
        "quotas": {"maxSize": None, "maxObjects": None},
    }


def local_alias_count(info: dict[str, t.Any]) -> int:
    return sum(len(k.get("bucketLocalAliases") or []) for k in info.get("keys") or [])


def plan_aliases(info: dict[str, t.Any], request: Request) -> tuple[list[str], list[str]]:
    if request.global_aliases is None:
        return [], []
    current = list(info.get("globalAliases") or [])
    wanted = list(request.global_aliases)
    if request.name is not None and request.name not in wanted:
        wanted.insert(0, request.name)
    add = [a for a in wanted if a not in current]
    remove = sorted(a for a in current if a not in wanted) if request.purge_global_aliases else []
    remaining = len(current) - len(remove) + len(add) + local_alias_count(info)
    if remove and remaining == 0:
        raise InputError(
            f"Cannot remove global alias(es) {', '.join(remove)} of bucket '{request.label}': the bucket would "
            "be left without any alias, which Garage refuses. Keep at least one alias, or delete the bucket "
            "instead (state=absent)"
        )
    return add, remove


def plan_website(info: dict[str, t.Any], website: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    """The ``websiteAccess`` body for UpdateBucket, or ``None`` when nothing changes."""
    if website is None:
        return None
    enabled = bool(info.get("websiteAccess"))
    config = info.get("websiteConfig") or {}
    cur_index = config.get("indexDocument") if enabled else None
    cur_error = config.get("errorDocument") if enabled else None
    if not website.get("enabled", True):
        return {"enabled": False} if enabled else None
    index = website.get("index_document") or cur_index or DEFAULT_INDEX_DOCUMENT
    error = website.get("error_document")
    if error is None:
        error = cur_error
    elif error == "":
        error = None
    if enabled and index == cur_index and error == cur_error:
        return None
    body: dict[str, t.Any] = {"enabled": True, "indexDocument": index}
    if error is not None:
        body["errorDocument"] = error
    return body


def plan_quotas(info: dict[str, t.Any], request: Request) -> dict[str, t.Any] | None:
    """The ``quotas`` body for UpdateBucket (always both values: Garage replaces them), or ``None``."""
    if not request.sets_quotas:
        return None
    current = info.get("quotas") or {}
    cur_size, cur_objects = current.get("maxSize"), current.get("maxObjects")
    size = cur_size if request.max_size is _UNSET else request.max_size
    objects = cur_objects if request.max_objects is _UNSET else request.max_objects
    if size == cur_size and objects == cur_objects:
        return None
    return {"maxSize": size, "maxObjects": objects}


def plan_present(info: dict[str, t.Any], request: Request) -> Plan:
    plan = Plan()
    plan.add_aliases, plan.remove_aliases = plan_aliases(info, request)
    website = plan_website(info, request.website)
    if website is not None:
        plan.update_body["websiteAccess"] = website
    quotas = plan_quotas(info, request)
    if quotas is not None:
        plan.update_body["quotas"] = quotas
    return plan


def predict(info: dict[str, t.Any], plan: Plan) -> dict[str, t.Any]:
    """The GetBucketInfo answer Garage would give after ``plan`` (check mode, diff)."""
    after = copy.deepcopy(info)
    aliases = [a for a in after.get("globalAliases") or [] if a not in plan.remove_aliases]
    aliases.extend(a for a in plan.add_aliases if a not in aliases)
    after["globalAliases"] = aliases
    website = plan.update_body.get("websiteAccess")
    if website is not None:
        after["websiteAccess"] = website["enabled"]
        after["websiteConfig"] = (
            {"indexDocument": website["indexDocument"], "errorDocument": website.get("errorDocument")}
            if website["enabled"]
            else None
        )
    quotas = plan.update_body.get("quotas")
    if quotas is not None:
        after["quotas"] = dict(quotas)
    return after


def managed_view(view: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The managed attributes of a bucket view, for the diff."""
    if not view:
        return {"state": "absent"}
    return {
        "state": "present",
        "id": view["id"],
        "global_aliases": view["global_aliases"],
        "website": view["website"],
        "quotas": view["quotas"],
    }


# --------------------------------------------------------------------------- apply


class BucketManager:
    def __init__(self, module: GarageModule, request: Request) -> None:
        self.module = module
        self.request = request
        self.client = module.client

    def read(self) -> dict[str, t.Any] | None:
        r = self.request
        with self.module.api_errors("read", "bucket", r.label):
            return find_bucket(self.client, name=r.name, bucket_id=r.bucket_id)

    def check_aliases_free(self, aliases: list[str], bucket_id: str | None) -> None:
        """Refuse, before any change, aliases that already belong to another bucket."""
        for alias in aliases:
            with self.module.api_errors("read", "bucket", alias):
                other = find_bucket(self.client, name=alias)
            if other is not None and other.get("id") != bucket_id:
                self.module.fail_json(
                    msg=(
                        f"Global alias '{alias}' already belongs to another bucket ({other.get('id')}); "
                        "remove it from that bucket first (cellar.garage.garage_bucket_alias state=absent)"
                    )
                )

    def apply(self, bucket_id: str, plan: Plan, *, done: bool) -> dict[str, t.Any] | None:
        """Run ``plan``; returns the last bucket info Garage answered (None if no call was made)."""
        last: dict[str, t.Any] | None = None
        label = self.request.label
        for alias in plan.add_aliases:
            with self.module.api_errors("add global alias to", "bucket", label, changed=done):
                last = self.client.add_bucket_alias({"bucketId": bucket_id, "globalAlias": alias})
            done = True
        for alias in plan.remove_aliases:
            with self.module.api_errors("remove global alias from", "bucket", label, changed=done):
                last = self.client.remove_bucket_alias({"bucketId": bucket_id, "globalAlias": alias})
            done = True
        if plan.update_body:
            with self.module.api_errors("update", "bucket", label, changed=done):
                last = self.client.update_bucket(bucket_id, plan.update_body)
        return last

    # ------------------------------------------------------------------ states

    def present(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        module, r = self.module, self.request
        if info is None:
            if r.name is None:
                module.fail_json(
                    msg=(
                        f"Bucket with id '{r.bucket_id}' does not exist. Garage chooses bucket ids itself: "
                        "create buckets by name"
                    )
                )
            self.create(t.cast(str, r.name))
        try:
            plan = plan_present(info, r)
        except InputError as exc:
            module.fail_json(msg=str(exc))
        before = bucket_view(info)
        if plan.add_aliases:
            self.check_aliases_free(plan.add_aliases, info["id"])
        after_info = predict(info, plan)
        if plan.changed and not module.check_mode:
            answered = self.apply(info["id"], plan, done=False)
            if isinstance(answered, dict):
                after_info = answered
        after = bucket_view(after_info)
        module.exit_resource(plan.changed, managed_view(before), managed_view(after), bucket=after)

    def create(self, name: str) -> t.NoReturn:
        module, r = self.module, self.request
        fresh = new_bucket_info(name)
        try:
            plan = plan_present(fresh, r)
        except InputError as exc:  # pragma: no cover - a new bucket always keeps its name
            module.fail_json(msg=str(exc))
        if plan.add_aliases:
            self.check_aliases_free(plan.add_aliases, None)
        predicted = bucket_view(predict(fresh, plan))
        if module.check_mode:
            module.exit_resource(True, managed_view(None), managed_view(predicted), bucket=predicted)
        with module.api_errors("create", "bucket", name):
            created = self.client.create_bucket({"globalAlias": name})
        bucket_id = created["id"]
        after_info: dict[str, t.Any] = created
        try:
            answered = self._configure_new(bucket_id, plan)
        except GarageError as exc:
            self.rollback(name, bucket_id, exc)
        if isinstance(answered, dict):
            after_info = answered
        after = bucket_view(after_info)
        module.exit_resource(True, managed_view(None), managed_view(after), bucket=after)

    def _configure_new(self, bucket_id: str, plan: Plan) -> dict[str, t.Any] | None:
        last: dict[str, t.Any] | None = None
        for alias in plan.add_aliases:
            last = self.client.add_bucket_alias({"bucketId": bucket_id, "globalAlias": alias})
        if plan.update_body:
            last = self.client.update_bucket(bucket_id, plan.update_body)
        return last

    def rollback(self, name: str, bucket_id: str, exc: GarageError) -> t.NoReturn:
        detail = f"{exc.code}: {exc.message}" if exc.code else exc.message
        try:
            self.client.delete_bucket(bucket_id)
        except GarageError as cleanup_exc:
            self.module.fail_json(
                msg=(
                    f"Failed to configure new bucket '{name}': {detail}. The bucket was created "
                    f"({bucket_id}) but could not be deleted again ({cleanup_exc.message}); delete it by hand"
                ),
                changed=True,
                manual_cleanup_required=[{"bucket_id": bucket_id, "name": name}],
                status=exc.status,
                garage_code=exc.code,
            )
        self.module.fail_json(
            msg=f"Failed to configure new bucket '{name}': {detail}. The bucket created by this run was deleted again",
            changed=False,
            status=exc.status,
            garage_code=exc.code,
        )
        raise AssertionError("unreachable")  # pragma: no cover

    def absent(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        module = self.module
        if info is None:
            module.exit_resource(False, managed_view(None), managed_view(None), bucket=None)
        before = bucket_view(info)
        objects = int(info.get("objects") or 0)
        if objects > 0:
            module.fail_json(msg=self.not_empty_message(before, objects))
        if not module.check_mode:
            try:
                self.client.delete_bucket(info["id"])
            except GarageConflict as exc:
                if exc.code in (None, "BucketNotEmpty"):
                    module.fail_json(msg=self.not_empty_message(before, objects))
                module.fail_api(exc, "delete", "bucket", self.request.label)
            except GarageError as exc:
                module.fail_api(exc, "delete", "bucket", self.request.label)
        module.exit_resource(True, managed_view(before), managed_view(None), bucket=None)

    def not_empty_message(self, view: dict[str, t.Any], objects: int) -> str:
        alias = (view["global_aliases"] or [self.request.label])[0]
        count = (
            f"it still contains {objects} object(s) ({view['bytes']} bytes)"
            if objects
            else "Garage reports that it still contains objects (BucketNotEmpty)"
        )
        return (
            f"Cannot delete bucket '{self.request.label}' ({view['id']}): {count}. Garage only deletes empty "
            f"buckets: empty it first, for example with an S3 client (aws s3 rm s3://{alias} --recursive) "
            "or the cellar.garage.garage_bucket_clear module, then run this task again"
        )


def main() -> None:
    module = GarageModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=[["name", "id"]],
        required_one_of=[["name", "id"]],
        supports_check_mode=True,
    )
    try:
        request = build_request(module.params, explicit_suboptions("quotas"))
    except InputError as exc:
        module.fail_json(msg=str(exc))
    manager = BucketManager(module, request)
    info = manager.read()
    if request.state == "absent":
        manager.absent(info)
    manager.present(info)


if __name__ == "__main__":
    main()
