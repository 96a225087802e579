# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket against a real Garage cluster, with real ansible-playbook."""

from __future__ import annotations

import pytest

from tests.integration._bucket_helpers import (
    bucket_oob,
    bucket_read,
    create_bucket_oob,
    quartet,
    run_one,
    settled,
    uid,
)
from tests.integration.ansible_run import run_adhoc, run_playbook

MOD = "cellar.garage.garage_bucket"


def test_create_with_aliases_website_quotas(garage):
    name, extra = uid("photos"), uid("pics")
    args = {
        "name": name,
        "global_aliases": [extra],
        "website": {"enabled": True, "error_document": "404.html"},
        "quotas": {"max_size": "512MiB", "max_objects": 1000},
    }
    q = quartet(garage, MOD, args, bucket_read(name=name)).assert_converged()
    assert q.before is None
    # check mode predicted the bucket (no id yet) exactly as the real run made it
    predicted, made = q.check.result["bucket"], q.apply.result["bucket"]
    assert predicted["id"] is None and made["id"] == q.after["id"]
    assert {k: v for k, v in predicted.items() if k not in ("id", "created")} == {
        k: v for k, v in made.items() if k not in ("id", "created")
    }
    # out of band: everything the task said
    assert sorted(q.after["globalAliases"]) == sorted([name, extra])
    assert q.after["websiteAccess"] is True
    website = dict(q.after["websiteConfig"])
    assert website.pop("routingRules", []) == []  # Garage >= 2.3 lists routing rules, none here
    assert website == {"indexDocument": "index.html", "errorDocument": "404.html"}
    assert q.after["quotas"] == {"maxSize": 512 * 1024**2, "maxObjects": 1000}
    assert bucket_oob(garage, name=extra)["id"] == q.after["id"]
    # diff
    assert q.apply.result["diff"]["before"] == {"state": "absent"}
    after = q.apply.result["diff"]["after"]
    assert after["state"] == "present" and after["quotas"] == {"max_size": 512 * 1024**2, "max_objects": 1000}
    assert q.idem_apply.result["diff"]["before"] == q.idem_apply.result["diff"]["after"]


@pytest.mark.parametrize(
    "quotas, expected",
    [
        ({"max_objects": 200}, {"maxSize": 10**9, "maxObjects": 200}),
        ({"max_size": "2G"}, {"maxSize": 2 * 10**9, "maxObjects": 100}),
        ({"max_size": "none"}, {"maxSize": None, "maxObjects": 100}),
        ({"max_objects": None}, {"maxSize": 10**9, "maxObjects": None}),
    ],
    ids=["objects-only", "size-only", "clear-size-with-none", "clear-objects-with-null"],
)
def test_changing_one_quota_keeps_the_other(garage, quotas, expected):
    name = uid("quota")
    create_bucket_oob(garage, name, quotas={"maxSize": 10**9, "maxObjects": 100})
    q = quartet(garage, MOD, {"name": name, "quotas": quotas}, bucket_read(name=name))
    q.assert_converged()
    assert q.before["quotas"] == {"maxSize": 10**9, "maxObjects": 100}
    assert q.after["quotas"] == expected
    diff = q.apply.result["diff"]
    assert diff["before"]["quotas"] == {"max_size": 10**9, "max_objects": 100}
    assert diff["after"]["quotas"] == {"max_size": expected["maxSize"], "max_objects": expected["maxObjects"]}


def test_purge_global_aliases_keeps_name(garage):
    name, old1, old2, new = uid("main"), uid("old"), uid("old"), uid("new")
    info = create_bucket_oob(garage, name)
    for alias in (old1, old2):
        garage.ok("AddBucketAlias", body={"bucketId": info["id"], "globalAlias": alias})
    args = {"name": name, "global_aliases": [new], "purge_global_aliases": True}
    q = quartet(garage, MOD, args, bucket_read(name=name)).assert_converged()
    assert sorted(q.before["globalAliases"]) == sorted([name, old1, old2])
    assert sorted(q.after["globalAliases"]) == sorted([name, new])
    assert bucket_oob(garage, name=old1) is None and bucket_oob(garage, name=old2) is None
    assert q.apply.result["diff"]["before"]["global_aliases"] == sorted([name, old1, old2])
    assert q.apply.result["diff"]["after"]["global_aliases"] == sorted([name, new])


def test_aliases_without_purge_only_add(garage):
    name, old, new = uid("main"), uid("old"), uid("new")
    info = create_bucket_oob(garage, name)
    garage.ok("AddBucketAlias", body={"bucketId": info["id"], "globalAlias": old})
    q = quartet(garage, MOD, {"id": info["id"], "global_aliases": [new]}, bucket_read(name=name))
    q.assert_converged()
    assert sorted(q.after["globalAliases"]) == sorted([name, old, new])


