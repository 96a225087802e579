# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one check / apply / idempotence helper of the integration tests (STYLE.md item 17).

Every state scenario runs the quartet: check mode, an out-of-band proof that check mode wrote
nothing, the real run, then an idempotent check and an idempotent run that must report
``changed: false``, then the scenario's own assertions on the apply and out-of-band reads.

Out-of-band proof comes in two kinds:

- ``oob_tasks``: reads inside the playbook (``ansible.builtin.uri``, never the module under test)
  right after the check task -- then everything runs in ONE ansible-playbook run;
- ``untouched()``: a Python-side read (``garage.admin``) after the check tasks -- then the check
  tasks of every scenario run in one playbook and the rest in a second one.

Independent scenarios are batched into the same playbook(s): each ansible-playbook run costs
seconds, batching keeps the suite fast without weakening any assertion.
"""

from __future__ import annotations

import dataclasses
import typing as t

from tests.integration.ansible_run import PlaybookResult, TaskRecord, run_playbook

PHASES = ("check", "apply", "idempotent check", "idempotent apply")


@dataclasses.dataclass
class Scenario:
    """One check -> apply -> idempotent check -> idempotent apply scenario."""

    title: str
    module: str
    args: dict[str, t.Any]
    #: Python-side out-of-band proof that nothing changed, called after the check-mode run.
    untouched: t.Callable[[], None] | None = None
    #: in-playbook out-of-band reads run right after the check task (named by their "name").
    oob_tasks: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    #: in-playbook out-of-band reads run right after the apply task.
    oob_after_apply: list[dict[str, t.Any]] = dataclasses.field(default_factory=list)
    #: extra assertions on the check-mode result
    checked: t.Callable[[TaskRecord], None] = lambda rec: None
    #: assertions on the apply result plus the out-of-band proof of the change
    applied: t.Callable[[TaskRecord, PlaybookResult], None] = lambda rec, r: None

    def name(self, phase: str) -> str:
        return f"{self.title}: {phase}" if self.title else phase

    def task(self, phase: str) -> dict[str, t.Any]:
        task: dict[str, t.Any] = {"name": self.name(phase), self.module: self.args}
        if phase.endswith("check"):
            task["check_mode"] = True
        return task


@dataclasses.dataclass
class Quartet:
    check: TaskRecord
    apply: TaskRecord
    idem_check: TaskRecord
    idem_apply: TaskRecord
    #: the ansible-playbook run(s): one, or two when a scenario has ``untouched``
    runs: list[PlaybookResult]
    before: t.Any = None
    after: t.Any = None

    @property
    def result(self) -> PlaybookResult:
        """The run that holds the apply (and the in-playbook reads)."""
        return self.runs[-1]

    def assert_converged(self) -> Quartet:
        """check and apply changed, the idempotent pair did not."""
        assert self.check.changed, self.check.result
        assert self.apply.changed, self.apply.result
        assert not self.idem_check.changed, self.idem_check.result
        assert not self.idem_apply.changed, self.idem_apply.result
        return self


def run_quartets(
    garage: t.Any, scenarios: t.Sequence[Scenario], *, converge: bool = True, diff: bool = True
) -> dict[str, Quartet]:
    """Run the scenarios' quartets (batched) and return them by title.

    With ``converge`` (the default) every quartet must show check and apply changed, the idempotent
    pair unchanged, and each scenario's ``checked`` / ``untouched`` / ``applied`` must pass.
    """
    runs: list[PlaybookResult] = []
    if any(s.untouched is not None for s in scenarios):
        first = run_playbook([s.task("check") for s in scenarios], garage=garage, diff=diff)
        assert first.rc == 0, first.output
        for s in scenarios:
            s.checked(first.task(s.name("check")))
            if s.untouched is not None:
                s.untouched()
        tasks = []
        for s in scenarios:
            tasks += [s.task("apply"), *s.oob_after_apply, s.task("idempotent check"), s.task("idempotent apply")]
        second = run_playbook(tasks, garage=garage, diff=diff)
        assert second.rc == 0, second.output
        runs = [first, second]
    else:
        tasks = []
        for s in scenarios:
            tasks += [s.task("check"), *s.oob_tasks, s.task("apply"), *s.oob_after_apply]
            tasks += [s.task("idempotent check"), s.task("idempotent apply")]
        only = run_playbook(tasks, garage=garage, diff=diff)
        assert only.rc == 0, only.output
        runs = [only]
    quartets: dict[str, Quartet] = {}
    for s in scenarios:
        records = [next(r.task(s.name(p)) for r in runs if r.tasks(s.name(p))) for p in PHASES]
        quartet = Quartet(*records, runs=runs)
        quartets[s.title] = quartet
        if converge:
            quartet.assert_converged()
            if len(runs) == 1:
                s.checked(quartet.check)
            s.applied(quartet.apply, quartet.result)
    return quartets
