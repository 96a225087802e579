# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The S3 data-plane modules through main(): check mode writes nothing, errors carry
failure_reason, secrets never reach the output (the logic itself: tests/unit/.../test_s3_*.py)."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.modules import (
    garage_bucket_clear,
    garage_bucket_cors,
    garage_bucket_lifecycle,
    garage_bucket_usage,
    garage_object,
)
from tests.unit.plugins.module_utils.s3_fakes import client_error
from tests.unit.plugins.modules.conftest import RunModule
from tests.unit.plugins.modules.harness import write_calls

SECRET = "unit-secret-9f8e7d6c5b4a"
CREDS = {"access_key_id": "GK0123456789abcdef01234567", "secret_access_key": SECRET}


def _listing(s3: mock.MagicMock, keys: list[str]) -> None:
    s3.list_objects_v2.return_value = {"Contents": [{"Key": k, "Size": 1} for k in keys], "IsTruncated": False}


def test_clear_check_mode_counts_and_deletes_nothing(run_module: RunModule, s3: mock.MagicMock) -> None:
    _listing(s3, ["a", "b", "c"])
    result = run_module(garage_bucket_clear, {"bucket": "b", **CREDS}, check_mode=True, diff=True)
    assert result["changed"] and result["deleted_count"] == 3
    assert result["diff"] == {
        "before": {"bucket": "b", "prefix": "", "objects": 3},
        "after": {"bucket": "b", "prefix": "", "objects": 0},
    }
    assert write_calls(s3) == []


def test_clear_partial_failure(run_module: RunModule, s3: mock.MagicMock) -> None:
    _listing(s3, ["a", "b", "c"])

    def delete_objects(**kwargs: t.Any) -> dict[str, t.Any]:
        keys = [o["Key"] for o in kwargs["Delete"]["Objects"]]
        return {"Errors": [{"Key": "b", "Code": "InternalError", "Message": "boom"}] if "b" in keys else []}

    s3.delete_objects.side_effect = delete_objects
    result = run_module(garage_bucket_clear, {"bucket": "b", **CREDS})
    assert result["failed"] and result["failure_reason"] == "partial_failure" and result["changed"]
    assert (result["deleted_count"], result["failed_count"]) == (2, 1)
    assert result["errors"] == [{"key": "b", "code": "InternalError", "message": "boom"}]


def test_clear_empty_bucket_is_unchanged(run_module: RunModule, s3: mock.MagicMock) -> None:
    _listing(s3, [])
    result = run_module(garage_bucket_clear, {"bucket": "b", **CREDS})
    assert not result["changed"] and result["deleted_count"] == 0
    s3.delete_objects.assert_not_called()


@pytest.mark.parametrize(
    ("module", "args"),
    [
        (garage_bucket_clear, {"bucket": "b"}),
        (garage_bucket_usage, {"bucket": "b"}),
        (garage_bucket_cors, {"bucket": "b", "state": "absent"}),
        (garage_bucket_lifecycle, {"bucket": "b", "state": "absent"}),
        (garage_object, {"bucket": "b", "key": "k", "mode": "delete"}),
    ],
)
def test_auth_failure_is_reported_without_the_secret(
    run_module: RunModule, s3: mock.MagicMock, module: t.Any, args: dict[str, t.Any]
) -> None:
    s3.head_bucket.side_effect = client_error("403", 403, "Forbidden")
    s3.list_buckets.side_effect = client_error("403", 403)
    result = run_module(module, {**args, **CREDS})
    assert result["failed"] and result["failure_reason"] == "auth_failed", result
    assert result["changed"] is False
    assert SECRET not in json.dumps(result)
    assert write_calls(s3) == []


def test_cors_invalid_input_sends_nothing(run_module: RunModule, s3: mock.MagicMock) -> None:
    rule = {"allowed_origins": ["nope"], "allowed_methods": ["GET"]}
    result = run_module(garage_bucket_cors, {"bucket": "b", "rules": [rule], **CREDS})
    assert result["failed"] and result["failure_reason"] == "invalid_input"
    assert s3.method_calls == []


def test_lifecycle_unsupported_rule_sends_nothing(run_module: RunModule, s3: mock.MagicMock) -> None:
    rule = {"expiration_days": 30, "transitions": [{"days": 7}]}
    result = run_module(garage_bucket_lifecycle, {"bucket": "b", "rules": [rule], **CREDS})
    assert result["failed"] and result["failure_reason"] == "lifecycle_rule_unsupported"
    assert result["unsupported"] and "storage class" in result["msg"]
    assert s3.method_calls == []


def test_object_put_check_mode_and_diff(run_module: RunModule, s3: mock.MagicMock) -> None:
    s3.head_object.side_effect = client_error("404", 404)
    result = run_module(
        garage_object,
        {"bucket": "b", "key": "k.txt", "mode": "put", "content": "hi", **CREDS},
        check_mode=True,
        diff=True,
    )
    assert result["changed"] and result["action"] == "upload"
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["etag"] == "49f68a5c8493ec2c0bf489821c21fc3b"
    assert write_calls(s3) == []


def test_usage_is_never_changed(run_module: RunModule, s3: mock.MagicMock) -> None:
    _listing(s3, ["a/1", "a/2"])
    s3.get_paginator.return_value.paginate.return_value = []
    result = run_module(garage_bucket_usage, {"bucket": "b", "group_by_prefix": 1, **CREDS})
    assert not result["changed"] and result["count"] == 2
    assert result["prefixes"] == [{"prefix": "a/", "count": 2, "bytes": 2}]
