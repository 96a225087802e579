# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""botocore errors become OperationErrors in one place (``_s3/errors.s3_context``)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import s3_context


def client_error(code: str, status: int, message: str = "boom") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op"
    )


@pytest.mark.parametrize(
    ("exc", "cause", "s3_code"),
    [
        (client_error("NoSuchBucket", 404), "bucket_missing", "NoSuchBucket"),
        (client_error("AccessDenied", 403), "access_denied", "AccessDenied"),
        (client_error("SignatureDoesNotMatch", 403), "access_denied", "SignatureDoesNotMatch"),
        (client_error("InternalError", 500), "server_error", "InternalError"),
        (client_error("SlowDown", 503), "server_error", "SlowDown"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "connection_failed", None),
    ],
)
def test_botocore_errors_are_classified(exc: Exception, cause: str, s3_code: str | None) -> None:
    with pytest.raises(OperationError) as info, s3_context("list objects of", "bucket", "b", failure_reason="x_failed"):
        raise exc
    err = info.value
    assert err.failure_reason == "x_failed" and err.details["cause"] == cause
    assert err.details.get("s3_code") == s3_code
    assert err.message.startswith("Failed to list objects of bucket 'b': ")


def test_missing_bucket_can_be_its_own_reason() -> None:
    with (
        pytest.raises(OperationError) as info,
        s3_context(
            "clear", "bucket", "b", failure_reason="bucket_clear_failed", missing_bucket_reason="bucket_missing"
        ),
    ):
        raise client_error("NoSuchBucket", 404)
    assert info.value.failure_reason == "bucket_missing"


def test_other_exceptions_pass_through() -> None:
    with pytest.raises(KeyError), s3_context("read", "object", "k", failure_reason="x_failed"):
        raise KeyError("k")
