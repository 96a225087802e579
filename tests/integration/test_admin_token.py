# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_admin_token through the real ansible-playbook against a Garage.

Check mode, out-of-band proof that nothing was written, then apply + idempotent check +
idempotent apply, out-of-band proof of the result; the token returned on creation is
proven to work, within its scope only.
"""

from __future__ import annotations

import typing as t
import uuid

from tests.integration.ansible_run import PlaybookResult, TaskRecord, run_playbook
from tests.integration.quartet import Scenario, run_quartets

MODULE = "cellar.garage.garage_admin_token"


def uid() -> str:
    return f"it-tok-{uuid.uuid4().hex[:10]}"


def tokens_named(garage: t.Any, name: str) -> list[dict[str, t.Any]]:
    return [tok for tok in garage.ok("ListAdminTokens") if tok["name"] == name and tok["id"]]


def token_info(garage: t.Any, token_id: str) -> dict[str, t.Any] | None:
    status, body = garage.admin("GetAdminTokenInfo", query={"id": token_id})
    if status == 404:
        return None
    assert status == 200, body
    return t.cast(dict, body)


def run_scenarios(garage: t.Any, scenarios: list[Scenario]) -> None:
    """The shared quartet helper (tests/integration/quartet.py), all scenarios batched; the
    bearer token comes back only from the apply that creates the token."""
    quartets = run_quartets(garage, scenarios)
    for q in quartets.values():
        assert "secret_token" not in q.check.result
        assert "secret_token" not in q.idem_apply.result


def create(garage: t.Any) -> Scenario:
    name = uid()

    def untouched() -> None:
        assert tokens_named(garage, name) == []

    def checked(rec: TaskRecord) -> None:
        assert rec.result["token"]["id"] is None
        assert rec.result["token"]["scope"] == ["GetClusterStatus", "Metrics"]

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        token_id = rec.result["token"]["id"]
        assert [tok["id"] for tok in tokens_named(garage, name)] == [token_id]
        info = token_info(garage, token_id)
        assert info is not None
        assert sorted(info["scope"]) == ["GetClusterStatus", "Metrics"]
        assert info["expiration"].startswith("2033-03-03T03:03:03")
        # One "absent" shape for every resource; a present one says so (issue 9); the header names the token.
        assert rec.result["diff"] == {
            "before": {"state": "absent"},
            "before_header": f"admin token '{name}'",
            "after_header": f"admin token '{name}'",
            "after": {
                "state": "present",
                "id": token_id,
                "name": name,
                "scope": ["GetClusterStatus", "Metrics"],
                "expiration": "2033-03-03T03:03:03Z",
            },
        }
        # The secret comes back once, and it is a working bearer token limited to its scope.
        secret = rec.result["secret_token"]
        assert secret.startswith(token_id + ".")
        assert secret not in str(rec.result["diff"])
        assert garage.admin("GetClusterStatus", token=secret)[0] == 200
        assert garage.admin("ListBuckets", token=secret)[0] == 403

    args = {"name": name, "scope": ["Metrics", "GetClusterStatus", "Metrics"], "expiration": "2033-03-03T03:03:03Z"}
    return Scenario("create", MODULE, args, untouched=untouched, applied=applied, checked=checked)


def update_scope_and_expiration(garage: t.Any) -> Scenario:
    name = uid()
    created = garage.ok(
        "CreateAdminToken",
        body={"name": name, "scope": ["GetClusterStatus", "Metrics"], "expiration": "2033-03-03T03:03:03Z"},
    )
    token_id, secret = created["id"], created["secretToken"]

    def untouched() -> None:
        info = token_info(garage, token_id)
        assert info is not None
        assert sorted(info["scope"]) == ["GetClusterStatus", "Metrics"]
        assert info["expiration"] is not None
        assert garage.admin("ListBuckets", token=secret)[0] == 403

    def checked(rec: TaskRecord) -> None:
        assert rec.result["token"]["scope"] == ["GetClusterStatus", "ListBuckets", "Metrics"]
        assert rec.result["token"]["expiration"] is None

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        info = token_info(garage, token_id)
        assert info is not None
        assert sorted(info["scope"]) == ["GetClusterStatus", "ListBuckets", "Metrics"]
        assert info["expiration"] is None
        d = rec.result["diff"]
        assert d["before"]["scope"] == ["GetClusterStatus", "Metrics"]
        assert d["after"]["scope"] == ["GetClusterStatus", "ListBuckets", "Metrics"]
        assert (d["before"]["expiration"], d["after"]["expiration"]) == ("2033-03-03T03:03:03Z", None)
        assert "secret_token" not in rec.result
        assert garage.admin("ListBuckets", token=secret)[0] == 200

    args = {"name": name, "scope": ["Metrics", "GetClusterStatus", "ListBuckets"], "never_expires": True}
    return Scenario("update scope", MODULE, args, untouched=untouched, applied=applied, checked=checked)


def rename_by_id(garage: t.Any) -> Scenario:
    old, new = uid(), uid()
    token_id = garage.ok("CreateAdminToken", body={"name": old})["id"]

    def untouched() -> None:
        assert token_info(garage, token_id)["name"] == old  # type: ignore[index]

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert token_info(garage, token_id)["name"] == new  # type: ignore[index]
        assert (rec.result["diff"]["before"]["name"], rec.result["diff"]["after"]["name"]) == (old, new)

    return Scenario("rename", MODULE, {"id": token_id, "name": new}, untouched=untouched, applied=applied)


def delete_by_name(garage: t.Any) -> Scenario:
    name = uid()
    created = garage.ok("CreateAdminToken", body={"name": name, "scope": ["GetClusterStatus"]})
    token_id, secret = created["id"], created["secretToken"]

    def untouched() -> None:
        assert token_info(garage, token_id) is not None
        assert garage.admin("GetClusterStatus", token=secret)[0] == 200

    def applied(rec: TaskRecord, r: PlaybookResult) -> None:
        assert token_info(garage, token_id) is None
        assert rec.result["token"] is None
        assert rec.result["diff"]["before"]["id"] == token_id
        assert rec.result["diff"]["after"] == {"state": "absent"}  # one "absent" shape (issue 9)
        assert garage.admin("GetClusterStatus", token=secret)[0] == 403

    return Scenario("delete", MODULE, {"name": name, "state": "absent"}, untouched=untouched, applied=applied)


def test_token_scenarios(garage: t.Any) -> None:
    run_scenarios(
        garage, [create(garage), update_scope_and_expiration(garage), rename_by_id(garage), delete_by_name(garage)]
    )


def test_ambiguity_and_config_tokens(garage: t.Any) -> None:
    name = uid()
    first = garage.ok("CreateAdminToken", body={"name": name})["id"]
    second = garage.ok("CreateAdminToken", body={"name": name})["id"]
    other = garage.ok("CreateAdminToken", body={"name": uid()})["id"]
    before = garage.ok("ListAdminTokens")
    r = run_playbook(
        [
            {"name": "ambiguous", MODULE: {"name": name, "state": "absent"}, "ignore_errors": True},
            {"name": "rename onto", MODULE: {"id": other, "name": name}, "ignore_errors": True},
            {"name": "unknown id", MODULE: {"id": "0" * 24, "scope": ["*"]}, "ignore_errors": True},
            {"name": "bad scope", MODULE: {"name": uid(), "scope": ["List Buckets"]}, "ignore_errors": True},
            {
                "name": "config token",
                MODULE: {"name": "admin_token (from daemon configuration)", "state": "absent"},
            },
        ],
        garage=garage,
    )
    assert r.task("ambiguous").failed and "ambiguous" in r.task("ambiguous").result["msg"]
    assert sorted(r.task("ambiguous").result["token_ids"]) == sorted([first, second])
    assert r.task("rename onto").failed and "already carry that name" in r.task("rename onto").result["msg"]
    assert r.task("unknown id").failed and "does not exist" in r.task("unknown id").result["msg"]
    assert r.task("bad scope").failed and "scope entry" in r.task("bad scope").result["msg"]
    assert not r.task("config token").failed and not r.task("config token").changed
    assert garage.ok("ListAdminTokens") == before
    # the cluster's own token still works
    assert garage.admin("GetClusterStatus")[0] == 200


def test_no_op_costs_one_read(garage: t.Any) -> None:
    name = uid()
    token_id = garage.ok("CreateAdminToken", body={"name": name, "scope": ["Metrics"]})["id"]
    garage.reset_calls()
    r = run_playbook(
        [
            {"name": "by name", MODULE: {"name": name, "scope": ["Metrics"], "never_expires": True}},
            {"name": "by id", MODULE: {"id": token_id, "name": name}},
        ],
        garage=garage,
    )
    assert r.rc == 0 and r.changed_tasks() == [], r.output
    assert {k: v for k, v in garage.calls().items() if v} == {"GetAdminTokenInfo": 2}
