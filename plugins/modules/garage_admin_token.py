#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_admin_token
short_description: Manage scoped, expiring Garage admin API tokens
version_added: 0.1.0
description:
  - Create, update and delete the dynamic admin API tokens of a Garage v2 cluster.
  - A token is addressed by its O(name), which this module keeps unique among tokens, or by its O(id).
  - The token's secret (the bearer token) is returned only when this module creates the token
    (RV(secret_token)); Garage shows it only once. Register the result with C(no_log) and store it.
  - Tokens from Garage's configuration file (C(admin_token), C(metrics_token)) are not dynamic tokens;
    this module never touches them.
  - Options that are not set are left untouched on an existing token.
author:
  - cellar.garage maintainers (!UNKNOWN)
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
options:
  state:
    description:
      - V(present) makes sure the token exists with the given settings, creating it if needed.
      - V(absent) deletes the token. Deleting a token that does not exist is not a change.
    type: str
    choices: [present, absent]
    default: present
  name:
    description:
      - Name of the token.
      - Without O(id), the token is addressed by this exact name and created with it when absent.
        The module fails when several tokens carry the name.
      - With O(id), the token is renamed to this name if needed (refused when another token carries it).
    type: str
  id:
    description:
      - Id of the token, the 24 lowercase hexadecimal characters before the C(.) of the bearer token.
      - Garage chooses the ids, so a token addressed only by id is never created.
    type: str
  scope:
    description:
      - Admin API endpoints the token may call, for example V(GetClusterStatus), V(ListBuckets) or V(Metrics),
        or V(*) for every endpoint.
      - Compared as a set; order and duplicates do not matter.
      - When a token is created without O(scope), Garage gives it the scope V(*).
      - Granting V(CreateAdminToken) or V(UpdateAdminToken) is as powerful as V(*).
    type: list
    elements: str
  expiration:
    description:
      - Date and time at which the token expires, as an RFC 3339 / ISO 8601 datetime with a UTC offset,
        for example V(2030-01-31T00:00:00Z).
      - Compared with the token's expiration after normalisation to UTC, at millisecond precision.
      - Mutually exclusive with O(never_expires).
    type: str
  never_expires:
    description:
      - V(true) removes any expiration from the token. V(false) has no effect.
      - Mutually exclusive with O(expiration).
    type: bool
notes:
  - Dynamic admin tokens exist since Garage v2.0.
  - With the token addressed by O(id) or by a name that is not ambiguous, a run that changes nothing costs one
    Admin API read.
seealso:
  - module: cellar.garage.garage_manifest
  - name: Garage Admin API v2
    description: Reference of the admin token endpoints.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: A read-only monitoring token that expires
  cellar.garage.garage_admin_token:
    name: prometheus
    scope: [Metrics, GetClusterHealth, GetClusterStatus]
    expiration: "2030-01-01T00:00:00Z"
  register: monitoring_token
  no_log: true

- name: Store the new token (only returned when the token was just created)
  ansible.builtin.copy:
    content: "{{ monitoring_token.secret_token }}"
    dest: /etc/prometheus/garage-token
    mode: "0600"
  when: monitoring_token.secret_token is defined
  no_log: true

- name: Widen the token's scope and make it never expire
  cellar.garage.garage_admin_token:
    name: prometheus
    scope: [Metrics, GetClusterHealth, GetClusterStatus, ListBuckets]
    never_expires: true

- name: Delete a token
  cellar.garage.garage_admin_token:
    name: prometheus
    state: absent
"""

RETURN = r"""
---
token:
  description:
    - The token after the run (in check mode, as it would be), V(null) when O(state=absent).
      Never contains the secret.
    - When a token would be created in check mode, RV(token.id) is V(null) (Garage chooses it).
  returned: always
  type: dict
  contains:
    id:
      description: Id of the token (the prefix of the bearer token before the C(.)).
      type: str
      sample: 8d2f6e0a1b3c5d7e9f0a1b2c
    name:
      description: Name of the token.
      type: str
      sample: prometheus
    created:
      description: Creation time (RFC 3339).
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    expiration:
      description: Expiration time (RFC 3339), V(null) when the token never expires.
      type: str
      sample: "2030-01-01T00:00:00Z"
    expired:
      description: Whether the token has expired.
      type: bool
      sample: false
    scope:
      description: Endpoints the token may call (V(*) for all), sorted.
      type: list
      elements: str
      sample: [GetClusterHealth, GetClusterStatus, Metrics]
secret_token:
  description:
    - The bearer token, C(<id>.<secret>). Shown by Garage only once.
    - Returned only when the module creates the token (not in check mode, never on later runs).
      Register the result with C(no_log) set to V(true).
  returned: when the token is created
  type: str
  sample: 8d2f6e0a1b3c5d7e9f0a1b2c.Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE
