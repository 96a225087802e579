# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collector's decision (_artifacts/gc.py), exhaustively over small universes.

1. Every combination of 2 packages (each referencing any subset of 3 blobs, live / expired /
   expired and held), blob ages (young / old), and intents (none, or one naming any subset of
   the blobs, with or without a package): the plan deletes exactly the eligible packages and
   exactly the old blobs no remaining package and no fresh intent references.
2. Every interleaving of a push and a collector, step by step, on an in-memory store, with
   the real planner: whatever the order, no manifest is ever left referencing a missing blob
   (and the same model finds the robbery when the push skips its intent -- the test can fail).
"""

from __future__ import annotations

import dataclasses
import itertools
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import gc, retention

NOW = 1_800_000_000.0
GRACE = 3600.0
BLOBS = ("sha256:" + "a" * 64, "sha256:" + "b" * 64, "sha256:" + "c" * 64)
SIZES = {BLOBS[0]: 1, BLOBS[1]: 10, BLOBS[2]: 100}
PIDS = ("1" * 64, "2" * 64)


def state(kind: str, now: float = NOW) -> dict[str, t.Any]:
    expires = retention.from_epoch(now - 10 if kind != "live" else now + 86400)
    holds = [{"name": "legal", "reason": "", "actor": "a", "since": "x"}] if kind == "held" else []
    return {"retention_class": "transient", "expires_at": expires, "holds": holds, "created_at": "2020-01-01T00:00:00Z"}


STATES = {kind: state(kind) for kind in ("live", "expired", "held")}


def subsets(items: t.Sequence[str]) -> list[frozenset[str]]:
    return [frozenset(c) for r in range(len(items) + 1) for c in itertools.combinations(items, r)]


def test_plan_is_exact_over_every_small_universe() -> None:
    kinds = ("live", "expired", "held")
    intent_options: list[tuple[frozenset[str], frozenset[str]] | None] = [None]
    intent_options += [(frozenset({b}), frozenset()) for b in BLOBS]
    intent_options += [(frozenset(BLOBS[:2]), frozenset({PIDS[0]}))]
    checked = 0
    for refs0, refs1 in itertools.product(subsets(BLOBS), repeat=2):
        for kind0, kind1 in itertools.product(kinds, repeat=2):
            packages = [
                gc.Package(PIDS[0], {d: SIZES[d] for d in refs0}, STATES[kind0]),
                gc.Package(PIDS[1], {d: SIZES[d] for d in refs1}, STATES[kind1]),
            ]
            for ages in itertools.product((10.0, GRACE + 10), repeat=3):
                blobs = [gc.Blob(d, SIZES[d], NOW - age) for d, age in zip(BLOBS, ages)]
                for option in intent_options:
                    intents = [gc.Intent("f" * 32, NOW - 5, option[0], option[1])] if option else []
                    decision = gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=packages, intents=intents)
                    _check_exact(decision, packages, blobs, intents)
                    checked += 1
    assert checked == 64 * 9 * 8 * 5


def _check_exact(decision: gc.Plan, packages: list[gc.Package], blobs: list[gc.Blob], intents: list[gc.Intent]) -> None:
    protected_blobs = set().union(*(i.blobs for i in intents)) if intents else set()
    protected_packages = set().union(*(i.packages for i in intents)) if intents else set()
    eligible = {
        p.package_id for p in packages if retention.is_eligible(p.state, NOW) and p.package_id not in protected_packages
    }
    assert set(decision.packages) == eligible
    assert set(decision.retention) == eligible
    remaining = [p for p in packages if p.package_id not in eligible]
    referenced = set().union(*(set(p.references) for p in remaining)) if remaining else set()
    expected = {
        b.digest
        for b in blobs
        if b.digest not in referenced and b.digest not in protected_blobs and NOW - b.modified > GRACE
    }
    assert set(decision.blobs) == expected
    assert decision.bytes_freed == sum(SIZES[d] for d in expected)
    # Safety, stated on its own: nothing a survivor or an intent needs, nothing young.
    for digest in decision.blobs:
        assert digest not in referenced and digest not in protected_blobs
    held = {p.package_id for p in packages if retention.is_expired(p.state, NOW) and retention.is_held(p.state)}
    assert held.isdisjoint(decision.packages)


def test_unreadable_manifest_or_intent_blocks_every_blob() -> None:
    blobs = [gc.Blob(d, 1, NOW - 2 * GRACE) for d in BLOBS]
    expired = [gc.Package(PIDS[0], {BLOBS[0]: 1}, state("expired"))]
    blocked = gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=expired, unreadable_manifests=["x"])
    assert blocked.blobs == () and blocked.packages == (PIDS[0],) and blocked.blobs_blocked_by
    blocked = gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=expired, unreadable_intents=["k"])
    assert blocked.blobs == () and blocked.blobs_blocked_by
    free = gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=expired)
    assert free.blobs == BLOBS and free.blobs_blocked_by is None


def test_stale_intents_protect_nothing_and_are_removed() -> None:
    blobs = [gc.Blob(BLOBS[0], 1, NOW - 2 * GRACE)]
    stale = gc.Intent("e" * 32, NOW - gc.INTENT_TTL - 1, frozenset({BLOBS[0]}))
    fresh = gc.Intent("f" * 32, NOW - gc.INTENT_TTL + 1, frozenset({BLOBS[0]}))
    assert gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=[], intents=[stale]).blobs == (BLOBS[0],)
    assert gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=[], intents=[stale]).stale_intents == ("e" * 32,)
    assert gc.plan(now=NOW, grace=GRACE, blobs=blobs, packages=[], intents=[fresh]).blobs == ()


def test_orphan_retention_documents_go_after_the_grace_window() -> None:
    orphans = {PIDS[0]: NOW - GRACE - 1, PIDS[1]: NOW - 1}
    decision = gc.plan(now=NOW, grace=GRACE, blobs=[], packages=[], orphan_retention=orphans)
    assert decision.retention == (PIDS[0],) and decision.packages == ()


def test_unreadable_retention_state_keeps_the_package_and_its_blobs() -> None:
    package = gc.Package(PIDS[0], {BLOBS[0]: 1}, state("expired"), state_readable=False)
    decision = gc.plan(now=NOW, grace=0, blobs=[gc.Blob(BLOBS[0], 1, 0.0)], packages=[package])
    assert decision.packages == () and decision.blobs == ()


# --------------------------------------------------------------------------- interleavings


@dataclasses.dataclass
class World:
    """An in-memory bucket: key -> modified (logical seconds); manifests and intents keep their content."""

    clock: float = NOW
    objects: dict[str, float] = dataclasses.field(default_factory=dict)
    manifests: dict[str, frozenset[str]] = dataclasses.field(default_factory=dict)  # pid -> blobs
    states: dict[str, dict[str, t.Any]] = dataclasses.field(default_factory=dict)
    intents: dict[str, tuple[frozenset[str], frozenset[str]]] = dataclasses.field(default_factory=dict)
    locks: set[str] = dataclasses.field(default_factory=set)

    def copy(self) -> World:
        return World(
            self.clock,
            dict(self.objects),
            dict(self.manifests),
            dict(self.states),
            dict(self.intents),
            set(self.locks),
        )

    def tick(self) -> float:
        self.clock += 1
        return self.clock


Step = t.Callable[[World, dict[str, t.Any]], bool]  # returns False when it cannot run yet (waiting)


def push_steps(blobs: frozenset[str], pid: str, *, with_intent: bool = True) -> list[Step]:
    """The push protocol of _artifacts/push.py, one atomic store operation per step."""

    def intent(w: World, c: dict[str, t.Any]) -> bool:
        if with_intent:
            w.intents["push"] = (blobs, frozenset({pid}))
        return True

    def list_locks(w: World, c: dict[str, t.Any]) -> bool:
        c["waiting"] = set(w.locks) if with_intent else set()
        return True

    def wait(w: World, c: dict[str, t.Any]) -> bool:
        return not (c["waiting"] & w.locks)

    def head(w: World, c: dict[str, t.Any]) -> bool:
        c["missing"] = {b for b in blobs if b not in w.objects}
        return True

    def upload(w: World, c: dict[str, t.Any]) -> bool:
        for b in c["missing"]:
            w.objects[b] = w.tick()
        return True

    def manifest(w: World, c: dict[str, t.Any]) -> bool:
        w.manifests[pid] = blobs
        w.states[pid] = state("live", w.clock)
        return True

    def release(w: World, c: dict[str, t.Any]) -> bool:
        w.intents.pop("push", None)
        return True

    return [intent, list_locks, wait, head, upload, manifest, release]


def gc_steps(grace: float) -> list[Step]:
    """The collector of _artifacts/collect.py, with the real planner; blob deletes one by one."""

    def lock(w: World, c: dict[str, t.Any]) -> bool:
        w.locks.add("gc")
        c["now"] = w.clock
        return True

    def read_intents(w: World, c: dict[str, t.Any]) -> bool:
        c["intents"] = [gc.Intent(k * 32, c["now"], b, p) for k, (b, p) in zip("ab", w.intents.values())]
        return True

    def read_packages(w: World, c: dict[str, t.Any]) -> bool:
        c["packages"] = [gc.Package(p, {b: 1 for b in refs}, w.states[p]) for p, refs in w.manifests.items()]
        return True

    def list_blobs(w: World, c: dict[str, t.Any]) -> bool:
        blobs = [gc.Blob(k, 1, m) for k, m in w.objects.items()]
        c["plan"] = gc.plan(now=c["now"], grace=grace, blobs=blobs, packages=c["packages"], intents=c["intents"])
        return True

    def delete_manifests(w: World, c: dict[str, t.Any]) -> bool:
        for pid in c["plan"].packages:
            w.manifests.pop(pid, None)
        return True

    def delete_blob(index: int) -> Step:
        def step(w: World, c: dict[str, t.Any]) -> bool:
            if index < len(c["plan"].blobs):
                w.objects.pop(c["plan"].blobs[index], None)
            return True

        return step

    def unlock(w: World, c: dict[str, t.Any]) -> bool:
        w.locks.discard("gc")
        return True

    return [
        lock,
        read_intents,
        read_packages,
        list_blobs,
        delete_manifests,
        *[delete_blob(i) for i in range(3)],
        unlock,
    ]


SHARED, DOOMED, NEW = BLOBS
EXPIRING, PUSHED = PIDS


def initial_world() -> World:
    """An expiring package holds SHARED and DOOMED, both old; the push will reuse SHARED and add NEW."""
    w = World()
    w.objects = {SHARED: NOW - 2 * GRACE, DOOMED: NOW - 2 * GRACE}
    w.manifests = {EXPIRING: frozenset({SHARED, DOOMED})}
    w.states = {EXPIRING: state("expired")}
    return w


def explore(actors: list[list[Step]], world: World) -> t.Iterator[World]:
    """Every final world over every interleaving of the actors' steps (a blocked step waits)."""
    contexts: list[dict[str, t.Any]] = [{} for _unused in actors]

    def walk(w: World, positions: tuple[int, ...], ctxs: list[dict[str, t.Any]]) -> t.Iterator[World]:
        if all(p == len(a) for p, a in zip(positions, actors)):
            yield w
            return
        for index, actor in enumerate(actors):
            if positions[index] == len(actor):
                continue
            nw, nctx = w.copy(), [dict(c) for c in ctxs]
            nw.tick()
            if not actor[positions[index]](nw, nctx[index]):
                continue
            moved = tuple(p + 1 if i == index else p for i, p in enumerate(positions))
            yield from walk(nw, moved, nctx)

    yield from walk(world, tuple(0 for _unused in actors), contexts)


