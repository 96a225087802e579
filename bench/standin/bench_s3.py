#!/usr/bin/env python3
"""Benchmark the Garage stand-in's S3 front end (run on demand, not part of the test suite).

Measures, against ``scripts/garage-standin`` started as a separate process on
loopback: startup-to-ready time (process start to the first successful S3
request), N small PUTs with T boto3 threads, a full ListObjectsV2 of the N
keys (pages of 1000), DeleteObjects of all keys, and the server's RSS
(VmRSS from /proc/<pid>/status) before and after.

    .venv/bin/python bench/standin/bench_s3.py [--objects 10000] [--threads 8] [--size 100]

Every loop is bounded in count; the server is always stopped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAUNCHER = os.path.join(ROOT, "scripts", "garage-standin")


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    """utime + stime of the process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--size", type=int, default=100, help="bytes per object")
    a = ap.parse_args()
    a.objects = max(1, min(a.objects, 200_000))
    a.threads = max(1, min(a.threads, 64))

    import boto3
    from botocore.config import Config

    work = tempfile.mkdtemp(prefix="bench-standin-")
    ready = os.path.join(work, "ready.json")
    token = secrets.token_hex(32)
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, LAUNCHER, "--admin", "127.0.0.1:0", "--s3", "127.0.0.1:0", "--admin-token", token,
         "--data-dir", os.path.join(work, "data"), "--ready-file", ready],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "log"), "wb"),
    )  # fmt: skip
    results: dict[str, t.Any] = {"objects": a.objects, "threads": a.threads, "size": a.size}
    try:
        info = None
        for _ in range(3000):  # <= 30 s
            if os.path.exists(ready):
                try:
                    with open(ready) as f:
                        info = json.load(f)
                    break
                except ValueError:
                    pass
            if proc.poll() is not None:
                break
            time.sleep(0.01)
        if info is None:
            print("stand-in did not start", file=sys.stderr)
            return 1
        results["ready_file_s"] = round(time.monotonic() - t0, 3)
        admin_url, s3_url = f"http://{info['admin']}", f"http://{info['s3']}"
        key = admin(admin_url, token, "CreateKey", body={"name": "bench"})
        admin(admin_url, token, "UpdateKey", f"?id={key['accessKeyId']}", {"allow": {"createBucket": True}})
        cfg = Config(s3={"addressing_style": "path"}, max_pool_connections=a.threads * 2, retries={"max_attempts": 2})
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_url,
            region_name=info.get("region", "garage"),
            aws_access_key_id=key["accessKeyId"],
            aws_secret_access_key=key["secretAccessKey"],
            config=cfg,
        )
        s3.create_bucket(Bucket="bench")
        s3.put_object(Bucket="bench", Key="first", Body=b"x")
        results["startup_to_first_put_s"] = round(time.monotonic() - t0, 3)
        s3.delete_object(Bucket="bench", Key="first")
        results["rss_before_mb"] = round(rss_mb(proc.pid), 1)

        body = os.urandom(a.size)
        names = [f"d{i % 50:02d}/obj-{i:06d}" for i in range(a.objects)]
        c1 = cpu_s(proc.pid)
        t1 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
            list(ex.map(lambda n: s3.put_object(Bucket="bench", Key=n, Body=body), names))
        dt = time.monotonic() - t1
        results["put_s"] = round(dt, 2)
        results["put_per_s"] = round(a.objects / dt, 1)
        results["put_server_cpu_s"] = round(cpu_s(proc.pid) - c1, 2)
        results["rss_after_puts_mb"] = round(rss_mb(proc.pid), 1)

        t2 = time.monotonic()
        count = 0
        pages = 0
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench"):
            count += len(page.get("Contents", []))
            pages += 1
        results["list_s"] = round(time.monotonic() - t2, 3)
        results["list_pages"] = pages
        assert count == a.objects, (count, a.objects)

        # the same listing without botocore's (slow) XML parsing: presigned URLs, raw bytes
        t4 = time.monotonic()
        c4 = cpu_s(proc.pid)
        token = None
        raw_pages = 0
        for _ in range(a.objects // 1000 + 2):
            params: dict[str, t.Any] = {"Bucket": "bench"}
            if token:
                params["ContinuationToken"] = token
            url = s3.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=300)
            with urllib.request.urlopen(url, timeout=30) as resp:
                doc = resp.read().decode()
            raw_pages += 1
            m = re.search(r"<NextContinuationToken>([^<]*)</NextContinuationToken>", doc)
            if not m:
                break
            token = m.group(1)
        results["list_raw_s"] = round(time.monotonic() - t4, 3)
        results["list_server_cpu_s"] = round(cpu_s(proc.pid) - c4, 3)
        results["list_raw_pages"] = raw_pages

        t3 = time.monotonic()
        for i in range(0, len(names), 1000):
            batch = [{"Key": n} for n in names[i : i + 1000]]
            s3.delete_objects(Bucket="bench", Delete={"Objects": batch, "Quiet": True})
        results["delete_s"] = round(time.monotonic() - t3, 3)
        results["rss_after_all_mb"] = round(rss_mb(proc.pid), 1)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
