# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The one value a state operation returns: :class:`Outcome`.

No Ansible here. An operation reads, plans and (unless ``dry_run``) applies, then returns an
``Outcome`` holding:

- ``before`` / ``after``: the *managed* view of the resource (snake_case keys named like the
  module options, never secrets), ``{"state": "absent"}`` when it does not exist (:data:`ABSENT`,
  the collection's one "absent" representation; present views carry ``"state": "present"``,
  see :func:`present`);
- ``changed``: derived, ``before != after`` -- the diff and ``changed`` cannot disagree;
- ``result``: the keys the module returns (e.g. ``{"bucket": view}``), merged into the result;
- ``warnings``: shown by Ansible;
- ``undo``: how to revert what the operation did (used by the saga), or ``None``;
- ``label``: names the resource in the diff header, as the user wrote it
  (``bucket 'photos'``, ``permissions of key 'app' on bucket 'photos'``).

``GarageModule.exit_outcome(outcome)`` turns it into ``exit_json(changed=..., diff=...,
**result)``.
"""

from __future__ import annotations

import dataclasses
import typing as t

#: The state of a resource that does not exist (before a create, after a delete).
ABSENT: t.Mapping[str, t.Any] = {"state": "absent"}


def absent() -> dict[str, t.Any]:
    """A fresh copy of :data:`ABSENT`."""
    return dict(ABSENT)


def present(view: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The managed view of an existing resource: ``{"state": "present", **view}``."""
    return {"state": "present", **view}


def is_absent(view: t.Mapping[str, t.Any] | None) -> bool:
    return view is None or dict(view) == ABSENT


@dataclasses.dataclass(frozen=True)
class Undo:
    """How to revert what an operation did, and what is left if that fails.

    :param description: imperative, for a human who must do it by hand
        (``delete bucket 'photos' (8a1c...)``).
    :param run: performs the undo; raises on failure.
    :param resource: identifies what is left if the undo fails, e.g.
        ``{"resource": "bucket", "bucket_id": ..., "name": ...}`` (no secrets).
    :param done: past tense, for the failure message when the undo worked
        (``bucket 'photos' created by this run was deleted again``).
    """

    description: str
    run: t.Callable[[], object]
    resource: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    done: str = ""

    @property
    def done_text(self) -> str:
        return self.done or f"undone: {self.description}"


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The outcome of one state operation (see the module docstring).

    ``before``/``after`` given as ``None`` mean absent and are stored as :data:`ABSENT`.
    """

    before: t.Mapping[str, t.Any] | None = None
    after: t.Mapping[str, t.Any] | None = None
    result: t.Mapping[str, t.Any] = dataclasses.field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    undo: Undo | None = None
    label: str | None = None
    #: Per-resource outcomes of a whole-estate operation: the diff is then one entry per changed part.
    parts: tuple[Outcome, ...] = ()

    def __post_init__(self) -> None:
        if self.before is None:
            object.__setattr__(self, "before", absent())
        if self.after is None:
            object.__setattr__(self, "after", absent())

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> t.Any:
        """``{"before": ..., "after": ...}`` for Ansible's diff mode, with headers naming the resource;
        with ``parts``, a list of the diffs of the parts that change."""
        if self.parts:
            return [part.diff() for part in self.parts if part.changed]
        diff: dict[str, t.Any] = {"before": dict(self.before or ABSENT), "after": dict(self.after or ABSENT)}
        if self.label:
            diff["before_header"] = diff["after_header"] = self.label
        return diff

    def with_result(self, **result: t.Any) -> Outcome:
        return dataclasses.replace(self, result={**self.result, **result})

    def with_warnings(self, *warnings: str) -> Outcome:
        return dataclasses.replace(self, warnings=(*self.warnings, *warnings))

    def with_undo(self, undo: Undo | None) -> Outcome:
        return dataclasses.replace(self, undo=undo)

    @classmethod
    def unchanged(cls, view: t.Mapping[str, t.Any] | None, **result: t.Any) -> Outcome:
        """Nothing to do: ``before == after == view``."""
        return cls(before=view, after=view, result=result)

    @classmethod
    def combine(cls, outcomes: t.Mapping[str, Outcome], **result: t.Any) -> Outcome:
        """One outcome for several named ones: before/after keyed by name, warnings concatenated.

        Results are not merged (name clashes); pass what the module returns as ``result``.
        """
        return cls(
            before={name: dict(o.before or ABSENT) for name, o in outcomes.items()},
            after={name: dict(o.after or ABSENT) for name, o in outcomes.items()},
            result=result,
            warnings=tuple(w for o in outcomes.values() for w in o.warnings),
        )
