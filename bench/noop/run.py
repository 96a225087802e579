#!/usr/bin/env python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No-op benchmark of playbooks/provision.yml (run on demand, never in the test suite).

    .venv/bin/python bench/noop/run.py [--buckets 100 --keys 100 --permissions 200]
                                       [--attribute] [--write bench/noop/RESULTS.md]

1. Starts a private real Garage cluster (3 nodes of the pinned release, free loopback ports,
   layout applied) with the fault proxy in front of its Admin API, which counts the calls.
2. Generates an inventory declaring N buckets, N keys and 2N permissions.
3. Runs provision.yml once (first run: everything is created), then again (no-op), and
   reports for each: wall time, Admin API calls by endpoint, calls per resource, and the
   changed count of the PLAY RECAP. The design goal is at most one Admin API read per
   resource on the no-op run.
4. ``--attribute`` re-runs the no-op once per resource kind (``--tags keys``, ``buckets``,
   ``permissions``) to attribute the calls to the module that makes them.

Results are printed and, with ``--write``, written as Markdown (machine and date included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
RECAP_RE = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
RESOURCE_TAGS = ("keys", "buckets", "permissions")
sys.path.insert(0, str(REPO))


class Cluster:
    """A private real Garage cluster (3 nodes, free loopback ports, layout applied) with the
    call-counting fault proxy in front of node 1's Admin API, which the playbook is pointed at."""

    def __init__(self, workdir: Path) -> None:
        from tests.fixtures.garage import start_cluster

        self.g = start_cluster(workdir / "cluster", nodes=3, layout=True)
        self.admin_url = self.g.admin_url
        self.token_file = self.g.workdir / "secrets" / "admin_token"
        self.version = self.g.version

    def calls(self) -> dict[str, int]:
        return self.g.calls()

    def reset_calls(self) -> None:
        self.g.reset_calls()

    def stop(self) -> None:
        self.g.stop()


def write_inventory(inv: Path, cluster: Cluster, n_buckets: int, n_keys: int, n_perms: int) -> dict[str, int]:
    (inv / "group_vars" / "garage").mkdir(parents=True)
    (inv / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "children": {
                        "garage": {
                            "hosts": {"node1": None, "node2": None, "node3": None},
                            "vars": {
                                "ansible_connection": "local",
                                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                            },
                        }
                    }
                }
            }
        ),
        encoding="utf-8",
    )
    connection = {
        "garage_admin_host": "localhost",
        "garage_admin_url": cluster.admin_url,
        "garage_admin_token_file": str(cluster.token_file),
        "garage_secrets_dir": str(inv.parent / "secrets"),
    }
    keys = [{"name": f"bench-key-{i:03d}", "allow_create_bucket": i % 10 == 0} for i in range(n_keys)]
    buckets: list[dict[str, t.Any]] = []
    for i in range(n_buckets):
        bucket: dict[str, t.Any] = {"name": f"bench-bucket-{i:03d}"}
        if i % 4 == 0:
            bucket["quotas"] = {"max_size": f"{(i % 7) + 1}G", "max_objects": 1000 * (i + 1)}
        if i % 10 == 0:
            bucket["global_aliases"] = [f"bench-alias-{i:03d}"]
        if i % 25 == 0:
            bucket["website"] = {"enabled": True, "index_document": "index.html"}
        buckets.append(bucket)
    perms = []
    for j in range(n_perms):
        k = j % n_keys
        b = (k + j // n_keys) % n_buckets  # key k gets bucket k, then bucket k+1, ...
        perms.append(
            {"bucket": f"bench-bucket-{b:03d}", "key": f"bench-key-{k:03d}", "read": True, "write": j < n_keys}
        )
    estate = {"garage_keys": keys, "garage_buckets": buckets, "garage_bucket_permissions": perms}
    (inv / "group_vars" / "garage" / "connection.yml").write_text(yaml.safe_dump(connection), encoding="utf-8")
    (inv / "group_vars" / "garage" / "estate.yml").write_text(yaml.safe_dump(estate), encoding="utf-8")
    return {"buckets": n_buckets, "keys": n_keys, "permissions": n_perms}


def run_provision(
    inv: Path, workdir: Path, tags: str | None = None, pipelining: bool = False
) -> tuple[float, int, str]:
    cmd = [str(VENV_BIN / "ansible-playbook"), "playbooks/provision.yml", "-i", str(inv)]
    if tags:
        cmd += ["--tags", tags]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GARAGE_ADMIN_"))}
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(workdir / "remote_tmp"),
        ANSIBLE_PIPELINING="1" if pipelining else "0",
    )
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        tail = f"{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        raise RuntimeError(f"provision.yml failed (rc {proc.returncode}):\n{tail}")
    recap = RECAP_RE.findall(proc.stdout)
    changed = sum(int(m[2]) for m in recap)
    return wall, changed, proc.stdout


