# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A small difference tracker: the same data decides ``changed`` and builds the diff.

Modelled on community.docker's ``DifferenceTracker``. Record only attributes the
user set (see STYLE.md item 7/8) and never secrets.
"""

from __future__ import annotations

import typing as t


class DifferenceTracker:
    def __init__(self) -> None:
        self._diff: list[dict[str, t.Any]] = []

    def add(self, name: str, *, before: t.Any = None, after: t.Any = None, active: bool | None = None) -> None:
        """Record attribute ``name``. ``active`` defaults to ``before != after``; an inactive entry
        still shows in the diff but does not count as a change."""
        if active is None:
            active = before != after
        self._diff.append({"name": name, "before": before, "after": after, "active": active})

    def merge(self, other: DifferenceTracker) -> None:
        self._diff.extend(other._diff)

    def empty(self) -> bool:
        return len(self._diff) == 0

    @property
    def has_changes(self) -> bool:
        return any(item["active"] for item in self._diff)

    def changed_names(self) -> list[str]:
        return [item["name"] for item in self._diff if item["active"]]

    def get_before_after(self, *, only_changes: bool = False) -> tuple[dict[str, t.Any], dict[str, t.Any]]:
        """``(before, after)`` dicts keyed by attribute name (changed ones only if ``only_changes``)."""
        before: dict[str, t.Any] = {}
        after: dict[str, t.Any] = {}
        for item in self._diff:
            if only_changes and not item["active"]:
                continue
            before[item["name"]] = item["before"]
            after[item["name"]] = item["after"]
        return before, after

    def __len__(self) -> int:
        return len(self._diff)

    def __repr__(self) -> str:
        return f"DifferenceTracker({self.changed_names()!r})"
