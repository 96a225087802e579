# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""openbao_kv, openbao_kv_check and the tenant modules through their main(), with mock clients:
check mode writes nothing, values never show, bad input fails before any call, and the OpenBao
option group of the tenant modules is used only with openbao_path."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageNotFound
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import KvSecret, KvVersion
from ansible_collections.cellar.garage.plugins.modules import (
    garage_customer_bucket,
    garage_customer_key,
    garage_key_rotation,
    openbao_kv,
    openbao_kv_check,
)
from tests.unit.plugins.modules.harness import write_calls

URL = {"url": "http://127.0.0.1:8200", "token": "unit-bao-token-Kq2"}
BUCKET_ID = "ab" * 32
KEY_ID = "GK" + "cd" * 12


def test_openbao_kv_check_mode_writes_nothing_and_shows_no_value(run_module: t.Any, openbao: mock.MagicMock) -> None:
    openbao.kv_read.return_value = KvSecret({"password": "stored-Xy8"}, KvVersion(3))
    result = run_module(openbao_kv, {**URL, "path": "app", "data": {"password": "given-Zz1"}}, check_mode=True,
                        diff=True)  # fmt: skip
    assert result["changed"] and result["version"] == 4 and write_calls(openbao) == []
    text = json.dumps(result)
    assert "stored-Xy8" not in text and "given-Zz1" not in text and "unit-bao-token-Kq2" not in text
    assert result["diff"]["after"]["fields"] == {"password": "******** (changed)"}


def test_openbao_kv_returns_values_only_when_asked(run_module: t.Any, openbao: mock.MagicMock) -> None:
    openbao.kv_read.return_value = KvSecret({"endpoint": "https://s3.example"}, KvVersion(1))
    args = {**URL, "path": "app", "data": {"endpoint": "https://s3.example"}}
    assert "data" not in run_module(openbao_kv, args)
    shown = run_module(openbao_kv, {**args, "return_values": True})
    # A value given in the no_log option `data` stays masked by Ansible, wherever it appears.
    assert not shown["changed"] and shown["data"] == {"endpoint": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    generated = run_module(openbao_kv, {**URL, "path": "app", "generate": {"endpoint": "hex8"}, "purge": False,
                                        "return_values": True})  # fmt: skip
    assert generated["data"] == {"endpoint": "https://s3.example"}


def test_openbao_kv_check_fails_once_with_every_missing_secret(run_module: t.Any, openbao: mock.MagicMock) -> None:
    openbao.kv_read.return_value = None
    openbao.kv_metadata.return_value = None
    result = run_module(openbao_kv_check, {**URL, "secrets": [{"path": "a", "fields": ["x"]}, {"path": "b"}]})
    assert result["failed"] and result["failure_reason"] == "secrets_missing"
    assert [m["path"] for m in result["missing"]] == ["a", "b"]


def test_tenant_modules_refuse_bad_input_before_any_call(run_module: t.Any, admin: mock.MagicMock) -> None:
    tier = run_module(garage_customer_key, {"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "shop",
                                            "key_tier": "admin"})  # fmt: skip
    assert tier["failure_reason"] == "invalid_key_tier" and admin.mock_calls == []
    rotation = run_module(garage_key_rotation, {"old_key_id": "nope", "new_key_name": "k", "bucket_id": BUCKET_ID,
                                                "local_alias": "shop"})  # fmt: skip
    assert rotation["failure_reason"] == "invalid_input" and admin.mock_calls == []
    absent = run_module(garage_customer_bucket, {"state": "absent"})
    assert absent["failure_reason"] == "invalid_input" and "bucket_id" in absent["msg"]
    bao = run_module(garage_customer_bucket, {"display_name": "shop", "key_name": "k", "openbao_path": "x"},
                     clients={"openbao": None})  # fmt: skip
    assert bao["failure_reason"] == "invalid_input" and "url is required" in bao["msg"] and admin.mock_calls == []


def test_customer_bucket_check_mode_plans_every_step_and_writes_nothing(
    run_module: t.Any, admin: mock.MagicMock, openbao: mock.MagicMock
) -> None:
    admin.get_key_info.side_effect = GarageNotFound("no such key", status=404)
    openbao.kv_read.return_value = None
    openbao.kv_metadata.return_value = None
    result = run_module(garage_customer_bucket, {"display_name": "shop", "key_name": "shop-admin", **URL,
                                                 "openbao_path": "tenants/shop", "verify_new_key": False},
                        check_mode=True)  # fmt: skip
    assert result["changed"] and not result["failed"], result
    steps = ["create_bucket", "create_admin_key", "grant_permissions", "attach_local_alias", "remove_throwaway_alias",
             "store_credentials"]
    assert [s["name"] for s in result["steps"]] == steps
    assert write_calls(admin) == [] and write_calls(openbao) == []
    assert result["bucket_id"] is None and result["openbao"]["version"] == 1


def test_tenant_module_without_openbao_path_ignores_the_openbao_group(run_module: t.Any, admin: mock.MagicMock) -> None:
    admin.get_bucket_info.side_effect = GarageNotFound("no such bucket", status=404)
    result = run_module(garage_customer_key, {"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "shop",
                                              "verify_new_key": False}, clients={"openbao": None})  # fmt: skip
    assert result["failure_reason"] == "bucket_not_found" and write_calls(admin) == []
