#!/usr/bin/env python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Artifact push / fetch benchmark (run on demand, never in the test suite).

    .venv/bin/python bench/artifacts/run.py [--files 1000] [--mib 500] [--large 10] [--nodes 3]
        [--tools module,s5cmd,rclone,awscli] [--rounds 1] [--timeout 1800] [--json out.json]

On ONE private real Garage cluster (the pinned release, free loopback ports, layout applied):

1. a tree of ``--files`` files of random bytes, ``--mib`` MiB in all, ``--large`` of them above
   the 8 MiB multipart threshold;
2. first push of the tree, each tool into its own prefix: ``garage_artifact_push`` (through
   ansible-playbook), ``s5cmd cp``, ``rclone sync``, ``aws s3 sync``; then ``s5cmd sync`` into
   a fresh prefix too (s5cmd's sync compares before sending);
3. re-push of the unchanged tree with each: the module (finds the package), ``s5cmd sync``,
   ``rclone sync``, ``aws s3 sync``;
4. fetch into an empty directory: ``garage_artifact_fetch`` against ``s5cmd cp``; both trees
   are compared with the source.

Times are wall-clock times of the whole command, as an operator runs it (Ansible's own start-up
included; the module's ``duration_seconds`` is reported too, and Ansible's fixed cost is measured
with a module that does nearly nothing). Peak RSS comes from GNU time wrapped around each tool
and around the Python interpreter Ansible runs the module with. Client and server (Garage) CPU
seconds are reported per run. Every command has a timeout; the cluster is always stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import filecmp
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench" / "s3"))
from run import Bench as S3Bench
from run import children_cpu, load, log

BIN = Path(sys.executable).parent
BUCKET = "bench"
MIB = 1024 * 1024


def make_tree(root: Path, files: int, mib: int, large: int) -> int:
    """``files`` files of random bytes, ``mib`` MiB in all; ``large`` of them 10 MiB each."""
    large_size = 10 * MIB
    small = files - large
    small_size = (mib * MIB - large * large_size) // max(1, small)
    total = 0
    for i in range(files):
        size = large_size if i < large else small_size + (i % 7) * 1024
        path = root / f"d{i % 20:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        total += size
    return total


class Bench(S3Bench):
    def timed(self, cmd: list[str]) -> dict[str, t.Any]:
        """Run ``cmd`` under GNU time: wall seconds, peak RSS (KiB), client CPU."""
        rss_file = self.workdir / "tool-rss.txt"
        rss_file.unlink(missing_ok=True)
        cpu0, server0 = children_cpu(), self.server_cpu()
        started = time.monotonic()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd],
            env=self.env(), capture_output=True, text=True, timeout=self.timeout, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd[0]} exited {proc.returncode}: {proc.stderr[-2000:]}")
        rss = int(rss_file.read_text().split()[-1])
        return {"seconds": elapsed, "rss_kb": rss, "client_cpu": children_cpu() - cpu0,
                "server_cpu": self.server_cpu() - server0}  # fmt: skip

    def module_run(self, name: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
        cpu0, server0 = children_cpu(), self.server_cpu()
        elapsed, result, rss = self.module(name, args)
        return {"seconds": elapsed, "rss_kb": rss, "client_cpu": children_cpu() - cpu0,
                "server_cpu": self.server_cpu() - server0, "module_seconds": result.get("duration_seconds"),
                "result": result}  # fmt: skip

    def push(self, tool: str, src: Path, prefix: str) -> dict[str, t.Any]:
        url = f"s3://{BUCKET}/{prefix}/"
        if tool == "module":
            run = self.module_run(
                "garage_artifact_push",
                {"bucket": BUCKET, "prefix": prefix, "src": [str(src)], "name": "bench", "producer": "bench",
                 "retention_class": "transient"},
            )  # fmt: skip
            result = run.pop("result")
            run.update(package_id=result["package_id"], uploaded=result["upload"]["count"], changed=result["changed"],
                       phases=result.get("phases"))  # fmt: skip
            return run
        if tool == "s5cmd":
            return self.timed([str(BIN / "s5cmd"), "--endpoint-url", self.url, "cp", f"{src}/", url])
        if tool == "s5cmd-sync":
            return self.timed([str(BIN / "s5cmd"), "--endpoint-url", self.url, "sync", f"{src}/", url])
        if tool == "rclone":
            return self.timed(["rclone", "sync", str(src), f"g:{BUCKET}/{prefix}"])
        if tool == "awscli":
            return self.timed([str(BIN / "aws"), "s3", "sync", "--only-show-errors", "--endpoint-url", self.url,
                               str(src), url])  # fmt: skip
        raise ValueError(tool)

    def fetch(self, tool: str, prefix: str, dest: Path, package_id: str | None = None) -> dict[str, t.Any]:
        if tool == "module":
            run = self.module_run(
                "garage_artifact_fetch",
                {"bucket": BUCKET, "prefix": prefix, "package_id": package_id, "dest": str(dest)},
            )
            run["phases"] = run.pop("result").get("phases")
            return run
        if tool == "s5cmd":
            return self.timed([str(BIN / "s5cmd"), "--endpoint-url", self.url, "cp", f"s3://{BUCKET}/{prefix}/*",
                               f"{dest}/"])  # fmt: skip
        raise ValueError(tool)


def same_tree(a: Path, b: Path) -> bool:
    left = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    right = sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file())
    if left != right:
        return False
    _match, mismatch, errors = filecmp.cmpfiles(a, b, left, shallow=False)
    return not mismatch and not errors


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--mib", type=int, default=500)
    parser.add_argument("--large", type=int, default=10)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--tools", default="module,s5cmd,rclone,awscli")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    for tool in ("rclone", "/usr/bin/time"):
        if not shutil.which(tool):
            parser.error(f"{tool} is needed (requirements/apt.txt)")
    tools = [s for s in args.tools.split(",") if s]
    report: dict[str, t.Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPU, {platform.platform()}, Python {platform.python_version()}",
        "nodes": args.nodes,
        "load_before": load(),
        "rounds": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="cellar-bench-art-"))
    bench = Bench(workdir, args.nodes, args.timeout)
    try:
        src = workdir / "src"
        report["bytes"] = make_tree(src, args.files, args.mib, args.large)
        report["files"] = args.files
        report["garage"] = bench.g.version
        report["ansible_noop_seconds"] = bench.module_noop()
        log(f"garage {bench.g.version}; tree {args.files} files {report['bytes'] / MIB:.0f} MiB; "
            f"module no-op {report['ansible_noop_seconds']:.1f}s")  # fmt: skip
        for round_ in range(args.rounds):
            entry: dict[str, t.Any] = {"push": {}, "repush": {}, "fetch": {}}
            report["rounds"].append(entry)
            order = tools[round_ % len(tools) :] + tools[: round_ % len(tools)]
            prefixes = {tool: f"r{round_}-{tool}" for tool in [*order, "s5cmd-sync"]}
            for tool in [*order, "s5cmd-sync"]:
                if tool == "s5cmd-sync" and "s5cmd" not in tools:
                    continue
                entry["push"][tool] = run = {**bench.push(tool, src, prefixes[tool]), "load": load()}
                log(
                    f"round {round_}: push {tool} {run['seconds']:.1f}s rss {run['rss_kb'] // 1024} MiB (load {load()})"
                )
            for tool in order:
                name = "s5cmd-sync" if tool == "s5cmd" else tool
                entry["repush"][name] = run = {**bench.push(name, src, prefixes[tool]), "load": load()}
                log(f"round {round_}: re-push {name} {run['seconds']:.2f}s (load {load()})")
            package_id = entry["push"].get("module", {}).get("package_id")
            for tool in ("module", "s5cmd"):
                if tool not in tools:
                    continue
                dest = workdir / f"fetch-{round_}-{tool}"
                entry["fetch"][tool] = run = {**bench.fetch(tool, prefixes[tool], dest, package_id), "load": load()}
                run["identical"] = same_tree(src, dest)
                log(f"round {round_}: fetch {tool} {run['seconds']:.1f}s identical={run['identical']} (load {load()})")
                shutil.rmtree(dest, ignore_errors=True)
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
