# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_key and garage_key_info through the real ansible-playbook against a Garage.

Each scenario: check mode (then an out-of-band read proves nothing was written), then
apply + idempotent check + idempotent apply in one playbook (then an out-of-band read
proves the apply did what it said).
"""

from __future__ import annotations

import secrets
import typing as t
import uuid

from tests.integration.ansible_run import PlaybookResult, run_adhoc, run_playbook

MODULE = "cellar.garage.garage_key"


def uid(prefix: str = "it-key") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def admin_ok(garage: t.Any, endpoint: str, **kwargs: t.Any) -> t.Any:
    status, body = garage.admin(endpoint, **kwargs)
    assert status == 200, (endpoint, kwargs, status, body)
    return body


def keys_named(garage: t.Any, name: str) -> list[dict[str, t.Any]]:
    return [k for k in admin_ok(garage, "ListKeys") if k["name"] == name]


def key_info(garage: t.Any, key_id: str, show_secret: bool = False) -> dict[str, t.Any] | None:
    query = {"id": key_id}
    if show_secret:
        query["showSecretKey"] = "true"
    status, body = garage.admin("GetKeyInfo", query=query)
    if status == 404:
        return None
    assert status == 200, body
    return t.cast(dict, body)


def oob_create_key(garage: t.Any, name: str) -> str:
    return t.cast(str, admin_ok(garage, "CreateKey", body={"name": name})["accessKeyId"])


def check_then_converge(
    garage: t.Any, args: dict[str, t.Any], between: t.Callable[[], None]
) -> tuple[PlaybookResult, PlaybookResult]:
    """Run ``args`` in check mode, call ``between`` (the out-of-band proof that check mode wrote
    nothing), then apply, idempotent check and idempotent apply (one playbook)."""
    check = run_playbook([{"name": "check", MODULE: args}], garage=garage, check=True, diff=True)
    assert check.rc == 0, check.output
    assert check.task("check").changed, check.task("check").result
    between()
    return check, converge(garage, args)


def converge(garage: t.Any, args: dict[str, t.Any]) -> PlaybookResult:
    r = run_playbook(
        [
            {"name": "apply", MODULE: args},
            {"name": "idempotent check", MODULE: args, "check_mode": True},
            {"name": "idempotent apply", MODULE: args},
        ],
        garage=garage,
        diff=True,
    )
    assert r.rc == 0, r.output
    assert r.task("apply").changed, r.task("apply").result
    assert not r.task("idempotent check").changed, r.task("idempotent check").result
    assert not r.task("idempotent apply").changed, r.task("idempotent apply").result
    return r


def diff_of(record: t.Any) -> dict[str, t.Any]:
    diff = record.result["diff"]
    return t.cast(dict, diff[0] if isinstance(diff, list) else diff)


# --------------------------------------------------------------------------- scenarios


def test_create_by_name(garage: t.Any) -> None:
    name = uid()
    args = {"name": name, "allow_create_bucket": True, "expiration": "2031-01-01T01:00:00+01:00"}

    def nothing_yet() -> None:
        assert keys_named(garage, name) == []

    check, r = check_then_converge(garage, args, nothing_yet)
    assert check.task("check").result["key"]["id"] is None
    assert "secret_access_key" not in check.task("check").result

    apply = r.task("apply").result
    key_id = apply["key"]["id"]
    assert apply["key"]["name"] == name
    info = key_info(garage, key_id, show_secret=True)
    assert info is not None
    assert info["name"] == name
    assert info["permissions"]["createBucket"] is True
    assert info["expiration"].startswith("2031-01-01T00:00:00")
    # The secret comes back exactly once, and it is the real one.
    assert apply["secret_access_key"] == info["secretAccessKey"]
    assert "secret_access_key" not in r.task("idempotent apply").result
    assert info["secretAccessKey"] not in str(diff_of(r.task("apply")))
    assert diff_of(r.task("apply")) == {
        "before": {},
        "after": {"id": key_id, "name": name, "allow_create_bucket": True, "expiration": "2031-01-01T00:00:00Z"},
    }
    assert len(keys_named(garage, name)) == 1


def test_rename_by_id(garage: t.Any) -> None:
    old, new = uid(), uid()
    key_id = oob_create_key(garage, old)

    def still_old() -> None:
        assert key_info(garage, key_id)["name"] == old  # type: ignore[index]

    check, r = check_then_converge(garage, {"id": key_id, "name": new}, still_old)
    assert check.task("check").result["key"]["name"] == new
    assert diff_of(check.task("check"))["before"]["name"] == old
    assert key_info(garage, key_id)["name"] == new  # type: ignore[index]
    d = diff_of(r.task("apply"))
    assert (d["before"]["name"], d["after"]["name"]) == (old, new)
    assert "secret_access_key" not in r.task("apply").result


def test_allow_then_deny_create_bucket(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)

    def flag_is(value: bool) -> t.Callable[[], None]:
        def check() -> None:
            assert key_info(garage, key_id)["permissions"]["createBucket"] is value  # type: ignore[index]

        return check

    check_then_converge(garage, {"name": name, "allow_create_bucket": True}, flag_is(False))
    flag_is(True)()
    r = check_then_converge(garage, {"id": key_id, "allow_create_bucket": False}, flag_is(True))[1]
    assert key_info(garage, key_id)["permissions"]["createBucket"] is False  # type: ignore[index]
    d = diff_of(r.task("apply"))
    assert (d["before"]["allow_create_bucket"], d["after"]["allow_create_bucket"]) == (True, False)


def test_expiration_set_then_cleared(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)

    def expiration_is_none() -> None:
        assert key_info(garage, key_id)["expiration"] is None  # type: ignore[index]

    def expiration_is_set() -> None:
        assert key_info(garage, key_id)["expiration"] is not None  # type: ignore[index]

    check, r = check_then_converge(garage, {"id": key_id, "expiration": "2032-02-03T04:05:06.789Z"}, expiration_is_none)
    assert check.task("check").result["key"]["expiration"] == "2032-02-03T04:05:06.789Z"
    info = key_info(garage, key_id)
    assert info is not None and info["expiration"] is not None
    assert info["expiration"].startswith("2032-02-03T04:05:06.789")
    # The same instant written differently is not a change.
    same = run_playbook(
        [{"name": "same instant", MODULE: {"id": key_id, "expiration": "2032-02-03T06:05:06.789+02:00"}}],
        garage=garage,
    )
    assert same.rc == 0 and not same.task("same instant").changed, same.output

    r = check_then_converge(garage, {"id": key_id, "never_expires": True}, expiration_is_set)[1]
    assert key_info(garage, key_id)["expiration"] is None  # type: ignore[index]
    d = diff_of(r.task("apply"))
    assert d["before"]["expiration"] == "2032-02-03T04:05:06.789Z" and d["after"]["expiration"] is None


def test_import_and_reimport(garage: t.Any) -> None:
    key_id = "GK" + secrets.token_hex(12)
    secret = secrets.token_hex(32)
    name = uid()
    args = {"id": key_id, "secret_access_key": secret, "name": name, "allow_create_bucket": True}

    def not_imported() -> None:
        assert key_info(garage, key_id) is None

    check, r = check_then_converge(garage, args, not_imported)
    assert check.task("check").result["key"]["id"] == key_id
    info = key_info(garage, key_id, show_secret=True)
    assert info is not None
    assert info["secretAccessKey"] == secret
    assert info["name"] == name
    assert info["permissions"]["createBucket"] is True
    for task in ("apply", "idempotent check", "idempotent apply"):
        assert secret not in str(r.task(task).result)
        assert "secret_access_key" not in r.task(task).result
    assert secret not in r.stdout + r.stderr

    # A different secret for the same id is refused, and nothing changes.
    other = secrets.token_hex(32)
    bad = run_playbook(
        [{"name": "other secret", MODULE: {"id": key_id, "secret_access_key": other}, "ignore_errors": True}],
        garage=garage,
    )
    assert bad.task("other secret").failed
    assert "different secret" in bad.task("other secret").result["msg"]
    assert other not in bad.stdout + bad.stderr
    assert key_info(garage, key_id, show_secret=True)["secretAccessKey"] == secret  # type: ignore[index]


def test_import_of_a_deleted_id_is_refused_clearly(garage: t.Any) -> None:
    key_id = "GK" + secrets.token_hex(12)
    secret = secrets.token_hex(32)
    admin_ok(garage, "ImportKey", body={"accessKeyId": key_id, "secretAccessKey": secret, "name": uid()})
    admin_ok(garage, "DeleteKey", query={"id": key_id})
    r = run_playbook(
        [{"name": "reimport", MODULE: {"id": key_id, "secret_access_key": secret}, "ignore_errors": True}],
        garage=garage,
    )
    rec = r.task("reimport")
    assert rec.failed
    assert rec.result["msg"].startswith(f"Failed to import key '{key_id}': KeyAlreadyExists")
    assert secret not in r.stdout + r.stderr


def test_absent(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)
    args = {"name": name, "state": "absent"}

    def still_there() -> None:
        assert key_info(garage, key_id) is not None

    r = check_then_converge(garage, args, still_there)[1]
    assert key_info(garage, key_id) is None
    assert keys_named(garage, name) == []
    assert diff_of(r.task("apply"))["before"]["id"] == key_id
    assert diff_of(r.task("apply"))["after"] == {}


def test_ambiguous_name_is_refused(garage: t.Any) -> None:
    name = uid()
    first, second = oob_create_key(garage, name), oob_create_key(garage, name)
    before = admin_ok(garage, "ListKeys")
    r = run_playbook(
        [
            {"name": "update", MODULE: {"name": name, "allow_create_bucket": True}, "ignore_errors": True},
            {"name": "delete", MODULE: {"name": name, "state": "absent"}, "ignore_errors": True},
            {"name": "info", "cellar.garage.garage_key_info": {"name": name}, "ignore_errors": True},
        ],
        garage=garage,
    )
    for task in ("update", "delete", "info"):
        rec = r.task(task)
        assert rec.failed, rec.result
        assert "ambiguous" in rec.result["msg"]
        assert sorted(rec.result["key_ids"]) == sorted([first, second])
    assert admin_ok(garage, "ListKeys") == before
    for key_id in (first, second):
        assert key_info(garage, key_id)["permissions"]["createBucket"] is False  # type: ignore[index]


def test_bad_input_fails_before_any_change(garage: t.Any) -> None:
    before = admin_ok(garage, "ListKeys")
    r = run_playbook(
        [
            {"name": "bad id", MODULE: {"id": "GK-nope"}, "ignore_errors": True},
            {"name": "bad date", MODULE: {"name": uid(), "expiration": "next week"}, "ignore_errors": True},
            {
                "name": "both",
                MODULE: {"name": uid(), "expiration": "2030-01-01T00:00:00Z", "never_expires": True},
                "ignore_errors": True,
            },
            {"name": "unknown id", MODULE: {"id": "GK" + "0" * 24, "name": "x"}, "ignore_errors": True},
        ],
        garage=garage,
    )
    assert r.task("bad id").failed and "is not a Garage key id" in r.task("bad id").result["msg"]
    assert r.task("bad date").failed and "RFC 3339" in r.task("bad date").result["msg"]
    assert r.task("both").failed and "mutually exclusive" in r.task("both").result["msg"]
    assert r.task("unknown id").failed and "does not exist" in r.task("unknown id").result["msg"]
    assert admin_ok(garage, "ListKeys") == before


def test_key_info(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)
    missing = uid()
    r = run_playbook(
        [
            {"name": "by name", "cellar.garage.garage_key_info": {"name": name}},
            {"name": "by id", "cellar.garage.garage_key_info": {"id": key_id}},
            {"name": "missing", "cellar.garage.garage_key_info": {"name": missing}},
            {"name": "all", "cellar.garage.garage_key_info": {}},
            {"name": "secret", "cellar.garage.garage_key_info": {"id": key_id, "show_secret": True}},
        ],
        garage=garage,
        check=True,
    )
    assert r.rc == 0, r.output
    assert r.changed_tasks() == []
    assert r.task("by name").result["exists"] is True
    assert r.task("by name").result["key"] == r.task("by id").result["key"]
    assert r.task("by id").result["key"]["id"] == key_id
    assert "secret_access_key" not in r.task("by id").result["key"]
    assert r.task("missing").result == {**r.task("missing").result, "exists": False, "key": None}
    listed = r.task("all").result["keys"]
    ids = [k["id"] for k in listed]
    assert ids == sorted(ids)
    assert ids == sorted(k["id"] for k in admin_ok(garage, "ListKeys"))
    real_secret = key_info(garage, key_id, show_secret=True)["secretAccessKey"]  # type: ignore[index]
    assert r.task("secret").result["key"]["secret_access_key"] == real_secret
    assert real_secret not in str(r.task("all").result)


def test_no_op_costs_one_read(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)
    args = {"id": key_id, "name": name, "allow_create_bucket": False, "never_expires": True}
    by_name = {"name": name, "allow_create_bucket": False}
    for task_args in (args, by_name):
        garage.reset_calls()
        r = run_playbook([{"name": "noop", MODULE: task_args}], garage=garage)
        assert r.rc == 0 and not r.task("noop").changed, r.output
        calls = {k: v for k, v in dict(garage.calls()).items() if v}
        assert calls == {"GetKeyInfo": 1}, calls
    garage.reset_calls()
    r = run_playbook([{"name": "info", "cellar.garage.garage_key_info": {"name": name}}], garage=garage)
    assert r.rc == 0 and r.task("info").result["exists"], r.output
    assert {k: v for k, v in garage.calls().items() if v} == {"GetKeyInfo": 1}


def test_adhoc_from_a_shell(garage: t.Any) -> None:
    """`ansible localhost -m garage_key -a name=...` with the connection from the environment."""
    name = uid()
    r = run_adhoc("garage_key", f"name={name} allow_create_bucket=true", garage=garage)
    assert r.rc == 0, r.output
    rec = r.results[0]
    assert rec["changed"] is True
    key_id = rec["result"]["key"]["id"]
    assert key_info(garage, key_id)["permissions"]["createBucket"] is True  # type: ignore[index]
