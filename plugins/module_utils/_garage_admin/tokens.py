# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Dynamic admin token operations: create, rename, update and delete tokens.

No Ansible here. ``ensure(client, spec, dry_run=...)`` returns an :class:`Outcome` whose
before/after are :func:`views.token_managed` and whose result is ``{"token": token_view}`` plus
``secret_token`` when the run created the token (Garage shows it only then). Names are kept
unique. A CreateAdminToken that got no answer is resolved by reading again: a token created
without its secret reaching us is useless, so it is deleted again (or reported).
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    OUTCOME_UNKNOWN,
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import expiring
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import ENDPOINTS
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import find_token
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    scope_problems,
    token_id_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import token_managed, token_view
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import is_expired

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

Info = dict[str, t.Any]
#: Scope names Garage knows besides the /v2 endpoints.
EXTRA_SCOPES = frozenset(("*", "Metrics", "Health", "CheckDomain", "Options"))
TOKEN_NOT_FOUND = "admin_token_not_found"
CONFIG_TOKEN = "config_token"
SECRET_LOST = "admin_token_secret_lost"


@dataclasses.dataclass(frozen=True)
class TokenSpec:
    token_id: str | None = None
    name: str | None = None
    state: str = "present"
    #: sorted, deduplicated; None leaves the scope untouched
    scope: tuple[str, ...] | None = None
    naming: expiring.NameAndExpiration = dataclasses.field(default_factory=expiring.NameAndExpiration)

    @property
    def label(self) -> str:
        return t.cast(str, self.token_id or self.name)


def spec_from_params(params: t.Mapping[str, t.Any]) -> TokenSpec:
    """Validate ``garage_admin_token``'s options. Raises :class:`InputError`."""
    found = [p for p in [token_id_problem(params.get("id"))] if p]
    found += expiring.problems(params)
    found += scope_problems(params.get("scope"))
    expiring.invalid_options(found)
    scope = params.get("scope")
    return TokenSpec(
        token_id=params.get("id"),
        name=params.get("name"),
        state=params.get("state") or "present",
        scope=tuple(sorted(set(scope))) if scope is not None else None,
        naming=expiring.NameAndExpiration.from_params(params),
    )


def unknown_scopes(scope: t.Iterable[str] | None) -> list[str]:
    return sorted({s for s in scope or [] if s not in ENDPOINTS and s not in EXTRA_SCOPES})


def spec_warnings(spec: TokenSpec) -> list[str]:
    unknown = unknown_scopes(spec.scope)
    if unknown and spec.state == "present":
        return [f"scope entries not known to this collection (typo, or a newer Garage?): {', '.join(unknown)}"]
    return []


def plan_update(current: t.Mapping[str, t.Any], spec: TokenSpec) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    after, body = expiring.plan(current, spec.naming)
    if spec.scope is not None:
        after["scope"] = list(spec.scope)
        if current["scope"] != list(spec.scope):
            body["scope"] = list(spec.scope)
    return {**current, **after}, body


def read(client: GarageAdminClient, spec: TokenSpec) -> Info | None:
    with api_context("read", "admin token", spec.label, failure_reason="admin_token_read_failed"):
        info = find_token(client, token_id=spec.token_id, name=None if spec.token_id else spec.name)
    if info is not None and not info.get("id"):
        raise InputError(
            f"Admin token '{spec.label}' comes from Garage's configuration file; this module only manages "
            "dynamic admin tokens.",
            failure_reason=CONFIG_TOKEN,
        )
    return info


def _outcome(
    before: t.Mapping[str, t.Any] | None,
    view: t.Mapping[str, t.Any] | None,
    label: str,
    *,
    after: t.Mapping[str, t.Any] | None = None,
    warnings: t.Sequence[str] = (),
    **result: t.Any,
) -> Outcome:
    return Outcome(
        before=before,
        after=after if after is not None else token_managed(dict(view) if view is not None else None),
        result={"token": dict(view) if view is not None else None, **result},
        warnings=tuple(warnings),
        label=f"admin token '{label}'",
    )


def ensure(client: GarageAdminClient, spec: TokenSpec, *, dry_run: bool) -> Outcome:
    info = read(client, spec)
    warnings = spec_warnings(spec)
    if spec.state == "absent":
        return ensure_absent(client, spec, info, dry_run=dry_run)
    if info is not None:
        return update(client, spec, info, dry_run=dry_run).with_warnings(*warnings)
    if spec.token_id is not None:
        raise OperationError(
            f"Admin token '{spec.token_id}' does not exist. Garage chooses token ids: create the token by name "
            "(without id).",
            failure_reason=TOKEN_NOT_FOUND,
        )
    return create(client, spec, dry_run=dry_run).with_warnings(*warnings)


