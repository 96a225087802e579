# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_usage against real Garage: totals, groups, truncation, uploads apart, errors."""

from __future__ import annotations

import secrets

from tests.integration.ansible_run import run_playbook
from tests.integration.s3.s3_helpers import S3Env, assert_no_secret

MODULE = "cellar.garage.garage_bucket_usage"


def test_usage_totals_groups_truncation_and_uploads(s3env: S3Env) -> None:
    layout = {
        "photos/2024/a.jpg": 300,
        "photos/2024/b.jpg": 200,
        "photos/2025/c.jpg": 100,
        "photos/cover.jpg": 7,
        "docs/readme.txt": 11,
        "top.txt": 5,
    }
    for key, size in layout.items():
        s3env.client.put_object(Bucket=s3env.bucket, Key=key, Body=b"z" * size)
    s3env.put_many((f"bulk/{i:04d}" for i in range(1100)), body=b"0123456789")  # two listing pages
    s3env.start_upload("photos/pending.bin")
    bucket = s3env.bucket
    r = run_playbook(
        [
            {"name": "all", MODULE: {"bucket": bucket}},
            {"name": "per folder", MODULE: {"bucket": bucket, "group_by_prefix": 1}},
            {"name": "photos two levels", MODULE: {"bucket": bucket, "prefix": "photos/", "group_by_prefix": 1}},
            {"name": "capped", MODULE: {"bucket": bucket, "max_objects": 1000}},
            {"name": "exactly", MODULE: {"bucket": bucket, "prefix": "photos/", "max_objects": 4}},
            {"name": "check mode", MODULE: {"bucket": bucket, "prefix": "docs/"}, "check_mode": True},
            {"name": "missing", MODULE: {"bucket": "no-such-" + secrets.token_hex(4)}, "ignore_errors": True},
            {"name": "bad input", MODULE: {"bucket": bucket, "max_objects": 0}, "ignore_errors": True},
        ],
        garage=None,
        s3=s3env.creds(),
        verbosity=3,
    )
    total = sum(layout.values()) + 1100 * 10
    everything = r.task("all").result
    assert not r.task("all").changed
    assert (everything["count"], everything["bytes"], everything["truncated"]) == (1106, total, False)
    assert everything["multipart_uploads"] == 1
    assert "prefixes" not in everything

    groups = {g["prefix"]: (g["count"], g["bytes"]) for g in r.task("per folder").result["prefixes"]}
    assert groups == {"": (1, 5), "bulk/": (1100, 11000), "docs/": (1, 11), "photos/": (4, 607)}

    photos = r.task("photos two levels").result
    assert (photos["count"], photos["bytes"]) == (4, 607)
    assert {g["prefix"]: g["count"] for g in photos["prefixes"]} == {
        "photos/": 1,
        "photos/2024/": 2,
        "photos/2025/": 1,
    }
    assert photos["multipart_uploads"] == 1

    capped = r.task("capped").result
    assert (capped["count"], capped["truncated"]) == (1000, True)
    exactly = r.task("exactly").result
    assert (exactly["count"], exactly["truncated"]) == (4, False)
    assert r.task("check mode").result["count"] == 1

    assert r.task("missing").result["failure_reason"] == "bucket_not_found"
    assert r.task("bad input").result["failure_reason"] == "invalid_input"
    assert_no_secret(r, s3env.secret)
