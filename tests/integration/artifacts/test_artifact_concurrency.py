# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collector never robs a push in flight, on real Garage.

A collector thread runs the collection in a loop (grace window 0: only the intent protocol
protects the pushes) while, round after round, two pusher threads push packages that share a
blob with a package that has just expired -- the very blob the collector wants to delete. After
each round and at the end, every package that must be alive is fetched (byte-identical) and
verified. The operations are called directly (the modules are thin wrappers over them), one
ansible-playbook per step would make each round take seconds instead of milliseconds.
Bounded: at most ROUNDS rounds and DEADLINE seconds; at least MIN_ROUNDS must complete.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import (
    collect,
    fetch,
    inspection,
    push,
    retention,
)
from tests.integration.artifacts.helpers import ArtifactEnv, read_tree, write_tree

ROUNDS = 24
MIN_ROUNDS = 20
DEADLINE = 420.0
GC_PASSES_MAX = 2000
TABLE = dict(retention.DEFAULT_DURATIONS)


def push_spec(src: Path, name: str, retention_class: str) -> push.PushSpec:
    return push.spec_from_params(
        {"src": [str(src)], "name": name, "producer": "race", "retention_class": retention_class, "workers": 4,
         "gc_wait": 120},
        TABLE,
    )  # fmt: skip


def expire(store: object, package_id: str) -> None:
    spec = collect.retention_spec_from_params(
        {"package_id": package_id, "expires_at": "2020-01-01T00:00:00Z"}, TABLE, "race"
    )
    collect.change_retention(store, spec, dry_run=False)  # type: ignore[arg-type]


def test_gc_in_a_loop_never_robs_pushes_in_flight(art: ArtifactEnv, tmp_path: Path) -> None:
    store = art.store(workers=8)
    stop = threading.Event()
    gc_stats = {"passes": 0, "packages": 0, "blobs": 0, "skipped": 0}
    gc_errors: list[BaseException] = []

    def collector() -> None:
        spec = collect.GcSpec(grace=0.0, durations=TABLE)
        try:
            while not stop.is_set() and gc_stats["passes"] < GC_PASSES_MAX:
                outcome = collect.collect(art.store(), spec, dry_run=False)
                gc_stats["passes"] += 1
                gc_stats["packages"] += len(outcome.result["deleted"]["packages"])
                gc_stats["blobs"] += len(outcome.result["deleted"]["blobs"])
                gc_stats["skipped"] += bool(outcome.result.get("skipped"))
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            gc_errors.append(exc)

    alive: dict[str, dict[str, bytes]] = {}
    started = time.monotonic()
    thread = threading.Thread(target=collector, name="gc-loop", daemon=True)
    thread.start()
    rounds = 0
    try:
        for r in range(ROUNDS):
            if time.monotonic() - started > DEADLINE:
                break
            common = os.urandom(20_000 + r)
            doomed_files = {"common.bin": common, "doomed.bin": os.urandom(9_000 + r)}
            doomed = write_tree(tmp_path / f"doomed-{r}", doomed_files)
            pid = push.push(store, push_spec(doomed, f"doomed-{r}", "transient"), dry_run=False).result["package_id"]
            expire(store, pid)  # eligible from now on: the collector wants common.bin gone
            trees = {
                f"live-{r}-a": {"lib/common.bin": common, "a.txt": os.urandom(3_000)},
                f"live-{r}-b": {"common.bin": common, "b/b.txt": os.urandom(4_000), "b/c.txt": os.urandom(10)},
            }
            results: dict[str, str] = {}
            errors: list[BaseException] = []

            def pusher(name: str, files: dict[str, bytes], results: dict[str, str], errors: list) -> None:
                try:
                    src = write_tree(tmp_path / name, files)
                    outcome = push.push(art.store(workers=4), push_spec(src, name, "release-evidence"), dry_run=False)
                    results[name] = outcome.result["package_id"]
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)

            threads = [threading.Thread(target=pusher, args=(*item, results, errors)) for item in trees.items()]
            for t_ in threads:
                t_.start()
            for t_ in threads:
                t_.join(timeout=180)
            assert not errors, errors
            assert not gc_errors, gc_errors
            for name, files in trees.items():
                alive[results[name]] = files
                _fetch_same(store, results[name], files, tmp_path / "out" / f"{r}-{name}")
            rounds += 1
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not gc_errors, gc_errors
    assert rounds >= MIN_ROUNDS, f"only {rounds} rounds in {DEADLINE} s"
    # Every package that must be alive: fetched whole and identical, and verified.
    for package_id, files in alive.items():
        _fetch_same(store, package_id, files, tmp_path / "final" / package_id[:16])
    report = inspection.verify(store, package_id=None, sample=None, table=TABLE)
    assert report["ok"], report
    assert set(alive) <= set(_package_ids(store))
    # The collector really raced the pushes: it ran many times and collected the expired packages.
    final = collect.collect(store, collect.GcSpec(grace=0.0, durations=TABLE), dry_run=False)
    gc_stats["packages"] += len(final.result["deleted"]["packages"])
    assert gc_stats["passes"] >= rounds, gc_stats
    assert gc_stats["packages"] == rounds, gc_stats  # every doomed package, and nothing else
    print(f"concurrency: {rounds} rounds, {len(alive)} live packages, gc {gc_stats}, "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip


def _fetch_same(store: object, package_id: str, files: dict[str, bytes], dest: Path) -> None:
    fetch.fetch(store, fetch.FetchSpec(package_id, str(dest), None, 8, TABLE), dry_run=False)  # type: ignore[arg-type]
    assert read_tree(dest) == files, f"package {package_id} came back different"


def _package_ids(store: object) -> list[str]:
    info = inspection.info(store, package_id=None, filters=inspection.Filters(), table=TABLE)  # type: ignore[arg-type]
    return [p["package_id"] for p in info["packages"]]
