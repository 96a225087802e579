# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input is refused with a clear message and changes NOTHING.

Every row of the table is a task of one real ``ansible-playbook`` run (``ignore_errors`` so that
the run goes on); each row asserts ``failed: true`` and a message fragment, and the whole cluster
state read out of band before the run must equal the one after it. One run keeps this fast.
"""

from __future__ import annotations

import socket
import typing as t

import pytest

from tests.integration._bucket_helpers import create_bucket_oob, uid
from tests.integration.ansible_run import PlaybookResult, run_playbook

B = "cellar.garage.garage_bucket"
BI = "cellar.garage.garage_bucket_info"
BA = "cellar.garage.garage_bucket_alias"
BP = "cellar.garage.garage_bucket_permission"
K = "cellar.garage.garage_key"

UNKNOWN_BUCKET_ID = "0" * 64
UNKNOWN_KEY_ID = "GK" + "0" * 24
WRONG_TOKEN = "wrong-token-" + "7" * 20


def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# (case id, module, args -- "{bucket}" / "{key}" are an existing bucket name / key id --, message fragment)
CASES: list[tuple[str, str, dict[str, t.Any], str]] = [
    ("name-uppercase-underscore", B, {"name": "Bad_Name"}, "Invalid bucket name 'Bad_Name'"),
    ("name-too-short", B, {"name": "ab"}, "3 to 63 characters"),
    ("name-dash-edges", B, {"name": "-x-"}, "must not start or end with '.' or '-'"),
    ("name-ip-address", B, {"name": "192.168.1.1"}, "must not be an IP address"),
    ("alias-invalid", BA, {"bucket": "{bucket}", "alias": "Bad_Alias"}, "Invalid alias 'Bad_Alias'"),
    ("extra-alias-invalid", B, {"name": "{bucket}", "global_aliases": ["UPPER"]}, "Invalid global alias 'UPPER'"),
    ("bucket-id-malformed", BI, {"id": "abc"}, "Invalid bucket id 'abc'"),
    ("bucket-id-unknown", B, {"id": UNKNOWN_BUCKET_ID, "quotas": {"max_objects": 1}}, "does not exist"),
    (
        "bucket-id-unknown-permission",
        BP,
        {"bucket_id": UNKNOWN_BUCKET_ID, "access_key_id": "{key}", "read": True},
        f"Bucket '{UNKNOWN_BUCKET_ID}' does not exist",
    ),
    (
        "access-key-unknown-permission",
        BP,
        {"bucket": "{bucket}", "access_key_id": UNKNOWN_KEY_ID, "write": True},
        f"Access key '{UNKNOWN_KEY_ID}' does not exist",
    ),
    (
        "access-key-unknown-local-alias",
        BA,
        {"bucket": "{bucket}", "alias": "mine", "access_key_id": UNKNOWN_KEY_ID},
        f"Access key '{UNKNOWN_KEY_ID}' does not exist",
    ),
    ("access-key-id-malformed", BP, {"bucket": "{bucket}", "access_key_id": "AKIA123", "read": True}, "AKIA123"),
    ("size-unknown-unit", B, {"name": "{bucket}", "quotas": {"max_size": "10X"}}, "Invalid size '10X'"),
    ("objects-negative", B, {"name": "{bucket}", "quotas": {"max_objects": -5}}, "must not be negative"),
    ("name-and-id", B, {"name": "{bucket}", "id": UNKNOWN_BUCKET_ID}, "mutually exclusive: name|id"),
    (
        "website-disabled-with-index",
        B,
        {"name": "{bucket}", "website": {"enabled": False, "index_document": "index.html"}},
        "website.index_document",
    ),
    (
        "token-and-token-file",
        B,
        {"name": "{bucket}", "admin_token_file": "/nonexistent/token"},
        "mutually exclusive: admin_token|admin_token_file",
    ),
    (
        "purge-last-alias",
        B,
        {"id": "{bucket_id}", "global_aliases": [], "purge_global_aliases": True},
        "without any alias",
    ),
    ("permission-without-flags", BP, {"bucket": "{bucket}", "access_key_id": "{key}"}, "at least one of read"),
    (
        "unreachable-admin-url",
        B,
        {"name": "{bucket}", "admin_url": "http://127.0.0.1:{closed_port}", "timeout": 2, "retries": 0},
        "Cannot reach Garage admin API",
    ),
    # the token comes from a variable, as a user's would (a literal would show in Ansible's error context)
    ("wrong-token", B, {"name": "{bucket}", "admin_token": "{{ wrong_token }}"}, "AccessDenied: Forbidden"),
    ("key-unknown-id-update", K, {"id": UNKNOWN_KEY_ID, "name": "renamed"}, "does not exist"),
    (
        "key-import-bad-secret",
        K,
        {"id": "GK" + "1" * 24, "secret_access_key": "not-a-secret"},
        "secret_access_key must be exactly 64 hexadecimal characters",
    ),
]


def snapshot(garage: t.Any) -> t.Any:
    """The whole cluster state, out of band: buckets, keys, admin tokens, layout."""
    return garage.state()


def fill(value: t.Any, subst: dict[str, str]) -> t.Any:
    if isinstance(value, str):
        for k, v in subst.items():
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, dict):
        return {k: fill(v, subst) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, subst) for v in value]
    return value


@pytest.fixture(scope="module")
def bad_run(garage: t.Any) -> tuple[PlaybookResult, t.Any, t.Any]:
    name = uid("bad")
    info = create_bucket_oob(garage, name)
    key_id, _secret = garage.create_key(uid("bad-key"))
    subst = {"bucket": name, "bucket_id": info["id"], "key": key_id, "closed_port": str(closed_port())}
    tasks = [
        {"name": case_id, module: fill(args, subst), "ignore_errors": True}
        for case_id, module, args, _fragment in CASES
    ]
    before = snapshot(garage)
    result = run_playbook(tasks, garage=garage, diff=True, extra_vars={"wrong_token": WRONG_TOKEN})
    after = snapshot(garage)
    return result, before, after


@pytest.mark.parametrize("case_id, module, args, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_changes_nothing(bad_run, case_id, module, args, fragment):
    result, before, after = bad_run
    task = result.task(case_id)
    assert task.failed, task.result
    assert not task.changed, task.result
    assert fragment in task.result.get("msg", ""), task.result
    assert after == before


def test_no_secret_in_output(bad_run, garage):
    result, _before, _after = bad_run
    for text in (result.stdout, result.stderr):
        assert garage.admin_token not in text
        assert WRONG_TOKEN not in text
    for record in result.results:
        assert garage.admin_token not in str(record.result)
        assert WRONG_TOKEN not in str(record.result)
