# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_alias against a real Garage cluster, with real ansible-playbook."""

from __future__ import annotations

from tests.integration._bucket_helpers import Read, bucket_oob, bucket_read, create_bucket_oob, quartet, uid
from tests.integration.ansible_run import run_playbook

MOD = "cellar.garage.garage_bucket_alias"


def test_global_alias_add_then_remove(garage):
    name, alias = uid("gal"), uid("alias")
    info = create_bucket_oob(garage, name)
    args = {"bucket": name, "alias": alias}
    q = quartet(garage, MOD, args, bucket_read(bucket_id=info["id"])).assert_converged()
    assert alias not in q.before["globalAliases"] and alias in q.after["globalAliases"]
    assert bucket_oob(garage, name=alias)["id"] == info["id"]
    expected = {"alias": alias, "bucket_id": info["id"], "access_key_id": None}
    # One "absent" shape for every resource (issue 9); the header names the alias and its bucket.
    assert q.apply.result["diff"] == {
        "before": {"state": "absent"},
        "after": {**expected, "state": "present"},
        "before_header": f"global alias '{alias}' of bucket '{name}'",
        "after_header": f"global alias '{alias}' of bucket '{name}'",
    }
    assert q.check.result["alias"] == {**expected, "state": "present"}

    q = quartet(garage, MOD, {**args, "state": "absent"}, bucket_read(bucket_id=info["id"])).assert_converged()
    assert alias in q.before["globalAliases"] and q.after["globalAliases"] == [name]
    assert bucket_oob(garage, name=alias) is None
    assert q.apply.result["diff"]["after"]["state"] == "absent"


def test_local_alias_add_then_remove(garage):
    name, alias = uid("lal"), uid("mine")
    info = create_bucket_oob(garage, name)
    key_name = uid("key")
    key_id, _secret = garage.create_key(key_name)
    read = Read("GetKeyInfo", {"id": key_id})

    def local_aliases(key_info):
        return {b["id"]: b["localAliases"] for b in key_info["buckets"]}

    q = quartet(garage, MOD, {"bucket": name, "alias": alias, "access_key_name": key_name}, read)
    q.assert_converged()
    assert local_aliases(q.before) == {}
    assert local_aliases(q.after) == {info["id"]: [alias]}
    bucket = bucket_oob(garage, bucket_id=info["id"])
    assert [k["bucketLocalAliases"] for k in bucket["keys"] if k["accessKeyId"] == key_id] == [[alias]]
    assert q.apply.result["alias"] == {
        "alias": alias,
        "bucket_id": info["id"],
        "access_key_id": key_id,
        "state": "present",
    }

    args = {"bucket_id": info["id"], "alias": alias, "access_key_id": key_id, "state": "absent"}
    q = quartet(garage, MOD, args, read).assert_converged()
    assert local_aliases(q.after).get(info["id"], []) == []
    assert q.apply.result["diff"]["before"]["state"] == "present"


def test_refusals_and_noops_change_nothing(garage):
    lonely, other = uid("lonely"), uid("other")
    info = create_bucket_oob(garage, lonely)
    create_bucket_oob(garage, other)
    state_before = {n: bucket_oob(garage, name=n) for n in (lonely, other)}
    r = run_playbook(
        [
            # the bucket's last alias: refused, Garage would answer 400
            {"name": "last alias", MOD: {"bucket": lonely, "alias": lonely, "state": "absent"}, "ignore_errors": True},
            # the alias points to another bucket: refused, Garage would answer 400
            {"name": "taken", MOD: {"bucket": lonely, "alias": other}, "ignore_errors": True},
            # absent of an alias that is not on this bucket: no change (Garage would answer 500)
            {"name": "elsewhere", MOD: {"bucket_id": info["id"], "alias": other, "state": "absent"}},
            # unknown bucket
            {"name": "no bucket", MOD: {"bucket": uid("none"), "alias": uid("x")}, "ignore_errors": True},
        ],
        garage=garage,
        diff=True,
    )
    last, taken = r.task("last alias"), r.task("taken")
    assert last.failed and "last alias of bucket" in last.result["msg"]
    assert "Delete the bucket instead" in last.result["msg"]
    assert taken.failed and f"Global alias '{other}' already points to another bucket" in taken.result["msg"]
    assert not r.task("elsewhere").failed and not r.task("elsewhere").changed
    assert r.task("no bucket").failed and "does not exist" in r.task("no bucket").result["msg"]
    assert {n: bucket_oob(garage, name=n) for n in (lonely, other)} == state_before


def test_noop_costs_one_read(garage):
    """Converged aliases (set up out of band) cost one read each: GetKeyInfo (local), GetBucketInfo (global)."""
    name, local_alias, global_alias = uid("cost"), uid("loc"), uid("glob")
    info = create_bucket_oob(garage, name)
    key_id, _secret = garage.create_key(uid("key"))
    garage.ok("AddBucketAlias", body={"bucketId": info["id"], "accessKeyId": key_id, "localAlias": local_alias})
    garage.ok("AddBucketAlias", body={"bucketId": info["id"], "globalAlias": global_alias})
    garage.reset_calls()
    r = run_playbook(
        [
            {"name": "local", MOD: {"bucket": name, "alias": local_alias, "access_key_id": key_id}},
            {"name": "global", MOD: {"bucket": name, "alias": global_alias}},
        ],
        garage=garage,
    )
    assert r.rc == 0, r.output
    assert r.changed_tasks() == []
    assert {k: v for k, v in garage.calls().items() if v} == {"GetKeyInfo": 1, "GetBucketInfo": 1}
