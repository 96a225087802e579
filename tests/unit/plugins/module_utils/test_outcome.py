# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outcome: changed is derived from before/after; one absent representation."""

from __future__ import annotations

from ansible_collections.cellar.garage.plugins.module_utils._outcome import (
    ABSENT,
    Outcome,
    Undo,
    absent,
    is_absent,
    present,
)


def test_absent_is_one_shape() -> None:
    assert absent() == ABSENT == {"state": "absent"}
    assert Outcome().before == Outcome().after == ABSENT
    assert Outcome(before=None, after={"state": "present"}).diff() == {
        "before": {"state": "absent"},
        "after": {"state": "present"},
    }
    assert is_absent(None) and is_absent({"state": "absent"}) and not is_absent(present({}))


def test_present_adds_state_first() -> None:
    assert list(present({"name": "a"})) == ["state", "name"]
    assert present({"name": "a"}) == {"state": "present", "name": "a"}


def test_changed_is_derived_from_before_and_after() -> None:
    assert not Outcome(before=present({"a": 1}), after=present({"a": 1})).changed
    assert Outcome(before=present({"a": 1}), after=present({"a": 2})).changed
    assert Outcome(before=None, after=present({"a": 1})).changed
    assert Outcome(before=present({"a": 1}), after=None).changed
    assert not Outcome().changed


def test_unchanged() -> None:
    outcome = Outcome.unchanged(present({"a": 1}), bucket={"id": "b"})
    assert not outcome.changed and outcome.result == {"bucket": {"id": "b"}}


def test_immutable_helpers() -> None:
    base = Outcome(before=None, after=present({"a": 1}))
    undo = Undo("delete a", lambda: None, {"resource": "a"})
    more = base.with_result(x=1).with_result(y=2).with_warnings("w1").with_warnings("w2").with_undo(undo)
    assert more.result == {"x": 1, "y": 2}
    assert more.warnings == ("w1", "w2")
    assert more.undo is undo
    assert base.result == {} and base.warnings == () and base.undo is None


def test_diff_is_a_copy() -> None:
    outcome = Outcome(before=None, after=present({"a": 1}))
    outcome.diff()["after"]["a"] = 2
    assert outcome.after == {"state": "present", "a": 1}


def test_combine() -> None:
    one = Outcome(before=None, after=present({"a": 1}), warnings=("w1",))
    two = Outcome.unchanged(present({"b": 2}))
    combined = Outcome.combine({"one": one, "two": two}, steps=["one", "two"])
    assert combined.before == {"one": {"state": "absent"}, "two": {"state": "present", "b": 2}}
    assert combined.after == {"one": {"state": "present", "a": 1}, "two": {"state": "present", "b": 2}}
    assert combined.changed
    assert combined.warnings == ("w1",)
    assert combined.result == {"steps": ["one", "two"]}
    assert not Outcome.combine({"two": two}).changed


def test_undo_done_text() -> None:
    assert Undo("delete bucket x", lambda: None).done_text == "undone: delete bucket x"
    assert Undo("delete bucket x", lambda: None, done="bucket x deleted again").done_text == "bucket x deleted again"


def test_label_names_the_resource_in_the_diff_headers() -> None:
    diff = Outcome(before=None, after=present({"a": 1}), label="bucket 'photos'").diff()
    assert diff["before_header"] == diff["after_header"] == "bucket 'photos'"
    assert "before_header" not in Outcome().diff()


def test_parts_give_one_diff_per_changed_resource() -> None:
    one = Outcome(before=None, after=present({"a": 1}), label="key 'a'")
    two = Outcome.unchanged(present({"b": 2}), label="key 'b'")
    whole = Outcome(before={"a": one.before, "b": two.before}, after={"a": one.after, "b": two.after}, parts=(one, two))
    assert whole.changed
    assert whole.diff() == [one.diff()]
