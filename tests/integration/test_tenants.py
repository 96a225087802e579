# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_customer_bucket, garage_customer_key and garage_key_rotation as playbooks, on real Garage
and a real OpenBao.

Check mode and idempotence are verified out of band: playbooks read the Admin API straight from
the node with ``ansible.builtin.uri`` between the tasks under test, and the tests compare fact
dumps (``garage.state()``) before and after. S3 access is proven with boto3 using the
credentials read back from OpenBao. Every run is ``-vvv`` and its output is searched for every
secret created or read. (Faults at every step: test_tenant_faults.py.)
"""

from __future__ import annotations

import secrets
import typing as t

import pytest

from tests.fixtures.openbao import OpenBaoServer
from tests.integration._secret_checks import assert_no_secrets
from tests.integration._tenant_state import garage_facts, left_over
from tests.integration.ansible_run import PlaybookResult, run_playbook

MARKER = "control-marker-" + secrets.token_hex(8)
CONTROL = {"name": "control", "ansible.builtin.debug": {"msg": MARKER}}


def out_of_band(name: str, garage: t.Any, endpoint: str) -> dict[str, t.Any]:
    """A task reading the Admin API straight from node 1 (not through the module, nor the proxy)."""
    return {
        "name": name,
        "ansible.builtin.uri": {
            "url": f"{garage.direct_admin_url}/v2/{endpoint}",
            "headers": {"Authorization": "Bearer {{ reader_token }}"},
            "return_content": True,
        },
        "register": name.replace(" ", "_"),
        "no_log": False,
    }


def task(name: str, module: str, args: dict[str, t.Any], **extra: t.Any) -> dict[str, t.Any]:
    return {"name": name, f"cellar.garage.{module}": args, "register": name.replace(" ", "_"), **extra}


_READER_TOKENS: dict[str, str] = {}


def reader_token(garage: t.Any) -> str:
    """An admin token of the test's own, scoped to listing (the out-of-band tasks print it: it is
    not one of the secrets the modules handle, which are searched for)."""
    if garage.admin_url not in _READER_TOKENS:
        scope = ["ListKeys", "ListBuckets"]
        answer = garage.ok("CreateAdminToken", body={"name": "tenants-test-reader", "scope": scope})
        _READER_TOKENS[garage.admin_url] = answer["secretToken"]
    return _READER_TOKENS[garage.admin_url]


def play(garage: t.Any, openbao: OpenBaoServer | None, tasks: list[dict[str, t.Any]], **kw: t.Any) -> PlaybookResult:
    return run_playbook([CONTROL, *tasks], garage=garage, openbao=openbao, diff=True, verbosity=3,
                        extra_vars={"reader_token": reader_token(garage)}, **kw)  # fmt: skip


def names(record: t.Any) -> list[str]:
    return sorted(str(item.get("name")) for item in record.result["json"])


def s3(garage: t.Any, creds: t.Mapping[str, str]) -> t.Any:
    return garage.s3_client(creds["access_key_id"], creds["secret_access_key"])


def denied(call: t.Callable[[], t.Any]) -> str:
    """The S3 error code of a call that must be refused."""
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


@pytest.fixture
def tenant(garage: t.Any, openbao: OpenBaoServer, kv_mount: str) -> t.Iterator[dict[str, t.Any]]:
    suffix = secrets.token_hex(4)
    before = garage_facts(garage.state())
    yield {"suffix": suffix, "alias": f"shop-{suffix}", "admin": f"shop-{suffix}-admin", "mount": kv_mount,
           "common": {"s3_url": garage.s3_url, "openbao_mount": kv_mount}}  # fmt: skip
    # Out of band, delete what the test left (objects first).
    for fact in left_over(before, garage_facts(garage.state())):
        if fact[0] == "bucket":
            garage.admin("DeleteBucket", query={"id": fact[1]})
    for fact in left_over(before, garage_facts(garage.state())):
        if fact[0] == "key":
            garage.admin("DeleteKey", query={"id": fact[1]})


def test_customer_bucket_and_key_lifecycle(garage: t.Any, openbao: OpenBaoServer, tenant: dict[str, t.Any]) -> None:
    alias, admin, mount, common = tenant["alias"], tenant["admin"], tenant["mount"], tenant["common"]
    reader = f"{admin[:-6]}-reader"
    provision = {"display_name": alias, "key_name": admin, "openbao_path": f"shop/{tenant['suffix']}/admin", **common}
    key = {"bucket_id": "{{ bucket.bucket_id }}", "new_key_name": reader, "local_alias": alias, "key_tier": "ro",
           "openbao_path": f"shop/{tenant['suffix']}/reader", **common}  # fmt: skip
    start = garage_facts(garage.state())
    r = play(garage, openbao, [
        task("plan bucket", "garage_customer_bucket", provision, check_mode=True),
        out_of_band("keys after plan", garage, "ListKeys"),
        task("bucket", "garage_customer_bucket", provision),
        out_of_band("keys after bucket", garage, "ListKeys"),
        task("bucket again", "garage_customer_bucket", provision),
        task("plan bucket again", "garage_customer_bucket", provision, check_mode=True),
        task("plan key", "garage_customer_key", key, check_mode=True),
        out_of_band("keys after plan key", garage, "ListKeys"),
        task("key", "garage_customer_key", key),
        task("key again", "garage_customer_key", key),
        task("plan key again", "garage_customer_key", key, check_mode=True),
    ])  # fmt: skip
    assert r.rc == 0, r.output
    assert r.changed_tasks() == ["plan bucket", "bucket", "plan key", "key"]
    # Check mode planned exactly the steps the run made, and wrote nothing (read out of band).
    planned, done = r.task("plan bucket").result, r.task("bucket").result
    assert planned["steps"] == done["steps"] == [
        {"name": n, "changed": n != "verify_key"}
        for n in ("create_bucket", "create_admin_key", "grant_permissions", "attach_local_alias",
                  "remove_throwaway_alias", "verify_key", "store_credentials")
    ]  # fmt: skip
    assert planned["access_key_id"] is None and planned["openbao"]["version"] == done["openbao"]["version"] == 1
    assert admin not in names(r.task("keys after plan")) and admin in names(r.task("keys after bucket"))
    assert reader not in names(r.task("keys after plan key"))
    assert "secret_access_key" not in done and done["created"] and not r.task("bucket again").result["created"]
    assert r.task("plan key").result["steps"] == r.task("key").result["steps"]
    assert [s["name"] for s in r.task("key again").result["steps"]] == ["store_credentials"]

    # Out of band: one bucket reached only through local aliases, two keys, exactly these grants.
    bucket_id, admin_id, reader_id = done["bucket_id"], done["access_key_id"], r.task("key").result["access_key_id"]
    rwo = ("owner", "read", "write")
    assert garage_facts(garage.state()) ^ start == {
        ("bucket", bucket_id), ("key", admin_id), ("key", reader_id),
        ("local_alias", bucket_id, admin_id, alias), ("local_alias", bucket_id, reader_id, alias),
        ("permission", bucket_id, admin_id, rwo), ("permission", bucket_id, reader_id, ("read",)),
    }  # fmt: skip
    admin_creds = t.cast(dict, openbao.kv_read(mount, f"shop/{tenant['suffix']}/admin"))["data"]
    reader_creds = t.cast(dict, openbao.kv_read(mount, f"shop/{tenant['suffix']}/reader"))["data"]
    assert admin_creds["access_key_id"] == admin_id and admin_creds["bucket_id"] == bucket_id
    assert reader_creds["bucket"] == alias and reader_creds["key_name"] == reader
    # The customer's name works for its keys, with exactly the tier's rights.
    s3(garage, admin_creds).put_object(Bucket=alias, Key="hello.txt", Body=b"hi")
    assert s3(garage, reader_creds).get_object(Bucket=alias, Key="hello.txt")["Body"].read() == b"hi"
    assert denied(lambda: s3(garage, reader_creds).put_object(Bucket=alias, Key="x", Body=b"x")) == "AccessDenied"

    # Removal: refused while the bucket holds an object, then done; a second run changes nothing.
    gone = {"state": "absent", "bucket_id": bucket_id, **common}
    full = garage_facts(garage.state())
    r2 = play(garage, openbao, [task("absent while not empty", "garage_customer_bucket", gone, ignore_errors=True)])
    assert r2.rc == 0, r2.output
    refused = r2.task("absent while not empty").result
    assert refused["failure_reason"] == "bucket_not_empty" and not refused["changed"]
    assert garage_facts(garage.state()) == full
    s3(garage, admin_creds).delete_object(Bucket=alias, Key="hello.txt")
    r3 = play(garage, openbao, [
        task("plan absent", "garage_customer_bucket", gone, check_mode=True),
        out_of_band("buckets after plan absent", garage, "ListBuckets"),
        task("absent", "garage_customer_bucket", gone),
        task("absent again", "garage_customer_bucket", gone),
        task("plan absent again", "garage_customer_bucket", gone, check_mode=True),
    ])  # fmt: skip
    assert r3.rc == 0, r3.output
    assert r3.changed_tasks() == ["plan absent", "absent"]
    assert bucket_id in [b["id"] for b in r3.task("buckets after plan absent").result["json"]]
    assert r3.task("plan absent").result["steps"] == r3.task("absent").result["steps"]
    assert sorted(k["access_key_id"] for k in r3.task("absent").result["deleted_keys"]) == sorted([admin_id, reader_id])
    assert left_over(start, garage_facts(garage.state())) == set()
    created = [admin_creds["secret_access_key"], reader_creds["secret_access_key"]]
    for run in (r, r2, r3):
        assert_no_secrets(run.stdout + run.stderr, [*created, garage.admin_token, openbao.token], marker=MARKER)


def test_rotation_with_an_overlap_window(garage: t.Any, openbao: OpenBaoServer, tenant: dict[str, t.Any]) -> None:
    alias, admin, mount, common = tenant["alias"], tenant["admin"], tenant["mount"], tenant["common"]
    path = f"shop/{tenant['suffix']}/admin"
    provision = {"display_name": alias, "key_name": admin, "openbao_path": path, **common}
    r1 = play(garage, openbao, [task("bucket", "garage_customer_bucket", provision)])
    assert r1.rc == 0, r1.output
    bucket_id, old_id = r1.task("bucket").result["bucket_id"], r1.task("bucket").result["access_key_id"]
    old = t.cast(dict, openbao.kv_read(mount, path))["data"]
    s3(garage, old).put_object(Bucket=alias, Key="before", Body=b"1")

    rotate = {"old_key_id": old_id, "new_key_name": f"{admin}-2", "bucket_id": bucket_id, "local_alias": alias,
              "openbao_path": path, **common}  # fmt: skip
    phase1 = {**rotate, "retire_old": False}
    r2 = play(garage, openbao, [
        task("plan rotation", "garage_key_rotation", phase1, check_mode=True),
        out_of_band("keys after plan rotation", garage, "ListKeys"),
        task("rotate", "garage_key_rotation", phase1),
        task("rotate again", "garage_key_rotation", phase1),
        task("plan rotation again", "garage_key_rotation", phase1, check_mode=True),
    ])  # fmt: skip
    assert r2.rc == 0, r2.output
    assert r2.changed_tasks() == ["plan rotation", "rotate"]
    assert f"{admin}-2" not in names(r2.task("keys after plan rotation"))
    rotated = r2.task("rotate").result
    assert r2.task("plan rotation").result["steps"] == rotated["steps"]
    assert not rotated["old_key_retired"] and rotated["openbao"]["version"] == 2
    # From the moment the task returned: the new key (read from OpenBao) works, and so does the old one.
    new = t.cast(dict, openbao.kv_read(mount, path))["data"]
    assert new["access_key_id"] == rotated["access_key_id"] != old_id
    s3(garage, new).put_object(Bucket=alias, Key="during", Body=b"2")
    assert s3(garage, old).get_object(Bucket=alias, Key="during")["Body"].read() == b"2"
    assert s3(garage, new).get_object(Bucket=alias, Key="before")["Body"].read() == b"1"
    # tier=all copied the old key's flags exactly.
    state = garage_facts(garage.state())
    assert ("permission", bucket_id, new["access_key_id"], ("owner", "read", "write")) in state
    assert ("local_alias", bucket_id, new["access_key_id"], alias) in state

    phase2 = {**rotate, "retire_old": True}
    r3 = play(garage, openbao, [
        task("plan retire", "garage_key_rotation", phase2, check_mode=True),
        out_of_band("keys after plan retire", garage, "ListKeys"),
        task("retire", "garage_key_rotation", phase2),
        task("retire again", "garage_key_rotation", phase2),
        task("plan retire again", "garage_key_rotation", phase2, check_mode=True),
    ])  # fmt: skip
    assert r3.rc == 0, r3.output
    assert r3.changed_tasks() == ["plan retire", "retire"]
    assert admin in names(r3.task("keys after plan retire"))
    assert r3.task("retire").result["old_key_retired"] and r3.task("retire again").result["old_key_retired"]
    assert [s["name"] for s in r3.task("retire").result["steps"]] == ["store_credentials", "retire_old_key"]
    # After retirement the old key is refused; the new one keeps working.
    assert denied(lambda: s3(garage, old).get_object(Bucket=alias, Key="before")) in ("InvalidAccessKeyId",
                                                                                      "AccessDenied")  # fmt: skip
    assert s3(garage, new).get_object(Bucket=alias, Key="during")["Body"].read() == b"2"
    assert t.cast(dict, openbao.kv_read(mount, path))["version"] == 2
    for key in ("before", "during"):
        s3(garage, new).delete_object(Bucket=alias, Key=key)
    for run in (r1, r2, r3):
        assert_no_secrets(run.stdout + run.stderr, [old["secret_access_key"], new["secret_access_key"],
                          garage.admin_token, openbao.token], marker=MARKER)  # fmt: skip


def test_failures_roll_back_and_print_no_secret(garage: t.Any, tenant: dict[str, t.Any]) -> None:
    alias, admin, common = tenant["alias"], tenant["admin"], tenant["common"]
    provision = {"display_name": alias, "key_name": admin, **common}
    start = garage_facts(garage.state())
    # The first attach fails (rolled back); the second too, and then deleting the key fails as well.
    garage.fault("AddBucketAlias", nth=1, times=2, status=500, message="injected: attach")
    garage.fault("DeleteKey", nth=2, status=500, message="injected: undo")
    r = play(garage, None, [
        task("rolled back", "garage_customer_bucket", provision, ignore_errors=True),
        out_of_band("keys after roll back", garage, "ListKeys"),
        task("rollback fails", "garage_customer_bucket", provision, ignore_errors=True),
        task("bad tier", "garage_customer_key", {"bucket_id": "0" * 64, "new_key_name": "x-key", "local_alias": alias,
                                                 "key_tier": "admin", **common}, ignore_errors=True),
        task("openbao without url", "garage_customer_bucket", {**provision, "openbao_path": "shop/x"},
             ignore_errors=True),
        task("rotation of nothing", "garage_key_rotation", {"old_key_id": "GK" + "0" * 24, "new_key_name": "x-key",
             "bucket_id": "0" * 64, "local_alias": alias, **common}, ignore_errors=True),
    ], env={"BAO_ADDR": None})  # fmt: skip
    garage.clear_faults()
    assert r.rc == 0, r.output
    first = r.task("rolled back").result
    assert first["failure_reason"] == "local_alias_attach_failed" and first["failed_step"] == "attach_local_alias"
    assert not first["changed"] and "manual_cleanup_required" not in first
    assert admin not in names(r.task("keys after roll back"))
    second = r.task("rollback fails").result
    assert second["failure_reason"] == "rollback_failed" and second["changed"]
    assert second["step_failure_reason"] == "local_alias_attach_failed"
    [left] = second["manual_cleanup_required"]
    assert (left["step"], left["resource"], left["name"]) == ("create_admin_key", "key", admin)
    assert left_over(start, garage_facts(garage.state())) == {("key", left["access_key_id"])}
    # The key that is left: its secret, read out of band, was never printed.
    leaked = garage.ok("GetKeyInfo", query={"id": left["access_key_id"], "showSecretKey": "true"})["secretAccessKey"]
    assert r.task("bad tier").result["failure_reason"] == "invalid_key_tier"
    assert r.task("openbao without url").result["failure_reason"] == "invalid_input"
    assert "url is required" in r.task("openbao without url").result["msg"]
    assert r.task("rotation of nothing").result["failure_reason"] == "bucket_not_found"
    assert left_over(start, garage_facts(garage.state())) == {("key", left["access_key_id"])}
    assert_no_secrets(r.stdout + r.stderr, [leaked, garage.admin_token], marker=MARKER)
