# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one module-test harness: run a module's ``main()`` with patched arguments and injected clients.

::

    from tests.unit.plugins.modules.harness import run_module, warnings, write_calls

    def test_creates(admin):                      # ``admin`` / ``s3`` / ``openbao`` fixtures: conftest.py
        admin.get_bucket_info.side_effect = not_found()
        result = run_module(garage_bucket, {"name": "photos"}, clients={"admin": admin}, check_mode=True)
        assert result["changed"] and not result["failed"] and write_calls(admin) == []

- ``clients`` maps option-group names (``admin``, ``s3``, ``openbao``) to the client objects
  (usually ``MagicMock`` s) that ``module.admin`` / ``module.s3`` / ``module.openbao`` return.
- The real ``exit_json`` / ``fail_json`` run and their JSON output is parsed, so the result is
  what Ansible would see (``no_log`` masking included); ``failed`` is always present.
- :func:`warnings` gives the warning texts on every ansible-core version.
- ``admin_token`` defaults to a dummy for modules documenting ``cellar.garage._admin``.
- :func:`write_calls` names the mutating methods called on clients (check mode must make none).
"""

from __future__ import annotations

import contextlib
import io
import json
import typing as t
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule

UNIT_ADMIN_TOKEN = "unit-test-admin-token"

#: Client methods that change something (Admin API, S3 and OpenBao clients).
WRITE_METHODS = (
    "create_bucket",
    "update_bucket",
    "delete_bucket",
    "add_bucket_alias",
    "remove_bucket_alias",
    "allow_bucket_key",
    "deny_bucket_key",
    "create_key",
    "import_key",
    "update_key",
    "delete_key",
    "create_admin_token",
    "update_admin_token",
    "delete_admin_token",
    "update_cluster_layout",
    "apply_cluster_layout",
    "revert_cluster_layout",
    "connect_cluster_nodes",
    "kv_write",
    "kv_delete",
    "kv_destroy",
    "kv_delete_metadata",
    "put_object",
    "delete_object",
    "delete_objects",
)


def run_module(
    module: t.Any,
    args: t.Mapping[str, t.Any],
    *,
    clients: t.Mapping[str, t.Any] | None = None,
    check_mode: bool = False,
    diff: bool = False,
) -> dict[str, t.Any]:
    """Run ``module.main()``; return the parsed JSON result (``failed`` always present)."""
    injected = dict(clients or {})
    full = dict(args)
    if "cellar.garage._admin" in getattr(module, "DOCUMENTATION", ""):
        full.setdefault("admin_token", UNIT_ADMIN_TOKEN)
    full["_ansible_check_mode"] = check_mode
    full["_ansible_diff"] = diff
    real_client_for = GarageModule.client_for

    def client_for(self: GarageModule, name: str) -> t.Any:
        if name in injected:
            if not any(g.name == name for g in self.option_groups):
                raise ValueError(f"this module does not use the {name!r} option group")
            return injected[name]
        return real_client_for(self, name)

    out = io.StringIO()
    with (
        patch_module_args(full),
        mock.patch.object(GarageModule, "client_for", client_for),
        contextlib.redirect_stdout(out),
        pytest.raises(SystemExit),
    ):
        module.main()
    result: dict[str, t.Any] = json.loads(out.getvalue())
    result.setdefault("failed", False)
    return result


def warnings(result: t.Mapping[str, t.Any]) -> list[str]:
    """The warning texts of a result (plain strings before ansible-core 2.19, summaries since)."""
    texts: list[str] = []
    for item in result.get("warnings") or []:
        if isinstance(item, str):
            texts.append(item)
        else:
            texts.append(str((item.get("event") or {}).get("msg") or item.get("msg") or item))
    return texts


def plain(result: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The result as the module passed it to ``exit_json``/``fail_json``: without ``invocation``,
    ``failed`` only when true, ``warnings`` as plain texts and only when there are some."""
    out = {k: v for k, v in result.items() if k not in ("invocation", "failed", "warnings")}
    if result.get("failed"):
        out["failed"] = True
    if result.get("warnings"):
        out["warnings"] = warnings(result)
    return out


def write_calls(*clients: mock.MagicMock) -> list[str]:
    """Names of the mutating methods called on ``clients``."""
    return [name for client in clients for name in WRITE_METHODS if getattr(client, name).called]
