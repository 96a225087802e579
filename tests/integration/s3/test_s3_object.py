# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_object against real Garage: multipart put with check/idempotence, ETag comparison with
an object another tool uploaded in other parts, metadata-only updates, atomic get, presigned
URL, delete, and the error paths."""

from __future__ import annotations

import hashlib
import os
import typing as t
import urllib.request
from pathlib import Path

from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env, assert_no_secret, s3_quartet

MODULE = "cellar.garage.garage_object"
MIB = 1024 * 1024


def head(env: S3Env, key: str) -> dict[str, t.Any] | None:
    try:
        response = env.client.head_object(Bucket=env.bucket, Key=key)
    except env.client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey"):
            return None
        raise
    return {k: response.get(k) for k in ("ETag", "ContentLength", "ContentType", "Metadata")}


def test_multipart_put_check_apply_idempotent(s3env: S3Env, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * MIB + 4321))
    args = {
        "bucket": s3env.bucket,
        "key": "rel/big.bin",
        "mode": "put",
        "src": str(src),
        "part_size": "1MiB",
        "multipart_threshold": "1MiB",
    }
    q = s3_quartet(s3env, MODULE, args, lambda: head(s3env, "rel/big.bin"))
    q.assert_converged()
    assert q.before is None
    assert q.after["ContentLength"] == src.stat().st_size
    assert q.after["ETag"].strip('"').endswith("-4")
    assert q.apply.result["object"]["etag"] == q.after["ETag"].strip('"')
    assert q.check.result["object"]["etag"] == q.apply.result["object"]["etag"], "check mode predicted another ETag"
    assert q.apply.result["action"] == "upload" and q.idem_apply.result["action"] == "none"
    body = s3env.client.get_object(Bucket=s3env.bucket, Key="rel/big.bin")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(src.read_bytes()).digest()


def test_etags_of_other_tools_and_metadata_updates(s3env: S3Env, tmp_path: Path) -> None:
    from boto3.s3.transfer import TransferConfig

    src = tmp_path / "other.bin"
    src.write_bytes(os.urandom(11 * MIB + 17))
    # Another tool, other parts: 5 MiB (the module would cut at 8 MiB).
    s3env.client.upload_file(
        str(src), s3env.bucket, "other.bin",
        Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, use_threads=False),
    )  # fmt: skip
    foreign_etag = head(s3env, "other.bin")["ETag"]  # type: ignore[index]
    assert foreign_etag.strip('"').endswith("-3")
    key = {"bucket": s3env.bucket, "key": "other.bin"}
    put = {**key, "mode": "put", "src": str(src)}
    r = run_playbook(
        [
            {"name": "same content, other parts", MODULE: put},
            {"name": "metadata (check)", MODULE: {**put, "metadata": {"Release": "1.2"}}, "check_mode": True},
            {"name": "metadata", MODULE: {**put, "metadata": {"Release": "1.2"}}},
            {"name": "metadata again", MODULE: {**put, "metadata": {"Release": "1.2"}}},
            {"name": "never overwrite", MODULE: {**key, "mode": "put", "content": "x", "overwrite": "never"}},
            {"name": "always overwrite", MODULE: {**put, "overwrite": "always"}},
        ],
        garage=None,
        s3=s3env.creds(),
        diff=True,
    )
    assert r.rc == 0, r.output
    assert not r.task("same content, other parts").changed
    assert r.task("metadata (check)").changed and r.task("metadata (check)").result["action"] == "metadata"
    meta = r.task("metadata")
    assert meta.changed and meta.result["action"] == "metadata"
    assert meta.result["diff"]["before"]["metadata"] == {} and meta.result["diff"]["after"]["metadata"] == {
        "release": "1.2"
    }
    assert not r.task("metadata again").changed
    assert not r.task("never overwrite").changed
    always = r.task("always overwrite")
    assert always.changed and always.result["action"] == "upload"
    assert always.result["diff"]["after"]["written"] is True
    after = head(s3env, "other.bin")
    assert after is not None
    assert after["Metadata"] == {"release": "1.2"}, "an upload without metadata dropped the object's metadata"
    assert after["ETag"].strip('"').endswith("-2")  # re-uploaded by the module in 8 MiB parts


def test_content_get_geturl_delete(s3env: S3Env, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "hello.txt"
    dest.parent.mkdir()
    dest.write_text("old content")
    dest.chmod(0o640)
    key = {"bucket": s3env.bucket, "key": "notes/hello.txt"}
    r = run_playbook(
        [
            {"name": "put", MODULE: {**key, "mode": "put", "content": "hello\n"}},
            {"name": "put again", MODULE: {**key, "mode": "put", "content": "hello\n"}},
            {"name": "get (check)", MODULE: {**key, "mode": "get", "dest": str(dest)}, "check_mode": True},
            {"name": "get", MODULE: {**key, "mode": "get", "dest": str(dest)}},
            {"name": "get again", MODULE: {**key, "mode": "get", "dest": str(dest)}},
            {"name": "url", MODULE: {**key, "mode": "geturl", "expires": 300}},
            {
                "name": "missing",
                MODULE: {**key, "key": "nope", "mode": "get", "dest": str(dest)},
                "ignore_errors": True,
            },
            {"name": "bad expires", MODULE: {**key, "mode": "geturl", "expires": 604801}, "ignore_errors": True},
            {"name": "delete (check)", MODULE: {**key, "mode": "delete"}, "check_mode": True},
        ],
        garage=None,
        s3=s3env.creds(),
        diff=True,
        verbosity=3,
    )
    assert r.task("put").changed and not r.task("put again").changed
    assert r.task("put").result["object"]["content_type"] == "text/plain"
    assert r.task("get (check)").changed
    get = r.task("get")
    assert get.changed and get.result["diff"] == r.task("get (check)").result["diff"]
    assert not r.task("get again").changed
    assert dest.read_text() == "hello\n"
    assert dest.stat().st_mode & 0o777 == 0o640, "the replaced file lost its permissions"
    assert [p.name for p in dest.parent.iterdir()] == ["hello.txt"], "a temporary file was left behind"
    url = r.task("url").result["url"]
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"hello\n"
    assert not r.task("url").changed
    assert r.task("missing").result["failure_reason"] == "object_not_found"
    assert r.task("bad expires").result["failure_reason"] == "invalid_input"
    assert r.task("delete (check)").changed
    assert head(s3env, "notes/hello.txt") is not None, "check mode deleted the object"
    assert_no_secret(r, s3env.secret)

    r = run_playbook(
        [
            {"name": "delete", MODULE: {**key, "mode": "delete"}},
            {"name": "delete again", MODULE: {**key, "mode": "delete"}},
        ],
        garage=None,
        s3=s3env.creds(),
    )
    assert r.task("delete").changed and not r.task("delete again").changed
    assert head(s3env, "notes/hello.txt") is None
