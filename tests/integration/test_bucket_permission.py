# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_bucket_permission against a real Garage cluster, with real ansible-playbook."""

from __future__ import annotations

from tests.integration._bucket_helpers import bucket_read, create_bucket_oob, perms_of, quartet, run_one, uid

MOD = "cellar.garage.garage_bucket_permission"
NONE = {"read": False, "write": False, "owner": False}


def setup(garage):
    name = uid("perm")
    info = create_bucket_oob(garage, name)
    key_name = uid("key")
    key_id, secret = garage.create_key(key_name)
    return name, info["id"], key_name, key_id, secret


def test_allow_then_mixed_then_absent(garage):
    name, bucket_id, key_name, key_id, secret = setup(garage)
    read = bucket_read(bucket_id=bucket_id)

    q = quartet(garage, MOD, {"bucket": name, "access_key_name": key_name, "read": True, "write": True}, read)
    q.assert_converged()
    assert perms_of(q.before, key_id) == NONE
    assert perms_of(q.after, key_id) == {"read": True, "write": True, "owner": False}
    header = f"permissions of key '{key_name}' on bucket '{name}'"  # diffs name what the user wrote (issue 9)
    assert q.apply.result["diff"] == {
        "before": NONE,
        "after": {"read": True, "write": True, "owner": False},
        "before_header": header,
        "after_header": header,
    }
    assert q.check.result["permissions"] == q.apply.result["permissions"] == perms_of(q.after, key_id)
    # the permission really works on the S3 side
    garage.s3_client(key_id, secret).put_object(Bucket=name, Key="k", Body=b"x")

    # deny one flag and allow another in the same task; read (unset) is left alone
    q = quartet(garage, MOD, {"bucket_id": bucket_id, "access_key_id": key_id, "write": False, "owner": True}, read)
    q.assert_converged()
    assert perms_of(q.after, key_id) == {"read": True, "write": False, "owner": True}
    assert q.apply.result["diff"]["after"] == {"read": True, "write": False, "owner": True}

    # absent denies everything; Garage still lists the key with all flags false
    q = quartet(garage, MOD, {"bucket": name, "access_key_id": key_id, "state": "absent"}, read)
    q.assert_converged()
    assert perms_of(q.after, key_id) == NONE
    assert q.apply.result["permissions"] == NONE

    # all-false on a listed key is already converged, for present with explicit false too
    task = run_one(
        garage, MOD, {"bucket": name, "access_key_id": key_id, "read": False, "write": False, "owner": False}
    )
    assert not task.failed and not task.changed
    assert perms_of(read(garage), key_id) == NONE


def test_unknown_key_or_bucket(garage):
    name, bucket_id, _key_name, key_id, _secret = setup(garage)
    before = bucket_read(bucket_id=bucket_id)(garage)
    missing_key = run_one(garage, MOD, {"bucket": name, "access_key_id": "GK" + "0" * 24, "read": True})
    assert missing_key.failed and "does not exist" in missing_key.result["msg"]
    absent = run_one(garage, MOD, {"bucket": uid("nobucket"), "access_key_id": key_id, "state": "absent"})
    assert not absent.failed and not absent.changed
    assert bucket_read(bucket_id=bucket_id)(garage) == before


def test_noop_costs_one_read(garage):
    """A converged permission (set up out of band) costs one GetKeyInfo."""
    name, bucket_id, _key_name, key_id, _secret = setup(garage)
    garage.ok("AllowBucketKey", body={"bucketId": bucket_id, "accessKeyId": key_id, "permissions": {"read": True}})
    garage.reset_calls()
    task = run_one(garage, MOD, {"bucket": name, "access_key_id": key_id, "read": True, "owner": False})
    assert not task.failed and not task.changed
    assert {k: v for k, v in garage.calls().items() if v} == {"GetKeyInfo": 1}
