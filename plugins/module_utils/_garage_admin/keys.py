# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Access key operations: create, import, rename, update and delete keys.

No Ansible here. ``ensure(client, spec, dry_run=...)`` returns an :class:`Outcome` whose
before/after are :func:`views.key_managed` and whose result is ``{"key": key_view}`` plus
``secret_access_key`` when the run created the key. Names are kept unique (a rename onto a name
another key carries is refused). A CreateKey that got no answer is resolved by reading again.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    OUTCOME_UNKNOWN,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import expiring
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import (
    AmbiguousName,
    find_key,
    read_all_keys,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    key_id_problem,
    key_secret_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import key_managed, key_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import is_expired

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

Info = dict[str, t.Any]
KEY_NOT_FOUND = "key_not_found"
KEY_SECRET_MISMATCH = "key_secret_mismatch"
#: The name Garage's ImportKey gives a key imported without a name.
IMPORTED_KEY_NAME = "Imported key"


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """What the user asked for; ``None`` leaves a setting untouched. The secret never shows in repr."""

    key_id: str | None = None
    name: str | None = None
    state: str = "present"
    secret_access_key: str | None = dataclasses.field(default=None, repr=False)
    allow_create_bucket: bool | None = None
    naming: expiring.NameAndExpiration = dataclasses.field(default_factory=expiring.NameAndExpiration)

    @property
    def label(self) -> str:
        return t.cast(str, self.key_id or self.name)


def spec_from_params(params: t.Mapping[str, t.Any]) -> KeySpec:
    """Validate ``garage_key``'s options (also used by ``garage_estate``). Raises :class:`InputError`."""
    found = [p for p in [key_id_problem(params.get("id"))] if p]
    found += expiring.problems(params)
    found += [p for p in [key_secret_problem(params.get("secret_access_key"))] if p]
    expiring.invalid_options(found)
    return KeySpec(
        key_id=params.get("id"),
        name=params.get("name"),
        state=params.get("state") or "present",
        secret_access_key=params.get("secret_access_key"),
        allow_create_bucket=params.get("allow_create_bucket"),
        naming=expiring.NameAndExpiration.from_params(params),
    )


# --------------------------------------------------------------------------- planning


def plan_update(current: t.Mapping[str, t.Any], spec: KeySpec) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """``(after, body)``: the managed state after the change, and the UpdateKey body."""
    after, body = expiring.plan(current, spec.naming)
    if spec.allow_create_bucket is not None:
        after["allow_create_bucket"] = spec.allow_create_bucket
        if current["allow_create_bucket"] != spec.allow_create_bucket:
            body["allow" if spec.allow_create_bucket else "deny"] = {"createBucket": True}
    return {**current, **after}, body


def predict_view(view: t.Mapping[str, t.Any], after: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
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


# --------------------------------------------------------------------------- operations


def read(client: GarageAdminClient, spec: KeySpec) -> Info | None:
    # The secret is read only to verify an import against an existing key; it is never returned.
    show_secret = spec.key_id is not None and spec.secret_access_key is not None and spec.state == "present"
    with api_context("read", "key", spec.label, failure_reason="key_read_failed"):
        return find_key(client, key_id=spec.key_id, name=None if spec.key_id else spec.name, show_secret=show_secret)


def _outcome(
    before: t.Mapping[str, t.Any] | None,
    after_view: t.Mapping[str, t.Any] | None,
    label: str,
    *,
    after: t.Mapping[str, t.Any] | None = None,
    warnings: t.Sequence[str] = (),
    **result: t.Any,
) -> Outcome:
    after_managed = after if after is not None else key_managed(dict(after_view) if after_view is not None else None)
    return Outcome(
        before=before,
        after=after_managed,
        result={"key": dict(after_view) if after_view is not None else None, **result},
        warnings=tuple(warnings),
        label=f"key '{label}'",
    )


def ensure(client: GarageAdminClient, spec: KeySpec, *, dry_run: bool) -> Outcome:
    info = read(client, spec)
    if spec.state == "absent":
        return ensure_absent(client, spec, info, dry_run=dry_run)
    return ensure_present(client, spec, info, dry_run=dry_run)


def ensure_absent(client: GarageAdminClient, spec: KeySpec, info: Info | None, *, dry_run: bool) -> Outcome:
    if info is None:
        return _outcome(None, None, spec.label)
    view = key_view(info)
    if not dry_run:
        with api_context("delete", "key", spec.label, failure_reason="key_delete_failed"):
            client.delete_key(view["id"])
    return _outcome(key_managed(view), None, spec.label)


def ensure_present(client: GarageAdminClient, spec: KeySpec, info: Info | None, *, dry_run: bool) -> Outcome:
    if info is not None:
        return update(client, spec, info, dry_run=dry_run)
    if spec.secret_access_key is not None:
        return import_key(client, spec, dry_run=dry_run)
    if spec.key_id is not None:
        raise OperationError(
            f"Key '{spec.key_id}' does not exist. Garage chooses the ids of the keys it creates: to create a key "
            "with this id, import it by also giving secret_access_key, or create the key by name only.",
            failure_reason=KEY_NOT_FOUND,
        )
    return create(client, spec, dry_run=dry_run)


def create(client: GarageAdminClient, spec: KeySpec, *, dry_run: bool) -> Outcome:
    name = t.cast(str, spec.name)
    body: dict[str, t.Any] = {"name": name}
    if spec.allow_create_bucket:
        body["allow"] = {"createBucket": True}
    if spec.naming.expiration_managed:
        body.update(expiring.expiration_body(spec.naming.expiration))
    warnings = expiring.expired_warning("Key", name, spec.naming.expiration)
    if dry_run:
        predicted = new_key_view(None, name)
        after = {**key_managed(predicted)}
        after["allow_create_bucket"] = bool(spec.allow_create_bucket)
        after["expiration"] = spec.naming.expiration
        return _outcome(None, predict_view(predicted, after), name, after=after, warnings=warnings)
    try:
        with api_context("create", "key", name, failure_reason="key_create_failed"):
            created = t.cast(Info, client.create_key(body))
    except OperationError as exc:
        if exc.failure_reason != OUTCOME_UNKNOWN:
            raise
        created = _learn_create_outcome(client, name, exc)
    view = key_view(created)
    result: dict[str, t.Any] = {}
    if created.get("secretAccessKey"):
        result["secret_access_key"] = created["secretAccessKey"]
    outcome = _outcome(None, view, name, warnings=warnings, **result)
    return outcome.with_undo(
        Undo(
            f"delete key '{name}' ({view['id']})",
            lambda: client.delete_key(view["id"]),
            {"resource": "key", "access_key_id": view["id"], "name": name},
            done=f"the key '{name}' ({view['id']}) created by this run was deleted again",
        )
    )


def _learn_create_outcome(client: GarageAdminClient, name: str, exc: OperationError) -> Info:
    """CreateKey got no answer. No key carried ``name`` before: if exactly one does now, it is ours
    (read it with its secret, so the secret is not lost); none: it was not created."""
    try:
        found = find_key(client, name=name, show_secret=True)
    except AmbiguousName as amb:
        raise OperationError(
            f"{exc.message}. Several keys now carry the name '{name}' ({', '.join(amb.ids)}): one of them may "
            "have been created by this run; check with cellar.garage.garage_key_info and delete the extra one",
            failure_reason=OUTCOME_UNKNOWN,
            changed=True,
            details={"key_ids": amb.ids, **exc.details},
        ) from None
    except OperationError as read_exc:
        raise OperationError(
            f"{exc.message}. Reading the key again failed too ({read_exc.message}): whether key '{name}' was "
            "created cannot be known; check with cellar.garage.garage_key_info before running again",
            failure_reason=OUTCOME_UNKNOWN,
            details=exc.details,
        ) from None
    if found is None:
        raise OperationError(
            f"{exc.message}. A re-read shows no key named '{name}': it was not created; running again is safe",
            failure_reason="key_create_failed",
            details=exc.details,
        )
    return found


def import_key(client: GarageAdminClient, spec: KeySpec, *, dry_run: bool) -> Outcome:
    key_id = t.cast(str, spec.key_id)
    # What ImportKey gives: createBucket false, no expiration, Garage's default name.
    imported = new_key_view(key_id, spec.name if spec.name is not None else IMPORTED_KEY_NAME)
    current = key_managed(imported)
    after, update_body = plan_update(current, spec)
    warnings = expiring.expired_warning("Key", spec.label, spec.naming.expiration)
    if dry_run:
        return _outcome(None, predict_view(imported, after), key_id, after=after, warnings=warnings)
    body: dict[str, t.Any] = {"accessKeyId": key_id, "secretAccessKey": spec.secret_access_key}
    if spec.name is not None:
        body["name"] = spec.name
    with api_context("import", "key", key_id, failure_reason="key_import_failed"):
        info = client.import_key(body)
    if update_body:
        with api_context("update imported key", "key", key_id, failure_reason="key_update_failed", changed=True):
            info = client.update_key(key_id, update_body)
    return _outcome(None, key_view(info), key_id, warnings=warnings)


def update(client: GarageAdminClient, spec: KeySpec, info: Info, *, dry_run: bool) -> Outcome:
    if spec.secret_access_key is not None and info.get("secretAccessKey") != spec.secret_access_key:
        raise OperationError(
            f"Key '{info.get('accessKeyId')}' already exists with a different secret. Garage cannot change the "
            "secret of a key, and never lets an id that was used be imported again (even after the key is "
            "deleted): to change credentials, create a new key (or import one with a new id) and move its "
            "users and permissions to it.",
            failure_reason=KEY_SECRET_MISMATCH,
        )
    view = key_view(info)
    current = key_managed(view)
    after, body = plan_update(current, spec)
    if not body:
        return _outcome(current, view, spec.label)
    if "name" in body:
        with api_context("list", "keys", failure_reason="key_read_failed"):
            listed = client.list_keys() or []
        expiring.check_name_free("key", view["id"], body["name"], listed)
    warnings = expiring.expired_warning("Key", spec.label, after["expiration"]) if "expiration" in body else []
    if dry_run:
        return _outcome(current, predict_view(view, after), spec.label, after=after, warnings=warnings)
    with api_context("update", "key", view["id"], failure_reason="key_update_failed"):
        updated = client.update_key(view["id"], body)
    return _outcome(current, key_view(updated), spec.label, warnings=warnings)


# --------------------------------------------------------------------------- info


def secret_view(info: Info, show_secret: bool) -> dict[str, t.Any]:
    view = key_view(info)
    if show_secret:
        view["secret_access_key"] = info.get("secretAccessKey")
    return view


def info(client: GarageAdminClient, *, key_id: str | None, name: str | None, show_secret: bool) -> dict[str, t.Any]:
    """``{"exists": bool, "key": view | None}`` (``garage_key_info``)."""
    with api_context("read", "key", key_id or name, failure_reason="key_read_failed"):
        found = find_key(client, key_id=key_id, name=None if key_id else name, show_secret=show_secret)
    if found is None:
        return {"exists": False, "key": None}
    return {"exists": True, "key": secret_view(found, show_secret)}


def info_all(client: GarageAdminClient, *, show_secret: bool) -> dict[str, t.Any]:
    return {"keys": [secret_view(i, show_secret) for i in read_all_keys(client, show_secret=show_secret)]}
