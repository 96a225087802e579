# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.preflight and _s3.errors: HeadBucket answers -> failure reasons; botocore -> OperationError."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3 import errors, preflight
from tests.unit.plugins.module_utils.s3_fakes import client_error, connection_error


def test_a_bucket_that_answers_passes_with_one_request() -> None:
    client = mock.MagicMock()
    preflight.check_bucket(client, "b")
    client.head_bucket.assert_called_once_with(Bucket="b")
    client.list_buckets.assert_not_called()


@pytest.mark.parametrize(
    ("head_error", "list_error", "reason", "text"),
    [
        (client_error("404", 404, "Not Found"), None, "bucket_not_found", "does not exist"),
        (client_error("403", 403, "Forbidden"), client_error("403", 403), "auth_failed", "secret_access_key is wrong"),
        (client_error("403", 403, "Forbidden"), None, "access_denied", "garage_bucket_permission"),
        (client_error("400", 400, "Bad Request"), None, "auth_failed", "s3_region"),
        (connection_error(), None, "os_error", "Cannot reach"),
        (client_error("500", 500, "Internal"), None, "server_error", "Failed to check bucket"),
    ],
)
def test_failures_name_their_reason(
    head_error: Exception, list_error: Exception | None, reason: str, text: str
) -> None:
    client = mock.MagicMock()
    client.head_bucket.side_effect = head_error
    if list_error is not None:
        client.list_buckets.side_effect = list_error
    with pytest.raises(OperationError) as info:
        preflight.check_bucket(client, "photos", access_key_id="GKabc")
    assert info.value.failure_reason == reason
    assert text in info.value.message
    assert info.value.changed is False
    assert info.value.details["bucket"] == "photos"


def test_s3_context_converts_and_names_a_missing_bucket() -> None:
    with pytest.raises(OperationError) as info:
        with errors.s3_context(
            "list", "bucket", "b", failure_reason="x_failed", missing_bucket_reason="bucket_not_found"
        ):
            raise client_error("NoSuchBucket", 404, "Bucket not found: b")
    assert info.value.failure_reason == "bucket_not_found"
    assert info.value.message == "Failed to list bucket 'b': NoSuchBucket: Bucket not found: b"
    assert info.value.details == {"status": 404, "s3_code": "NoSuchBucket", "cause": "bucket_not_found"}

    with pytest.raises(OperationError) as info:
        with errors.s3_context("put", "object", "k", failure_reason="object_put_failed", details={"bucket": "b"}):
            raise client_error("AccessDenied", 403, "nope")
    assert info.value.failure_reason == "object_put_failed"
    assert info.value.details["cause"] == "access_denied" and info.value.details["bucket"] == "b"


def test_other_exceptions_pass_through_s3_context() -> None:
    with pytest.raises(KeyError):
        with errors.s3_context("x", "y", failure_reason="z_failed"):
            raise KeyError("bug")


def test_classify_connection_errors() -> None:
    cause, details, text = errors.classify(connection_error())
    assert cause == "connection_failed" and details == {} and "127.0.0.1" in text
    assert errors.is_connection_error(connection_error())
    assert not errors.is_connection_error(client_error("500", 500))
