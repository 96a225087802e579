# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the module-test harness (``harness.py``): ``admin`` / ``s3`` / ``openbao`` MagicMock
clients, ``run_module`` bound to them, and warnings isolated per test."""

from __future__ import annotations

import copy
import typing as t
from unittest import mock

import pytest
from ansible.module_utils.common import warnings as _warnings

from tests.unit.plugins.modules import harness


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


class RunModule(t.Protocol):
    def __call__(
        self,
        module: t.Any,
        args: t.Mapping[str, t.Any],
        *,
        clients: t.Mapping[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
    ) -> dict[str, t.Any]:
        """Run ``module.main()`` with the injected clients; the parsed JSON result."""


@pytest.fixture
def run_module(admin: mock.MagicMock, s3: mock.MagicMock, openbao: mock.MagicMock) -> RunModule:
    """``harness.run_module`` with the ``admin`` / ``s3`` / ``openbao`` fixtures injected."""

    def run(
        module: t.Any,
        args: t.Mapping[str, t.Any],
        *,
        clients: t.Mapping[str, t.Any] | None = None,
        check_mode: bool = False,
        diff: bool = False,
    ) -> dict[str, t.Any]:
        injected = {"admin": admin, "s3": s3, "openbao": openbao, **(clients or {})}
        return harness.run_module(module, args, clients=injected, check_mode=check_mode, diff=diff)

    return run
