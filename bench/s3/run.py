#!/usr/bin/env python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""S3 data-plane benchmark (run on demand, never in the test suite).

    .venv/bin/python bench/s3/run.py [--sizes 10000,100000] [--nodes 3]
        [--clear-tools module,s5cmd,rclone,s3cmd,awscli] [--usage-tools module,s5cmd,rclone]
        [--usage-repeat 3] [--timeout 1800] [--json out.json] [--fill boto3|s5cmd]

On ONE private real Garage cluster (the pinned release, free loopback ports, layout applied),
for each size N:

1. fill a bucket with N tiny objects (parallel PutObject, or one ``s5cmd run`` with ``--fill
   s5cmd``; keys ``clear/<i/1000>/<i>``);
2. usage: ``garage_bucket_usage`` (through ansible-playbook) against ``s5cmd du`` and
   ``rclone size`` on that same fill, ``--usage-repeat`` rounds, order rotated each round,
   median reported;
3. clear: ``garage_bucket_clear`` (through ansible-playbook), ``s5cmd rm``, ``rclone delete``,
   ``s3cmd del --recursive`` and ``aws s3 rm --recursive``, one after the other, each on a
   fresh fill of the same N objects; the bucket is checked empty out of band after each.

Times are wall-clock times of the whole command, as an operator runs it (Ansible's own start-up
included; the module's ``duration_seconds`` is reported too). The module's peak RSS comes from
GNU time wrapped around the Python interpreter Ansible runs the module with. Every command has a
timeout; the cluster is always stopped. Tools use their defaults (s5cmd 256 workers, rclone 8
checkers, awscli 10 threads, s3cmd sequential batches of 1000).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
BUCKET = "bench"
PREFIX = "clear/"
FILL_THREADS = 32


def log(*args: t.Any) -> None:
    print(time.strftime("%H:%M:%S"), *args, flush=True)


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def children_cpu() -> float:
    """CPU seconds of every finished child process (and their waited-for descendants)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, workdir: Path, nodes: int, timeout: float) -> None:
        from tests.fixtures.garage import start_cluster

        self.workdir = workdir
        self.timeout = timeout
        self.g = start_cluster(workdir / "cluster", nodes=nodes, layout=True)
        self.url = self.g.s3_url
        bucket = self.g.ok("CreateBucket", body={"globalAlias": BUCKET})
        self.key_id, self.secret = self.g.create_key("bench")
        self.g.ok(
            "AllowBucketKey",
            body={"bucketId": bucket["id"], "accessKeyId": self.key_id,
                  "permissions": {"read": True, "write": True, "owner": True}},
        )  # fmt: skip
        import boto3
        from botocore.config import Config

        self.client = boto3.client(
            "s3", endpoint_url=self.url, region_name="garage", aws_access_key_id=self.key_id,
            aws_secret_access_key=self.secret,
            config=Config(s3={"addressing_style": "path"}, max_pool_connections=FILL_THREADS + 4,
                          request_checksum_calculation="when_required", response_checksum_validation="when_required",
                          retries={"mode": "standard", "total_max_attempts": 5}),
        )  # fmt: skip
        self._configs()

    # ------------------------------------------------------------------ setup

    def _configs(self) -> None:
        host = self.url.split("://", 1)[1]
        self.s3cmd_cfg = self.workdir / "s3cmd.cfg"
        self.s3cmd_cfg.write_text(
            "[default]\n"
            f"access_key = {self.key_id}\nsecret_key = {self.secret}\n"
            f"host_base = {host}\nhost_bucket = {host}\nbucket_location = garage\n"
            "use_https = False\nsignature_v2 = False\n"
        )
        self.s3cmd_cfg.chmod(0o600)
        self.aws_cfg = self.workdir / "aws.cfg"
        self.aws_cfg.write_text("[default]\nregion = garage\ns3 =\n    addressing_style = path\n")
        wrapper = self.workdir / "python-timed"
        self.rss_file = self.workdir / "module-rss.txt"
        wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/time -f "%M" -a -o {self.rss_file} {sys.executable} "$@"\n')
        wrapper.chmod(0o755)
        self.inventory = {"all": {"hosts": {"localhost": {
            "ansible_connection": "local", "ansible_python_interpreter": str(wrapper)}}}}  # fmt: skip

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_", "S3_"))}
        env.update(
            AWS_ACCESS_KEY_ID=self.key_id,
            AWS_SECRET_ACCESS_KEY=self.secret,
            AWS_REGION="garage",
            AWS_DEFAULT_REGION="garage",
            AWS_CONFIG_FILE=str(self.aws_cfg),
            RCLONE_CONFIG_G_TYPE="s3",
            RCLONE_CONFIG_G_PROVIDER="Other",
            RCLONE_CONFIG_G_ENDPOINT=self.url,
            RCLONE_CONFIG_G_ACCESS_KEY_ID=self.key_id,
            RCLONE_CONFIG_G_SECRET_ACCESS_KEY=self.secret,
            RCLONE_CONFIG_G_REGION="garage",
            RCLONE_CONFIG_G_FORCE_PATH_STYLE="true",
        )
        return env

    def fill(self, n: int, via: str = "boto3") -> float:
        started = time.monotonic()
        if via == "s5cmd":
            # One command file, one s5cmd process (256 workers): the same 1-byte file to N keys.
            body = self.workdir / "one-byte"
            body.write_bytes(b"x")
            commands = self.workdir / "fill.txt"
            with commands.open("w") as out:
                for i in range(n):
                    out.write(f"cp {body} s3://{BUCKET}/{PREFIX}{i // 1000:03d}/{i:07d}\n")
            self._run([str(BIN / "s5cmd"), "--endpoint-url", self.url, "run", str(commands)])
            return time.monotonic() - started

        def put(i: int) -> None:
            self.client.put_object(Bucket=BUCKET, Key=f"{PREFIX}{i // 1000:03d}/{i:07d}", Body=b"x")

        with concurrent.futures.ThreadPoolExecutor(FILL_THREADS) as pool:
            for _unused in pool.map(put, range(n)):
                pass
        return time.monotonic() - started

    def server_cpu(self) -> float:
        """CPU seconds used so far by the Garage processes of the cluster."""
        return sum(process_cpu(n.proc.pid) for n in self.g.nodes if n.proc is not None)

    def measured(self, action: t.Callable[[], dict[str, t.Any]]) -> dict[str, t.Any]:
        """``action()`` plus the client CPU (child processes) and server CPU (Garage) it cost."""
        client0, server0 = children_cpu(), self.server_cpu()
        result = action()
        result["client_cpu"] = children_cpu() - client0
        result["server_cpu"] = self.server_cpu() - server0
        return result

    def count(self) -> int:
        total = 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX):
            total += page.get("KeyCount", 0)
        return total

    # ------------------------------------------------------------------ tools

    def _run(self, cmd: list[str]) -> tuple[float, str]:
        started = time.monotonic()
        proc = subprocess.run(cmd, env=self.env(), capture_output=True, text=True, timeout=self.timeout, check=False)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {proc.stderr[-2000:]}")
        return elapsed, proc.stdout

    def module(self, name: str, args: dict[str, t.Any]) -> tuple[float, dict[str, t.Any], int]:
        from tests.integration.ansible_run import S3Credentials, run_playbook

        self.rss_file.unlink(missing_ok=True)
        creds = S3Credentials(self.url, self.key_id, self.secret)
        started = time.monotonic()
        r = run_playbook([{"name": "bench", f"cellar.garage.{name}": args}], garage=None, s3=creds,
                         inventory=self.inventory, timeout=self.timeout)  # fmt: skip
        elapsed = time.monotonic() - started
        if r.rc != 0:
            raise RuntimeError(f"{name} failed: {r.output[-3000:]}")
        rss = max(int(line) for line in self.rss_file.read_text().split() if line.strip().isdigit())
        return elapsed, r.task("bench").result, rss

    def clear(self, tool: str) -> dict[str, t.Any]:
        target = f"s3://{BUCKET}/{PREFIX}"
        extra: dict[str, t.Any] = {}
        if tool == "module":
            elapsed, result, rss = self.module("garage_bucket_clear", {"bucket": BUCKET, "prefix": PREFIX})
            extra = {"module_duration": result["duration_seconds"], "deleted": result["deleted_count"], "rss_kb": rss}
        elif tool == "s5cmd":
            elapsed, _unused = self._run([str(BIN / "s5cmd"), "--endpoint-url", self.url, "rm", f"{target}*"])
        elif tool == "rclone":
            elapsed, _unused = self._run(["rclone", "delete", f"g:{BUCKET}/{PREFIX}"])
        elif tool == "s3cmd":
            elapsed, _unused = self._run(["s3cmd", "-c", str(self.s3cmd_cfg), "del", "--recursive", "--force", target])
        elif tool == "awscli":
            aws = [str(BIN / "aws"), "s3", "rm", "--recursive", "--only-show-errors", "--endpoint-url", self.url]
            elapsed, _unused = self._run([*aws, target])
        else:
            raise ValueError(tool)
        return {"seconds": elapsed, **extra}

    def usage(self, tool: str) -> dict[str, t.Any]:
        if tool == "module":
            elapsed, result, rss = self.module(
                "garage_bucket_usage", {"bucket": BUCKET, "prefix": PREFIX, "max_objects": 10_000_000}
            )
            return {"seconds": elapsed, "count": result["count"], "rss_kb": rss}
        if tool == "s5cmd":
            elapsed, out = self._run([str(BIN / "s5cmd"), "--endpoint-url", self.url, "du", f"s3://{BUCKET}/{PREFIX}*"])
            return {"seconds": elapsed, "count": int(out.split(" in ")[1].split()[0])}
        if tool == "rclone":
            elapsed, out = self._run(["rclone", "size", "--json", f"g:{BUCKET}/{PREFIX}"])
            return {"seconds": elapsed, "count": json.loads(out)["count"]}
        raise ValueError(tool)

    def module_noop(self) -> float:
        """Ansible's fixed cost: the same module on an empty prefix (one HeadBucket, one listing)."""
        elapsed, _result, _rss = self.module("garage_bucket_usage", {"bucket": BUCKET, "prefix": "empty/"})
        return elapsed

    def stop(self) -> None:
        self.g.stop()


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--clear-tools", default="module,s5cmd,rclone,s3cmd,awscli")
    parser.add_argument("--usage-tools", default="module,s5cmd,rclone")
    parser.add_argument("--usage-repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument(
        "--fill",
        choices=["boto3", "s5cmd"],
        default="boto3",
        help="how to fill the bucket (s5cmd is several times faster: use it for 100k)",
    )
    args = parser.parse_args(argv)
    for tool in ("rclone", "s3cmd", "/usr/bin/time"):
        if not shutil.which(tool):
            parser.error(f"{tool} is needed (requirements/apt.txt)")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    clear_tools = [s for s in args.clear_tools.split(",") if s]
    usage_tools = [s for s in args.usage_tools.split(",") if s]
    report: dict[str, t.Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU, {platform.platform()}, Python {platform.python_version()}",
        "nodes": args.nodes,
        "load_before": load(),
        "sizes": {},
    }
    workdir = Path(tempfile.mkdtemp(prefix="cellar-bench-s3-"))
    bench = Bench(workdir, args.nodes, args.timeout)
    try:
        report["garage"] = bench.g.version
        report["ansible_noop_seconds"] = bench.module_noop()
        log(f"garage {bench.g.version}, {args.nodes} nodes; module no-op {report['ansible_noop_seconds']:.1f}s")
        for n in sizes:
            entry: dict[str, t.Any] = {"fills": [], "usage": {}, "clear": {}}
            report["sizes"][str(n)] = entry
            filled = False
            if usage_tools:
                entry["fills"].append(bench.fill(n, args.fill))
                filled = True
                log(f"N={n}: filled in {entry['fills'][-1]:.1f}s (load {load()})")
                runs: dict[str, list[dict[str, t.Any]]] = {tool: [] for tool in usage_tools}
                for round_ in range(args.usage_repeat):
                    order = usage_tools[round_ % len(usage_tools) :] + usage_tools[: round_ % len(usage_tools)]
                    for tool in order:
                        run = bench.measured(lambda tool=tool: bench.usage(tool))
                        if run["count"] != n:
                            raise RuntimeError(f"{tool} counted {run['count']} objects, not {n}")
                        runs[tool].append(run)
                        log(f"N={n}: usage {tool} {run['seconds']:.2f}s")
                for tool, done in runs.items():
                    entry["usage"][tool] = {
                        "median_seconds": statistics.median(r["seconds"] for r in done),
                        "runs": [r["seconds"] for r in done],
                        "client_cpu": statistics.median(r["client_cpu"] for r in done),
                        "server_cpu": statistics.median(r["server_cpu"] for r in done),
                        **({"rss_kb": max(r["rss_kb"] for r in done)} if tool == "module" else {}),
                    }
            for tool in clear_tools:
                if not filled:
                    entry["fills"].append(bench.fill(n, args.fill))
                    log(f"N={n}: filled in {entry['fills'][-1]:.1f}s (load {load()})")
                load_at_start = load()
                try:
                    run = bench.measured(lambda tool=tool: bench.clear(tool))
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    run = {"error": str(exc)[:500]}
                run["load_before"] = load_at_start
                left = bench.count()
                run["left"] = left
                entry["clear"][tool] = run
                nan = float("nan")
                log(
                    f"N={n}: clear {tool} {run.get('seconds', nan):.1f}s, {left} left, cpu client "
                    f"{run.get('client_cpu', nan):.1f}s server {run.get('server_cpu', nan):.1f}s (load {load_at_start})"
                )
                if left:  # finish the job so the next tool starts from the same state
                    bench.clear("s5cmd")
                filled = False
    finally:
        bench.stop()
        report["load_after"] = load()
        with contextlib.suppress(OSError):
            shutil.rmtree(workdir)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