def fmt_calls(calls: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(calls.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ansible = subprocess.run(
        [str(VENV_BIN / "ansible"), "--version"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[0]
    return (
        f"{platform.node()}: {os.cpu_count()} CPU ({cpu}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {ansible}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buckets", type=int, default=100)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--permissions", type=int, default=200)
    ap.add_argument("--attribute", action="store_true", help="attribute no-op calls per resource kind (--tags)")
    ap.add_argument("--pipelining", action="store_true", help="run ansible-playbook with ANSIBLE_PIPELINING=1")
    ap.add_argument("--write", metavar="FILE", help="write the results as Markdown to FILE")
    args = ap.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="cellar-bench-noop-"))
    cluster = Cluster(workdir)
    lines: list[str] = []
    try:
        inv = workdir / "inventory"
        counts = write_inventory(inv, cluster, args.buckets, args.keys, args.permissions)
        resources = sum(counts.values())
        load_before = os.getloadavg()

        cluster.reset_calls()
        first_wall, first_changed, _calls = run_provision(inv, workdir, pipelining=args.pipelining)
        first_calls = cluster.calls()
        cluster.reset_calls()
        noop_wall, noop_changed, noop_out = run_provision(inv, workdir, pipelining=args.pipelining)
        noop_calls = cluster.calls()
        load_after = os.getloadavg()

        per_kind: dict[str, tuple[float, dict[str, int], int]] = {}
        if args.attribute:
            for tag in RESOURCE_TAGS:
                cluster.reset_calls()
                wall, changed, _calls = run_provision(inv, workdir, tags=tag, pipelining=args.pipelining)
                per_kind[tag] = (wall, cluster.calls(), changed)

        first_total = sum(first_calls.values())
        noop_total = sum(noop_calls.values())
        noop_writes = {k: v for k, v in noop_calls.items() if not k.startswith(("Get", "List"))}
        now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        lines += [
            "# No-op benchmark of playbooks/provision.yml",
            "",
            f"- Date: {now}",
            f"- Machine: {machine()}",
            f"- Load average (1/5/15 min) before: {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
            f"after: {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} "
            "(the machine is shared; wall times scale with it, call counts do not)",
            f"- Estate: {counts['buckets']} buckets, {counts['keys']} keys, {counts['permissions']} permissions "
            f"= {resources} resources, against real Garage {cluster.version} "
            "(3 nodes, loopback, calls counted by the fault proxy)",
            "- Command: `.venv/bin/python bench/noop/run.py " + " ".join(sys.argv[1:]) + "`",
            "",
            "| Run | Wall time | Admin API calls | Calls per resource | Changed tasks (recap) |",
            "| --- | ---: | ---: | ---: | ---: |",
            f"| First run (creates everything) | {first_wall:.1f} s | {first_total} | "
            f"{first_total / resources:.2f} | {first_changed} |",
            f"| No-op re-run | {noop_wall:.1f} s | {noop_total} | {noop_total / resources:.2f} | {noop_changed} |",
            "",
            f"- Ratio no-op / first run: wall time {noop_wall / first_wall:.2f}, "
            f"Admin API calls {noop_total / max(first_total, 1):.2f}",
            f"- Wall time per resource: first run {first_wall / resources * 1000:.0f} ms, "
            f"no-op {noop_wall / resources * 1000:.0f} ms",
            f"- First run calls by endpoint: {fmt_calls(first_calls)}",
            f"- No-op calls by endpoint: {fmt_calls(noop_calls)}",
            f"- No-op write calls: {fmt_calls(noop_writes)}",
        ]
        if per_kind:
            lines += [
                "",
                "No-op calls attributed per resource kind (one `--tags` run each):",
                "",
                "| Kind (module) | Resources | Calls | Calls per resource | By endpoint | Wall time |",
                "| --- | ---: | ---: | ---: | --- | ---: |",
            ]
            modules = {
                "keys": "garage_key",
                "buckets": "garage_bucket",
                "permissions": "garage_bucket_permission",
            }
            for tag, (wall, calls, _changed) in per_kind.items():
                total = sum(calls.values())
                lines.append(
                    f"| {tag} ({modules[tag]}) | {counts[tag]} | {total} | {total / counts[tag]:.2f} | "
                    f"{fmt_calls(calls)} | {wall:.1f} s |"
                )
        if noop_changed:
            lines += ["", f"WARNING: the no-op run reported changed={noop_changed}:", "", "```", noop_out[-3000:]]
            lines += ["```"]
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # throwaway keys' secrets included

    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
