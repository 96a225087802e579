# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Single objects: put, get, delete, presigned GET URL. The operations behind ``garage_object``.

No Ansible here. Views hold metadata only, never content:

- the object: ``{"state": "present", "key", "size", "etag", "content_type", "metadata"}``;
- a downloaded file: ``{"state": "present", "dest", "size", "etag"}``, where a local file's
  ``etag`` is the ETag it would have as this object (see :mod:`.checksums`).

``overwrite`` decides what an existing target gets: ``never`` leaves it, ``always`` writes it
again (the view then carries ``"written": true``, so the diff and ``changed`` say so), and
``different`` writes only when the content differs -- compared through ETags, multipart ones
included -- or, for ``put``, when ``content_type`` / ``metadata`` are set and differ (then the
object is copied onto itself with the new metadata, without sending the content again).
Options left unset keep what the object has.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import mimetypes
import os
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, absent, present
from ansible_collections.cellar.garage.plugins.module_utils._s3 import checksums, preflight, transfer
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import (
    BOTOCORE_ERRORS,
    error_code,
    http_status,
    s3_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._s3.params import int_param
from ansible_collections.cellar.garage.plugins.module_utils._sizes import parse_size

MODES = ("put", "get", "delete", "geturl")
OVERWRITE = ("always", "never", "different")
MAX_EXPIRES = 604800  # Garage (like S3) refuses presigned URLs valid for more than 7 days
OBJECT_NOT_FOUND = "object_not_found"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclasses.dataclass(frozen=True)
class ObjectSpec:
    bucket: str
    key: str
    mode: str
    src: str | None = None
    content: bytes | None = None
    dest: str | None = None
    overwrite: str = "different"
    content_type: str | None = None
    metadata: dict[str, str] | None = None
    expires: int = 3600
    part_size: int = transfer.DEFAULT_PART_SIZE
    multipart_threshold: int = transfer.DEFAULT_THRESHOLD
    workers: int = transfer.DEFAULT_WORKERS


def _size_option(params: t.Mapping[str, t.Any], name: str, default: int, problems: list[str]) -> int:
    value = params.get(name)
    if value is None:
        return default
    try:
        return parse_size(value)
    except ValueError as exc:
        problems.append(f"{name}: {exc}")
        return default


def spec_from_params(params: t.Mapping[str, t.Any]) -> ObjectSpec:
    """The spec, or :class:`InputError` before anything is sent."""
    problems: list[str] = []
    mode = params["mode"]
    key = params.get("key") or ""
    if not key:
        problems.append("key must not be empty")
    elif len(key.encode("utf-8")) > 1024:
        problems.append("key is longer than 1024 bytes")
    content = params.get("content")
    src = params.get("src")
    dest = params.get("dest")
    if mode == "put":
        if (src is None) == (content is None):
            problems.append("mode=put needs exactly one of src and content")
        elif src is not None and not os.path.isfile(src):
            problems.append(f"src '{src}' is not a readable file")
        elif src is not None and not os.access(src, os.R_OK):
            problems.append(f"src '{src}' is not readable")
    if mode == "get":
        if not dest:
            problems.append("mode=get needs dest")
        else:
            directory = os.path.dirname(os.path.abspath(dest))
            if not os.path.isdir(directory):
                problems.append(f"the directory of dest '{dest}' does not exist")
            elif os.path.isdir(dest):
                problems.append(f"dest '{dest}' is a directory: give the path of the file to write")
    expires = int_param(params, "expires", 3600)
    if not 1 <= expires <= MAX_EXPIRES:
        problems.append(f"expires must be between 1 and {MAX_EXPIRES} seconds (7 days), got {expires}")
    part_size = _size_option(params, "part_size", transfer.DEFAULT_PART_SIZE, problems)
    threshold = _size_option(params, "multipart_threshold", transfer.DEFAULT_THRESHOLD, problems)
    if part_size < transfer.MIN_PART_SIZE:
        problems.append(f"part_size must be at least {transfer.MIN_PART_SIZE} bytes (1 MiB), got {part_size}")
    workers = int_param(params, "workers", transfer.DEFAULT_WORKERS)
    if not 1 <= workers <= 16:
        problems.append(f"workers must be between 1 and 16, got {workers}")
    metadata = params.get("metadata")
    if metadata is not None:
        for name in metadata:
            if not str(name) or not all(c.isalnum() or c in "-_" for c in str(name)):
                problems.append(f"metadata name '{name}' must be letters, digits, '-' or '_'")
    if problems:
        raise InputError("; ".join(problems))
    return ObjectSpec(
        bucket=params["bucket"],
        key=key,
        mode=mode,
        src=src,
        content=content.encode("utf-8") if content is not None else None,
        dest=dest,
        overwrite=params.get("overwrite") or "different",
        content_type=params.get("content_type"),
        metadata={str(k).lower(): str(v) for k, v in metadata.items()} if metadata is not None else None,
        expires=expires,
        part_size=part_size,
        multipart_threshold=threshold,
        workers=workers,
    )


# --------------------------------------------------------------------------- reads


def head(client: t.Any, bucket: str, key: str) -> dict[str, t.Any] | None:
    """The object's view, or None when it does not exist."""
    with s3_context(
        "read", "object", key, failure_reason="object_read_failed", missing_bucket_reason="bucket_not_found"
    ):
        try:
            response = client.head_object(Bucket=bucket, Key=key)
        except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
            if http_status(exc) == 404 and error_code(exc) != "NoSuchBucket":
                return None
            raise
    return {
        "key": key,
        "size": int(response.get("ContentLength") or 0),
        "etag": checksums.normalize_etag(response.get("ETag")),
        "content_type": str(response.get("ContentType") or DEFAULT_CONTENT_TYPE),
        "metadata": {str(k).lower(): str(v) for k, v in (response.get("Metadata") or {}).items()},
    }


def first_part_size(client: t.Any, bucket: str, key: str) -> int | None:
    """The size of the first part of a multipart object (``HeadObject`` with ``PartNumber=1``)."""
    with s3_context("read part 1 of", "object", key, failure_reason="object_read_failed"):
        response = client.head_object(Bucket=bucket, Key=key, PartNumber=1)
    size = response.get("ContentLength")
    return int(size) if size is not None else None


def _local_digest(spec: ObjectSpec, part_size: int | None) -> checksums.Digest:
    if spec.content is not None:
        return checksums.digest_bytes(spec.content, part_size=part_size)
    return checksums.digest_file(t.cast(str, spec.src), part_size=part_size)


def _local_size(spec: ObjectSpec) -> int:
    return len(spec.content) if spec.content is not None else os.path.getsize(t.cast(str, spec.src))


def _same_content(
    client: t.Any,
    spec: ObjectSpec,
    remote: t.Mapping[str, t.Any],
    local: t.Callable[[int | None], checksums.Digest],
    local_size: int,
) -> bool | None:
    return checksums.etag_matches(
        remote["etag"],
        remote["size"],
        local,
        lambda: first_part_size(client, spec.bucket, spec.key),
        local_size=local_size,
    )


# --------------------------------------------------------------------------- put


def put(client: t.Any, spec: ObjectSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Upload ``spec.src`` / ``spec.content`` to ``spec.key`` (see the module docstring)."""
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    remote = head(client, spec.bucket, spec.key)
    before = present(remote) if remote else absent()
    size = _local_size(spec)
    multipart = spec.content is None and size > spec.multipart_threshold
    part_size = transfer.effective_part_size(size, spec.part_size)
    digests: dict[int | None, checksums.Digest] = {}

    def local(cut: int | None) -> checksums.Digest:
        if cut not in digests:
            digests[cut] = _local_digest(spec, cut)
        return digests[cut]

    content_type = spec.content_type or (remote["content_type"] if remote else _guess_type(spec))
    metadata = spec.metadata if spec.metadata is not None else (remote["metadata"] if remote else {})
    warnings: list[str] = []
    action = "upload"
    if remote is not None:
        if spec.overwrite == "never":
            return Outcome.unchanged(before, **_put_result(spec, remote, "none"))
        if spec.overwrite == "different":
            same = _same_content(client, spec, remote, local, size)
            if same is None:
                warnings.append(
                    f"Cannot tell from its ETag ({remote['etag']}) whether object '{spec.key}' has the same content "
                    "(a multipart upload with uneven parts): uploading it again"
                )
            elif same:
                if content_type == remote["content_type"] and metadata == remote["metadata"]:
                    return Outcome.unchanged(before, **_put_result(spec, remote, "none"))
                action = "metadata"
    if action == "metadata":
        after_view = {**t.cast(dict, remote), "content_type": content_type, "metadata": metadata}
    else:
        digest = local(part_size if multipart else None)
        after_view = {
            "key": spec.key,
            "size": size,
            "etag": digest.etag(multipart=multipart),
            "content_type": content_type,
            "metadata": metadata,
        }
    after = present({**after_view, "written": True} if spec.overwrite == "always" else after_view)
    if not dry_run:
        extra: dict[str, t.Any] = {"ContentType": content_type, "Metadata": metadata}
        if action == "metadata":
            with s3_context("update the metadata of", "object", spec.key, failure_reason="object_put_failed"):
                client.copy_object(
                    Bucket=spec.bucket,
                    Key=spec.key,
                    CopySource={"Bucket": spec.bucket, "Key": spec.key},
                    MetadataDirective="REPLACE",
                    **extra,
                )
        elif spec.content is not None:
            transfer.upload_bytes(client, spec.bucket, spec.key, spec.content, extra=extra)
        else:
            transfer.upload_file(
                client,
                spec.bucket,
                spec.key,
                t.cast(str, spec.src),
                extra=extra,
                part_size=part_size,
                threshold=spec.multipart_threshold,
                workers=spec.workers,
            )
    view = {k: v for k, v in after.items() if k not in ("state", "written")}
    return Outcome(before=before, after=after, result=_put_result(spec, view, action), warnings=tuple(warnings))


def _guess_type(spec: ObjectSpec) -> str:
    guessed, _encoding = mimetypes.guess_type(spec.src or spec.key)
    return guessed or DEFAULT_CONTENT_TYPE


def _put_result(spec: ObjectSpec, view: t.Mapping[str, t.Any], action: str) -> dict[str, t.Any]:
    return {"bucket": spec.bucket, "key": spec.key, "object": dict(view), "action": action}


# --------------------------------------------------------------------------- get


def _file_view(dest: str, size: int, etag: str) -> dict[str, t.Any]:
    return present({"dest": dest, "size": size, "etag": etag})


def get(client: t.Any, spec: ObjectSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Download ``spec.key`` to ``spec.dest``, atomically (see the module docstring)."""
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    dest = t.cast(str, spec.dest)
    remote = head(client, spec.bucket, spec.key)
    if remote is None:
        raise OperationError(
            f"Object '{spec.key}' does not exist in bucket '{spec.bucket}'",
            failure_reason=OBJECT_NOT_FOUND,
            details={"bucket": spec.bucket, "key": spec.key},
        )
    result = {"bucket": spec.bucket, "key": spec.key, "dest": dest, "object": remote}
    target = _file_view(dest, remote["size"], remote["etag"])
    if not os.path.exists(dest):
        before = absent()
    else:
        local_size = os.path.getsize(dest)
        if spec.overwrite == "never":
            view = _file_view(dest, local_size, _local_etag(dest, remote, None))
            return Outcome.unchanged(view, **result)
        same = checksums.etag_matches(
            remote["etag"],
            remote["size"],
            lambda cut: checksums.digest_file(dest, part_size=cut),
            lambda: first_part_size(client, spec.bucket, spec.key),
            local_size=local_size,
        )
        before = target if same else _file_view(dest, local_size, _local_etag(dest, remote, same))
        if same and spec.overwrite == "different":
            return Outcome.unchanged(before, **result)
    after = present({**target, "written": True}) if spec.overwrite == "always" else target
    if not dry_run:
        transfer.download(client, spec.bucket, spec.key, dest)
    return Outcome(before=before, after=after, result=result)


def _local_etag(dest: str, remote: t.Mapping[str, t.Any], same: bool | None) -> str:
    """The local file's ETag for the diff: the remote's when equal, else the file's MD5."""
    if same:
        return str(remote["etag"])
    return checksums.digest_file(dest).md5


# --------------------------------------------------------------------------- delete / geturl


def delete(client: t.Any, spec: ObjectSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Delete ``spec.key`` (unchanged when it does not exist)."""
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    remote = head(client, spec.bucket, spec.key)
    result = {"bucket": spec.bucket, "key": spec.key}
    if remote is None:
        return Outcome.unchanged(absent(), **result)
    if not dry_run:
        with s3_context("delete", "object", spec.key, failure_reason="object_delete_failed"):
            client.delete_object(Bucket=spec.bucket, Key=spec.key)
    return Outcome(before=present(remote), after=absent(), result=result)


def presign(client: t.Any, spec: ObjectSpec, *, access_key_id: str | None = None) -> dict[str, t.Any]:
    """A presigned GET URL for an existing object (nothing changes)."""
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    remote = head(client, spec.bucket, spec.key)
    if remote is None:
        raise OperationError(
            f"Object '{spec.key}' does not exist in bucket '{spec.bucket}'",
            failure_reason=OBJECT_NOT_FOUND,
            details={"bucket": spec.bucket, "key": spec.key},
        )
    now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
    with s3_context("presign a URL for", "object", spec.key, failure_reason="object_presign_failed"):
        url = client.generate_presigned_url(
            "get_object", Params={"Bucket": spec.bucket, "Key": spec.key}, ExpiresIn=spec.expires
        )
    expires_at = (now + _dt.timedelta(seconds=spec.expires)).isoformat().replace("+00:00", "Z")
    return {
        "bucket": spec.bucket,
        "key": spec.key,
        "url": url,
        "expires_in": spec.expires,
        "expires_at": expires_at,
        "object": remote,
    }


def run(
    client: t.Any, spec: ObjectSpec, *, dry_run: bool, access_key_id: str | None = None
) -> Outcome | dict[str, t.Any]:
    """Dispatch on ``spec.mode``."""
    if spec.mode == "put":
        return put(client, spec, dry_run=dry_run, access_key_id=access_key_id)
    if spec.mode == "get":
        return get(client, spec, dry_run=dry_run, access_key_id=access_key_id)
    if spec.mode == "delete":
        return delete(client, spec, dry_run=dry_run, access_key_id=access_key_id)
    return presign(client, spec, access_key_id=access_key_id)
