# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No S3 secret in what Ansible prints or logs, for every S3 module, on success and on failure.

One playbook, run with -vvv and --diff and a log file: each module once with the good
credentials (module_defaults) and once with a wrong secret (a variable, as operators pass it),
plus a failure after the pre-flight (a refused lifecycle rule, a missing object). A control
marker printed on purpose proves the search finds what is printed.
"""

from __future__ import annotations

import secrets
import typing as t
import uuid
from pathlib import Path

from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env

CALLS: dict[str, dict[str, t.Any]] = {
    "cellar.garage.garage_bucket_clear": {"prefix": "tmp/"},
    "cellar.garage.garage_bucket_usage": {"group_by_prefix": 1},
    "cellar.garage.garage_bucket_cors": {"rules": [{"allowed_origins": ["*"], "allowed_methods": ["GET"]}]},
    "cellar.garage.garage_bucket_lifecycle": {"rules": [{"prefix": "tmp/", "expiration_days": 1}]},
    "cellar.garage.garage_object": {"key": "hello.txt", "mode": "put", "content": "hello"},
}


def test_no_secret_in_output_or_log(s3env: S3Env, tmp_path: Path) -> None:
    s3env.put_many(["tmp/a", "tmp/b", "keep/c"])
    wrong = secrets.token_hex(32)
    marker = f"CONTROL-MARKER-{uuid.uuid4().hex}"
    log_file = tmp_path / "ansible.log"
    tasks: list[dict[str, t.Any]] = [{"name": "control", "ansible.builtin.debug": {"msg": "{{ marker }}"}}]
    for module, args in CALLS.items():
        short = module.rsplit(".", 1)[1]
        tasks.append({"name": f"{short} ok", module: {"bucket": s3env.bucket, **args}})
        tasks.append(
            {
                "name": f"{short} wrong secret",
                module: {"bucket": s3env.bucket, "secret_access_key": "{{ wrong }}", **args},
                "ignore_errors": True,
            }
        )
    tasks += [
        {
            "name": "refused rule",
            "cellar.garage.garage_bucket_lifecycle": {"bucket": s3env.bucket, "rules": [{"tags": {"a": "b"}}]},
            "ignore_errors": True,
        },
        {
            "name": "missing object",
            "cellar.garage.garage_object": {
                "bucket": s3env.bucket,
                "key": "nope",
                "mode": "get",
                "dest": str(tmp_path / "x"),
            },
            "ignore_errors": True,
        },
        {
            "name": "presigned url",
            "cellar.garage.garage_object": {"bucket": s3env.bucket, "key": "hello.txt", "mode": "geturl"},
        },
    ]
    r = run_playbook(
        tasks,
        garage=None,
        s3=s3env.creds(),
        diff=True,
        verbosity=3,
        extra_vars={"wrong": wrong, "marker": marker},
        env={"ANSIBLE_LOG_PATH": str(log_file)},
    )
    for module in CALLS:
        short = module.rsplit(".", 1)[1]
        assert not r.task(f"{short} ok").failed, r.task(f"{short} ok").result
        failed = r.task(f"{short} wrong secret")
        assert failed.failed and failed.result["failure_reason"] == "auth_failed", failed.result
    assert r.task("refused rule").result["failure_reason"] == "lifecycle_rule_unsupported"
    assert r.task("missing object").result["failure_reason"] == "object_not_found"
    printed = r.stdout + r.stderr
    logged = log_file.read_text(encoding="utf-8")
    assert marker in printed and marker in logged, "the control marker was not found: the search proves nothing"
    for secret in (s3env.secret, wrong):
        assert secret not in printed, "a secret was printed"
        assert secret not in logged, "a secret was logged"
