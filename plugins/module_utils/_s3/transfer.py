# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Uploads (single or multipart) and atomic downloads, in bounded memory. No Ansible here.

- :func:`upload_file` / :func:`upload_bytes`: a file larger than ``threshold`` goes multipart,
  cut at ``part_size``; at most ``workers`` parts are in flight and one more is being read, so
  memory stays under ``(workers + 1) * part_size`` whatever the file size. Each part's ETag is
  checked against the MD5 computed while reading it, and the final ETag against the
  multipart ETag of those MD5s: what lands is what was read. A failed multipart upload is
  aborted; if even the abort fails, the error says what to clean up
  (``manual_cleanup_required``).
- :func:`download` streams the object into a temporary file next to ``dest``, checks it
  against the ETag (single-part ETags are MD5s; multipart ones are checked through the part
  count and size), fsyncs it and renames it over ``dest``: readers see the old file or the new
  one, never half of one. A caller may pass a ``hasher`` (hashlib-like) fed with every chunk, to
  check another digest of the same bytes without reading the file again.
- ``send_md5=True`` adds ``Content-MD5`` to every ``PutObject`` / ``UploadPart``: Garage then
  refuses a body that does not match (``BadDigest``) instead of storing it; the MD5 is the one
  computed anyway for the ETag check (or ``known_md5``, when the caller already hashed the file).
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import os
import tempfile
import threading
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3.checksums import (
    READ_CHUNK,
    Hasher,
    multipart_etag,
    multipart_parts,
    normalize_etag,
)
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import BOTOCORE_ERRORS, convert

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB  # awscli's and boto3's default: their multipart ETags compare
DEFAULT_THRESHOLD = 8 * MIB
DEFAULT_WORKERS = 4
MIN_PART_SIZE = MIB  # Garage has no minimum (S3 has 5 MiB); below 1 MiB parts only cost requests
MAX_PARTS = 10000


@dataclasses.dataclass(frozen=True)
class Uploaded:
    etag: str
    size: int
    parts: int  # 0 for a single PutObject


def upload_bytes(client: t.Any, bucket: str, key: str, data: bytes, *, extra: t.Mapping[str, t.Any]) -> Uploaded:
    """One ``PutObject`` of ``data``; verifies the returned ETag against the local MD5."""
    hasher = Hasher(None)
    hasher.update(data)
    expected = hasher.result().md5
    with _context("upload", bucket, key, "object_put_failed"):
        response = client.put_object(Bucket=bucket, Key=key, Body=data, **extra)
    _check_etag(response.get("ETag"), expected, bucket, key)
    return Uploaded(expected, len(data), 0)


def upload_file(
    client: t.Any,
    bucket: str,
    key: str,
    path: str,
    *,
    extra: t.Mapping[str, t.Any],
    part_size: int = DEFAULT_PART_SIZE,
    threshold: int = DEFAULT_THRESHOLD,
    workers: int = DEFAULT_WORKERS,
    send_md5: bool = False,
    known_md5: str | None = None,
) -> Uploaded:
    """Upload a local file: ``PutObject`` up to ``threshold`` bytes, multipart above.

    :param send_md5: send ``Content-MD5`` so that the server checks the body (module docstring).
    :param known_md5: the file's hex MD5 if the caller has it (saves one read of the file).
    """
    size = os.path.getsize(path)
    if size <= threshold:
        with open(path, "rb") as handle:
            expected = known_md5
            if expected is None:
                hasher = Hasher(None)
                for block in iter(lambda: handle.read(READ_CHUNK), b""):
                    hasher.update(block)
                expected = hasher.result().md5
                handle.seek(0)
            headers = {**extra, "ContentMD5": _b64(expected)} if send_md5 else extra
            with _context("upload", bucket, key, "object_put_failed"):
                response = client.put_object(Bucket=bucket, Key=key, Body=handle, **headers)
        _check_etag(response.get("ETag"), expected, bucket, key)
        return Uploaded(expected, size, 0)
    return _multipart(
        client, bucket, key, path, size, extra=extra, part_size=part_size, workers=workers, send_md5=send_md5
    )


def _b64(hex_md5: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_md5)).decode("ascii")


