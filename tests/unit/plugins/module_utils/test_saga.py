# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The saga runner: ordered steps, reverse undo, failed undos reported, check mode plans.

A small in-memory "world" stands for the service: each step creates one resource and its undo
deletes it, so every test can check exactly what is left after a run.
"""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo, present
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaFailed, Step, StepContext


class World:
    def __init__(self) -> None:
        self.resources: dict[str, str] = {}
        self.log: list[str] = []
        self.broken_undo: set[str] = set()
        self.counter = 0

    def create(self, kind: str, ctx: StepContext, *, exists: bool = False) -> Outcome:
        """Ensure one ``kind`` resource; its id depends on the earlier steps' outcomes."""
        parent = ",".join(str(o.after.get("id")) for o in ctx.outcomes.values())
        if exists or kind in self.resources:
            view = present({"id": self.resources.get(kind, f"{kind}-old"), "parent": parent})
            return Outcome.unchanged(view)
        if ctx.dry_run:
            self.log.append(f"plan {kind}")
            return Outcome(before=None, after=present({"id": None, "parent": parent}))
        self.counter += 1
        rid = f"{kind}-{self.counter}"
        self.resources[kind] = rid
        self.log.append(f"create {kind}")

        def undo() -> None:
            self.log.append(f"undo {kind}")
            if kind in self.broken_undo:
                raise OperationError(f"cannot delete {rid}", failure_reason="server_error")
            del self.resources[kind]

        return Outcome(before=None, after=present({"id": rid, "parent": parent})).with_undo(
            Undo(f"delete {kind} {rid}", undo, {"resource": kind, "id": rid}, done=f"{kind} {rid} deleted again")
        )


KINDS = ("bucket", "key", "permission", "alias")


def saga_for(world: World, *, fail_at: str | None = None, error: Exception | None = None) -> Saga:
    def step(kind: str) -> Step:
        def do(ctx: StepContext) -> Outcome:
            if kind == fail_at:
                raise error or OperationError(f"Failed to create {kind}", failure_reason="server_error")
            return world.create(kind, ctx)

        return Step(kind, f"{kind}_create_failed", do)

    return Saga(step(k) for k in KINDS)


def test_runs_in_order_and_passes_earlier_outcomes() -> None:
    world = World()
    result = saga_for(world).run(dry_run=False)
    assert world.log == [f"create {k}" for k in KINDS]
    assert list(result.outcomes) == list(KINDS)
    assert result.outcomes["key"].after["parent"] == "bucket-1"
    assert result.changed
    assert result.steps == [{"name": k, "changed": True} for k in KINDS]
    combined = result.outcome(extra=1)
    assert combined.changed and combined.result["steps"] == result.steps and combined.result["extra"] == 1
    assert combined.after["alias"]["id"] == "alias-4"


def test_second_run_is_unchanged_and_has_nothing_to_undo() -> None:
    world = World()
    saga_for(world).run(dry_run=False)
    world.log.clear()
    result = saga_for(world).run(dry_run=False)
    assert not result.changed and world.log == []
    assert all(o.undo is None for o in result.outcomes.values())


def test_check_mode_plans_every_step_and_writes_nothing() -> None:
    world = World()
    result = saga_for(world).run(dry_run=True)
    assert world.resources == {}
    assert world.log == [f"plan {k}" for k in KINDS]
    assert result.steps == [{"name": k, "changed": True} for k in KINDS]


