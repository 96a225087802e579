# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/demo end to end, on a private real Garage cluster (free ports, a tmp demo
directory), so it never collides with a developer's running demo.

1. first run: starts three real Garage nodes, converges site.yml (changes), prints the summary
   of the declared buckets and keys, never prints the admin token or a key secret;
2. second run: reuses the running cluster, every task reports changed=false;
3. --stop stops it; a third run restarts it from its persisted data and changes nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import stat
import subprocess
import typing as t
import urllib.request
from pathlib import Path

import pytest
import yaml

from scripts.local_cluster import pid_alive
from tests.integration.ansible_run import CALLBACK_DIR, REPO_ROOT

DEMO = REPO_ROOT / "scripts" / "demo"
ESTATE = REPO_ROOT / "inventories" / "local" / "group_vars" / "garage" / "estate.yml"


def _free_port_block(size: int = 24) -> int:
    """A base port B such that B..B+size-1 are all free on 127.0.0.1 right now."""
    for _unused in range(200):
        base = random.randrange(20000, 60000 - size, 10)
        socks = []
        try:
            for port in range(base, base + size):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free block of ports")


def _records(path: Path) -> list[dict[str, t.Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


class Demo:
    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path / "demo"
        self.tmp = tmp_path
        base = _free_port_block()
        self.admin = f"127.0.0.1:{base + 3}"
        self.runs = 0
        keep = ("GARAGE_BIN", "GARAGE_VERSION")
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k in keep or not k.startswith(("ANSIBLE_", "GARAGE_", "CELLAR_"))
        }
        self.env.update(
            {
                "GARAGE_DEMO_DIR": str(self.dir),
                "GARAGE_DEMO_PORT_BASE": str(base),
                # A token in the caller's environment must not leak into (or break) the demo.
                "GARAGE_ADMIN_TOKEN": "not-the-demo-token",
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
                "ANSIBLE_CALLBACKS_ENABLED": "cellar_results",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
            }
        )

    def run(self, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, t.Any]]]:
        self.runs += 1
        results = self.tmp / f"results-{self.runs}.jsonl"
        env = dict(self.env, CELLAR_RESULTS_FILE=str(results))
        proc = subprocess.run(
            [str(DEMO), *args], cwd=self.tmp, env=env, capture_output=True, text=True, timeout=1200, check=False
        )
        return proc, _records(results)

    @property
    def token_file(self) -> Path:
        return self.dir / "cluster" / "secrets" / "admin_token"

    def token(self) -> str:
        return self.token_file.read_text(encoding="utf-8").strip()

    def admin_get(self, endpoint: str) -> t.Any:
        req = urllib.request.Request(
            f"http://{self.admin}/v2/{endpoint}", headers={"Authorization": f"Bearer {self.token()}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def pids(self) -> list[int]:
        try:
            state = json.loads((self.dir / "cluster" / "cluster.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        return [int(n["pid"]) for n in state["nodes"] if n.get("pid")]

    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            subprocess.run([str(DEMO), "--stop"], env=self.env, capture_output=True, timeout=60, check=False)
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Alive and not a zombie (the demo's nodes are reparented; a killed one may linger as Z)."""
    return pid_alive(pid)


@pytest.fixture
def demo(tmp_path: Path) -> t.Iterator[Demo]:
    d = Demo(tmp_path)
    yield d
    d.cleanup()


@pytest.mark.slow
def test_demo_converges_then_is_idempotent(demo: Demo) -> None:
    if not (REPO_ROOT / "playbooks" / "layout.yml").exists():
        pytest.xfail("playbooks/layout.yml (imported by site.yml) has not landed yet")
    estate = yaml.safe_load(ESTATE.read_text(encoding="utf-8"))
    bucket_names = [b["name"] for b in estate["garage_buckets"]]
    key_names = [k["name"] for k in estate["garage_keys"]]

    # 1. First run: three real Garage nodes are started and the estate created.
    proc, records = demo.run()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "started 3 v" in proc.stderr, proc.stderr
    assert [r["task"] for r in records if r["failed"] and not r["ignore_errors"]] == [], out
    changed = {r["task"] for r in records if r["changed"]}
    # provision.yml converges the whole estate in one garage_estate task (issue 9)
    for task in ("Converge the estate",):
        assert task in changed, (task, changed)
    assert stat.S_IMODE(demo.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((demo.dir / "manifest.json").stat().st_mode) == 0o600
    pids = demo.pids()
    assert len(pids) == 3 and all(_alive(p) for p in pids)
    layout = demo.admin_get("GetClusterLayout")
    assert sorted(r["zone"] for r in layout["roles"]) == ["dc1", "dc2", "dc3"]
    assert demo.admin_get("GetClusterHealth")["status"] == "healthy"

    # The summary lists every declared bucket and key, with the ids Garage gave the keys.
    summary = proc.stdout.split("Converged Garage estate", 1)[1]
    keys_oob = {k["name"]: k["id"] for k in demo.admin_get("ListKeys")}
    for name in bucket_names:
        assert name in summary, name
    for name in key_names:
        assert f"{name}" in summary and keys_oob[name] in summary, name
    assert "PLAY RECAP" in proc.stdout

    # Out of band: the buckets exist; no secret was printed.
    buckets_oob = demo.admin_get("ListBuckets")
    aliases = {a for b in buckets_oob for a in b.get("globalAliases") or []}
    assert set(bucket_names) <= aliases
    assert demo.token() not in out
    for secret_file in (demo.dir / "secrets").glob("*.json"):
        assert json.loads(secret_file.read_text(encoding="utf-8"))["secret_access_key"] not in out
    assert {p.stem for p in (demo.dir / "secrets").glob("*.json")} == set(key_names)

    # 2. Second run: the running cluster is reused, nothing changes.
    proc, records = demo.run()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "3 node(s) running, 0 restarted" in proc.stderr, proc.stderr
    assert demo.pids() == pids
    assert records, out
    assert [r["task"] for r in records if r["changed"]] == [], out
    recap = [line for line in proc.stdout.splitlines() if " : ok=" in line]
    assert recap and all(" changed=0 " in line for line in recap), recap
    assert demo.admin_get("ListBuckets") == buckets_oob

    # 2b. --check ends with the right closing lines (issue 9: it said "the run did not get that
    # far" and pointed at a secrets directory that a check run never writes).
    proc, _records_check = demo.run("--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    closing = proc.stdout + proc.stderr
    assert "check mode: nothing was written" in closing, closing[-2000:]
    # The closing lines come after the recap (the playbook's own task names mention secrets).
    tail = closing.rsplit("PLAY RECAP", 1)[-1]
    assert "did not get that far" not in tail and "secrets of the keys" not in tail, tail

    # 3. --stop, then a restart from the persisted data changes nothing either.
    stop = subprocess.run([str(DEMO), "--stop"], env=demo.env, capture_output=True, text=True, check=False)
    assert stop.returncode == 0, stop.stderr
    assert not any(_alive(p) for p in pids)
    status = subprocess.run([str(DEMO), "--status"], env=demo.env, capture_output=True, text=True, check=False)
    assert status.returncode == 3
    proc, records = demo.run()
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "0 node(s) running, 3 restarted" in proc.stderr, proc.stderr
    assert [r["task"] for r in records if r["changed"]] == [], out
    assert {k["name"]: k["id"] for k in demo.admin_get("ListKeys")} == keys_oob


def test_demo_refuses_without_a_venv(tmp_path: Path) -> None:
    env = dict(os.environ, GARAGE_DEMO_DIR=str(tmp_path / "d"), GARAGE_DEMO_VENV=str(tmp_path / "novenv"))
    proc = subprocess.run([str(DEMO)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode != 0
    assert "make venv" in proc.stderr
    assert not (tmp_path / "d").exists()


def test_demo_stop_without_a_cluster(tmp_path: Path) -> None:
    env = dict(os.environ, GARAGE_DEMO_DIR=str(tmp_path / "d"))
    proc = subprocess.run([str(DEMO), "--stop"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "no cluster in" in proc.stderr
    status = subprocess.run([str(DEMO), "--status"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert status.returncode == 3
