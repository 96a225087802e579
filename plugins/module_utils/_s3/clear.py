# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Empty a bucket (or one prefix of it): the operation behind ``garage_bucket_clear``. No Ansible.

::

    outcome = clear.clear(client, clear.ClearSpec("photos", prefix="tmp/"), dry_run=False)
    outcome.result["deleted_count"], outcome.result["failed_count"]

1. :func:`.preflight.check_bucket` (nothing is touched when the credentials or the bucket are
   wrong);
2. the listing (:mod:`.listing`) feeds :func:`.batch.delete_keys`, which deletes pages of 1000
   keys on a bounded pool while the listing goes on;
3. with ``abort_multipart_uploads``, the unfinished uploads under the prefix are aborted too.

``dry_run`` lists and counts, and deletes nothing. The view (``before``/``after``) is the
number of objects (and uploads) under the prefix: ``changed`` is true exactly when there was
something to delete. When some keys could not be deleted, :class:`OperationError`
``partial_failure`` carries ``deleted_count``, ``failed_count`` and up to 10 ``errors``; a
second run deletes what is left.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import batch, listing, preflight
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import PARTIAL_FAILURE, convert, s3_context
from ansible_collections.cellar.garage.plugins.module_utils._s3.params import int_param

CLEAR_FAILED = "bucket_clear_failed"
MAX_WORKERS = 64


@dataclasses.dataclass(frozen=True)
class ClearSpec:
    bucket: str
    prefix: str = ""
    abort_multipart_uploads: bool = False
    workers: int = batch.DEFAULT_WORKERS

    def validate(self) -> None:
        problems = []
        if not self.bucket:
            problems.append("bucket must not be empty")
        if not 1 <= self.workers <= MAX_WORKERS:
            problems.append(f"workers must be between 1 and {MAX_WORKERS}, got {self.workers}")
        if problems:
            raise InputError("; ".join(problems))


def spec_from_params(params: t.Mapping[str, t.Any]) -> ClearSpec:
    spec = ClearSpec(
        bucket=params["bucket"],
        prefix=params.get("prefix") or "",
        abort_multipart_uploads=bool(params.get("abort_multipart_uploads")),
        workers=int_param(params, "workers", batch.DEFAULT_WORKERS),
    )
    spec.validate()
    return spec


def _view(spec: ClearSpec, objects: int, uploads: int) -> dict[str, t.Any]:
    view: dict[str, t.Any] = {"bucket": spec.bucket, "prefix": spec.prefix, "objects": objects}
    if spec.abort_multipart_uploads:
        view["multipart_uploads"] = uploads
    return view


def clear(client: t.Any, spec: ClearSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Delete every object under ``spec.prefix`` (see the module docstring)."""
    spec.validate()
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    started = time.monotonic()
    if dry_run:
        return _predict(client, spec, started)

    report = batch.delete_keys(
        client, spec.bucket, listing.key_pages(client, spec.bucket, spec.prefix), workers=spec.workers
    )
    uploads = batch.BulkReport()
    if report.source_error is None and spec.abort_multipart_uploads:
        uploads = batch.abort_uploads(
            client,
            spec.bucket,
            listing.multipart_uploads(client, spec.bucket, spec.prefix),
            workers=spec.workers,
            max_errors=max(0, batch.MAX_ERRORS - len(report.errors)),
        )
    errors = (report.errors + uploads.errors)[: batch.MAX_ERRORS]
    failed = report.failed + uploads.failed
    result = _result(spec, started, deleted=report.done, failed=failed, errors=errors, aborted=uploads.done)
    changed = report.done > 0 or uploads.done > 0
    source_error = report.source_error or uploads.source_error
    if source_error is not None:
        what = "list objects of" if report.source_error is not None else "list the multipart uploads of"
        raise convert(
            source_error,
            what,
            "bucket",
            spec.bucket,
            failure_reason=CLEAR_FAILED,
            missing_bucket_reason="bucket_not_found",
            changed=changed,
            details=result,
        )
    if failed:
        first = errors[0] if errors else {"code": "?", "message": "?"}
        raise OperationError(
            f"Cleared bucket '{spec.bucket}'{_under(spec)} only partly: {report.done} object(s) deleted, "
            f"{failed} failed (first: {first['code']}: {first['message']}); run again to retry what is left",
            failure_reason=PARTIAL_FAILURE,
            changed=changed,
            details=result,
        )
    return Outcome(
        before=_view(spec, report.attempted, uploads.attempted),
        after=_view(spec, 0, 0),
        result=result,
    )


def _predict(client: t.Any, spec: ClearSpec, started: float) -> Outcome:
    with s3_context(
        "list objects of", "bucket", spec.bucket, failure_reason=CLEAR_FAILED, missing_bucket_reason="bucket_not_found"
    ):
        objects = sum(len(keys) for keys in listing.key_pages(client, spec.bucket, spec.prefix))
        uploads = 0
        if spec.abort_multipart_uploads:
            uploads = sum(1 for _upload in listing.multipart_uploads(client, spec.bucket, spec.prefix))
    result = _result(spec, started, deleted=objects, failed=0, errors=[], aborted=uploads)
    return Outcome(before=_view(spec, objects, uploads), after=_view(spec, 0, 0), result=result)


def _result(
    spec: ClearSpec, started: float, *, deleted: int, failed: int, errors: list[dict[str, str]], aborted: int
) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {
        "bucket": spec.bucket,
        "prefix": spec.prefix,
        "deleted_count": deleted,
        "failed_count": failed,
        "errors": errors,
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    if spec.abort_multipart_uploads:
        result["aborted_uploads_count"] = aborted
    return result


def _under(spec: ClearSpec) -> str:
    return f" under '{spec.prefix}'" if spec.prefix else ""