@pytest.mark.parametrize("fail_at", KINDS)
def test_fault_at_every_step_rolls_back_everything_before_it(fail_at: str) -> None:
    """The step list is public: one test covers a fault at every step, including new ones."""
    world = World()
    saga = saga_for(world, fail_at=fail_at)
    assert [s.name for s in saga.steps] == list(KINDS) == saga.step_names
    with pytest.raises(SagaFailed) as info:
        saga.run(dry_run=False)
    exc = info.value
    k = KINDS.index(fail_at)
    assert world.resources == {}, "everything the run created is deleted again"
    assert world.log == [f"create {x}" for x in KINDS[:k]] + [f"undo {x}" for x in reversed(KINDS[:k])]
    assert exc.failure_reason == f"{fail_at}_create_failed"
    assert exc.failed_step == fail_at
    assert exc.changed is False
    assert exc.manual_cleanup_required == []
    expected = ["undone"] * k + ["failed"] + ["not_run"] * (len(KINDS) - k - 1)
    assert [s["status"] for s in exc.details["steps"]] == expected
    assert exc.details["failed_step"] == fail_at and exc.details["cause"] == "server_error"
    assert exc.message.startswith(f"Failed to create {fail_at}")
    for kind in KINDS[:k]:
        assert f"{kind} {kind}-" in exc.message and "deleted again" in exc.message


def test_failed_undo_is_reported_and_the_others_still_run() -> None:
    world = World()
    world.broken_undo.add("key")
    with pytest.raises(SagaFailed) as info:
        saga_for(world, fail_at="alias").run(dry_run=False)
    exc = info.value
    assert world.log[-3:] == ["undo permission", "undo key", "undo bucket"]
    assert world.resources == {"key": "key-2"}
    assert exc.failure_reason == "rollback_failed"
    assert exc.details["step_failure_reason"] == "alias_create_failed"
    assert exc.failed_step == "alias"
    assert exc.changed is True
    assert exc.manual_cleanup_required == [
        {"step": "key", "resource": "key", "id": "key-2", "action": "delete key key-2", "error": "cannot delete key-2"}
    ]
    assert [s["status"] for s in exc.details["steps"]] == ["undone", "undo_failed", "undone", "failed"]
    assert "clean up by hand" in exc.message


def test_unexpected_exception_also_rolls_back() -> None:
    world = World()
    with pytest.raises(SagaFailed) as info:
        saga_for(world, fail_at="permission", error=KeyError("id")).run(dry_run=False)
    assert world.resources == {}
    assert info.value.failure_reason == "permission_create_failed"
    assert "Step 'permission' failed: unexpected KeyError" in info.value.message
    assert isinstance(info.value.__cause__, KeyError)


def test_failing_step_reports_its_own_leftovers() -> None:
    world = World()
    leftover = OperationError(
        "Failed to create alias: timed out",
        failure_reason="outcome_unknown",
        changed=True,
        manual_cleanup_required=[{"resource": "alias", "name": "a"}],
    )
    with pytest.raises(SagaFailed) as info:
        saga_for(world, fail_at="alias", error=leftover).run(dry_run=False)
    exc = info.value
    assert exc.changed is True
    assert exc.failure_reason == "outcome_unknown" and exc.details["step_failure_reason"] == "alias_create_failed"
    assert exc.manual_cleanup_required == [{"step": "alias", "resource": "alias", "name": "a"}]
    assert exc.details["cause"] == "outcome_unknown"


def test_check_mode_failure_undoes_nothing() -> None:
    world = World()
    with pytest.raises(SagaFailed) as info:
        saga_for(world, fail_at="key").run(dry_run=True)
    assert world.resources == {} and world.log == ["plan bucket"]
    assert info.value.changed is False


def test_changed_step_without_undo_stays_changed() -> None:
    def configure(ctx: StepContext) -> Outcome:
        return Outcome(before=present({"q": 1}), after=present({"q": 2}))

    def boom(ctx: StepContext) -> Outcome:
        raise OperationError("no", failure_reason="server_error")

    with pytest.raises(SagaFailed) as info:
        Saga([Step("configure", "configure_failed", configure), Step("boom", "boom_failed", boom)]).run(dry_run=False)
    assert info.value.changed is True
    assert [s["status"] for s in info.value.details["steps"]] == ["done", "failed"]


@pytest.mark.parametrize(
    ("steps", "fragment"),
    [
        ([Step("a", "a_failed", lambda c: Outcome()), Step("a", "b_failed", lambda c: Outcome())], "unique"),
        ([Step("a", "A-failed", lambda c: Outcome())], "snake_case"),
    ],
)
def test_bad_step_lists_refused(steps: t.Sequence[Step], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        Saga(steps)
