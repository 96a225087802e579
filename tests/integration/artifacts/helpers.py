# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the artifact-store integration tests: out-of-band reads of the store, trees of
files, and the store of the operations for tests that drive them directly."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import typing as t
from pathlib import Path

from tests.integration.ansible_run import PlaybookResult, run_playbook
from tests.integration.s3.s3_helpers import S3Env, assert_no_secret

PREFIX = "art"


@dataclasses.dataclass
class ArtifactEnv:
    env: S3Env

    @property
    def bucket(self) -> str:
        return self.env.bucket

    def args(self, **kwargs: t.Any) -> dict[str, t.Any]:
        return {"bucket": self.bucket, "prefix": PREFIX, **kwargs}

    def run(self, tasks: list[dict[str, t.Any]], **kwargs: t.Any) -> PlaybookResult:
        result = run_playbook(tasks, garage=None, s3=self.env.creds(), **kwargs)
        assert_no_secret(result, self.env.secret)
        return result

    # ---------------------------------------------------------------- out of band

    def objects(self, area: str = "") -> dict[str, int]:
        """``{key: size}`` under ``art/<area>``."""
        found: dict[str, int] = {}
        paginator = self.env.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{PREFIX}/{area}"):
            for obj in page.get("Contents") or []:
                found[obj["Key"]] = obj["Size"]
        return found

    def snapshot(self) -> dict[str, str]:
        """``{key: etag}`` of the whole store (for "nothing changed" checks)."""
        found: dict[str, str] = {}
        paginator = self.env.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{PREFIX}/"):
            for obj in page.get("Contents") or []:
                found[obj["Key"]] = obj["ETag"]
        return found

    def blob_key(self, digest: str) -> str:
        algorithm, hexdigest = digest.split(":")
        return f"{PREFIX}/blobs/{algorithm}/{hexdigest[:2]}/{hexdigest[2:4]}/{hexdigest}"

    def put_raw(self, key: str, body: bytes) -> None:
        self.env.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def delete_raw(self, key: str) -> None:
        self.env.client.delete_object(Bucket=self.bucket, Key=key)

    def store(self, **kwargs: t.Any) -> t.Any:
        """The operations' :class:`Store` on this bucket, with the collection's own client."""
        from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store
        from ansible_collections.cellar.garage.plugins.module_utils._s3.client import s3_client

        client = s3_client(
            endpoint_url=self.env.garage.s3_url,
            access_key_id=self.env.key_id,
            secret_access_key=self.env.secret,
            region=self.env.garage.region,
        )
        return Store(client, self.bucket, PREFIX, **kwargs)


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_tree(root: Path, files: t.Mapping[str, bytes]) -> Path:
    for relative, data in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> bytes); hidden staging leftovers included."""
    found: dict[str, bytes] = {}
    if not root.exists():
        return found
    for directory, _dirs, files in os.walk(root):
        for name in files:
            path = Path(directory) / name
            found[str(path.relative_to(root))] = path.read_bytes()
    return found
