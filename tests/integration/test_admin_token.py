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

from tests.integration.ansible_run import PlaybookResult, run_playbook

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


def check_then_converge(
    garage: t.Any, args: dict[str, t.Any], between: t.Callable[[], None]
) -> tuple[PlaybookResult, PlaybookResult]:
    check = run_playbook([{"name": "check", MODULE: args}], garage=garage, check=True, diff=True)
    assert check.rc == 0, check.output
    assert check.task("check").changed, check.task("check").result
    between()
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
    return check, r


def test_create_update_delete(garage: t.Any) -> None:
    name = uid()
    create = {"name": name, "scope": ["GetClusterStatus", "Metrics"], "expiration": "2033-03-03T03:03:03Z"}

    def none_yet() -> None:
        assert tokens_named(garage, name) == []

    check, r = check_then_converge(garage, create, none_yet)
    assert check.task("check").result["token"]["id"] is None
    assert "secret_token" not in check.task("check").result
    created = r.task("apply").result
    token_id = created["token"]["id"]
    info = token_info(garage, token_id)
    assert info is not None
    assert sorted(info["scope"]) == ["GetClusterStatus", "Metrics"]
    assert info["expiration"].startswith("2033-03-03T03:03:03")
    assert r.task("apply").result["diff"] == {
        "before": {},
        "after": {
            "id": token_id,
            "name": name,
            "scope": ["GetClusterStatus", "Metrics"],
            "expiration": "2033-03-03T03:03:03Z",
        },
    }
    # The secret comes back once, and it is a working bearer token limited to its scope.
    secret = created["secret_token"]
    assert secret.startswith(token_id + ".")
    assert "secret_token" not in r.task("idempotent apply").result
    assert secret not in str(r.task("apply").result["diff"])
    assert garage.admin("GetClusterStatus", token=secret)[0] == 200
    assert garage.admin("ListBuckets", token=secret)[0] == 403

    # Widen the scope, by name; make it never expire.
    update = {"name": name, "scope": ["Metrics", "GetClusterStatus", "ListBuckets"], "never_expires": True}

    def unchanged() -> None:
        assert sorted(token_info(garage, token_id)["scope"]) == ["GetClusterStatus", "Metrics"]  # type: ignore[index]

    check, r = check_then_converge(garage, update, unchanged)
    assert check.task("check").result["token"]["scope"] == ["GetClusterStatus", "ListBuckets", "Metrics"]
    info = token_info(garage, token_id)
    assert sorted(info["scope"]) == ["GetClusterStatus", "ListBuckets", "Metrics"]  # type: ignore[index]
    assert info["expiration"] is None  # type: ignore[index]
    d = r.task("apply").result["diff"]
    assert d["before"]["scope"] == ["GetClusterStatus", "Metrics"]
    assert d["after"]["scope"] == ["GetClusterStatus", "ListBuckets", "Metrics"]
    assert d["after"]["expiration"] is None
    assert garage.admin("ListBuckets", token=secret)[0] == 200

    # Rename by id.
    new_name = uid()

    def old_name() -> None:
        assert token_info(garage, token_id)["name"] == name  # type: ignore[index]

    check_then_converge(garage, {"id": token_id, "name": new_name}, old_name)
    assert token_info(garage, token_id)["name"] == new_name  # type: ignore[index]

    # Delete by name.
    def still_there() -> None:
        assert token_info(garage, token_id) is not None

    _, r = check_then_converge(garage, {"name": new_name, "state": "absent"}, still_there)
    assert token_info(garage, token_id) is None
    assert r.task("apply").result["token"] is None
    assert garage.admin("GetClusterStatus", token=secret)[0] == 403


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
    for args in ({"name": name, "scope": ["Metrics"], "never_expires": True}, {"id": token_id, "name": name}):
        garage.reset_calls()
        r = run_playbook([{"name": "noop", MODULE: args}], garage=garage)
        assert r.rc == 0 and not r.task("noop").changed, r.output
        calls = {k: v for k, v in garage.calls().items() if v}
        assert calls == {"GetAdminTokenInfo": 1}, calls