def test_website_disable_and_reenable(garage):
    name = uid("web")
    create_bucket_oob(garage, name, websiteAccess={"enabled": True, "indexDocument": "home.html"})
    q = quartet(garage, MOD, {"name": name, "website": {"enabled": False}}, bucket_read(name=name))
    q.assert_converged()
    assert q.before["websiteAccess"] is True and q.after["websiteAccess"] is False
    q = quartet(garage, MOD, {"name": name, "website": {"enabled": True}}, bucket_read(name=name))
    q.assert_converged()
    assert q.after["websiteConfig"]["indexDocument"] == "index.html"
    assert q.apply.result["diff"]["after"]["website"]["enabled"] is True


def test_absent_on_non_empty_bucket_fails_and_changes_nothing(garage):
    name = uid("full")
    info = create_bucket_oob(garage, name)
    key_id, secret = garage.create_key(uid("writer"))
    garage.ok(
        "AllowBucketKey",
        body={"bucketId": info["id"], "accessKeyId": key_id, "permissions": {"read": True, "write": True}},
    )
    s3 = garage.s3_client(key_id, secret)
    s3.put_object(Bucket=name, Key="a.txt", Body=b"hello")
    s3.put_object(Bucket=name, Key="b.txt", Body=b"world")
    before = bucket_oob(garage, name=name)
    assert before["objects"] == 2
    r = run_playbook(
        [
            {"name": "check", MOD: {"name": name, "state": "absent"}, "check_mode": True, "ignore_errors": True},
            {"name": "apply", MOD: {"name": name, "state": "absent"}, "ignore_errors": True},
        ],
        garage=garage,
    )
    for task in (r.task("check"), r.task("apply")):
        assert task.failed and not task.changed
        assert "2 object(s)" in task.result["msg"] and "empty it first" in task.result["msg"]
    assert bucket_oob(garage, name=name) == before
    # once emptied, absent deletes it (check -> apply -> idempotent)
    s3.delete_object(Bucket=name, Key="a.txt")
    s3.delete_object(Bucket=name, Key="b.txt")
    settled(garage, name, objects=0)  # the counter lags: let it settle before the quartet reads
    q = quartet(garage, MOD, {"name": name, "state": "absent"}, bucket_read(bucket_id=info["id"]))
    q.assert_converged()
    assert q.after is None
    assert q.apply.result["diff"]["after"] == {"state": "absent"}
    assert q.apply.result["diff"]["before"]["id"] == info["id"]


def test_new_bucket_is_rolled_back_when_its_configuration_fails(garage):
    """UpdateBucket fails (injected 500) after CreateBucket: the new bucket is deleted again."""
    name = uid("rollback")
    garage.fault("UpdateBucket", status=500, code="InternalError", message="injected fault")
    try:
        task = run_one(garage, MOD, {"name": name, "quotas": {"max_objects": 5}})
    finally:
        garage.clear_faults()
    assert task.failed and not task.changed
    assert "Failed to configure new bucket" in task.result["msg"] and "injected fault" in task.result["msg"]
    assert "deleted again" in task.result["msg"]
    assert bucket_oob(garage, name=name) is None


def test_present_by_unknown_id_fails(garage):
    task = run_one(garage, MOD, {"id": "0" * 64})
    assert task.failed and "does not exist" in task.result["msg"]


def test_alias_of_other_bucket_refused_before_creating(garage):
    taken = uid("taken")
    create_bucket_oob(garage, taken)
    name = uid("new")
    task = run_one(garage, MOD, {"name": name, "global_aliases": [taken]})
    assert task.failed and f"Global alias '{taken}' already belongs to another bucket" in task.result["msg"]
    assert bucket_oob(garage, name=name) is None


def test_noop_costs_one_read(garage):
    """A converged bucket (set up out of band) costs one GetBucketInfo."""
    name, extra = uid("cost"), uid("x")
    info = create_bucket_oob(
        garage,
        name,
        websiteAccess={"enabled": True, "indexDocument": "index.html"},
        quotas={"maxSize": 10**9, "maxObjects": 10},
    )
    garage.ok("AddBucketAlias", body={"bucketId": info["id"], "globalAlias": extra})
    args = {
        "name": name,
        "global_aliases": [extra],
        "website": {"enabled": True},
        "quotas": {"max_size": "1G", "max_objects": 10},
    }
    garage.reset_calls()
    task = run_one(garage, MOD, args)
    calls = {k: v for k, v in garage.calls().items() if v}
    assert not task.failed and not task.changed
    assert calls == {"GetBucketInfo": 1}, calls


def test_adhoc_from_a_shell_without_leaking_the_token(garage):
    """`ansible localhost -m cellar.garage.garage_bucket -a name=...` with the connection from the environment."""
    name = uid("adhoc")
    r = run_adhoc(MOD, f"name={name} quotas={{'max_objects':3}}", garage=garage, diff=True, verbosity=3)
    assert r.rc == 0, r.output
    task = r.results[0]
    assert task.changed and task.result["bucket"]["quotas"]["max_objects"] == 3
    assert bucket_oob(garage, name=name)["quotas"]["maxObjects"] == 3
    assert garage.admin_token not in r.stdout + r.stderr
