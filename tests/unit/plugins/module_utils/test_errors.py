# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The error family: failure_reason shape, result keys, api_context wrapping."""

from __future__ import annotations

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    OUTCOME_UNKNOWN,
    InputError,
    OperationError,
    api_context,
    describe,
    is_failure_reason,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageConnectionError,
    GarageNotFound,
)


@pytest.mark.parametrize("reason", ["not_found", "bucket_create_failed", "s3", "rollback_failed", "step2_failed"])
def test_snake_case_reasons_accepted(reason: str) -> None:
    assert is_failure_reason(reason)
    assert OperationError("x", failure_reason=reason).failure_reason == reason


@pytest.mark.parametrize("reason", ["", "NotFound", "not-found", "_x", "x_", "a__b", "2fast", "not found"])
def test_malformed_reasons_refused(reason: str) -> None:
    assert not is_failure_reason(reason)
    with pytest.raises(ValueError, match="snake_case"):
        raise OperationError("x", failure_reason=reason)


def test_result_keys() -> None:
    exc = OperationError(
        "Failed to x",
        failure_reason="x_failed",
        changed=True,
        manual_cleanup_required=[{"resource": "bucket", "id": "b1"}],
        details={"failed_step": "x"},
    )
    assert exc.result() == {
        "msg": "Failed to x",
        "failure_reason": "x_failed",
        "changed": True,
        "manual_cleanup_required": [{"resource": "bucket", "id": "b1"}],
        "failed_step": "x",
    }
    assert str(exc) == "Failed to x"
    assert "manual_cleanup_required" not in OperationError("y", failure_reason="y").result()


def test_details_cannot_override_the_core_keys() -> None:
    exc = OperationError("real", failure_reason="real_reason", details={"msg": "fake", "failure_reason": "fake"})
    assert exc.result()["msg"] == "real" and exc.result()["failure_reason"] == "real_reason"


def test_input_error_defaults_to_invalid_input() -> None:
    assert InputError("bad").failure_reason == "invalid_input"
    assert InputError("bad", failure_reason="alias_taken").failure_reason == "alias_taken"


def test_api_error_reason_comes_from_the_status() -> None:
    exc = GarageNotFound("Bucket not found", status=404, code="NoSuchBucket", endpoint="GetBucketInfo")
    assert exc.failure_reason == "not_found"
    assert exc.details == {"status": 404, "garage_code": "NoSuchBucket"}
    assert describe(exc) == "NoSuchBucket: Bucket not found"


def test_api_context_names_the_situation_and_keeps_the_cause() -> None:
    inner = GarageNotFound("Bucket not found", status=404, code="NoSuchBucket")
    with (
        pytest.raises(OperationError) as info,
        api_context("update", "bucket", "photos", failure_reason="bucket_update_failed"),
    ):
        raise inner
    exc = info.value
    assert exc.message == "Failed to update bucket 'photos': NoSuchBucket: Bucket not found"
    assert exc.failure_reason == "bucket_update_failed"
    assert exc.details == {"status": 404, "garage_code": "NoSuchBucket", "cause": "not_found"}
    assert exc.__cause__ is inner


def test_api_context_keeps_outcome_unknown() -> None:
    inner = GarageConnectionError("No answer", endpoint="CreateKey", may_have_landed=True)
    assert inner.failure_reason == OUTCOME_UNKNOWN
    with pytest.raises(OperationError) as info, api_context("create", "key", "app", failure_reason="key_create_failed"):
        raise inner
    assert info.value.failure_reason == OUTCOME_UNKNOWN


def test_api_context_without_name_and_with_changed() -> None:
    with (
        pytest.raises(OperationError) as info,
        api_context("read", "cluster layout", failure_reason="layout_read_failed", changed=True),
    ):
        raise OperationError("boom", failure_reason="server_error")
    assert info.value.message == "Failed to read cluster layout: boom"
    assert info.value.changed is True


def test_api_context_lets_bugs_through() -> None:
    with pytest.raises(KeyError), api_context("read", "bucket", "x", failure_reason="bucket_read_failed"):
        raise KeyError("globalAliases")


def test_describe_unexpected() -> None:
    assert describe(KeyError("k")) == "unexpected KeyError: 'k'"
