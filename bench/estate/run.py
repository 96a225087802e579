#!/usr/bin/env python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_estate against the per-resource modules in loops, side by side (run on demand, never in tests).

    .venv/bin/python bench/estate/run.py [--buckets 100 --keys 100 --permissions 200] [--write FILE]

For each variant -- ``looped.yml`` (garage_key / garage_bucket / garage_bucket_permission, one
loop item per resource, as playbooks/provision.yml did before) and ``estate.yml`` (one
garage_estate task) -- on its own fresh real Garage cluster (3 nodes, layout applied, calls
counted by the fault proxy; bench/noop's ``Cluster``), with the same estate as bench/noop
(N buckets, N keys, 2N permissions):

1. the first run (everything is created): wall time, Admin API calls, changed tasks;
2. the no-op re-run: the same.

The variants run one after the other in the same invocation, so they see the same machine;
the report gives both and their ratios. Results are printed and, with ``--write``, written as
Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
VARIANTS = {"looped modules (one task per resource)": "looped.yml", "garage_estate (one task)": "estate.yml"}
VARIANTS_BY_SHORT = {"estate": "estate.yml"}


def _noop_bench() -> object:
    """bench/noop/run.py: its stand-in wrapper, estate generator and report helpers."""
    spec = importlib.util.spec_from_file_location("bench_noop_run", REPO / "bench" / "noop" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOOP = _noop_bench()


def run_playbook(playbook: Path, inv: Path, workdir: Path) -> tuple[float, int]:
    cmd = [str(NOOP.VENV_BIN / "ansible-playbook"), str(playbook), "-i", str(inv)]  # type: ignore[attr-defined]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GARAGE_ADMIN_"))}
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(workdir / "tmp"),
        ANSIBLE_REMOTE_TEMP=str(workdir / "remote_tmp"),
    )
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(
            f"{playbook.name} failed (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
        )
    changed = sum(int(m[2]) for m in NOOP.RECAP_RE.findall(proc.stdout))  # type: ignore[attr-defined]
    return wall, changed


def measure(playbook: str, args: argparse.Namespace) -> dict[str, object]:
    workdir = Path(tempfile.mkdtemp(prefix="cellar-bench-estate-"))
    standin = NOOP.Cluster(workdir)  # type: ignore[attr-defined]
    try:
        inv = workdir / "inventory"
        counts = NOOP.write_inventory(inv, standin, args.buckets, args.keys, args.permissions)  # type: ignore[attr-defined]
        standin.reset_calls()
        first_wall, first_changed = run_playbook(HERE / playbook, inv, workdir)
        first_calls = standin.calls()
        standin.reset_calls()
        noop_wall, noop_changed = run_playbook(HERE / playbook, inv, workdir)
        noop_calls = standin.calls()
    finally:
        standin.stop()
        shutil.rmtree(workdir, ignore_errors=True)  # throwaway keys' secrets included
    return {
        "version": getattr(standin, "version", "?"),
        "resources": sum(counts.values()),
        "counts": counts,
        "first": (first_wall, first_calls, first_changed),
        "noop": (noop_wall, noop_calls, noop_changed),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--buckets", type=int, default=100)
    ap.add_argument("--keys", type=int, default=100)
    ap.add_argument("--permissions", type=int, default=200)
    ap.add_argument("--write", metavar="FILE", help="write the results as Markdown to FILE")
    ap.add_argument("--only", choices=["estate"], help="measure garage_estate alone (a quick check, not the report)")
    args = ap.parse_args()
    if args.only:
        res = measure(VARIANTS_BY_SHORT[args.only], args)
        (fw, fc, _unused), (nw, nc, nch) = res["first"], res["noop"]  # type: ignore[misc]
        print(
            f"{args.only}: first run {fw:.1f} s, {sum(fc.values())} calls; no-op {nw:.1f} s, {sum(nc.values())} calls, "
            f"changed {nch}; load {os.getloadavg()[0]:.2f}"
        )
        return 0

    load_before = os.getloadavg()
    results = {name: measure(playbook, args) for name, playbook in VARIANTS.items()}
    load_after = os.getloadavg()
    looped, estate = (results[name] for name in VARIANTS)
    counts = estate["counts"]
    resources = estate["resources"]
    fmt = NOOP.fmt_calls  # type: ignore[attr-defined]

    def total(calls: dict[str, int]) -> int:
        return sum(calls.values())

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# garage_estate against the per-resource modules in loops",
        "",
        f"- Date: {now}",
        f"- Machine: {NOOP.machine()}",  # type: ignore[attr-defined]
        f"- Load average (1/5/15 min) before: {load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
        f"after: {load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} "
        "(the machine is shared; wall times scale with it, call counts do not)",
        f"- Estate: {counts['buckets']} buckets, {counts['keys']} keys, {counts['permissions']} permissions "
        f"= {resources} resources (as bench/noop), each variant on its own fresh real Garage {estate['version']} "
        "cluster (3 nodes, loopback, calls counted by the fault proxy), one after the other in the same invocation",
        "- Command: `.venv/bin/python bench/estate/run.py " + " ".join(sys.argv[1:]) + "`",
        "",
        "| Variant | First run | First run calls | No-op run | No-op calls | No-op changed |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, res in results.items():
        (fw, fc, _fch), (nw, nc, nch) = res["first"], res["noop"]  # type: ignore[misc]
        lines.append(f"| {name} | {fw:.1f} s | {total(fc)} | {nw:.1f} s | {total(nc)} | {nch} |")
    (lw, lc, _unused), (lnw, lnc, _unused) = looped["first"], looped["noop"]  # type: ignore[misc]
    (ew, ec, _unused), (enw, enc, _unused) = estate["first"], estate["noop"]  # type: ignore[misc]
    lines += [
        "",
        "Ratios (looped / estate; higher means garage_estate is better):",
        "",
        f"- first run: wall time {lw / ew:.1f}x, Admin API calls {total(lc) / max(total(ec), 1):.2f}x",
        f"- no-op run: wall time {lnw / enw:.1f}x, Admin API calls {total(lnc) / max(total(enc), 1):.2f}x",
        f"- no-op calls per resource: looped {total(lnc) / resources:.2f}, estate {total(enc) / resources:.2f}",
        "",
        "Calls by endpoint:",
        "",
    ]
    for name, res in results.items():
        (_fw, fc, _unused), (_nw, nc, _unused) = res["first"], res["noop"]  # type: ignore[misc]
        lines.append(f"- {name}, first run: {fmt(fc)}")
        lines.append(f"- {name}, no-op: {fmt(nc)}")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
