# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the layout / cluster integration tests (test_layout*.py, test_cluster*.py)."""

from __future__ import annotations

import typing as t

from tests.integration.ansible_run import PlaybookResult
from tests.integration.quartet import Scenario, run_quartets

MODULE = "cellar.garage.garage_layout"
T = 10**12


def layout_oob(g: t.Any) -> dict[str, t.Any]:
    """GetClusterLayout read out of band (the test's own HTTP client, not the collection's)."""
    return t.cast(dict[str, t.Any], g.ok("GetClusterLayout"))


def effective_staged(layout: t.Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """stagedRoleChanges that are real changes.

    Garage after 2.3 hides a staged removal of a node that has no role (staging a node's current
    "no role" clears its staged change); earlier releases still list it. Such an entry changes
    nothing on apply, so it is not counted here.
    """
    roles = {r["id"] for r in layout.get("roles") or []}
    return [c for c in layout.get("stagedRoleChanges") or [] if not (c.get("remove") and c["id"] not in roles)]


def roles_oob(layout: t.Mapping[str, t.Any]) -> dict[str, tuple[str, int | None, list[str]]]:
    return {r["id"]: (r["zone"], r.get("capacity"), list(r.get("tags") or [])) for r in layout.get("roles") or []}


def uri_layout_task(g: t.Any, name: str) -> dict[str, t.Any]:
    """An out-of-band read inside the playbook (ansible.builtin.uri, not the collection)."""
    return {
        "name": name,
        "ansible.builtin.uri": {
            "url": f"{g.admin_url.rstrip('/')}/v2/GetClusterLayout",
            "headers": {"Authorization": f"Bearer {g.admin_token}"},
            "return_content": True,
        },
        "no_log": False,
    }


WRITES = ("UpdateClusterLayout", "PreviewClusterLayoutChanges", "ApplyClusterLayout", "RevertClusterLayout")


def quartet(g: t.Any, args: dict[str, t.Any]) -> PlaybookResult:
    """check -> apply -> idempotent check -> idempotent apply, in ONE ansible-playbook run
    (the shared helper of tests/integration/quartet.py).

    Out-of-band proof that check mode and the idempotent runs wrote nothing: the fault proxy's
    call counters in front of the real node (exactly one UpdateClusterLayout / Preview / Apply
    for the whole run), and ansible.builtin.uri reads of GetClusterLayout between the tasks.
    """
    scenario = Scenario(
        "",
        MODULE,
        args,
        oob_tasks=[uri_layout_task(g, "after check")],
        oob_after_apply=[uri_layout_task(g, "after apply")],
    )
    g.reset_calls()
    r = run_quartets(g, [scenario], converge=False)[""].result
    r.layout_after = layout_oob(g)  # type: ignore[attr-defined]
    r.write_calls = {k: v for k, v in g.calls().items() if k in WRITES}  # type: ignore[attr-defined]
    return r


def assert_quartet(
    r: PlaybookResult, before: t.Mapping[str, t.Any]
) -> tuple[dict[str, t.Any], dict[str, t.Any], dict[str, t.Any]]:
    """Common assertions; returns (check result, apply result, layout after apply read out of band)."""
    assert r.rc == 0, r.output
    check, apply_ = r.task("check"), r.task("apply")
    assert check.changed and apply_.changed, r.output
    assert not r.task("idempotent check").changed and not r.task("idempotent apply").changed, r.output
    after_apply = r.layout_after  # type: ignore[attr-defined]
    if r.write_calls is not None:  # type: ignore[attr-defined]
        # check mode and the idempotent runs wrote nothing: ONE staging, ONE preview, ONE apply in total
        assert r.write_calls == {  # type: ignore[attr-defined]
            "UpdateClusterLayout": 1,
            "PreviewClusterLayoutChanges": 1,
            "ApplyClusterLayout": 1,
        }, r.write_calls  # type: ignore[attr-defined]
    else:
        after_check = r.task("after check").result["json"]
        assert after_check["version"] == before["version"]
        assert effective_staged(after_check) == effective_staged(before)
        assert roles_oob(after_check) == roles_oob(before)
        assert r.task("after apply").result["json"]["version"] == after_apply["version"]
    # the apply did what it said: exactly one new version, nothing left staged, the roles it reported
    assert after_apply["version"] == before["version"] + 1 == apply_.result["version"]
    assert effective_staged(after_apply) == []
    reported = {
        node: (role["zone"], role["capacity"], role["tags"]) for node, role in apply_.result["layout"]["roles"].items()
    }
    assert reported == roles_oob(after_apply)
    # check mode predicted exactly the real run
    assert check.result["layout"]["roles"] == apply_.result["layout"]["roles"]
    assert check.result["staged_changes"] == apply_.result["staged_changes"]
    assert check.result["version"] == apply_.result["version"]
    assert check.result["partition_moves"] is None and apply_.result["partition_moves"] is not None
    # the diff shows before/after of the managed attributes
    assert check.result["diff"]["before"]["roles"] == apply_.result["diff"]["before"]["roles"]
    assert apply_.result["diff"]["after"]["roles"] == apply_.result["layout"]["roles"]
    assert apply_.result["diff"]["before"] != apply_.result["diff"]["after"]
    again = r.task("idempotent apply").result
    assert again["staged_changes"] == [] and again["version"] == after_apply["version"]
    return check.result, apply_.result, after_apply
