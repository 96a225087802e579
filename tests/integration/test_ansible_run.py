# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The integration helper itself, proved with ansible.builtin modules (no Garage needed)."""

from __future__ import annotations

import dataclasses

from tests.integration.ansible_run import (
    ACTION_GROUP,
    S3_ACTION_GROUP,
    S3Credentials,
    build_plays,
    run_adhoc,
    run_playbook,
)


@dataclasses.dataclass
class FakeGarage:
    admin_url: str = "http://127.0.0.1:1"
    admin_token: str = "test-token-not-a-secret-0123456789"


def test_tasks_become_one_localhost_play_with_connection_defaults() -> None:
    plays = build_plays([{"name": "t", "ansible.builtin.debug": {"msg": "x"}}], FakeGarage())
    assert len(plays) == 1
    play = plays[0]
    assert play["hosts"] == "localhost"
    assert play["gather_facts"] is False
    assert play["module_defaults"] == {
        ACTION_GROUP: {"admin_url": "http://127.0.0.1:1", "admin_token": "test-token-not-a-secret-0123456789"}
    }


def test_s3_credentials_add_the_garage_s3_group_next_to_the_admin_one() -> None:
    creds = S3Credentials("http://127.0.0.1:2", "GKabc", "not-a-real-secret")
    plays = build_plays([{"name": "t", "ansible.builtin.debug": {"msg": "x"}}], FakeGarage(), creds)
    defaults = plays[0]["module_defaults"]
    assert set(defaults) == {ACTION_GROUP, S3_ACTION_GROUP}
    assert defaults[S3_ACTION_GROUP] == {
        "s3_url": "http://127.0.0.1:2",
        "access_key_id": "GKabc",
        "secret_access_key": "not-a-real-secret",
        "region": "garage",
    }
    assert "not-a-real-secret" not in repr(creds)
    only_s3 = build_plays([{"hosts": "all", "tasks": []}], None, {"s3_url": "http://x:1"})
    assert only_s3[0]["module_defaults"] == {S3_ACTION_GROUP: {"s3_url": "http://x:1"}}


def test_plays_keep_their_own_module_defaults() -> None:
    mine = {"admin_url": "http://elsewhere:3903"}
    plays = build_plays([{"hosts": "all", "module_defaults": {ACTION_GROUP: mine}, "tasks": []}], FakeGarage())
    assert plays[0]["module_defaults"][ACTION_GROUP] == mine


def test_run_playbook_records_every_task() -> None:
    r = run_playbook(
        [
            {"name": "say hello", "ansible.builtin.debug": {"msg": "hello {{ who }}"}},
            {"name": "pretend change", "ansible.builtin.command": "true", "changed_when": True},
            {"name": "never", "ansible.builtin.debug": {"msg": "no"}, "when": False},
            {"name": "boom", "ansible.builtin.fail": {"msg": "expected"}, "ignore_errors": True},
        ],
        garage=FakeGarage(),
        extra_vars={"who": "world"},
    )
    assert r.rc == 0, r.output
    assert r.task("say hello").result["msg"] == "hello world"
    assert r.task("say hello").host == "localhost"
    assert not r.task("say hello").changed
    assert r.changed_tasks() == ["pretend change"]
    assert r.task("never").skipped
    assert r.task("boom").failed and r.task("boom")["ignore_errors"]
    assert r.failed_tasks() == []


def test_run_playbook_check_diff_and_failure_rc() -> None:
    r = run_playbook(
        [
            {
                "name": "fails",
                "ansible.builtin.assert": {"that": ["check_mode_seen"]},
                "vars": {"check_mode_seen": "{{ ansible_check_mode }}"},
            }
        ],
        garage=None,
        check=True,
        diff=True,
    )
    assert r.rc == 0, r.output
    r = run_playbook([{"name": "fails", "ansible.builtin.fail": {"msg": "nope"}}], garage=None)
    assert r.rc != 0
    assert r.failed_tasks() == ["fails"]
    assert r.task("fails").result["msg"] == "nope"


def test_run_adhoc_passes_connection_through_environment() -> None:
    garage = FakeGarage()
    r = run_adhoc(
        "ansible.builtin.debug",
        {"msg": "{{ lookup('env', 'GARAGE_ADMIN_URL') }}"},
        garage=garage,
    )
    assert r.rc == 0, r.output
    assert r.results and r.results[0].result["msg"] == garage.admin_url
