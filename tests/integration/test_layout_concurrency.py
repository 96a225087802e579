# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Two ansible-playbook runs of different layout plans, started together against one cluster.

Each run has 20 rounds (20 garage_layout tasks, one per round, each a different plan from the
other run's), so the two processes race 20 times. One ansible-playbook start per run keeps the
test affordable (each start costs ~1-2 s, far more than a module run). The fault proxy in front
of the real node adds latency to UpdateClusterLayout and ApplyClusterLayout to make the races real.

Invariants:
- every version a task claims to have applied is distinct (no version applied twice), and the
  cluster's version moved by exactly the number of versions applied;
- two tasks never claim the same version with different roles, and claims agree with
  GetClusterLayoutHistory's node counts;
- a task that failed says clearly why (a concurrent change), and leaves nothing staged;
- nothing is left staged at the end; the last claimed version is the cluster's layout.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import time
import typing as t

from tests.integration.ansible_run import PlaybookResult, run_playbook
from tests.integration.layout_helpers import MODULE, T, effective_staged, layout_oob, roles_oob

ROUNDS = 20
G = 10**9


def plan(ids: list[str], run: str, rnd: int) -> dict[str, t.Any]:
    """Run A changes node 0's capacity, run B node 1's; on odd rounds both also set node 2's tags."""
    node, base = (ids[0], 200) if run == "A" else (ids[1], 201)
    nodes: list[dict[str, t.Any]] = [{"node": node, "capacity": (base + 2 * rnd) * G}]
    if rnd % 2:
        nodes.append({"node": ids[2], "tags": [f"{run.lower()}{rnd}"]})
    return {"nodes": nodes}


def run_rounds(g: t.Any, ids: list[str], run: str) -> PlaybookResult:
    tasks = [{"name": f"round {rnd}", MODULE: plan(ids, run, rnd), "ignore_errors": True} for rnd in range(ROUNDS)]
    return run_playbook(tasks, garage=g)


def test_two_concurrent_runs_20_rounds(garage_factory: t.Any, tmp_path: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    ids = [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]
    # widen the race windows (through the proxy): staging and applying take a while, as on a busy cluster
    g.fault("UpdateClusterLayout", status=None, latency_ms=150, times=100_000)
    g.fault("ApplyClusterLayout", status=None, latency_ms=300, times=100_000)
    start = layout_oob(g)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        futures = {run: pool.submit(run_rounds, g, ids, run) for run in ("A", "B")}
        results = {run: fut.result() for run, fut in futures.items()}
    g.clear_faults()
    end = layout_oob(g)

    claims: dict[int, dict[str, t.Any]] = {}
    applied: list[int] = []
    outcomes: collections.Counter[str] = collections.Counter()
    log = []
    for run, r in results.items():
        assert r.rc == 0, r.output  # ignore_errors: the play itself completes
        for rnd in range(ROUNDS):
            task = r.task(f"round {rnd}")
            res = task.result
            versions = res.get("applied_versions") or []
            applied += versions
            if task.failed:
                kind = "lost"
                msg = res["msg"]
                assert "Concurrent layout change" in msg or "staged changes that this task did not make" in msg, msg
                log.append((run, rnd, kind, versions, msg[:300]))
            else:
                kind = ("won" if not res.get("conflicts") else "won after re-plan") if versions else "converged"
                if kind == "converged":
                    # nothing to do after a re-read: only possible when the other run applied our values
                    assert not task.changed, res
                log.append((run, rnd, kind, versions))
                claim = res["layout"]["roles"]
                previous = claims.setdefault(res["version"], claim)
                assert previous == claim, f"two tasks claim version {res['version']} with different roles: {log}"
            outcomes[kind] += 1
            if res.get("conflicts") or res.get("waited_for_staged_changes"):
                outcomes["contended (waited or re-planned)"] += 1

    # no version applied twice, and the cluster moved by exactly the versions applied
    assert len(applied) == len(set(applied)), log
    assert end["version"] == start["version"] + len(applied), (start["version"], end["version"], log)
    assert effective_staged(end) == [], end["stagedRoleChanges"]
    history = g.ok("GetClusterLayoutHistory")
    assert history["currentVersion"] == end["version"]
    counts = {v["version"]: v["storageNodes"] for v in history["versions"]}
    for version, roles in claims.items():
        if version in counts:
            assert counts[version] == sum(1 for role in roles.values() if not role["gateway"])
    # the cluster holds exactly the last claimed version, if any task claimed it
    if end["version"] in claims:
        held = {n: (r["zone"], r["capacity"], r["tags"]) for n, r in claims[end["version"]].items()}
        assert held == roles_oob(end)

    report = {"rounds": ROUNDS, "outcomes": dict(outcomes), "versions": [start["version"], end["version"]], "log": log}
    (tmp_path / "concurrency.json").write_text(json.dumps(report, indent=1))
    if os.environ.get("CELLAR_CONCURRENCY_REPORT"):
        with open(os.environ["CELLAR_CONCURRENCY_REPORT"], "w", encoding="utf-8") as fh:
            json.dump(report, fh, indent=1)
    print(json.dumps(report["outcomes"]))
    # every round of both runs was decided (won, re-planned, converged or cleanly lost), and most applied
    assert sum(v for k, v in outcomes.items() if not k.startswith("contended")) == 2 * ROUNDS
    assert outcomes["won"] + outcomes["won after re-plan"] >= ROUNDS, outcomes


# --------------------------------------------------------------------------- deterministic races
# A concurrent operator is simulated out of band while the module's request is held by injected latency.


def _start_run(pool: t.Any, g: t.Any, args: dict[str, t.Any]) -> concurrent.futures.Future[PlaybookResult]:
    return pool.submit(run_playbook, [{"name": "converge", MODULE: args, "ignore_errors": True}], garage=g)


def _wait_for_call(g: t.Any, endpoint: str, count: int = 1, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while g.calls().get(endpoint, 0) < count:
        assert time.monotonic() < deadline, f"{endpoint} was never called: {g.calls()}"
        time.sleep(0.05)


def _foreign_stage(g: t.Any, node: str, capacity: int) -> None:
    role = next(r for r in layout_oob(g)["roles"] if r["id"] == node)
    g.ok("UpdateClusterLayout", body={"roles": [{"id": node, "zone": role["zone"], "capacity": capacity, "tags": []}]})


def _race_staging(g: t.Any, ids: list[str], finish: t.Callable[[], None]) -> t.Any:
    """Hold OUR UpdateClusterLayout; meanwhile another operator stages node 1; 3.5 s later it
    finishes (``finish``), after our staging has answered and our entries were cleared again."""
    g.reset_calls()
    g.fault("UpdateClusterLayout", status=None, latency_ms=2500, times=1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        fut = _start_run(pool, g, {"nodes": [{"node": ids[0], "capacity": 2 * T}]})
        _wait_for_call(g, "UpdateClusterLayout")
        _foreign_stage(g, ids[1], 3 * T)
        time.sleep(3.5)
        finish()
        return fut.result().task("converge")


def test_foreign_staging_next_to_ours_then_cleared_is_replanned(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    ids = [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]
    start = layout_oob(g)
    task = _race_staging(g, ids, lambda: _foreign_stage(g, ids[1], T))  # the operator takes its change back
    res = task.result
    assert not task.failed and task.changed, res
    assert any("foreign staged changes appeared next to ours" in c for c in res["conflicts"]), res["conflicts"]
    assert res["applied_versions"] == [start["version"] + 1] == [res["version"]]
    end = layout_oob(g)
    assert end["version"] == start["version"] + 1 and effective_staged(end) == []
    assert roles_oob(end)[ids[0]][1] == 2 * T and roles_oob(end)[ids[1]][1] == T
    assert g.calls()["ApplyClusterLayout"] == 1


def test_foreign_change_applied_underneath_fails_precisely(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    ids = [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]
    start = layout_oob(g)
    task = _race_staging(g, ids, lambda: g.ok("ApplyClusterLayout", body={"version": start["version"] + 1}))
    res = task.result
    assert task.failed and not task.changed, res
    msg = res["msg"]
    assert "Another operator changed the layout underneath this run" in msg and ids[1][:16] in msg, msg
    assert "capacity=3T" in msg and "nothing of this run is staged" in msg
    assert [c["id"] for c in res["layout_changes_underneath"]] == [ids[1]]
    end = layout_oob(g)
    assert end["version"] == start["version"] + 1 and effective_staged(end) == []
    assert roles_oob(end)[ids[0]][1] == T and roles_oob(end)[ids[1]][1] == 3 * T
    # the proxy counts this run's calls only (the operator talks to the node directly): never applied
    assert g.calls().get("ApplyClusterLayout", 0) == 0


def test_foreign_staging_that_stays_fails_clearly_leaving_only_theirs(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    ids = [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]
    start = layout_oob(g)
    g.reset_calls()
    g.fault("UpdateClusterLayout", status=None, latency_ms=2500, times=1)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        fut = _start_run(pool, g, {"nodes": [{"node": ids[0], "capacity": 2 * T}], "conflict_retries": 0})
        _wait_for_call(g, "UpdateClusterLayout")
        _foreign_stage(g, ids[1], 3 * T)
        r = fut.result()
    task = r.task("converge")
    assert task.failed and not task.changed, r.output
    msg = task.result["msg"]
    assert "Concurrent layout change detected" in msg and ids[1][:16] in msg and "capacity=3T" in msg, msg
    assert "nothing of this run is staged" in msg
    end = layout_oob(g)
    assert end["version"] == start["version"] and g.calls().get("ApplyClusterLayout", 0) == 0
    # ours was cleared, theirs is untouched
    assert [(c["id"], c.get("capacity")) for c in effective_staged(end)] == [(ids[1], 3 * T)]


def test_version_moving_under_our_apply_is_never_reapplied(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=True)
    ids = [r["id"] for r in sorted(layout_oob(g)["roles"], key=lambda r: r["zone"])]
    start = layout_oob(g)
    g.reset_calls()
    g.fault("ApplyClusterLayout", status=None, latency_ms=2500, times=1)  # holds OUR apply request
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        fut = _start_run(pool, g, {"nodes": [{"node": ids[0], "capacity": 2 * T}]})
        _wait_for_call(g, "ApplyClusterLayout")
        # another operator applies version+1 first: Garage's apply takes whatever is staged, ours included
        g.ok("ApplyClusterLayout", body={"version": start["version"] + 1})
        r = fut.result()
    task = r.task("converge")
    res = task.result
    assert not task.failed and task.changed, r.output
    # our apply got "Invalid new layout version"; the re-read shows exactly our layout at version+1
    assert "Invalid new layout version" in str(res.get("warnings")), res
    assert res["version"] == start["version"] + 1
    end = layout_oob(g)
    assert end["version"] == start["version"] + 1 and effective_staged(end) == []
    assert roles_oob(end)[ids[0]][1] == 2 * T
    # the proxy counts this run's calls only: ours, refused, and never re-applied
    assert g.calls()["ApplyClusterLayout"] == 1
