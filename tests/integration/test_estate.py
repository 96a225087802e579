# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_estate through the real ansible-playbook against a Garage: the quartet on a whole
estate, check mode's full plan for resources that do not exist yet, purge, bad input refused
before anything changes, and a failure half-way that keeps the secrets of what it created."""

from __future__ import annotations

import typing as t

from tests.integration._bucket_helpers import bucket_oob, create_bucket_oob, perms_of, settled, uid
from tests.integration.ansible_run import PlaybookResult, TaskRecord, run_playbook
from tests.integration.quartet import Scenario, run_quartets

MODULE = "cellar.garage.garage_estate"


def keys_named(garage: t.Any, name: str) -> list[dict[str, t.Any]]:
    return [k for k in garage.ok("ListKeys") if k["name"] == name]


def tokens_named(garage: t.Any, name: str) -> list[dict[str, t.Any]]:
    return [tok for tok in garage.ok("ListAdminTokens") if tok.get("name") == name]


def estate(p: str) -> dict[str, t.Any]:
    """A small estate whose names all start with ``p``."""
    return {
        "keys": [{"name": f"{p}-app"}, {"name": f"{p}-backup", "allow_create_bucket": True}],
        "buckets": [
            {"name": f"{p}-photos", "global_aliases": [f"{p}-pics"], "quotas": {"max_size": "1G"}},
            {"name": f"{p}-backups", "website": {"enabled": True}},
        ],
        "local_aliases": [{"alias": f"{p}-media", "bucket": f"{p}-photos", "key": f"{p}-app"}],
        "permissions": [
            {"bucket": f"{p}-photos", "key": f"{p}-app", "read": True, "write": True},
            {"bucket": f"{p}-backups", "key": f"{p}-backup", "read": True, "write": True, "owner": True},
            {"bucket": f"{p}-photos", "key": f"{p}-backup", "read": True},
        ],
        "admin_tokens": [{"name": f"{p}-prom", "scope": ["Metrics", "GetClusterHealth"]}],
    }


def test_estate_quartet(garage: t.Any) -> None:
    p = uid("est")
    args = estate(p)

    def untouched() -> None:
        assert keys_named(garage, f"{p}-app") == [] and bucket_oob(garage, name=f"{p}-photos") is None
        assert tokens_named(garage, f"{p}-prom") == []

    def checked(rec: TaskRecord) -> None:
        changes = rec.result["changes"]
        # the full plan, including what depends on keys and buckets that do not exist yet
        assert rec.result["counts"] == {
            "keys": 2,
            "buckets": 2,
            "local_aliases": 1,
            "permissions": 3,
            "admin_tokens": 1,
        }
        assert {"resource": f"permissions of key '{p}-app' on bucket '{p}-photos'", "action": "update"} in changes[
            "permissions"
        ]
        assert "secrets" not in rec.result

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        app, backup = keys_named(garage, f"{p}-app"), keys_named(garage, f"{p}-backup")
        assert len(app) == 1 and len(backup) == 1
        photos = bucket_oob(garage, name=f"{p}-photos")
        backups = bucket_oob(garage, name=f"{p}-backups")
        assert photos is not None and backups is not None
        assert f"{p}-pics" in photos["globalAliases"] and photos["quotas"]["maxSize"] == 10**9
        assert backups["websiteAccess"] is True
        assert perms_of(photos, app[0]["id"]) == {"read": True, "write": True, "owner": False}
        assert perms_of(photos, backup[0]["id"]) == {"read": True, "write": False, "owner": False}
        assert perms_of(backups, backup[0]["id"]) == {"read": True, "write": True, "owner": True}
        media = next(k for k in photos["keys"] if k["accessKeyId"] == app[0]["id"])["bucketLocalAliases"]
        assert media == [f"{p}-media"]
        tok = tokens_named(garage, f"{p}-prom")
        assert len(tok) == 1 and sorted(tok[0]["scope"]) == ["GetClusterHealth", "Metrics"]
        # new secrets come back once, working, and never in the diff
        secrets = rec.result["secrets"]
        key_secret = secrets["keys"][f"{p}-app"]
        assert key_secret["access_key_id"] == app[0]["id"]
        s3 = garage.s3_client(key_secret["access_key_id"], key_secret["secret_access_key"])
        s3.put_object(Bucket=f"{p}-photos", Key="hello.txt", Body=b"hi")
        settled(garage, f"{p}-photos", objects=1)
        token = secrets["admin_tokens"][f"{p}-prom"]["secret_token"]
        assert garage.admin("GetClusterHealth", token=token)[0] == 200
        diff = str(rec.result["diff"])
        assert key_secret["secret_access_key"] not in diff and token not in diff
        assert [d["before_header"] for d in rec.result["diff"]][:2] == [f"key '{p}-app'", f"key '{p}-backup'"]
        again = r.task(f"{p}: idempotent apply").result
        assert again["secrets"] == {"keys": {}, "admin_tokens": {}}

    run_quartets(garage, [Scenario(p, MODULE, args, untouched=untouched, checked=checked, applied=applied)])


def test_noop_costs_reads_only(garage: t.Any) -> None:
    p = uid("est")
    args = estate(p)
    first = run_playbook([{"name": "first", MODULE: args}], garage=garage)
    assert first.rc == 0, first.output
    garage.reset_calls()
    r = run_playbook([{"name": "again", MODULE: args}], garage=garage)
    assert r.rc == 0 and not r.task("again").changed, r.output
    calls = {k: v for k, v in garage.calls().items() if v}
    assert set(calls) <= {"ListKeys", "GetKeyInfo", "ListBuckets", "GetBucketInfo", "ListAdminTokens"}, calls
    assert calls["GetKeyInfo"] == 2 and calls["GetBucketInfo"] == 2 and calls["ListKeys"] == 1


def test_bad_entries_fail_before_anything_changes(garage: t.Any) -> None:
    p = uid("est")
    args = {
        "keys": [{"name": f"{p}-k"}, {"name": f"{p}-k"}, {"name": f"{p}-x", "expiration": "tomorrow"}],
        "buckets": [{"name": "Not_A_Bucket"}],
        "permissions": [{"bucket": f"{p}-b", "key": f"{p}-k"}],
    }
    r = run_playbook([{"name": "bad", MODULE: args, "ignore_errors": True}], garage=garage)
    task = r.task("bad")
    assert task.failed and task.result["failure_reason"] == "invalid_input"
    msg = task.result["msg"]
    for fragment in ("keys[1]: declares key", "keys[2]: expiration", "buckets[0]", "permissions[0]"):
        assert fragment in msg, (fragment, msg)
    assert keys_named(garage, f"{p}-k") == []

    # A reference to a bucket that is neither in the cluster nor in the estate is refused while
    # planning: the key declared next to it is not created either.
    r = run_playbook(
        [
            {
                "name": "unknown bucket",
                MODULE: {
                    "keys": [{"name": f"{p}-k"}],
                    "permissions": [{"bucket": f"{p}-b", "key": f"{p}-k", "read": True}],
                },
                "ignore_errors": True,
            }
        ],
        garage=garage,
    )
    task = r.task("unknown bucket")
    assert task.failed and task.result["failure_reason"] == "bucket_not_found", task.result
    assert "not in the cluster nor in this estate" in task.result["msg"]
    assert keys_named(garage, f"{p}-k") == []


def test_failure_half_way_keeps_the_secrets_and_says_what_is_left(garage: t.Any) -> None:
    p = uid("est")
    args = estate(p)
    garage.fault("AllowBucketKey", status=500, times=1)
    r = run_playbook([{"name": "half", MODULE: args, "ignore_errors": True}], garage=garage)
    garage.clear_faults()
    res = r.task("half").result
    assert r.task("half").failed and res["changed"] is True
    assert res["failed_resource"] == f"permissions of key '{p}-app' on bucket '{p}-photos'"
    assert f"key '{p}-app'" in res["applied"] and f"bucket '{p}-photos'" in res["applied"]
    assert f"admin token '{p}-prom'" in res["not_applied"]
    # the secret of the key created before the failure is not lost
    app = keys_named(garage, f"{p}-app")
    secret = res["secrets"]["keys"][f"{p}-app"]
    assert secret["access_key_id"] == app[0]["id"]
    assert (
        garage.ok("GetKeyInfo", query={"id": app[0]["id"], "showSecretKey": "true"})["secretAccessKey"]
        == secret["secret_access_key"]
    )
    # the next run finishes the job
    r = run_playbook([{"name": "rest", MODULE: args}, {"name": "again", MODULE: args}], garage=garage)
    assert r.rc == 0, r.output
    assert r.task("rest").changed and not r.task("again").changed
    assert f"{p}-prom" in r.task("rest").result["secrets"]["admin_tokens"]


def test_purge(garage_factory: t.Any) -> None:
    """Purge removes what the estate does not declare, never a non-empty bucket (reported instead).
    A private cluster: purging the session cluster would remove other tests' resources."""
    garage = garage_factory(nodes=1, layout=True, replication_factor=1)
    p = uid("est")
    keep = {"keys": [{"name": f"{p}-keep"}], "buckets": [{"name": f"{p}-keep"}]}
    first = run_playbook([{"name": "setup", MODULE: keep}], garage=garage)
    assert first.rc == 0, first.output
    extra_key, extra_secret = garage.create_key(f"{p}-extra")
    empty = create_bucket_oob(garage, f"{p}-empty")
    full = create_bucket_oob(garage, f"{p}-full")
    garage.ok(
        "AllowBucketKey",
        body={"bucketId": full["id"], "accessKeyId": extra_key, "permissions": {"read": True, "write": True}},
    )
    garage.s3_client(extra_key, extra_secret).put_object(Bucket=f"{p}-full", Key="x", Body=b"x")
    settled(garage, f"{p}-full", objects=1)
    args = {**keep, "purge": {"keys": True, "buckets": True, "permissions": True}}
    r = run_playbook(
        [
            {"name": "check", MODULE: args, "check_mode": True},
            {"name": "purge", MODULE: args},
            {"name": "again", MODULE: args},
        ],
        garage=garage,
        diff=True,
    )
    assert r.rc == 0, r.output
    planned = r.task("check").result["changes"]
    assert {"resource": f"bucket '{p}-empty'", "action": "delete"} in planned["buckets"]
    assert {"resource": f"key '{p}-extra' ({extra_key})", "action": "delete"} in planned["keys"]
    assert r.task("purge").changed and not r.task("again").changed
    assert bucket_oob(garage, bucket_id=empty["id"]) is None
    assert bucket_oob(garage, name=f"{p}-full") is not None  # never a non-empty bucket...
    kept = r.task("purge").result["not_purged"]
    assert [k["name"] for k in kept] == [f"{p}-full"]  # ...which is reported instead
    assert keys_named(garage, f"{p}-extra") == [] and len(keys_named(garage, f"{p}-keep")) == 1
