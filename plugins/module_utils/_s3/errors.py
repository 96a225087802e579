# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""botocore errors -> the collection's :class:`OperationError`, in one place. No Ansible here.

``with s3_context("list objects of", "bucket", name, failure_reason="bucket_clear_failed"):``
re-raises botocore's ``ClientError`` / connection errors as ``Failed to <verb> <thing> '<name>':
<Code>: <message>`` with ``failure_reason`` and ``details``: ``cause`` (``bucket_not_found``,
``access_denied``, ``connection_failed``, ...), ``status`` and ``s3_code``. A missing bucket is
so common a situation that its cause is also the reason when the caller passes
``missing_bucket_reason``.

The failure reasons of the S3 data plane (stable; playbooks match on them):

- :data:`AUTH_FAILED` -- the access key id / secret / region were refused (pre-flight);
- :data:`ACCESS_DENIED` -- the key is valid but has no permission on the bucket (pre-flight);
- :data:`BUCKET_NOT_FOUND` -- the bucket does not exist (or is not visible to the key);
- :data:`OS_ERROR` -- no answer from the endpoint (refused, DNS, TLS, timeout);
- :data:`PARTIAL_FAILURE` -- a bulk operation did part of its work (see ``failed_count``).
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
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
    )
    from botocore.exceptions import (
        ConnectionError as BotoConnectionError,
    )
except ImportError:  # pragma: no cover - the S3 option group reports the missing library first

    class _BotocoreMissing(Exception):
        """Stands for botocore's exception classes when botocore is missing (never raised)."""

    BotoCoreError = ClientError = BotoConnectionError = HTTPClientError = NoCredentialsError = _BotocoreMissing

#: The exception classes :func:`s3_context` converts (``except BOTOCORE_ERRORS``). pylint cannot
#: tell that both branches of the optional import give exception classes, hence the
#: ``catching-non-exception`` disables where the tuple is caught.
BOTOCORE_ERRORS = (ClientError, BotoCoreError)

AUTH_FAILED = "auth_failed"
BUCKET_NOT_FOUND = "bucket_not_found"
OS_ERROR = "os_error"
PARTIAL_FAILURE = "partial_failure"

_AUTH_CODES = frozenset(
    (
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "AuthorizationHeaderMalformed",
        "InvalidSignature",
    )
)
_MISSING_BUCKET_CODES = frozenset(("NoSuchBucket",))


def error_code(exc: BaseException) -> str | None:
    """The S3 error code of a ``ClientError`` (``NoSuchKey``, ``"404"`` for a bodyless HEAD), else None."""
    if ClientError is not None and isinstance(exc, ClientError):
        return str((exc.response.get("Error") or {}).get("Code") or "") or None
    return None


def http_status(exc: BaseException) -> int | None:
    """The HTTP status of a ``ClientError``, else None."""
    if ClientError is not None and isinstance(exc, ClientError):
        status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        return status if isinstance(status, int) else None
    return None


def is_connection_error(exc: BaseException) -> bool:
    """No HTTP answer at all: refused, reset, DNS, TLS handshake, timeouts."""
    kinds = tuple(c for c in (BotoConnectionError, HTTPClientError) if c is not None)
    return bool(kinds) and isinstance(exc, kinds)


def classify(exc: BaseException) -> tuple[str, dict[str, t.Any], str]:
    """``(cause, details, text)`` of a botocore exception."""
    if ClientError is not None and isinstance(exc, ClientError):
        error = exc.response.get("Error") or {}
        code = str(error.get("Code") or "")
        status = http_status(exc)
        message = str(error.get("Message") or "") or str(exc)
        if code in _MISSING_BUCKET_CODES:
            cause = BUCKET_NOT_FOUND
        elif code in _AUTH_CODES:
            cause = ACCESS_DENIED
        else:
            cause = reason_for_status(status)
        text = f"{code}: {message}" if code and code != message else message
        return cause, {"status": status, "s3_code": code or None}, text
    if is_connection_error(exc):
        return CONNECTION_FAILED, {}, str(exc)
    if NoCredentialsError is not None and isinstance(exc, NoCredentialsError):
        return ACCESS_DENIED, {}, str(exc)
    return HTTP_ERROR, {}, f"{type(exc).__name__}: {exc}"


def is_botocore_error(exc: BaseException) -> bool:
    """True for the exceptions :func:`s3_context` converts."""
    return isinstance(exc, BOTOCORE_ERRORS)


def convert(
    exc: BaseException,
    verb: str,
    thing: str,
    name: str | None = None,
    *,
    failure_reason: str,
    missing_bucket_reason: str | None = None,
    changed: bool = False,
    details: t.Mapping[str, t.Any] | None = None,
) -> OperationError:
    """The :class:`OperationError` for a botocore exception (see :func:`s3_context`)."""
    cause, found, text = classify(exc)
    reason = missing_bucket_reason if (cause == BUCKET_NOT_FOUND and missing_bucket_reason) else failure_reason
    what = f"{thing} '{name}'" if name is not None else thing
    return OperationError(
        f"Failed to {verb} {what}: {text}",
        failure_reason=reason,
        changed=changed,
        details={**found, "cause": cause, **(details or {})},
    )


@contextlib.contextmanager
def s3_context(
    verb: str,
    thing: str,
    name: str | None = None,
    *,
    failure_reason: str,
    missing_bucket_reason: str | None = None,
    changed: bool = False,
    details: t.Mapping[str, t.Any] | None = None,
) -> t.Iterator[None]:
    """Convert a botocore error raised in the block (see the module docstring).

    ``details`` are added to the error's result keys (e.g. what a bulk operation did so far).
    """
    try:
        yield
    except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
        raise convert(
            exc,
            verb,
            thing,
            name,
            failure_reason=failure_reason,
            missing_bucket_reason=missing_bucket_reason,
            changed=changed,
            details=details,
        ) from None