"""

import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._diff import DifferenceTracker
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    ENDPOINTS,
    GarageBadRequest,
    GarageNotFound,
)
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import (
    TimestampError,
    desired_expiration,
    expiration_body,
    is_expired,
    normalize_lenient,
    parse_timestamp,
)

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

TOKEN_ID_RE = re.compile(r"^[0-9a-f]{24}$")
SCOPE_ITEM_RE = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9]*)$")
_MATCHING_RE = re.compile(r"(\d+) matching admin tokens")
#: Scope names Garage knows besides the /v2 endpoints.
EXTRA_SCOPES = frozenset(("*", "Metrics", "Health", "CheckDomain", "Options"))

ARGUMENT_SPEC: dict[str, t.Any] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "name": {"type": "str"},
    "id": {"type": "str", "no_log": False},
    "scope": {"type": "list", "elements": "str"},
    "expiration": {"type": "str"},
    "never_expires": {"type": "bool"},
}


class AmbiguousTokenName(ValueError):
    def __init__(self, name: str, ids: list[str]) -> None:
        self.name = name
        self.ids = sorted(ids)
        super().__init__(
            f"Admin token name '{name}' is ambiguous: {len(ids)} tokens carry it ({', '.join(self.ids)}). "
            "Address the token by id instead."
        )


def validation_problems(params: dict[str, t.Any]) -> list[str]:
    problems = []
    token_id = params.get("id")
    if token_id is not None and not TOKEN_ID_RE.match(token_id):
        problems.append(f"id '{token_id}' is not an admin token id (24 lowercase hexadecimal characters)")
    name = params.get("name")
    if name is not None and not name.strip():
        problems.append("name must not be empty")
    for item in params.get("scope") or []:
        if not SCOPE_ITEM_RE.match(item or ""):
            problems.append(f"scope entry '{item}' is neither '*' nor an Admin API endpoint name")
    if params.get("expiration") is not None:
        try:
            parse_timestamp(params["expiration"])
        except TimestampError as exc:
            problems.append(f"expiration: {exc}")
    return problems


def unknown_scopes(scope: list[str] | None) -> list[str]:
    return sorted({s for s in scope or [] if s not in ENDPOINTS and s not in EXTRA_SCOPES})


def find_token(
    client: GarageAdminClient, *, token_id: str | None = None, name: str | None = None
) -> dict[str, t.Any] | None:
    """The token info for an id or an exact name (one read in the common case), or None.

    Garage's ``search`` matches an id prefix or the exact name and answers 400
    ``<n> matching admin tokens`` unless exactly one token matches; only then do we list.
    """
    if token_id is not None:
        try:
            return client.get_admin_token_info(id=token_id)
        except GarageNotFound:
            return None
    try:
        info = client.get_admin_token_info(search=name)
    except GarageBadRequest as exc:
        match = _MATCHING_RE.search(exc.message or "")
        if not match:
            raise
        if match.group(1) == "0":
            return None
    else:
        if info.get("name") == name and info.get("id"):
            return info
    matches = [tok for tok in client.list_admin_tokens() or [] if tok.get("id") and tok.get("name") == name]
    if len(matches) > 1:
        raise AmbiguousTokenName(t.cast(str, name), [tok["id"] for tok in matches])
    return matches[0] if matches else None


def token_view(info: dict[str, t.Any]) -> dict[str, t.Any]:
    """Snake_case view of an admin token answer. Never the secret."""
    return {
        "id": info.get("id"),
        "name": info.get("name"),
        "created": info.get("created"),
        "expiration": info.get("expiration"),
        "expired": bool(info.get("expired", False)),
        "scope": sorted(set(info.get("scope") or [])),
    }


def managed_state(view: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "id": view["id"],
        "name": view["name"],
        "scope": view["scope"],
        "expiration": normalize_lenient(view["expiration"]),
    }


def plan_update(current: dict[str, t.Any], params: dict[str, t.Any]) -> tuple[DifferenceTracker, dict[str, t.Any]]:
    tracker = DifferenceTracker()
    body: dict[str, t.Any] = {}
    if params.get("name") is not None:
        tracker.add("name", before=current["name"], after=params["name"])
        if current["name"] != params["name"]:
            body["name"] = params["name"]
    if params.get("scope") is not None:
        wanted = sorted(set(params["scope"]))
        tracker.add("scope", before=current["scope"], after=wanted)
        if current["scope"] != wanted:
            body["scope"] = wanted
    managed, expiration = desired_expiration(params)
    if managed:
        tracker.add("expiration", before=current["expiration"], after=expiration)
        if current["expiration"] != expiration:
            body.update(expiration_body(expiration))
    return tracker, body


class TokenManager:
    def __init__(self, module: GarageModule) -> None:
        self.module = module
        self.params = module.params
        self.client = module.client
        self.label = self.params.get("id") or self.params.get("name")

    def read(self) -> dict[str, t.Any] | None:
        token_id = self.params.get("id")
        with self.module.api_errors("read", "admin token", self.label):
            try:
                info = find_token(self.client, token_id=token_id, name=None if token_id else self.params["name"])
            except AmbiguousTokenName as exc:
                self.module.fail_json(msg=str(exc), token_ids=exc.ids)
        if info is not None and not info.get("id"):
            self.module.fail_json(
                msg=f"Admin token '{self.label}' comes from Garage's configuration file; this module "
                "only manages dynamic admin tokens."
            )
        return info

    def absent(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        if info is None:
            self.module.exit_resource(False, {}, {}, token=None)
        before = managed_state(token_view(info))
        if not self.module.check_mode:
            with self.module.api_errors("delete", "admin token", self.label):
                self.client.delete_admin_token(before["id"])
        self.module.exit_resource(True, before, {}, token=None)

    def present(self, info: dict[str, t.Any] | None) -> t.NoReturn:
        if info is not None:
            self.update(info)
        if self.params.get("id") is not None:
            self.module.fail_json(
                msg=f"Admin token '{self.params['id']}' does not exist. Garage chooses token ids: "
                "create the token by name (without id)."
            )
        self.create()

    def create(self) -> t.NoReturn:
        name = self.params["name"]
        body: dict[str, t.Any] = {"name": name}
        scope = sorted(set(self.params["scope"])) if self.params.get("scope") is not None else ["*"]
        if self.params.get("scope") is not None:
            body["scope"] = scope
        managed, expiration = desired_expiration(self.params)
        if managed:
            body.update(expiration_body(expiration))
        after = {"id": None, "name": name, "scope": scope, "expiration": expiration}
        if self.module.check_mode:
            predicted = dict(after, created=None, expired=is_expired(expiration))
            self.module.exit_resource(True, {}, after, token=predicted)
        with self.module.api_errors("create", "admin token", name):
            created = self.client.create_admin_token(body)
        view = token_view(created)
        result: dict[str, t.Any] = {"token": view}
        if created.get("secretToken"):
            result["secret_token"] = created["secretToken"]
        self.module.exit_resource(True, {}, managed_state(view), **result)

    def check_rename(self, current: dict[str, t.Any], new_name: str) -> None:
        """Keep names unique: refuse to rename onto a name another token carries."""
        with self.module.api_errors("list", "admin tokens"):
            tokens = self.client.list_admin_tokens() or []
        clash = sorted(
            tok["id"] for tok in tokens if tok.get("id") and tok["id"] != current["id"] and tok.get("name") == new_name
        )
        if clash:
            self.module.fail_json(
                msg=f"Cannot rename admin token '{current['id']}' to '{new_name}': token(s) {', '.join(clash)} "
                "already carry that name.",
                token_ids=clash,
            )

    def update(self, info: dict[str, t.Any]) -> t.NoReturn:
        view = token_view(info)
        current = managed_state(view)
        tracker, body = plan_update(current, self.params)
        after = dict(current)
        after.update(tracker.get_before_after()[1])
        if not body:
            self.module.exit_resource(False, current, after, token=view)
        if "name" in body:
            self.check_rename(current, body["name"])
        if self.module.check_mode:
            predicted = dict(
                view,
                name=after["name"],
                scope=after["scope"],
                expiration=after["expiration"],
                expired=is_expired(after["expiration"]),
            )
            self.module.exit_resource(True, current, after, token=predicted)
        with self.module.api_errors("update", "admin token", current["id"]):
            updated = self.client.update_admin_token(current["id"], body)
        new_view = token_view(updated)
        self.module.exit_resource(True, current, managed_state(new_view), token=new_view)


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        mutually_exclusive=[["expiration", "never_expires"]],
        required_one_of=[["id", "name"]],
        supports_check_mode=True,
    )
    problems = validation_problems(module.params)
    if problems:
        module.fail_json(msg="Invalid options: " + "; ".join(problems))
    unknown = unknown_scopes(module.params.get("scope"))
    if unknown and module.params["state"] == "present":
        module.warn(f"scope entries not known to this collection (typo, or a newer Garage?): {', '.join(unknown)}")
    manager = TokenManager(module)
    info = manager.read()
    if module.params["state"] == "absent":
        manager.absent(info)
    manager.present(info)


if __name__ == "__main__":
    main()
