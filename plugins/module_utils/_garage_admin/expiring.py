# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""What access keys and admin tokens share: a name that must stay unique, and an expiration.

No Ansible here. One validation, one plan and one uniqueness rule for both resources.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import name_problem
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import (
    desired_expiration,
    expiration_body,
    is_expired,
    timestamp_problem,
)

NAME_TAKEN = "name_taken"


@dataclasses.dataclass(frozen=True)
class NameAndExpiration:
    """``name`` None: leave it; ``expiration_managed`` False: leave the expiration."""

    name: str | None = None
    expiration_managed: bool = False
    #: canonical UTC string, or None for "never expires" (when managed)
    expiration: str | None = None

    @classmethod
    def from_params(cls, params: t.Mapping[str, t.Any]) -> NameAndExpiration:
        managed, expiration = desired_expiration(params)
        return cls(name=params.get("name"), expiration_managed=managed, expiration=expiration)


def problems(params: t.Mapping[str, t.Any]) -> list[str]:
    """Problems with the ``name`` / ``expiration`` options."""
    found = [p for p in [name_problem(params.get("name"))] if p]
    if params.get("expiration") is not None:
        problem = timestamp_problem(params["expiration"])
        if problem:
            found.append(f"expiration: {problem}")
    return found


def invalid_options(found: t.Sequence[str]) -> None:
    if found:
        raise InputError("Invalid options: " + "; ".join(found))


def plan(current: t.Mapping[str, t.Any], wanted: NameAndExpiration) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
    """``(after, body)``: the managed fields after the change and the Update* body part."""
    after: dict[str, t.Any] = {}
    body: dict[str, t.Any] = {}
    if wanted.name is not None:
        after["name"] = wanted.name
        if current.get("name") != wanted.name:
            body["name"] = wanted.name
    if wanted.expiration_managed:
        after["expiration"] = wanted.expiration
        if current.get("expiration") != wanted.expiration:
            body.update(expiration_body(wanted.expiration))
    return after, body


def expired_warning(kind: str, label: str, expiration: str | None) -> list[str]:
    if expiration is not None and is_expired(expiration):
        return [f"{kind} '{label}' expires at {expiration}, which is already past: Garage refuses it right away"]
    return []


def check_name_free(
    kind: str, own_id: str | None, new_name: str, items: t.Iterable[t.Mapping[str, t.Any]], id_of: str = "id"
) -> None:
    """Keep names unique: refuse to give ``new_name`` when another item already carries it."""
    clash = sorted(
        str(item[id_of]) for item in items if item.get(id_of) and item[id_of] != own_id and item.get("name") == new_name
    )
    if clash:
        ids_key = "token_ids" if kind == "admin token" else "key_ids"
        what = f"{kind} '{own_id}'" if own_id else f"a new {kind}"
        raise OperationError(
            f"Cannot give {what} the name '{new_name}': {kind}(s) {', '.join(clash)} already carry that name, "
            f"and a name carried twice makes every later lookup by name ambiguous.",
            failure_reason=NAME_TAKEN,
            details={ids_key: clash},
        )
