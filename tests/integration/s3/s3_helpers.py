# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the S3 data-plane integration tests: a bucket + key per test, fast fills, and
out-of-band reads through boto3 (never through the module under test)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import secrets
import typing as t

from tests.integration.ansible_run import PlaybookResult, S3Credentials, TaskRecord, run_playbook

FILL_WORKERS = 10  # the fixture client's connection pool


def uid(prefix: str = "s3") -> str:
    return f"{prefix}-{secrets.token_hex(5)}"


@dataclasses.dataclass
class S3Env:
    garage: t.Any
    bucket: str
    bucket_id: str
    key_id: str
    secret: str = dataclasses.field(repr=False)
    client: t.Any = dataclasses.field(repr=False)

    def creds(
        self, *, s3_url: str | None = None, secret: str | None = None, key_id: str | None = None
    ) -> S3Credentials:
        return S3Credentials(
            s3_url=s3_url or self.garage.s3_url,
            access_key_id=key_id or self.key_id,
            secret_access_key=secret if secret is not None else self.secret,
            region=self.garage.region,
        )

    def put_many(self, keys: t.Iterable[str], body: bytes = b"x") -> int:
        """PutObject every key (in parallel, out of band); returns how many."""
        keys = list(keys)
        with concurrent.futures.ThreadPoolExecutor(FILL_WORKERS) as pool:
            list(pool.map(lambda k: self.client.put_object(Bucket=self.bucket, Key=k, Body=body), keys))
        return len(keys)

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (out of band)."""
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            found += [o["Key"] for o in page.get("Contents") or []]
        return found

    def uploads(self, prefix: str = "") -> list[str]:
        response = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
        return [u["Key"] for u in response.get("Uploads") or []]

    def start_upload(self, key: str) -> str:
        """An unfinished multipart upload with one part."""
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=1, Body=b"p" * 1024)
        return t.cast(str, upload_id)


def make_env(garage: t.Any, *, owner: bool = True) -> S3Env:
    """A fresh bucket (global alias) and a key with read/write(/owner) on it, out of band."""
    name = uid()
    bucket = garage.ok("CreateBucket", body={"globalAlias": name})
    key_id, secret = garage.create_key(uid("key"))
    garage.ok(
        "AllowBucketKey",
        body={
            "bucketId": bucket["id"],
            "accessKeyId": key_id,
            "permissions": {"read": True, "write": True, "owner": owner},
        },
    )
    return S3Env(garage, name, bucket["id"], key_id, secret, garage.s3_client(key_id, secret))


def assert_no_secret(result: PlaybookResult, *secrets_: str) -> None:
    """Nothing Ansible printed contains any of ``secrets_``."""
    text = result.stdout + result.stderr
    for secret in secrets_:
        assert secret and secret not in text, "a secret appears in the ansible output"


@dataclasses.dataclass
class S3Quartet:
    check: TaskRecord
    apply: TaskRecord
    idem_check: TaskRecord
    idem_apply: TaskRecord
    before: t.Any
    after_check: t.Any
    after: t.Any
    runs: list[PlaybookResult]

    def assert_converged(self) -> S3Quartet:
        """check and apply changed with the same diff, the idempotent pair did not, check wrote nothing."""
        assert self.check.changed, self.check.result
        assert self.apply.changed, self.apply.result
        assert self.check.result.get("diff") == self.apply.result.get("diff"), "check mode predicted another diff"
        assert not self.idem_check.changed, self.idem_check.result
        assert not self.idem_apply.changed, self.idem_apply.result
        assert self.after_check == self.before, "check mode changed the bucket"
        return self


def s3_quartet(env: S3Env, module: str, args: dict[str, t.Any], read: t.Callable[[], t.Any]) -> S3Quartet:
    """Check, then (out-of-band ``read``) apply, idempotent check, idempotent apply; -vvv, secret grepped."""
    before = read()
    first = run_playbook([{"name": "check", module: args, "check_mode": True}], garage=None, s3=env.creds(), diff=True)
    assert first.rc == 0, first.output
    after_check = read()
    second = run_playbook(
        [
            {"name": "apply", module: args},
            {"name": "idempotent check", module: args, "check_mode": True},
            {"name": "idempotent apply", module: args},
        ],
        garage=None,
        s3=env.creds(),
        diff=True,
        verbosity=3,
    )
    assert second.rc == 0, second.output
    for run in (first, second):
        assert_no_secret(run, env.secret)
    return S3Quartet(
        check=first.task("check"),
        apply=second.task("apply"),
        idem_check=second.task("idempotent check"),
        idem_apply=second.task("idempotent apply"),
        before=before,
        after_check=after_check,
        after=read(),
        runs=[first, second],
    )
