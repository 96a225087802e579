# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The collection's one error family: :class:`OperationError` and its ``failure_reason``.

No Ansible here. Clients and operations raise; ``GarageModule.run()`` converts once, in
``main()``, into ``fail_json(msg=..., failure_reason=..., changed=...,
manual_cleanup_required=[...], **details)``.

``failure_reason`` is a stable snake_case code that playbooks, orchestrations and data-plane
jobs may match on (never match on ``msg``). Generic reasons are the constants below; an
operation names its own situation (``bucket_create_failed``, ``key_rename_conflict``, ...).

Every HTTP client error (Garage Admin API, OpenBao) is an :class:`OperationError` too, with a
reason derived from the HTTP answer (``not_found``, ``access_denied``, ...). Operations wrap
such errors with :func:`api_context` to add ``Failed to <verb> <thing> '<name>'`` and their own
reason, keeping the API's reason as ``details['cause']``.
"""

from __future__ import annotations

import contextlib
import re
import typing as t

# --------------------------------------------------------------------------- generic reasons

INVALID_INPUT = "invalid_input"  #: refused before any call
MISSING_DEPENDENCY = "missing_dependency"  #: a Python library is not installed on the target
CREDENTIALS_MISSING = "credentials_missing"  #: no token / key given anywhere
CREDENTIALS_INVALID = "credentials_invalid"  #: token file unreadable or unsafe, login refused
CONNECTION_FAILED = "connection_failed"  #: no HTTP answer; the call cannot have had an effect
OUTCOME_UNKNOWN = "outcome_unknown"  #: no HTTP answer to a call that may have landed
BAD_REQUEST = "bad_request"  #: HTTP 400
ACCESS_DENIED = "access_denied"  #: HTTP 401/403
NOT_FOUND = "not_found"  #: HTTP 404
CONFLICT = "conflict"  #: HTTP 409
SERVER_ERROR = "server_error"  #: HTTP 5xx
HTTP_ERROR = "http_error"  #: any other HTTP error status
INVALID_RESPONSE = "invalid_response"  #: the server answered something we cannot parse
ROLLBACK_FAILED = "rollback_failed"  #: a saga step failed and an undo failed too
UNEXPECTED_ERROR = "unexpected_error"  #: a bug: an exception that is not an OperationError

_REASON_RE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def is_failure_reason(value: str) -> bool:
    """Whether ``value`` is a well-formed (snake_case) failure reason."""
    return bool(_REASON_RE.match(value))


class OperationError(Exception):
    """An operation failed. Safe to show: never carries a secret.

    :param message: the whole sentence for the user (``Failed to create bucket 'x': ...``).
    :param failure_reason: stable snake_case code (see the module constants).
    :param changed: whether something was changed before the failure (and is left changed).
    :param manual_cleanup_required: what is left for a human to clean up, one dict per thing,
        e.g. ``{"resource": "bucket", "id": ..., "action": "delete the bucket", "error": ...}``.
    :param details: extra result keys (snake_case, JSON-serialisable, no secrets), e.g.
        ``status`` and ``garage_code`` of an API error, or a saga's ``failed_step``.
    """

    def __init__(
        self,
        message: str,
        *,
        failure_reason: str,
        changed: bool = False,
        manual_cleanup_required: t.Iterable[t.Mapping[str, t.Any]] = (),
        details: t.Mapping[str, t.Any] | None = None,
    ) -> None:
        if not is_failure_reason(failure_reason):
            raise ValueError(f"failure_reason must be snake_case, got {failure_reason!r}")
        super().__init__(message)
        self.message = message
        self.failure_reason = failure_reason
        self.changed = changed
        self.manual_cleanup_required: list[dict[str, t.Any]] = [dict(item) for item in manual_cleanup_required]
        self.details: dict[str, t.Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    @property
    def detail(self) -> str:
        """The short text of this error as it reads after ``Failed to ...: `` (subclasses add codes)."""
        return self.message

    def result(self) -> dict[str, t.Any]:
        """The failure result keys (without ``failed``): what ``fail_json`` receives."""
        result: dict[str, t.Any] = dict(self.details)
        result.update(
            msg=self.message,
            failure_reason=self.failure_reason,
            changed=self.changed,
        )
        if self.manual_cleanup_required:
            result["manual_cleanup_required"] = [dict(item) for item in self.manual_cleanup_required]
        return result


class InputError(OperationError):
    """Bad input, detected before any call (``failure_reason='invalid_input'`` by default)."""

    def __init__(self, message: str, *, failure_reason: str = INVALID_INPUT, **kwargs: t.Any) -> None:
        super().__init__(message, failure_reason=failure_reason, **kwargs)


def describe(exc: BaseException) -> str:
    """The short text of an error as it appears after ``Failed to ...: ``."""
    if isinstance(exc, OperationError):
        return exc.detail
    return f"unexpected {type(exc).__name__}: {exc}"


@contextlib.contextmanager
def api_context(
    verb: str,
    thing: str,
    name: str | None = None,
    *,
    failure_reason: str,
    changed: bool = False,
    manual_cleanup_required: t.Iterable[t.Mapping[str, t.Any]] = (),
) -> t.Iterator[None]:
    """Re-raise an :class:`OperationError` from the block as ``Failed to <verb> <thing> '<name>': ...``.

    The new error carries ``failure_reason``, ``changed`` (or the inner error's, if true) and the
    inner error's details plus ``cause`` (the inner reason, e.g. ``not_found``). An inner
    ``outcome_unknown`` keeps its reason: the caller must then learn the outcome by reading.
    Other exceptions pass through untouched (``GarageModule.run`` reports them as bugs).
    """
    try:
        yield
    except OperationError as exc:
        what = f"{thing} '{name}'" if name is not None else thing
        details = dict(exc.details)
        details.setdefault("cause", exc.failure_reason)
        reason = exc.failure_reason if exc.failure_reason == OUTCOME_UNKNOWN else failure_reason
        raise OperationError(
            f"Failed to {verb} {what}: {describe(exc)}",
            failure_reason=reason,
            changed=changed or exc.changed,
            manual_cleanup_required=[*manual_cleanup_required, *exc.manual_cleanup_required],
            details=details,
        ) from exc