def ensure_absent(client: GarageAdminClient, spec: TokenSpec, info: Info | None, *, dry_run: bool) -> Outcome:
    if info is None:
        return _outcome(None, None, spec.label)
    view = token_view(info)
    if not dry_run:
        with api_context("delete", "admin token", spec.label, failure_reason="admin_token_delete_failed"):
            client.delete_admin_token(view["id"])
    return _outcome(token_managed(view), None, spec.label)


def create(client: GarageAdminClient, spec: TokenSpec, *, dry_run: bool) -> Outcome:
    name = t.cast(str, spec.name)
    scope = list(spec.scope) if spec.scope is not None else ["*"]
    body: dict[str, t.Any] = {"name": name}
    if spec.scope is not None:
        body["scope"] = scope
    if spec.naming.expiration_managed:
        body.update(expiring.expiration_body(spec.naming.expiration))
    warnings = expiring.expired_warning("Admin token", name, spec.naming.expiration)
    if dry_run:
        after = {"state": "present", "id": None, "name": name, "scope": scope, "expiration": spec.naming.expiration}
        predicted = {**after, "created": None, "expired": is_expired(spec.naming.expiration)}
        predicted.pop("state")
        return _outcome(None, predicted, name, after=after, warnings=warnings)
    try:
        with api_context("create", "admin token", name, failure_reason="admin_token_create_failed"):
            created = t.cast(Info, client.create_admin_token(body))
    except OperationError as exc:
        if exc.failure_reason != OUTCOME_UNKNOWN:
            raise
        _resolve_lost_create(client, name, exc)
        raise AssertionError("unreachable") from None  # pragma: no cover - _resolve_lost_create raises
    view = token_view(created)
    result: dict[str, t.Any] = {}
    if created.get("secretToken"):
        result["secret_token"] = created["secretToken"]
    return _outcome(None, view, name, warnings=warnings, **result).with_undo(
        Undo(
            f"delete admin token '{name}' ({view['id']})",
            lambda: client.delete_admin_token(view["id"]),
            {"resource": "admin_token", "id": view["id"], "name": name},
            done=f"the admin token '{name}' ({view['id']}) created by this run was deleted again",
        )
    )


def _resolve_lost_create(client: GarageAdminClient, name: str, exc: OperationError) -> t.NoReturn:
    """CreateAdminToken got no answer. Garage shows a token's secret only in that answer, so a
    token that was created is unusable: delete it again, and say what happened."""
    try:
        found = find_token(client, name=name)
    except OperationError as read_exc:
        raise OperationError(
            f"{exc.message}. Reading the token again failed too ({read_exc.message}): whether admin token "
            f"'{name}' was created cannot be known; check with cellar.garage.garage_manifest, and delete it "
            "if it exists (its secret is lost)",
            failure_reason=OUTCOME_UNKNOWN,
            details=exc.details,
        ) from None
    if found is None:
        raise OperationError(
            f"{exc.message}. A re-read shows no admin token named '{name}': it was not created; running again "
            "is safe",
            failure_reason="admin_token_create_failed",
            details=exc.details,
        )
    token_id = found["id"]
    try:
        with api_context("delete", "admin token", token_id, failure_reason="admin_token_delete_failed"):
            client.delete_admin_token(token_id)
    except OperationError as del_exc:
        raise OperationError(
            f"{exc.message}. The admin token '{name}' ({token_id}) was created, but its secret never reached "
            f"this run and deleting it failed ({del_exc.message}): delete it by hand (garage_admin_token "
            f"id={token_id} state=absent), then run again",
            failure_reason=SECRET_LOST,
            changed=True,
            manual_cleanup_required=[
                {"resource": "admin_token", "id": token_id, "name": name, "action": "delete the admin token"}
            ],
            details=exc.details,
        ) from None
    raise OperationError(
        f"{exc.message}. The admin token '{name}' ({token_id}) was created, but its secret never reached this "
        "run, so it was deleted again; running again is safe",
        failure_reason=SECRET_LOST,
        details=exc.details,
    )


def update(client: GarageAdminClient, spec: TokenSpec, info: Info, *, dry_run: bool) -> Outcome:
    view = token_view(info)
    current = token_managed(view)
    after, body = plan_update(current, spec)
    if not body:
        return _outcome(current, view, spec.label)
    if "name" in body:
        with api_context("list", "admin tokens", failure_reason="admin_token_read_failed"):
            listed = client.list_admin_tokens() or []
        expiring.check_name_free("admin token", view["id"], body["name"], listed)
    warnings = expiring.expired_warning("Admin token", spec.label, after["expiration"]) if "expiration" in body else []
    if dry_run:
        predicted = dict(
            view,
            name=after["name"],
            scope=after["scope"],
            expiration=after["expiration"],
            expired=is_expired(after["expiration"]),
        )
        return _outcome(current, predicted, spec.label, after=after, warnings=warnings)
    with api_context("update", "admin token", view["id"], failure_reason="admin_token_update_failed"):
        updated = client.update_admin_token(view["id"], body)
    return _outcome(current, token_view(updated), spec.label, warnings=warnings)
