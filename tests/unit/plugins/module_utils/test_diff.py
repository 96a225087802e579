# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

from ansible_collections.cellar.garage.plugins.module_utils._diff import DifferenceTracker


def test_empty_tracker_has_no_changes() -> None:
    tracker = DifferenceTracker()
    assert tracker.empty()
    assert not tracker.has_changes
    assert tracker.get_before_after() == ({}, {})
    assert len(tracker) == 0


def test_changes_and_before_after() -> None:
    tracker = DifferenceTracker()
    tracker.add("quota_size", before=None, after=10_000)
    tracker.add("website", before=False, after=False)
    tracker.add("aliases", before=["a"], after=["a", "b"])
    assert tracker.has_changes
    assert tracker.changed_names() == ["quota_size", "aliases"]
    before, after = tracker.get_before_after()
    assert before == {"quota_size": None, "website": False, "aliases": ["a"]}
    assert after == {"quota_size": 10_000, "website": False, "aliases": ["a", "b"]}
    assert tracker.get_before_after(only_changes=True) == (
        {"quota_size": None, "aliases": ["a"]},
        {"quota_size": 10_000, "aliases": ["a", "b"]},
    )
    assert "quota_size" in repr(tracker)


def test_equal_values_are_not_changes() -> None:
    tracker = DifferenceTracker()
    tracker.add("name", before="x", after="x")
    tracker.add("tags", before={"a": 1}, after={"a": 1})
    assert not tracker.empty()
    assert not tracker.has_changes


def test_explicit_active_overrides_comparison() -> None:
    tracker = DifferenceTracker()
    tracker.add("secret", before="<hidden>", after="<hidden>", active=True)
    tracker.add("order", before=[2, 1], after=[1, 2], active=False)
    assert tracker.changed_names() == ["secret"]


def test_merge() -> None:
    a, b = DifferenceTracker(), DifferenceTracker()
    a.add("x", before=1, after=1)
    b.add("y", before=1, after=2)
    a.merge(b)
    assert a.has_changes
    assert a.get_before_after() == ({"x": 1, "y": 1}, {"x": 1, "y": 2})
