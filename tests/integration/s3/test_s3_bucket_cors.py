# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_cors against real Garage: check/apply/idempotence, a change with its diff,
removal, a browser pre-flight answered by Garage, and bad input refused before any request."""

from __future__ import annotations

import typing as t
import urllib.request

from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env, s3_quartet

MODULE = "cellar.garage.garage_bucket_cors"
RULE = {
    "allowed_origins": ["https://app.example.com", "https://*.example.org"],
    "allowed_methods": ["get", "PUT"],
    "allowed_headers": ["*"],
    "expose_headers": ["ETag"],
    "max_age_seconds": 600,
    "id": "browser-uploads",
}


def read_cors(env: S3Env) -> t.Any:
    try:
        return env.client.get_bucket_cors(Bucket=env.bucket)["CORSRules"]
    except env.client.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchCORSConfiguration":
            return None
        raise


def preflight(env: S3Env, origin: str) -> str | None:
    request = urllib.request.Request(
        f"{env.garage.s3_url}/{env.bucket}/some/key",
        method="OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "PUT"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError:
        return None


def test_cors_lifecycle_of_rules(s3env: S3Env) -> None:
    q = s3_quartet(s3env, MODULE, {"bucket": s3env.bucket, "rules": [RULE]}, lambda: read_cors(s3env))
    q.assert_converged()
    assert q.before is None
    assert q.apply.result["diff"]["before"] == {"state": "absent"}
    assert q.after == [
        {
            "ID": "browser-uploads",
            "AllowedHeaders": ["*"],
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://*.example.org", "https://app.example.com"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 600,
        }
    ]
    assert q.apply.result["rules"][0]["allowed_methods"] == ["GET", "PUT"]
    assert preflight(s3env, "https://app.example.com") == "https://app.example.com"
    assert preflight(s3env, "https://evil.example.net") is None

    changed = {**RULE, "allowed_methods": ["GET"], "allowed_origins": list(reversed(RULE["allowed_origins"]))}
    r = run_playbook(
        [
            {
                "name": "same rule, lists reordered",
                MODULE: {
                    "bucket": s3env.bucket,
                    "rules": [{**RULE, "allowed_origins": list(reversed(RULE["allowed_origins"]))}],
                },
            },
            {"name": "narrow", MODULE: {"bucket": s3env.bucket, "rules": [changed]}},
            {"name": "remove (check)", MODULE: {"bucket": s3env.bucket, "state": "absent"}, "check_mode": True},
        ],
        garage=None,
        s3=s3env.creds(),
        diff=True,
    )
    assert r.rc == 0, r.output
    assert not r.task("same rule, lists reordered").changed
    narrow = r.task("narrow")
    assert narrow.changed
    assert narrow.result["diff"]["before"]["rules"][0]["allowed_methods"] == ["GET", "PUT"]
    assert narrow.result["diff"]["after"]["rules"][0]["allowed_methods"] == ["GET"]
    assert r.task("remove (check)").changed
    assert read_cors(s3env)[0]["AllowedMethods"] == ["GET"], "check mode removed the rules"

    r = run_playbook(
        [
            {"name": "remove", MODULE: {"bucket": s3env.bucket, "state": "absent"}},
            {"name": "remove again", MODULE: {"bucket": s3env.bucket, "state": "absent"}},
        ],
        garage=None,
        s3=s3env.creds(),
    )
    assert r.rc == 0, r.output
    assert r.task("remove").changed and not r.task("remove again").changed
    assert read_cors(s3env) is None


def test_bad_origins_and_methods_are_refused_before_any_request(s3env: S3Env, s3proxy: t.Any) -> None:
    bad = [
        {"allowed_origins": ["app.example.com"], "allowed_methods": ["GET"]},
        {"allowed_origins": ["https://*.*.example.com"], "allowed_methods": ["GET"]},
        {"allowed_origins": ["https://ok.example.com/path"], "allowed_methods": ["GET"]},
        {"allowed_origins": ["*"], "allowed_methods": ["PATCH"]},
    ]
    r = run_playbook(
        [
            {"name": f"bad {i}", MODULE: {"bucket": s3env.bucket, "rules": [rule]}, "ignore_errors": True}
            for i, rule in enumerate(bad)
        ],
        garage=None,
        s3=s3env.creds(s3_url=s3proxy.url),
    )
    for i in range(len(bad)):
        result = r.task(f"bad {i}").result
        assert result["failure_reason"] == "invalid_input", result
    assert "PATCH" in r.task("bad 3").result["msg"]
    assert "app.example.com" in r.task("bad 0").result["msg"]
    assert s3proxy.calls() == {}, "a request was sent for invalid input"
    assert read_cors(s3env) is None
