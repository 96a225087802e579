# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The ``HeadBucket`` pre-flight every S3 operation runs before it touches anything. No Ansible.

:func:`check_bucket` answers, with one request in the common case:

- ``auth_failed``: the access key id, its secret or the signing region were refused (Garage
  answers 403 to an unknown key or a bad signature, 400 to a region other than its
  ``s3_region``);
- ``access_denied``: the credentials are good (``ListBuckets`` works) but the key has no
  permission on this bucket;
- ``bucket_not_found``: no bucket of that name for this key (global alias, the key's local
  alias, or a 64-hex id);
- ``os_error``: no answer at all (connection refused, DNS, TLS, timeout).

HeadBucket has no response body, so botocore reports its errors with the status as the code
(``"403"``); the second request (``ListBuckets``, which needs only a valid signature) runs only
after a 403, to tell bad credentials from a missing permission.
"""

from __future__ import annotations

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import ACCESS_DENIED, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import (
    AUTH_FAILED,
    BOTOCORE_ERRORS,
    BUCKET_NOT_FOUND,
    OS_ERROR,
    classify,
    http_status,
    is_connection_error,
)

_REGION_HINT = "check region (it must equal Garage's [s3_api] s3_region)"


def check_bucket(client: t.Any, bucket: str, *, access_key_id: str | None = None) -> None:
    """Raise the :class:`OperationError` that describes why ``bucket`` cannot be used (see above)."""
    try:
        client.head_bucket(Bucket=bucket)
        return
    except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
        error = exc
    key = f"access key '{access_key_id}'" if access_key_id else "the access key"
    cause, details, text = classify(error)
    details = {**details, "cause": cause, "bucket": bucket}
    if is_connection_error(error):
        raise OperationError(
            f"Cannot reach the S3 endpoint to check bucket '{bucket}': {text}",
            failure_reason=OS_ERROR,
            details=details,
        )
    status = http_status(error)
    if status == 404:
        raise OperationError(
            f"Bucket '{bucket}' does not exist (or {key} cannot see it: local aliases belong to one key)",
            failure_reason=BUCKET_NOT_FOUND,
            details=details,
        )
    if status == 400:
        raise OperationError(
            f"S3 refused the request signature of {key} for bucket '{bucket}' ({text}): {_REGION_HINT}",
            failure_reason=AUTH_FAILED,
            details=details,
        )
    if status in (401, 403):
        if _credentials_work(client):
            raise OperationError(
                f"{key.capitalize()} has no permission on bucket '{bucket}': grant it, e.g. with "
                "cellar.garage.garage_bucket_permission",
                failure_reason=ACCESS_DENIED,
                details=details,
            )
        raise OperationError(
            f"S3 refused {key} (HTTP {status}): the access key id or secret_access_key is wrong, "
            "or the key was deleted or has expired",
            failure_reason=AUTH_FAILED,
            details=details,
        )
    raise OperationError(
        f"Failed to check bucket '{bucket}': {text}",
        failure_reason=cause,
        details=details,
    )


def _credentials_work(client: t.Any) -> bool:
    try:
        client.list_buckets()
    except BOTOCORE_ERRORS:  # pylint: disable=catching-non-exception
        return False
    return True
