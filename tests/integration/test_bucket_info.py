# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_info against a real Garage cluster, with real ansible-playbook."""

from __future__ import annotations

from tests.integration._bucket_helpers import bucket_oob, create_bucket_oob, uid
from tests.integration.ansible_run import run_playbook

MOD = "cellar.garage.garage_bucket_info"


def test_one_all_search_missing(garage):
    name = uid("info")
    info = create_bucket_oob(
        garage,
        name,
        quotas={"maxSize": 5 * 10**9, "maxObjects": None},
        websiteAccess={"enabled": True, "indexDocument": "index.html"},
    )
    other = create_bucket_oob(garage, uid("info"))
    key_id, _secret = garage.create_key(uid("key"))
    garage.ok("AllowBucketKey", body={"bucketId": info["id"], "accessKeyId": key_id, "permissions": {"read": True}})
    garage.ok("AddBucketAlias", body={"bucketId": info["id"], "accessKeyId": key_id, "localAlias": "mine"})
    state_before = bucket_oob(garage, bucket_id=info["id"])
    r = run_playbook(
        [
            {"name": "by name", MOD: {"name": name}},
            {"name": "by id", MOD: {"id": info["id"]}},
            {"name": "by search", MOD: {"search": info["id"][:12]}},
            {"name": "missing", MOD: {"name": uid("missing")}},
            {"name": "all", MOD: {}},
            {"name": "check mode", MOD: {"name": name}, "check_mode": True},
        ],
        garage=garage,
    )
    assert r.rc == 0, r.output
    assert r.changed_tasks() == []
    one = r.task("by name").result
    assert one["exists"] is True
    bucket = one["bucket"]
    assert bucket["id"] == info["id"] and bucket["global_aliases"] == [name]
    assert bucket["local_aliases"] == [{"access_key_id": key_id, "alias": "mine"}]
    assert bucket["keys"][0]["access_key_id"] == key_id
    assert bucket["keys"][0]["permissions"] == {"read": True, "write": False, "owner": False}
    assert bucket["keys"][0]["local_aliases"] == ["mine"]
    assert bucket["quotas"] == {"max_size": 5 * 10**9, "max_objects": None}
    assert bucket["website"] == {"enabled": True, "index_document": "index.html", "error_document": None}
    assert bucket["objects"] == 0 and bucket["bytes"] == 0
    for task in ("by id", "by search", "check mode"):
        assert r.task(task).result["bucket"] == bucket, task
    assert r.task("missing").result["exists"] is False and r.task("missing").result["bucket"] is None
    listed = r.task("all").result["buckets"]
    ids = [b["id"] for b in listed]
    assert ids == sorted(ids)
    assert {info["id"], other["id"]} <= set(ids)
    assert next(b for b in listed if b["id"] == info["id"]) == bucket
    # the out-of-band list has the same buckets
    assert sorted(b["id"] for b in garage.ok("ListBuckets")) == ids
    assert bucket_oob(garage, bucket_id=info["id"]) == state_before


def test_read_costs(garage):
    name = uid("cost")
    create_bucket_oob(garage, name)
    garage.reset_calls()
    r = run_playbook([{"name": "one", MOD: {"name": name}}], garage=garage)
    assert r.rc == 0, r.output
    assert {k: v for k, v in garage.calls().items() if v} == {"GetBucketInfo": 1}
    count = len(garage.ok("ListBuckets"))
    garage.reset_calls()
    r = run_playbook([{"name": "all", MOD: {}}], garage=garage)
    assert r.rc == 0, r.output
    assert {k: v for k, v in garage.calls().items() if v} == {"ListBuckets": 1, "GetBucketInfo": count}