def broken(w: World) -> list[str]:
    return [f"{pid} lost {sorted(refs - set(w.objects))}" for pid, refs in w.manifests.items() if refs - set(w.objects)]


@pytest.mark.parametrize("grace", [0.0, 5.0, GRACE])
def test_no_interleaving_of_push_and_gc_robs_the_push(grace: float) -> None:
    finals = list(explore([push_steps(frozenset({SHARED, NEW}), PUSHED), gc_steps(grace)], initial_world()))
    assert len(finals) > 100
    for final in finals:
        assert not broken(final), broken(final)
        assert PUSHED in final.manifests and not final.intents and not final.locks
    # The collector did its job in some orders: the expiring package and its own blob went.
    assert any(EXPIRING not in f.manifests and DOOMED not in f.objects for f in finals) or grace == GRACE


@pytest.mark.parametrize(
    "pushed",
    [frozenset({SHARED}), frozenset({SHARED, DOOMED}), frozenset({DOOMED, NEW}), frozenset({NEW})],
    ids=["shared", "both-old", "doomed+new", "new-only"],
)
def test_every_kind_of_push_survives_gc(pushed: frozenset[str]) -> None:
    finals = list(explore([push_steps(pushed, PUSHED), gc_steps(0.0)], initial_world()))
    for final in finals:
        assert not broken(final), broken(final)
        assert final.manifests.get(PUSHED) == pushed


def test_the_model_finds_the_robbery_without_intents() -> None:
    """Mutation check: a push that does not announce itself is robbed in some interleaving."""
    finals = explore([push_steps(frozenset({SHARED, NEW}), PUSHED, with_intent=False), gc_steps(0.0)], initial_world())
    assert any(broken(final) for final in finals)
