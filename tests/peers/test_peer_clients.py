"""Real S3 clients (awscli, s5cmd, rclone, s3cmd) against a real Garage cluster on loopback."""

from __future__ import annotations

import json
import os
import secrets
import typing as t

import pytest
from peer_support import S3Peer, require, run


def new_bucket(peer: S3Peer, prefix: str) -> str:
    name = f"{prefix}-{secrets.token_hex(4)}"
    peer.boto3.create_bucket(Bucket=name)
    return name


def keys(peer: S3Peer, bucket: str) -> list[str]:
    out: list[str] = []
    for page in peer.boto3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        out += [c["Key"] for c in page.get("Contents", [])]
    return out


def make_tree(root: t.Any, n: int = 12) -> dict[str, bytes]:
    files = {}
    for i in range(n):
        rel = f"d{i % 3}/f {i}.bin" if i % 2 else f"top{i}.txt"
        data = os.urandom(100 + i * 37) if i % 2 else secrets.token_hex(50 + i).encode()
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files[rel] = data
    return files


def test_awscli(s3peer: S3Peer, tmp_path: t.Any) -> None:
    aws = require("aws")
    cfg = tmp_path / "aws.cfg"
    cfg.write_text(f"[default]\nregion = {s3peer.region}\ns3 =\n    addressing_style = path\n")
    env = s3peer.env(AWS_CONFIG_FILE=str(cfg), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"), HOME=str(tmp_path))
    base = [aws, "--endpoint-url", s3peer.url]
    bucket = f"awscli-{secrets.token_hex(4)}"
    run([*base, "s3", "mb", f"s3://{bucket}"], env=env)
    assert bucket in run([*base, "s3", "ls"], env=env)
    src = tmp_path / "src"
    files = make_tree(src)
    big = src / "big.bin"
    big.write_bytes(os.urandom(9 * 1024 * 1024 + 5))  # above awscli's 8 MiB multipart threshold
    files["big.bin"] = big.read_bytes()
    run([*base, "s3", "cp", "--recursive", str(src), f"s3://{bucket}/up/"], env=env)
    assert sorted(keys(s3peer, bucket)) == sorted(f"up/{k}" for k in files)
    assert s3peer.boto3.head_object(Bucket=bucket, Key="up/big.bin")["ETag"].endswith('-2"')
    listing = run([*base, "s3", "ls", "--recursive", f"s3://{bucket}/"], env=env)
    assert "up/d1/f 1.bin" in listing
    dst = tmp_path / "dst"
    run([*base, "s3", "cp", "--recursive", f"s3://{bucket}/up/", str(dst)], env=env)
    for rel, data in files.items():
        assert (dst / rel).read_bytes() == data
    run([*base, "s3", "sync", str(src), f"s3://{bucket}/up/"], env=env)  # nothing to do
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    run([*base, "s3api", "put-bucket-cors", "--bucket", bucket, "--cors-configuration", json.dumps(cors)], env=env)
    got = json.loads(run([*base, "s3api", "get-bucket-cors", "--bucket", bucket], env=env))
    assert got["CORSRules"][0]["AllowedOrigins"] == ["*"]
    head = json.loads(run([*base, "s3api", "head-object", "--bucket", bucket, "--key", "up/top0.txt"], env=env))
    assert head["ContentLength"] == len(files["top0.txt"])
    run([*base, "s3", "rm", "--recursive", f"s3://{bucket}/"], env=env)
    assert keys(s3peer, bucket) == []
    run([*base, "s3", "rb", f"s3://{bucket}"], env=env)


def test_s5cmd(s3peer: S3Peer, tmp_path: t.Any) -> None:
    s5 = require("s5cmd")
    env = s3peer.env(HOME=str(tmp_path))
    base = [s5, "--endpoint-url", s3peer.url]
    bucket = new_bucket(s3peer, "s5cmd")
    src = tmp_path / "src"
    files = make_tree(src, 20)
    run([*base, "cp", f"{src}/", f"s3://{bucket}/in/"], env=env, cwd=str(tmp_path))
    assert sorted(keys(s3peer, bucket)) == sorted(f"in/{k}" for k in files)
    out = run([*base, "ls", f"s3://{bucket}/in/*"], env=env)
    assert "top0.txt" in out
    assert run([*base, "cat", f"s3://{bucket}/in/top0.txt"], env=env).encode() == files["top0.txt"]
    dst = tmp_path / "dst"
    dst.mkdir()
    run([*base, "cp", f"s3://{bucket}/in/*", f"{dst}/"], env=env)
    for rel, data in files.items():
        assert (dst / rel).read_bytes() == data
    run([*base, "rm", f"s3://{bucket}/*"], env=env)  # batched DeleteObjects
    assert keys(s3peer, bucket) == []


def _rclone_conf(peer: S3Peer, path: t.Any) -> list[str]:
    path.write_text(
        "[garage]\ntype = s3\nprovider = Other\n"
        f"access_key_id = {peer.key_id}\nsecret_access_key = {peer.secret}\n"
        f"endpoint = {peer.url}\nregion = {peer.region}\nforce_path_style = true\nno_check_bucket = true\n"
    )
    path.chmod(0o600)
    return ["--config", str(path)]


def test_rclone(s3peer: S3Peer, tmp_path: t.Any) -> None:
    rclone = require("rclone")
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}  # rclone 1.60 chokes on it here
    env["HOME"] = str(tmp_path)
    conf = _rclone_conf(s3peer, tmp_path / "rclone.conf")
    base = [rclone, *conf, "--low-level-retries", "1", "--retries", "1"]
    bucket = new_bucket(s3peer, "rclone")
    src = tmp_path / "src"
    files = make_tree(src, 15)
    (src / "chunked.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    files["chunked.bin"] = (src / "chunked.bin").read_bytes()
    run(
        [*base, "copy", str(src), f"garage:{bucket}/tree", "--s3-upload-cutoff", "5M", "--s3-chunk-size", "5M"],
        env=env,
    )
    assert sorted(keys(s3peer, bucket)) == sorted(f"tree/{k}" for k in files)
    run([*base, "check", str(src), f"garage:{bucket}/tree"], env=env)
    out = run([*base, "lsf", "-R", f"garage:{bucket}"], env=env)
    assert "tree/d1/f 1.bin" in out
    run([*base, "moveto", f"garage:{bucket}/tree/top0.txt", f"garage:{bucket}/moved.txt"], env=env)  # server copy
    assert s3peer.boto3.get_object(Bucket=bucket, Key="moved.txt")["Body"].read() == files["top0.txt"]
    dst = tmp_path / "dst"
    run([*base, "copy", f"garage:{bucket}/tree", str(dst)], env=env)
    assert (dst / "chunked.bin").read_bytes() == files["chunked.bin"]
    run([*base, "delete", f"garage:{bucket}"], env=env)
    assert keys(s3peer, bucket) == []
    run([*base, "rmdir", f"garage:{bucket}"], env=env)
    with pytest.raises(Exception):  # noqa: B017 - any ClientError
        s3peer.boto3.head_bucket(Bucket=bucket)


def test_s3cmd(s3peer: S3Peer, tmp_path: t.Any) -> None:
    s3cmd = require("s3cmd")
    scheme, hostport = s3peer.url.split("://", 1)
    cfg = tmp_path / "s3cfg"
    cfg.write_text(
        "[default]\n"
        f"access_key = {s3peer.key_id}\nsecret_key = {s3peer.secret}\n"
        f"host_base = {hostport}\nhost_bucket = {hostport}\nbucket_location = {s3peer.region}\n"
        f"use_https = {scheme == 'https'}\nsignature_v2 = False\n"
    )
    cfg.chmod(0o600)
    env = dict(os.environ, HOME=str(tmp_path))
    base = [s3cmd, "-c", str(cfg), "--no-progress"]
    bucket = new_bucket(s3peer, "s3cmd")
    src = tmp_path / "src"
    files = make_tree(src, 8)
    run([*base, "put", "--recursive", f"{src}/", f"s3://{bucket}/p/"], env=env)
    assert sorted(keys(s3peer, bucket)) == sorted(f"p/{k}" for k in files)
    assert "p/top0.txt" in run([*base, "ls", "--recursive", f"s3://{bucket}"], env=env)
    out = tmp_path / "got.txt"
    run([*base, "get", f"s3://{bucket}/p/top0.txt", str(out)], env=env)
    assert out.read_bytes() == files["top0.txt"]
    run([*base, "del", "--recursive", "--force", f"s3://{bucket}"], env=env)
    assert keys(s3peer, bucket) == []
