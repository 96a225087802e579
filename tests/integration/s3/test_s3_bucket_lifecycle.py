# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_lifecycle against real Garage: check/apply/idempotence, removal, and rules
Garage cannot honour refused (with the reason) before any request."""

from __future__ import annotations

import typing as t

from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env, s3_quartet

MODULE = "cellar.garage.garage_bucket_lifecycle"
RULES = [
    {"id": "tmp", "prefix": "tmp/", "expiration_days": 7},
    {"id": "old-big-logs", "prefix": "logs/", "object_size_greater_than": 1048576, "expiration_date": "2030-01-01"},
    {"id": "uploads", "abort_incomplete_multipart_upload_days": 3},
    {"id": "paused", "object_size_less_than": 10, "expiration_days": 1, "status": "disabled"},
]


def read_lifecycle(env: S3Env) -> t.Any:
    try:
        return env.client.get_bucket_lifecycle_configuration(Bucket=env.bucket)["Rules"]
    except env.client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchLifecycleConfiguration":
            return None
        raise


def test_lifecycle_rules_converge_and_go(s3env: S3Env) -> None:
    q = s3_quartet(s3env, MODULE, {"bucket": s3env.bucket, "rules": RULES}, lambda: read_lifecycle(s3env))
    q.assert_converged()
    assert q.before is None
    by_id = {rule["ID"]: rule for rule in q.after}
    assert by_id["tmp"]["Expiration"] == {"Days": 7} and by_id["tmp"]["Filter"] == {"Prefix": "tmp/"}
    assert by_id["old-big-logs"]["Filter"] == {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 1048576}}
    assert str(by_id["old-big-logs"]["Expiration"]["Date"]).startswith("2030-01-01")
    assert by_id["uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 3}
    assert by_id["paused"]["Status"] == "Disabled"
    assert q.apply.result["rules"][1]["expiration_date"] == "2030-01-01"

    r = run_playbook(
        [
            {
                "name": "date given as midnight UTC",
                MODULE: {
                    "bucket": s3env.bucket,
                    "rules": [*RULES[:1], {**RULES[1], "expiration_date": "2030-01-01T00:00:00Z"}, *RULES[2:]],
                },
            },
            {"name": "one rule less", MODULE: {"bucket": s3env.bucket, "rules": RULES[:3]}},
            {"name": "remove", MODULE: {"bucket": s3env.bucket, "state": "absent"}},
            {"name": "remove again", MODULE: {"bucket": s3env.bucket, "state": "absent"}},
        ],
        garage=None,
        s3=s3env.creds(),
        diff=True,
    )
    assert r.rc == 0, r.output
    assert not r.task("date given as midnight UTC").changed
    fewer = r.task("one rule less")
    assert fewer.changed and len(fewer.result["diff"]["before"]["rules"]) == 4
    assert len(fewer.result["diff"]["after"]["rules"]) == 3
    assert r.task("remove").changed and not r.task("remove again").changed
    assert read_lifecycle(s3env) is None


def test_unsupported_and_invalid_rules_are_refused_before_any_request(s3env: S3Env, s3proxy: t.Any) -> None:
    cases = {
        "transition": {"prefix": "a/", "expiration_days": 30, "transitions": [{"days": 7, "storage_class": "GLACIER"}]},
        "noncurrent": {"noncurrent_version_expiration_days": 3},
        "tags": {"tags": {"team": "x"}, "expiration_days": 3},
        "delete marker": {"expired_object_delete_marker": True},
        "no action": {"prefix": "a/"},
        "both expirations": {"expiration_days": 3, "expiration_date": "2030-01-01"},
        "date not midnight": {"expiration_date": "2030-01-01T12:00:00Z"},
    }
    r = run_playbook(
        [
            {"name": name, MODULE: {"bucket": s3env.bucket, "rules": [rule]}, "ignore_errors": True}
            for name, rule in cases.items()
        ],
        garage=None,
        s3=s3env.creds(s3_url=s3proxy.url),
    )
    reasons = {name: r.task(name).result.get("failure_reason") for name in cases}
    assert reasons == {
        "transition": "lifecycle_rule_unsupported",
        "noncurrent": "lifecycle_rule_unsupported",
        "tags": "lifecycle_rule_unsupported",
        "delete marker": "lifecycle_rule_unsupported",
        "no action": "invalid_input",
        "both expirations": "invalid_input",
        "date not midnight": "invalid_input",
    }
    assert "single storage class" in r.task("transition").result["msg"]
    assert r.task("transition").result["unsupported"] == [
        "rules[0].transitions: Garage has a single storage class: objects cannot transition to another one"
    ]
    assert "versioning" in r.task("noncurrent").result["msg"]
    assert s3proxy.calls() == {}, "a request was sent for a refused rule"
    assert read_lifecycle(s3env) is None
