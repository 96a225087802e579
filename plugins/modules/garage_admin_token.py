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
  - cellar.garage maintainers (@cellar-garage)
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

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import tokens
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "name": {"type": "str"},
    "id": {"type": "str", "no_log": False},
    "scope": {"type": "list", "elements": "str"},
    "expiration": {"type": "str"},
    "never_expires": {"type": "bool"},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(ADMIN,),
        mutually_exclusive=[["expiration", "never_expires"]],
        required_one_of=[["id", "name"]],
    )

    def body() -> Outcome:
        return tokens.ensure(module.admin, tokens.spec_from_params(module.params), dry_run=module.check_mode)

    module.run(body, what=f"manage admin token '{module.params.get('id') or module.params.get('name')}'")


if __name__ == "__main__":
    main()
