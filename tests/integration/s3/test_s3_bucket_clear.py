# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_clear against real Garage, through real ansible-playbook.

Every claim is checked out of band (boto3 listing with the test's own client): check mode
deletes nothing, a prefix clear leaves the other prefixes, a second run changes nothing, a bad
credential / missing bucket / unreachable endpoint deletes nothing, a partial failure (fault
proxy) reports what is left and a re-run finishes the job.
"""

from __future__ import annotations

import secrets
import typing as t

from tests.fixtures.garage import free_port
from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env, assert_no_secret, make_env

MODULE = "cellar.garage.garage_bucket_clear"


def test_prefix_clear_check_apply_idempotent(s3env: S3Env) -> None:
    s3env.put_many(f"tmp/{i // 100:02d}/{i:05d}" for i in range(1200))
    s3env.put_many(f"keep/{i}" for i in range(10))
    s3env.put_many(["tmpfile-not-under-prefix"])
    s3env.start_upload("tmp/unfinished.bin")
    s3env.start_upload("keep/unfinished.bin")
    args = {"bucket": s3env.bucket, "prefix": "tmp/", "abort_multipart_uploads": True}

    check = run_playbook(
        [{"name": "check", MODULE: args, "check_mode": True}], garage=None, s3=s3env.creds(), diff=True
    )
    assert check.rc == 0, check.output
    predicted = check.task("check")
    assert predicted.changed
    assert predicted.result["deleted_count"] == 1200
    assert predicted.result["aborted_uploads_count"] == 1
    assert predicted.result["diff"]["before"]["objects"] == 1200
    assert predicted.result["diff"]["after"]["objects"] == 0
    assert len(s3env.keys("tmp/")) == 1200, "check mode deleted objects"
    assert s3env.uploads("tmp/") == ["tmp/unfinished.bin"], "check mode aborted an upload"

    r = run_playbook(
        [
            {"name": "apply", MODULE: args},
            {"name": "idempotent check", MODULE: args, "check_mode": True},
            {"name": "idempotent apply", MODULE: args},
        ],
        garage=None,
        s3=s3env.creds(),
        diff=True,
        verbosity=3,
    )
    assert r.rc == 0, r.output
    applied = r.task("apply")
    assert applied.changed
    assert {k: applied.result[k] for k in ("deleted_count", "failed_count", "errors", "aborted_uploads_count")} == {
        "deleted_count": 1200,
        "failed_count": 0,
        "errors": [],
        "aborted_uploads_count": 1,
    }
    assert applied.result["diff"] == predicted.result["diff"], "check mode predicted another diff"
    assert applied.result["duration_seconds"] >= 0
    assert not r.task("idempotent check").changed
    assert not r.task("idempotent apply").changed
    assert r.task("idempotent apply").result["deleted_count"] == 0
    assert s3env.keys("tmp/") == []
    assert sorted(s3env.keys("keep/")) == sorted(f"keep/{i}" for i in range(10))
    assert s3env.keys("tmpfile") == ["tmpfile-not-under-prefix"]
    assert s3env.uploads() == ["keep/unfinished.bin"]
    assert_no_secret(r, s3env.secret)


def test_bad_credentials_fail_auth_failed_and_delete_nothing(s3env: S3Env) -> None:
    s3env.put_many(f"obj/{i}" for i in range(5))
    wrong_secret = secrets.token_hex(32)
    unknown_key = "GK" + secrets.token_hex(12)
    # Secrets travel as variables, as in a real playbook: Ansible quotes the failing task's source
    # lines in its error report, and a literal secret there would be Ansible's leak, not ours.
    tasks = [
        {
            "name": "wrong secret",
            MODULE: {"bucket": s3env.bucket, "secret_access_key": "{{ wrong_secret }}"},
            "ignore_errors": True,
        },
        {"name": "unknown key", MODULE: {"bucket": s3env.bucket, "access_key_id": unknown_key}, "ignore_errors": True},
        {"name": "wrong region", MODULE: {"bucket": s3env.bucket, "region": "us-east-1"}, "ignore_errors": True},
    ]
    r = run_playbook(tasks, garage=None, s3=s3env.creds(), verbosity=3, extra_vars={"wrong_secret": wrong_secret})
    for name in ("wrong secret", "unknown key", "wrong region"):
        result = r.task(name).result
        assert r.task(name).failed, result
        assert result["failure_reason"] == "auth_failed", result
        assert result["changed"] is False
    assert "region" in r.task("wrong region").result["msg"]
    assert len(s3env.keys("obj/")) == 5
    assert_no_secret(r, wrong_secret, s3env.secret)


def test_missing_bucket_denied_key_and_unreachable_endpoint(garage: t.Any, s3env: S3Env) -> None:
    stranger = make_env(garage)  # a key with no permission on s3env's bucket
    s3env.put_many(["still-here"])
    tasks = [
        {"name": "missing", MODULE: {"bucket": "no-such-bucket-" + secrets.token_hex(4)}, "ignore_errors": True},
        {
            "name": "denied",
            MODULE: {
                "bucket": s3env.bucket,
                "access_key_id": stranger.key_id,
                "secret_access_key": "{{ stranger_secret }}",
            },
            "ignore_errors": True,
        },
        {
            "name": "unreachable",
            MODULE: {"bucket": s3env.bucket, "s3_url": f"http://127.0.0.1:{free_port()}"},
            "ignore_errors": True,
        },
    ]
    r = run_playbook(tasks, garage=None, s3=s3env.creds(), extra_vars={"stranger_secret": stranger.secret})
    assert r.task("missing").result["failure_reason"] == "bucket_not_found", r.task("missing").result
    assert r.task("denied").result["failure_reason"] == "access_denied", r.task("denied").result
    assert r.task("unreachable").result["failure_reason"] == "os_error", r.task("unreachable").result
    assert all(r.task(n).failed and not r.task(n).changed for n in ("missing", "denied", "unreachable"))
    assert s3env.keys() == ["still-here"]


def test_partial_failure_reports_what_is_left_and_a_rerun_finishes(s3env: S3Env, s3proxy: t.Any) -> None:
    s3env.put_many(f"p/{i:04d}" for i in range(1001))  # two DeleteObjects batches: 1000 + 1
    # One worker: batches go in listing order. The first batch fails on every attempt the client
    # makes (its standard retry mode tries 3 times), the second one succeeds.
    s3proxy.fault("DeleteObjects", nth=1, times=3, status=500, code="InternalError", message="injected")
    args = {"bucket": s3env.bucket, "workers": 1}
    r = run_playbook(
        [{"name": "clear", MODULE: args, "ignore_errors": True}], garage=None, s3=s3env.creds(s3_url=s3proxy.url)
    )
    first = r.task("clear")
    assert first.failed, first.result
    assert first.result["failure_reason"] == "partial_failure"
    assert first.changed
    assert (first.result["deleted_count"], first.result["failed_count"]) == (1, 1000)
    assert len(first.result["errors"]) == 10
    assert {e["code"] for e in first.result["errors"]} == {"InternalError"}
    assert all(e["key"].startswith("p/") for e in first.result["errors"])
    assert "run again" in first.result["msg"]
    assert s3proxy.calls()["DeleteObjects"] == 4  # 3 attempts of batch 1, 1 of batch 2
    assert len(s3env.keys("p/")) == 1000

    r = run_playbook(
        [{"name": "rerun", MODULE: args}, {"name": "third run", MODULE: args}],
        garage=None,
        s3=s3env.creds(s3_url=s3proxy.url),
    )
    assert r.rc == 0, r.output
    assert r.task("rerun").changed and r.task("rerun").result["deleted_count"] == 1000
    assert not r.task("third run").changed
    assert s3env.keys() == []


def test_one_failed_attempt_is_retried(s3env: S3Env, s3proxy: t.Any) -> None:
    s3env.put_many(f"r/{i}" for i in range(20))
    s3proxy.fault("DeleteObjects", nth=1, times=1, status=503, code="SlowDown", message="injected")
    r = run_playbook(
        [{"name": "clear", MODULE: {"bucket": s3env.bucket, "workers": 1}}],
        garage=None,
        s3=s3env.creds(s3_url=s3proxy.url),
    )
    assert r.rc == 0, r.output
    assert r.task("clear").result["deleted_count"] == 20
    assert s3proxy.calls()["DeleteObjects"] == 2
    assert s3env.keys() == []


def test_async_poll(s3env: S3Env) -> None:
    s3env.put_many(f"a/{i}" for i in range(50))
    r = run_playbook(
        [{"name": "clear in the background", MODULE: {"bucket": s3env.bucket}, "async": 120, "poll": 1}],
        garage=None,
        s3=s3env.creds(),
    )
    assert r.rc == 0, r.output
    record = r.task("clear in the background")
    assert record.changed and record.result["deleted_count"] == 50, record.result
    assert s3env.keys() == []
