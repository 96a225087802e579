# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_key and garage_key_info through the real ansible-playbook against a Garage.

Every state scenario runs the quartet: check mode, then an out-of-band read proving check
mode wrote nothing, then apply + idempotent check + idempotent apply, then an out-of-band
read proving the apply did what it said. Scenarios are independent (each has its own key,
set up out of band), so they are batched: one playbook holds every scenario's check task,
one playbook every scenario's apply/idempotent tasks. Each ansible-playbook run costs
seconds; batching keeps the suite fast without weakening any assertion.
"""

from __future__ import annotations

import secrets
import typing as t
import uuid

from tests.integration.ansible_run import PlaybookResult, TaskRecord, run_adhoc, run_playbook
from tests.integration.quartet import Scenario, run_quartets

MODULE = "cellar.garage.garage_key"


def uid(prefix: str = "it-key") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def admin_ok(garage: t.Any, endpoint: str, **kwargs: t.Any) -> t.Any:
    status, body = garage.admin(endpoint, **kwargs)
    assert status == 200, (endpoint, kwargs, status, body)
    return body


def keys_named(garage: t.Any, name: str) -> list[dict[str, t.Any]]:
    return [k for k in admin_ok(garage, "ListKeys") if k["name"] == name]


def key_info(garage: t.Any, key_id: str, show_secret: bool = False) -> dict[str, t.Any]:
    """GetKeyInfo out of band; ``{}`` when the key does not exist."""
    query = {"id": key_id}
    if show_secret:
        query["showSecretKey"] = "true"
    status, body = garage.admin("GetKeyInfo", query=query)
    if status == 404:
        return {}
    assert status == 200, body
    return t.cast(dict, body)


def oob_create_key(garage: t.Any, name: str, **body: t.Any) -> str:
    return t.cast(str, admin_ok(garage, "CreateKey", body={"name": name, **body})["accessKeyId"])


def diff_of(record: TaskRecord) -> dict[str, t.Any]:
    diff = record.result["diff"]
    return t.cast(dict, diff[0] if isinstance(diff, list) else diff)


def run_scenarios(garage: t.Any, module: str, scenarios: list[Scenario]) -> None:
    """The shared quartet helper (tests/integration/quartet.py), all scenarios batched."""
    assert all(s.module == module for s in scenarios)
    run_quartets(garage, scenarios)


# --------------------------------------------------------------------------- state scenarios


def create_by_name(garage: t.Any) -> Scenario:
    name = uid()

    def untouched() -> None:
        assert keys_named(garage, name) == []

    def checked(rec: TaskRecord) -> None:
        assert rec.result["key"]["id"] is None
        assert rec.result["key"]["name"] == name
        assert "secret_access_key" not in rec.result

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        key_id = rec.result["key"]["id"]
        assert [k["id"] for k in keys_named(garage, name)] == [key_id]
        info = key_info(garage, key_id, show_secret=True)
        assert info["permissions"]["createBucket"] is True
        assert info["expiration"].startswith("2031-01-01T00:00:00")
        # The secret comes back exactly once, and it is the real one; never in a diff.
        assert rec.result["secret_access_key"] == info["secretAccessKey"]
        assert "secret_access_key" not in r.task("create by name: idempotent apply").result
        assert info["secretAccessKey"] not in str(diff_of(rec))
        # One "absent" shape for every resource; a present one says so (issue 9); the header names the key.
        assert diff_of(rec) == {
            "before": {"state": "absent"},
            "after": {
                "state": "present",
                "id": key_id,
                "name": name,
                "allow_create_bucket": True,
                "expiration": "2031-01-01T00:00:00Z",
            },
            "before_header": f"key '{name}'",
            "after_header": f"key '{name}'",
        }

    args = {"name": name, "allow_create_bucket": True, "expiration": "2031-01-01T01:00:00+01:00"}
    return Scenario("create by name", MODULE, args, untouched=untouched, applied=applied, checked=checked)


def rename_by_id(garage: t.Any) -> Scenario:
    old, new = uid(), uid()
    key_id = oob_create_key(garage, old)

    def untouched() -> None:
        assert key_info(garage, key_id)["name"] == old

    def checked(rec: TaskRecord) -> None:
        assert rec.result["key"]["name"] == new
        assert diff_of(rec)["before"]["name"] == old

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert key_info(garage, key_id)["name"] == new
        d = diff_of(rec)
        assert (d["before"]["name"], d["after"]["name"]) == (old, new)
        assert "secret_access_key" not in rec.result

    return Scenario(
        "rename by id", MODULE, {"id": key_id, "name": new}, untouched=untouched, applied=applied, checked=checked
    )


def create_bucket_flag(garage: t.Any, wanted: bool) -> Scenario:
    name = uid()
    key_id = oob_create_key(garage, name, **({} if wanted else {"allow": {"createBucket": True}}))

    def untouched() -> None:
        assert key_info(garage, key_id)["permissions"]["createBucket"] is (not wanted)

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert key_info(garage, key_id)["permissions"]["createBucket"] is wanted
        d = diff_of(rec)
        assert (d["before"]["allow_create_bucket"], d["after"]["allow_create_bucket"]) == (not wanted, wanted)

    args = {"name": name, "allow_create_bucket": wanted} if wanted else {"id": key_id, "allow_create_bucket": False}
    return Scenario(
        "allow create bucket" if wanted else "deny create bucket", MODULE, args, untouched=untouched, applied=applied
    )


def expiration_set(garage: t.Any) -> Scenario:
    key_id = oob_create_key(garage, uid())

    def untouched() -> None:
        assert key_info(garage, key_id)["expiration"] is None

    def checked(rec: TaskRecord) -> None:
        assert rec.result["key"]["expiration"] == "2032-02-03T04:05:06.789Z"

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert key_info(garage, key_id)["expiration"].startswith("2032-02-03T04:05:06.789")
        assert diff_of(rec)["after"]["expiration"] == "2032-02-03T04:05:06.789Z"

    # Given with an offset; the idempotent runs prove the same instant is not a change.
    args = {"id": key_id, "expiration": "2032-02-03T06:05:06.789+02:00"}
    return Scenario("expiration set", MODULE, args, untouched=untouched, applied=applied, checked=checked)


def expiration_cleared(garage: t.Any) -> Scenario:
    key_id = oob_create_key(garage, uid(), expiration="2032-02-03T04:05:06Z")

    def untouched() -> None:
        assert key_info(garage, key_id)["expiration"] is not None

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert key_info(garage, key_id)["expiration"] is None
        d = diff_of(rec)
        assert d["before"]["expiration"] == "2032-02-03T04:05:06Z" and d["after"]["expiration"] is None

    return Scenario(
        "expiration cleared", MODULE, {"id": key_id, "never_expires": True}, untouched=untouched, applied=applied
    )


def import_key(garage: t.Any) -> Scenario:
    key_id = "GK" + secrets.token_hex(12)
    secret = secrets.token_hex(32)
    name = uid()

    def untouched() -> None:
        assert key_info(garage, key_id) == {}

    def checked(rec: TaskRecord) -> None:
        assert rec.result["key"]["id"] == key_id

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        info = key_info(garage, key_id, show_secret=True)
        assert info["secretAccessKey"] == secret
        assert info["name"] == name
        assert info["permissions"]["createBucket"] is True
        for phase in ("apply", "idempotent check", "idempotent apply"):
            result = r.task(f"import: {phase}").result
            assert "secret_access_key" not in result
            assert secret not in str(result)
        assert secret not in r.stdout + r.stderr

    args = {"id": key_id, "secret_access_key": secret, "name": name, "allow_create_bucket": True}
    return Scenario("import", MODULE, args, untouched=untouched, applied=applied, checked=checked)


def absent(garage: t.Any) -> Scenario:
    name = uid()
    key_id = oob_create_key(garage, name)

    def untouched() -> None:
        assert key_info(garage, key_id) != {}

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert key_info(garage, key_id) == {}
        assert keys_named(garage, name) == []
        assert rec.result["key"] is None
        assert diff_of(rec)["before"]["id"] == key_id
        assert diff_of(rec)["after"] == {"state": "absent"}  # one "absent" shape (issue 9)

    return Scenario("absent", MODULE, {"name": name, "state": "absent"}, untouched=untouched, applied=applied)


def test_key_scenarios(garage: t.Any) -> None:
    run_scenarios(
        garage,
        MODULE,
        [
            create_by_name(garage),
            rename_by_id(garage),
            create_bucket_flag(garage, True),
            create_bucket_flag(garage, False),
            expiration_set(garage),
            expiration_cleared(garage),
            import_key(garage),
            absent(garage),
        ],
    )


# --------------------------------------------------------------------------- refusals


def cluster_state(garage: t.Any) -> t.Any:
    """Everything Garage holds (buckets, keys, admin tokens, layout), read out of band."""
    return garage.state()


def test_refusals_change_nothing(garage: t.Any) -> None:
    """Ambiguous names, bad input, a foreign secret for an existing id, a deleted id: clear
    failures, and the cluster is exactly as before."""
    dup = uid()
    first, second = oob_create_key(garage, dup), oob_create_key(garage, dup)
    imported_id, imported_secret = "GK" + secrets.token_hex(12), secrets.token_hex(32)
    admin_ok(garage, "ImportKey", body={"accessKeyId": imported_id, "secretAccessKey": imported_secret})
    deleted_id, deleted_secret = "GK" + secrets.token_hex(12), secrets.token_hex(32)
    admin_ok(garage, "ImportKey", body={"accessKeyId": deleted_id, "secretAccessKey": deleted_secret})
    admin_ok(garage, "DeleteKey", query={"id": deleted_id})
    foreign_secret = secrets.token_hex(32)
    before = cluster_state(garage)

    def task(name: str, args: dict[str, t.Any], module: str = MODULE) -> dict[str, t.Any]:
        return {"name": name, module: args, "ignore_errors": True}

    r = run_playbook(
        [
            task("ambiguous update", {"name": dup, "allow_create_bucket": True}),
            task("ambiguous delete", {"name": dup, "state": "absent"}),
            task("ambiguous info", {"name": dup}, "cellar.garage.garage_key_info"),
            task("bad id", {"id": "GK-nope"}),
            task("bad date", {"name": uid(), "expiration": "next week"}),
            task("both expirations", {"name": uid(), "expiration": "2030-01-01T00:00:00Z", "never_expires": True}),
            task("bad secret", {"id": "GK" + "0" * 24, "secret_access_key": "not-hex"}),
            task("unknown id", {"id": "GK" + "0" * 24, "name": "x"}),
            # Secrets come from variables, as in real playbooks: ansible-core 2.19 prints the YAML
            # source of a failing task, so a secret written literally there would be shown.
            task("foreign secret", {"id": imported_id, "secret_access_key": "{{ foreign_secret }}"}),
            task("deleted id", {"id": deleted_id, "secret_access_key": "{{ deleted_secret }}"}),
        ],
        garage=garage,
        extra_vars={"foreign_secret": foreign_secret, "deleted_secret": deleted_secret},
    )
    expected = {
        "ambiguous update": "ambiguous",
        "ambiguous delete": "ambiguous",
        "ambiguous info": "ambiguous",
        "bad id": "is not a Garage key id",
        "bad date": "RFC 3339",
        "both expirations": "mutually exclusive",
        "bad secret": "secret_access_key must be exactly 64 hexadecimal",
        "unknown id": "does not exist",
        "foreign secret": "different secret",
        "deleted id": f"Failed to import key '{deleted_id}': KeyAlreadyExists",
    }
    for name, fragment in expected.items():
        rec = r.task(name)
        assert rec.failed, (name, rec.result)
        assert fragment in rec.result["msg"], (name, rec.result["msg"])
    for name in ("ambiguous update", "ambiguous delete", "ambiguous info"):
        assert sorted(r.task(name).result["key_ids"]) == sorted([first, second])
    after = cluster_state(garage)
    assert after == before
    for secret in (imported_secret, deleted_secret, foreign_secret):
        assert secret not in r.stdout + r.stderr


# --------------------------------------------------------------------------- info, cost, ad hoc


def test_key_info(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)
    r = run_playbook(
        [
            {"name": "by name", "cellar.garage.garage_key_info": {"name": name}},
            {"name": "by id", "cellar.garage.garage_key_info": {"id": key_id}},
            {"name": "missing", "cellar.garage.garage_key_info": {"name": uid()}},
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
    assert r.task("by id").result["key"]["name"] == name
    assert "secret_access_key" not in r.task("by id").result["key"]
    assert (r.task("missing").result["exists"], r.task("missing").result["key"]) == (False, None)
    ids = [k["id"] for k in r.task("all").result["keys"]]
    assert ids == sorted(k["id"] for k in admin_ok(garage, "ListKeys"))
    real_secret = key_info(garage, key_id, show_secret=True)["secretAccessKey"]
    assert r.task("secret").result["key"]["secret_access_key"] == real_secret
    assert real_secret not in str(r.task("all").result) + str(r.task("by id").result)


def test_no_op_costs_one_read_per_task(garage: t.Any) -> None:
    name = uid()
    key_id = oob_create_key(garage, name)
    garage.reset_calls()
    r = run_playbook(
        [
            {
                "name": "by id",
                MODULE: {"id": key_id, "name": name, "allow_create_bucket": False, "never_expires": True},
            },
            {"name": "by name", MODULE: {"name": name, "allow_create_bucket": False}},
            {"name": "info", "cellar.garage.garage_key_info": {"name": name}},
        ],
        garage=garage,
    )
    assert r.rc == 0 and r.changed_tasks() == [], r.output
    assert {k: v for k, v in garage.calls().items() if v} == {"GetKeyInfo": 3}


def test_adhoc_from_a_shell(garage: t.Any) -> None:
    """`ansible localhost -m garage_key -a name=...` with the connection from the environment."""
    name = uid()
    r = run_adhoc("garage_key", f"name={name} allow_create_bucket=true", garage=garage)
    assert r.rc == 0, r.output
    rec = r.results[0]
    assert rec["changed"] is True
    assert key_info(garage, rec["result"]["key"]["id"])["permissions"]["createBucket"] is True
