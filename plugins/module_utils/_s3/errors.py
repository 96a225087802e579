# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""botocore errors -> the collection's :class:`OperationError`, in one place. No Ansible here.

``with s3_context("list objects of", "bucket", name, failure_reason="bucket_clear_failed"):``
re-raises botocore's ``ClientError`` / connection errors as ``Failed to <verb> <thing> '<name>':
<Code>: <message>`` with ``failure_reason`` and ``details``: ``cause`` (``bucket_missing``,
``access_denied``, ``connection_failed``, ...), ``status`` and ``s3_code``. A missing bucket is
so common a situation that its cause is also the reason when the caller passes
``missing_bucket_reason``.
"""

from __future__ import annotations

import contextlib
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    ACCESS_DENIED,
    CONNECTION_FAILED,
    HTTP_ERROR,
    OperationError,
)
from ansible_collections.cellar.garage.plugins.module_utils._http import reason_for_status

try:
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
except ImportError:  # pragma: no cover - the S3 option group reports the missing library first
    BotoCoreError = ClientError = EndpointConnectionError = None

BUCKET_MISSING = "bucket_missing"
_AUTH_CODES = frozenset(("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"))
_MISSING_BUCKET_CODES = frozenset(("NoSuchBucket",))


def is_botocore_error(exc: BaseException) -> bool:
    return any(cls is not None and isinstance(exc, cls) for cls in (ClientError, BotoCoreError))


def classify(exc: BaseException) -> tuple[str, dict[str, t.Any], str]:
    """``(cause, details, text)`` of a botocore exception."""
    if ClientError is not None and isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        meta = exc.response.get("ResponseMetadata") or {}
        code = str(error.get("Code") or "")
        status = meta.get("HTTPStatusCode")
        message = str(error.get("Message") or "") or str(exc)
        if code in _MISSING_BUCKET_CODES:
            cause = BUCKET_MISSING
        elif code in _AUTH_CODES:
            cause = ACCESS_DENIED
        else:
            cause = reason_for_status(status if isinstance(status, int) else None)
        text = f"{code}: {message}" if code else message
        return cause, {"status": status, "s3_code": code or None}, text
    if EndpointConnectionError is not None and isinstance(exc, EndpointConnectionError):
        return CONNECTION_FAILED, {}, str(exc)
    return HTTP_ERROR, {}, f"{type(exc).__name__}: {exc}"


@contextlib.contextmanager
def s3_context(
    verb: str,
    thing: str,
    name: str | None = None,
    *,
    failure_reason: str,
    missing_bucket_reason: str | None = None,
    changed: bool = False,
) -> t.Iterator[None]:
    """Convert a botocore error raised in the block (see the module docstring)."""
    try:
        yield
    except Exception as exc:
        if not is_botocore_error(exc):
            raise
        cause, details, text = classify(exc)
        reason = missing_bucket_reason if (cause == BUCKET_MISSING and missing_bucket_reason) else failure_reason
        what = f"{thing} '{name}'" if name is not None else thing
        raise OperationError(
            f"Failed to {verb} {what}: {text}",
            failure_reason=reason,
            changed=changed,
            details={**details, "cause": cause},
        ) from None
