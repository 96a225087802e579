# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one module-test harness: run a module's ``main()`` with patched arguments and injected clients.

::

    def test_creates(run_module, admin):
        admin.get_bucket_info.side_effect = not_found()
        result = run_module(garage_bucket, {"name": "photos"}, check_mode=True, diff=True)
        assert result["changed"] and not result["failed"]

- ``admin`` / ``s3`` / ``openbao`` are ``MagicMock`` clients, injected for the option group of the
  same name (``module.admin``, ``module.s3``, ``module.openbao``); pass ``clients={...}`` to
  inject others.
- The real ``exit_json`` / ``fail_json`` run, so the result is the JSON Ansible would see
  (``no_log`` masking included); ``failed`` is always present, and :func:`warnings` gives the
  warning texts on every ansible-core version.
- ``admin_token`` defaults to a dummy for modules documenting ``cellar.garage._admin``.
- :func:`write_calls` names the mutating methods called on a client (check mode must make none).
"""

from __future__ import annotations

import copy
import json
import typing as t
from unittest import mock

import pytest
from ansible.module_utils.common import warnings as _warnings
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


class RunModule(t.Protocol):
    def __call__(
        self,
        module: t.Any,
        args: t.Mapping[str, t.Any],
        *,
        clients: t.Mapping[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
    ) -> dict[str, t.Any]: ...


@pytest.fixture
def admin() -> mock.MagicMock:
    return mock.MagicMock(name="GarageAdminClient")


@pytest.fixture
def s3() -> mock.MagicMock:
    return mock.MagicMock(name="S3Client")


@pytest.fixture
def openbao() -> mock.MagicMock:
    return mock.MagicMock(name="OpenBaoClient")


@pytest.fixture(autouse=True)
def _isolated_warnings() -> t.Iterator[None]:
    """AnsibleModule.warn() records into module-global state: keep it from leaking between tests."""
    names = ("_global_warnings", "_global_deprecations")  # dicts in ansible-core 2.19, lists before
    saved = {name: copy.copy(getattr(_warnings, name)) for name in names}
    yield
    for name, value in saved.items():
        store = getattr(_warnings, name)
        store.clear()
        if isinstance(store, dict):
            store.update(value)
        else:
            store.extend(value)


@pytest.fixture
def run_module(
    capsys: pytest.CaptureFixture[str], admin: mock.MagicMock, s3: mock.MagicMock, openbao: mock.MagicMock
) -> RunModule:
    def run(
        module: t.Any,
        args: t.Mapping[str, t.Any],
        *,
        clients: t.Mapping[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
    ) -> dict[str, t.Any]:
        injected = {"admin": admin, "s3": s3, "openbao": openbao, **(clients or {})}
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

        capsys.readouterr()
        with patch_module_args(full), mock.patch.object(GarageModule, "client_for", client_for):
            with pytest.raises(SystemExit):
                module.main()
        out = capsys.readouterr().out
        result: dict[str, t.Any] = json.loads(out)
        result.setdefault("failed", False)
        return result

    return run


def warnings(result: t.Mapping[str, t.Any]) -> list[str]:
    """The warning texts of a result (plain strings before ansible-core 2.19, summaries since)."""
    texts: list[str] = []
    for item in result.get("warnings") or []:
        if isinstance(item, str):
            texts.append(item)
        else:
            texts.append(str((item.get("event") or {}).get("msg") or item.get("msg") or item))
    return texts


def write_calls(*clients: mock.MagicMock) -> list[str]:
    """Names of the mutating methods called on ``clients``."""
    return [name for client in clients for name in WRITE_METHODS if getattr(client, name).called]
