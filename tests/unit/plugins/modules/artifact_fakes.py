# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An in-memory S3 bucket with the boto3 client calls the artifact store makes (no network)."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import io
import time
import typing as t

from tests.unit.plugins.module_utils.s3_fakes import client_error


class FakeS3:
    """``objects``: key -> (bytes, modified epoch). ``calls``: names of the methods called."""

    def __init__(self, bucket: str = "b") -> None:
        self.bucket = bucket
        self.objects: dict[str, tuple[bytes, float]] = {}
        self.calls: list[str] = []
        self.clock = 1_800_000_000.0

    def _check(self, bucket: str) -> None:
        if bucket != self.bucket:
            raise client_error("NoSuchBucket", 404)

    def head_bucket(self, Bucket: str) -> dict[str, t.Any]:
        self.calls.append("head_bucket")
        self._check(Bucket)
        date = email.utils.formatdate(self.clock, usegmt=True)
        return {"ResponseMetadata": {"HTTPHeaders": {"date": date}}}

    def head_object(self, Bucket: str, Key: str) -> dict[str, t.Any]:
        self.calls.append("head_object")
        self._check(Bucket)
        if Key not in self.objects:
            raise client_error("404", 404)
        data, modified = self.objects[Key]
        return {"ContentLength": len(data), "LastModified": email.utils.formatdate(modified, usegmt=True),
                "ETag": f'"{hashlib.md5(data).hexdigest()}"'}  # fmt: skip

    def get_object(self, Bucket: str, Key: str) -> dict[str, t.Any]:
        self.calls.append("get_object")
        self._check(Bucket)
        if Key not in self.objects:
            raise client_error("NoSuchKey", 404)
        data, _unused = self.objects[Key]
        return {"Body": io.BytesIO(data), "ContentLength": len(data), "ETag": f'"{hashlib.md5(data).hexdigest()}"'}

    def put_object(self, Bucket: str, Key: str, Body: t.Any, **extra: t.Any) -> dict[str, t.Any]:
        self.calls.append("put_object")
        self._check(Bucket)
        data = Body.read() if hasattr(Body, "read") else bytes(Body)
        if "ContentMD5" in extra and base64.b64decode(extra["ContentMD5"]) != hashlib.md5(data).digest():
            raise client_error("BadDigest", 400)
        self.clock += 1
        self.objects[Key] = (data, self.clock)
        return {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}

    def delete_object(self, Bucket: str, Key: str) -> dict[str, t.Any]:
        self.calls.append("delete_object")
        self.objects.pop(Key, None)
        return {}

    def delete_objects(self, Bucket: str, Delete: dict[str, t.Any]) -> dict[str, t.Any]:
        self.calls.append("delete_objects")
        for item in Delete["Objects"]:
            self.objects.pop(item["Key"], None)
        return {}

    def list_objects_v2(self, Bucket: str, Prefix: str = "", MaxKeys: int = 1000, **kw: t.Any) -> dict[str, t.Any]:
        self.calls.append("list_objects_v2")
        self._check(Bucket)
        keys = sorted(k for k in self.objects if k.startswith(Prefix))
        start = kw.get("ContinuationToken")
        if start:
            keys = [k for k in keys if k > start]
        page, rest = keys[:MaxKeys], keys[MaxKeys:]
        contents = [
            {"Key": k, "Size": len(self.objects[k][0]), "ETag": '"x"',
             "LastModified": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.objects[k][1]))}
            for k in page
        ]  # fmt: skip
        return {"Contents": contents, "IsTruncated": bool(rest), "NextContinuationToken": page[-1] if rest else None}

    def get_paginator(self, name: str) -> t.Any:
        raise AssertionError(f"unexpected paginator {name}")

    def writes(self) -> list[str]:
        return [c for c in self.calls if c in ("put_object", "delete_object", "delete_objects")]
