# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The artifact store's I/O: a thin adapter over :mod:`.._s3` (listing, batch deletes,
transfers, error conversion). No Ansible here.

Every read and write of the artifact operations goes through :class:`Store`, so the
operations hold no boto3 calls of their own.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import email.utils
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import paths
from ansible_collections.cellar.garage.plugins.module_utils._s3 import batch, listing, preflight, transfer
from ansible_collections.cellar.garage.plugins.module_utils._s3.client import unsigned_payload_with_md5
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import (
    BOTOCORE_ERRORS,
    error_code,
    http_status,
    s3_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import TimestampError, parse_timestamp

JSON = "application/json"
DEFAULT_WORKERS = 16
#: One listing page instead of this many HEADs (see :meth:`Store.head_blobs`).
LIST_INSTEAD_OF_HEAD = 20


def parse_time(value: t.Any) -> float:
    """Epoch seconds of a timestamp as boto3 hands it over here (RFC 3339 text in listings,
    an HTTP date in HEAD/GET answers, or a datetime)."""
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    text = str(value or "")
    try:
        return parse_timestamp(text).timestamp()
    except TimestampError:
        pass
    parsed = email.utils.parsedate_to_datetime(text)
    return parsed.timestamp()


@dataclasses.dataclass(frozen=True)
class Head:
    key: str
    size: int
    modified: float


class Store:
    """One artifact store: ``bucket`` + ``prefix`` (see :mod:`.paths`)."""

    def __init__(self, client: t.Any, bucket: str, prefix: str, *, workers: int = DEFAULT_WORKERS) -> None:
        self.client = unsigned_payload_with_md5(client)
        self.bucket = bucket
        self.prefix = prefix
        self.workers = max(1, int(workers))

    # ------------------------------------------------------------------ keys

    def blob_key(self, digest: str) -> str:
        return paths.blob_key_for(self.prefix, digest)

    def manifest_key(self, package_id: str) -> str:
        return paths.manifest_key(self.prefix, package_id)

    def retention_key(self, package_id: str) -> str:
        return paths.retention_key(self.prefix, package_id)

    # ------------------------------------------------------------------ reads

    def check(self, access_key_id: str | None = None) -> None:
        """The HeadBucket pre-flight (auth_failed, access_denied, bucket_not_found, os_error)."""
        preflight.check_bucket(self.client, self.bucket, access_key_id=access_key_id)

    def server_now(self) -> float:
        """The server's clock (the ``Date`` of a HeadBucket answer), else the local one."""
        with s3_context("read the clock of", "bucket", self.bucket, failure_reason="artifact_read_failed"):
            response = self.client.head_bucket(Bucket=self.bucket)
        headers = (response.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
        date = headers.get("date")
        try:
            return parse_time(date) if date else time.time()
        except (TypeError, ValueError):
            return time.time()

    def head(self, key: str) -> Head | None:
        with s3_context("read", "object", key, failure_reason="artifact_read_failed"):
            try:
                response = self.client.head_object(Bucket=self.bucket, Key=key)
            except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
                if http_status(exc) == 404 and error_code(exc) != "NoSuchBucket":
                    return None
                raise
        return Head(key, int(response.get("ContentLength") or 0), parse_time(response.get("LastModified")))

    def head_many(self, keys: t.Iterable[str]) -> dict[str, Head | None]:
        """HEAD every key, ``workers`` at a time."""
        keys = list(keys)
        if not keys:
            return {}
        with concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="cellar-head") as pool:
            return dict(zip(keys, pool.map(self.head, keys)))

    def head_blobs(self, keys: t.Iterable[str]) -> dict[str, Head | None]:
        """Like :meth:`head_many`, for blob keys: when the whole blob area lists in fewer pages
        than ``len(keys) / LIST_INSTEAD_OF_HEAD`` (a page of 1000 costs about as much as a few
        HEADs), one listing answers for every key; otherwise each key is HEADed."""
        keys = list(keys)
        limit = len(keys) // LIST_INSTEAD_OF_HEAD
        if limit < 1:
            return self.head_many(keys)
        found: dict[str, Head] = {}
        pages = listing.pages(self.client, self.bucket, paths.area(self.prefix, paths.BLOBS))
        with s3_context("list", "objects of", self.bucket, failure_reason="artifact_list_failed"):
            for count, page in enumerate(pages, start=1):
                for entry in page.objects:
                    found[entry.key] = Head(entry.key, entry.size, parse_time(entry.last_modified))
                if page.next_token is None:
                    return {key: found.get(key) for key in keys}
                if count >= limit:
                    break
        return self.head_many(keys)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, None when it does not exist (for small JSON documents)."""
        with s3_context("read", "object", key, failure_reason="artifact_read_failed"):
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
                if http_status(exc) == 404 and error_code(exc) != "NoSuchBucket":
                    return None
                raise
            body = response["Body"]
            try:
                return t.cast(bytes, body.read())
            finally:
                body.close()

    def get_many(self, keys: t.Iterable[str]) -> dict[str, bytes | None]:
        keys = list(keys)
        if not keys:
            return {}
        with concurrent.futures.ThreadPoolExecutor(self.workers, thread_name_prefix="cellar-get") as pool:
            return dict(zip(keys, pool.map(self.get, keys)))

    def list_area(self, name: str) -> t.Iterator[listing.ObjectEntry]:
        """Every object of one area (``blobs``, ``packages``, ...), streamed page by page."""
        with s3_context("list", "objects of", self.bucket, failure_reason="artifact_list_failed"):
            yield from listing.objects(self.client, self.bucket, paths.area(self.prefix, name))

    # ------------------------------------------------------------------ writes

    def put(self, key: str, data: bytes, content_type: str = JSON) -> None:
        transfer.upload_bytes(self.client, self.bucket, key, data, extra={"ContentType": content_type})

    def upload_blob(
        self,
        digest: str,
        local: str,
        *,
        content_type: str,
        md5: str | None = None,
        part_size: int = transfer.DEFAULT_PART_SIZE,
        threshold: int = transfer.DEFAULT_THRESHOLD,
        workers: int = transfer.DEFAULT_WORKERS,
    ) -> transfer.Uploaded:
        """Upload one blob; the server checks every body against its ``Content-MD5``."""
        return transfer.upload_file(
            self.client,
            self.bucket,
            self.blob_key(digest),
            local,
            extra={"ContentType": content_type},
            part_size=part_size,
            threshold=threshold,
            workers=workers,
            send_md5=True,
            known_md5=md5,
        )

    def download(self, key: str, dest: str, *, hasher: t.Any, durable: bool = True) -> transfer.Downloaded:
        return transfer.download(self.client, self.bucket, key, dest, hasher=hasher, durable=durable)

    def delete(self, key: str) -> None:
        with s3_context("delete", "object", key, failure_reason="artifact_delete_failed"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_keys(self, keys: t.Iterable[t.Sequence[str]]) -> batch.BulkReport:
        """Bulk delete (``keys``: lists of keys, consumed lazily; a source error stops it)."""
        return batch.delete_keys(self.client, self.bucket, keys)
