# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Orchestrations with rollback: a tiny saga runner. No Ansible here.

A :class:`Saga` is an ordered list of named :class:`Step` s. Each step has a ``failure_reason``
and a ``do(ctx)`` that returns an :class:`Outcome`; the outcome's ``undo`` (built from what the
step actually did, e.g. "delete bucket <id>" once the id is known) is how to revert it.

``saga.run(dry_run=...)``:

- runs the steps in order; ``ctx.outcomes`` holds the outcomes of the steps done so far (by
  name), so a step can use an id an earlier step created;
- with ``dry_run=True`` every step plans (its operation must not write) and nothing is undone;
- on an exception at step *k*, runs the undos of the completed steps in reverse; an undo that
  fails is recorded in ``manual_cleanup_required`` while the others still run; then raises one
  :class:`SagaFailed` whose ``failure_reason`` is step *k*'s (``outcome_unknown`` when step *k*
  may or may not have taken effect), or ``rollback_failed`` when something is left, with
  ``failed_step``, ``step_failure_reason`` and the per-step ``steps`` report in its details.

Idempotence belongs to the operations: a second run's "ensure bucket" finds the bucket and
returns an unchanged outcome without undo. No retries, persistence or async here.

``saga.steps`` is public so that a test can inject a fault at every step (see
``tests/unit/plugins/module_utils/test_saga.py``).
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    OUTCOME_UNKNOWN,
    ROLLBACK_FAILED,
    OperationError,
    describe,
    is_failure_reason,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome


@dataclasses.dataclass(frozen=True)
class StepContext:
    """What a step's ``do`` receives."""

    dry_run: bool
    #: Outcomes of the steps completed so far, by step name, in order.
    outcomes: t.Mapping[str, Outcome]


@dataclasses.dataclass(frozen=True)
class Step:
    """One named step: ``do(ctx) -> Outcome``; a failure is reported with ``failure_reason``."""

    name: str
    failure_reason: str
    do: t.Callable[[StepContext], Outcome]


@dataclasses.dataclass(frozen=True)
class SagaResult:
    """A saga that completed: the outcome of every step, in order."""

    outcomes: t.Mapping[str, Outcome]

    @property
    def changed(self) -> bool:
        return any(o.changed for o in self.outcomes.values())

    @property
    def steps(self) -> list[dict[str, t.Any]]:
        """``[{"name": ..., "changed": ...}]`` in order (the planned steps in check mode)."""
        return [{"name": name, "changed": o.changed} for name, o in self.outcomes.items()]

    def outcome(self, **result: t.Any) -> Outcome:
        """One outcome: before/after keyed by step name, ``steps`` in the result."""
        return Outcome.combine(self.outcomes, steps=self.steps, **result)


class SagaFailed(OperationError):
    """A step failed. Details: ``failed_step``, ``step_failure_reason``, ``steps`` (each with a
    ``status``: ``done``, ``undone``, ``undo_failed``, ``failed`` or ``not_run``)."""

    def __init__(
        self,
        message: str,
        *,
        failure_reason: str,
        failed_step: str,
        changed: bool,
        manual_cleanup_required: t.Sequence[t.Mapping[str, t.Any]],
        details: t.Mapping[str, t.Any],
    ) -> None:
        super().__init__(
            message,
            failure_reason=failure_reason,
            changed=changed,
            manual_cleanup_required=manual_cleanup_required,
            details={**details, "failed_step": failed_step},
        )
        self.failed_step = failed_step


class Saga:
    def __init__(self, steps: t.Iterable[Step]) -> None:
        self.steps: tuple[Step, ...] = tuple(steps)
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique: {names}")
        for step in self.steps:
            if not is_failure_reason(step.failure_reason):
                raise ValueError(f"step {step.name!r}: failure_reason must be snake_case")

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    def run(self, *, dry_run: bool) -> SagaResult:
        done: dict[str, Outcome] = {}
        for step in self.steps:
            try:
                outcome = step.do(StepContext(dry_run=dry_run, outcomes=dict(done)))
            except Exception as exc:  # any failure triggers the rollback
                raise self._compensate(step, exc, done, dry_run) from exc
            done[step.name] = outcome
        return SagaResult(done)

    def _compensate(self, failed: Step, exc: Exception, done: dict[str, Outcome], dry_run: bool) -> SagaFailed:
        status = {s.name: "not_run" for s in self.steps}
        status.update({name: "done" for name in done})
        status[failed.name] = "failed"
        undone: list[str] = []
        manual: list[dict[str, t.Any]] = []
        if isinstance(exc, OperationError):
            manual.extend({"step": failed.name, **item} for item in exc.manual_cleanup_required)
        for name in reversed(list(done)):
            undo = done[name].undo
            if undo is None or dry_run:
                continue
            try:
                undo.run()
            except Exception as undo_exc:  # noqa: BLE001 - recorded, the other undos still run
                status[name] = "undo_failed"
                manual.append(
                    {"step": name, **undo.resource, "action": undo.description, "error": describe(undo_exc)}
                )
            else:
                status[name] = "undone"
                undone.append(undo.done_text)
        left_changed = not dry_run and any(status[n] == "done" and done[n].changed for n in done)
        failed_changed = isinstance(exc, OperationError) and exc.changed
        undo_failed = any(v == "undo_failed" for v in status.values())

        message = describe(exc) if isinstance(exc, OperationError) else f"Step '{failed.name}' failed: {describe(exc)}"
        if undone:
            message += ". Rolled back: " + "; ".join(undone)
        if undo_failed:
            message += ". The rollback failed; clean up by hand what manual_cleanup_required lists"
        details: dict[str, t.Any] = {
            "step_failure_reason": failed.failure_reason,
            "steps": [{"name": s.name, "status": status[s.name]} for s in self.steps],
        }
        if isinstance(exc, OperationError):
            details.update({k: v for k, v in exc.details.items() if k not in details})
            details.setdefault("cause", exc.failure_reason)
        reason = failed.failure_reason
        if isinstance(exc, OperationError) and exc.failure_reason == OUTCOME_UNKNOWN:
            reason = OUTCOME_UNKNOWN  # the caller must read before it tries again
        return SagaFailed(
            message,
            failure_reason=ROLLBACK_FAILED if undo_failed else reason,
            failed_step=failed.name,
            changed=bool(manual) or left_changed or failed_changed,
            manual_cleanup_required=manual,
            details=details,
        )