def effective_part_size(size: int, part_size: int) -> int:
    """``part_size``, grown (to a whole MiB) when the file would need more than 10,000 parts."""
    if size <= part_size * MAX_PARTS:
        return part_size
    needed = -(-size // MAX_PARTS)
    return -(-needed // MIB) * MIB


def _multipart(
    client: t.Any,
    bucket: str,
    key: str,
    path: str,
    size: int,
    *,
    extra: t.Mapping[str, t.Any],
    part_size: int,
    workers: int,
    send_md5: bool = False,
) -> Uploaded:
    part_size = effective_part_size(size, part_size)
    with _context("start a multipart upload of", bucket, key, "object_put_failed"):
        upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    digests: dict[int, bytes] = {}
    etags: dict[int, str] = {}
    slots = threading.BoundedSemaphore(max(1, workers))
    lock = threading.Lock()
    failed = threading.Event()

    def send(number: int, data: bytes) -> None:
        try:
            hasher = Hasher(None)
            hasher.update(data)
            md5 = hasher.result().md5
            with _context(f"upload part {number} of", bucket, key, "object_put_failed"):
                checked = {"ContentMD5": _b64(md5)} if send_md5 else {}
                response = client.upload_part(
                    Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **checked
                )
            _check_etag(response.get("ETag"), md5, bucket, key, part=number)
            with lock:
                digests[number] = bytes.fromhex(md5)
                etags[number] = str(response["ETag"])
        except BaseException:
            failed.set()
            raise
        finally:
            slots.release()

    try:
        futures = []
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="cellar-mpu"
        ) as pool:
            with open(path, "rb") as handle:
                number = 0
                while True:
                    slots.acquire()
                    data = handle.read(part_size)
                    if not data and number > 0:
                        slots.release()
                        break
                    number += 1
                    futures.append(pool.submit(send, number, data))
                    if failed.is_set() or len(data) < part_size:
                        break
            for future in futures:
                future.result()
        ordered = sorted(etags)
        parts = [{"PartNumber": n, "ETag": etags[n]} for n in ordered]
        with _context("complete the multipart upload of", bucket, key, "object_put_failed"):
            response = client.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
    except BaseException as exc:
        _abort(client, bucket, key, upload_id, exc)
        raise
    expected = multipart_etag([digests[n] for n in ordered])
    _check_etag(response.get("ETag"), expected, bucket, key)
    return Uploaded(expected, size, len(parts))


def _abort(client: t.Any, bucket: str, key: str, upload_id: str, cause: BaseException) -> None:
    try:
        client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
        leftover = {
            "resource": "multipart_upload",
            "bucket": bucket,
            "key": key,
            "upload_id": upload_id,
            "action": "abort the multipart upload (cellar.garage.garage_bucket_clear with "
            "abort_multipart_uploads=true, or the bucket's lifecycle)",
            "error": str(exc),
        }
        if isinstance(cause, OperationError):
            cause.manual_cleanup_required.append(leftover)
        else:
            raise OperationError(
                f"Failed to upload object '{key}' to bucket '{bucket}': {cause}; the unfinished "
                f"upload {upload_id} could not be aborted either: {exc}",
                failure_reason="object_put_failed",
                manual_cleanup_required=[leftover],
            ) from cause


def _check_etag(etag: t.Any, expected: str, bucket: str, key: str, *, part: int | None = None) -> None:
    got = normalize_etag(str(etag or ""))
    if got and got != expected:
        what = f"part {part} of object '{key}'" if part else f"object '{key}'"
        raise OperationError(
            f"Garage stored {what} in bucket '{bucket}' with ETag {got}, but what was sent has {expected}: "
            "the data changed in transit or while it was read",
            failure_reason="checksum_mismatch",
            changed=True,
            details={"bucket": bucket, "key": key, "etag": got, "expected_etag": expected},
        )


@contextlib.contextmanager
def _context(verb: str, bucket: str, key: str, reason: str) -> t.Iterator[None]:
    try:
        yield
    except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
        raise convert(
            exc,
            verb,
            "object",
            key,
            failure_reason=reason,
            missing_bucket_reason="bucket_not_found",
            details={"bucket": bucket},
        ) from None


# --------------------------------------------------------------------------- download


@dataclasses.dataclass(frozen=True)
class Downloaded:
    etag: str
    size: int
    md5: str
    sha256: str = ""


def download(
    client: t.Any,
    bucket: str,
    key: str,
    dest: str,
    *,
    mode: int | None = None,
    hasher: t.Any = None,
    durable: bool = True,
) -> Downloaded:
    """Stream ``bucket/key`` into ``dest`` atomically (see the module docstring).

    :param mode: permissions of ``dest``; default: those of the file it replaces, else
        ``0o666 & ~umask`` like any new file.
    :param hasher: hashlib-like object fed with every chunk written (the caller checks it).
    :param durable: fsync the file and its directory (``False``: only the atomic rename, like
        Ansible's own ``atomic_move``; for a caller that renames the file again anyway).
    """
    extra_hasher = hasher
    directory = os.path.dirname(os.path.abspath(dest)) or "."
    if mode is None:
        mode = _existing_mode(dest)
    fd, temp = tempfile.mkstemp(prefix=".cellar-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            with _context("download", bucket, key, "object_get_failed"):
                response = client.get_object(Bucket=bucket, Key=key)
                etag = normalize_etag(str(response.get("ETag") or ""))
                hasher = Hasher(None)
                body = response["Body"]
                try:
                    for block in iter(lambda: body.read(READ_CHUNK), b""):
                        hasher.update(block)
                        if extra_hasher is not None:
                            extra_hasher.update(block)
                        handle.write(block)
                finally:
                    body.close()
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        digest = hasher.result()
        expected_size = response.get("ContentLength")
        if isinstance(expected_size, int) and expected_size != digest.size:
            raise OperationError(
                f"Download of object '{key}' from bucket '{bucket}' is incomplete: "
                f"{digest.size} of {expected_size} bytes",
                failure_reason="object_get_failed",
                details={"bucket": bucket, "key": key},
            )
        if multipart_parts(etag) is None and len(etag) == 32 and etag != digest.md5:
            raise OperationError(
                f"Object '{key}' from bucket '{bucket}' has ETag {etag} but the downloaded data has MD5 "
                f"{digest.md5}; {dest} was left untouched",
                failure_reason="checksum_mismatch",
                details={"bucket": bucket, "key": key, "etag": etag, "md5": digest.md5},
            )
        os.chmod(temp, mode if mode is not None else _default_mode())
        os.replace(temp, dest)
        if durable:
            _fsync_dir(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return Downloaded(etag, digest.size, digest.md5, digest.sha256)


def _existing_mode(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        return None


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(directory: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
