# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_admin_token: a MagicMock client, main() with patched args."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageConnectionError,
    GarageNotFound,
    GarageServerError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_admin_token
from tests.unit.plugins.modules import harness

TOK = "0123456789abcdef01234567"
TOK2 = "fedcba9876543210fedcba98"
SECRET_TOKEN = TOK + ".c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"
CONN = {"admin_url": "http://garage.invalid:3903", "admin_token": "unit-test-admin-token"}


def token(
    name: str = "mon", *, tid: str | None = TOK, scope: list[str] | None = None, expiration: str | None = None
) -> dict[str, t.Any]:
    return {
        "id": tid,
        "name": name,
        "created": "2025-06-14T12:00:00.123Z",
        "expiration": expiration,
        "expired": False,
        "scope": scope if scope is not None else ["*"],
    }


def matching(n: int) -> GarageBadRequest:
    return GarageBadRequest(f"Bad request: {n} matching admin tokens", status=400, code="InvalidRequest")


def run(
    args: dict[str, t.Any], client: mock.MagicMock, *, check: bool = False, diff: bool = True
) -> tuple[bool, dict[str, t.Any]]:
    """Run garage_admin_token.main() through the shared harness; return (failed, result)."""
    result = harness.run_module(
        garage_admin_token, dict(CONN, **args), clients={"admin": client}, check_mode=check, diff=diff
    )
    return bool(result.get("failed")), harness.plain(result)


@pytest.fixture
def client() -> mock.MagicMock:
    return mock.MagicMock(name="GarageAdminClient")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"id": "abc"}, "is not an admin token id"),
        ({"name": " "}, "name must not be empty"),
        ({"name": "m", "scope": ["Get Cluster"]}, "scope entry 'Get Cluster'"),
        ({"name": "m", "scope": [""]}, "scope entry ''"),
        ({"name": "m", "expiration": "soon"}, "RFC 3339"),
        ({"name": "m", "expiration": "2030-01-01T00:00:00Z", "never_expires": True}, "mutually exclusive"),
        ({"scope": ["*"]}, "one of the following is required"),
    ],
)
def test_invalid_input(client: mock.MagicMock, args: dict[str, t.Any], fragment: str) -> None:
    failed, result = run(args, client)
    assert failed
    assert fragment in result["msg"]
    assert client.method_calls == []


def test_create_returns_secret_once(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = matching(0)
    client.create_admin_token.return_value = dict(
        token("mon", scope=["Metrics", "GetClusterStatus"], expiration="2030-01-01T00:00:00Z"),
        secretToken=SECRET_TOKEN,
    )
    failed, result = run(
        {"name": "mon", "scope": ["Metrics", "GetClusterStatus", "Metrics"], "expiration": "2030-01-01T00:00:00Z"},
        client,
    )
    assert not failed
    assert result["changed"] is True
    client.create_admin_token.assert_called_once_with(
        {"name": "mon", "scope": ["GetClusterStatus", "Metrics"], "expiration": "2030-01-01T00:00:00Z"}
    )
    assert result["secret_token"] == SECRET_TOKEN
    assert SECRET_TOKEN not in json.dumps(result["token"]) + json.dumps(result["diff"])
    assert result["token"]["scope"] == ["GetClusterStatus", "Metrics"]
    assert result["diff"] == {
        "before": {"state": "absent"},
        "before_header": "admin token 'mon'",
        "after_header": "admin token 'mon'",
        "after": {
            "state": "present",
            "id": TOK,
            "name": "mon",
            "scope": ["GetClusterStatus", "Metrics"],
            "expiration": "2030-01-01T00:00:00Z",
        },
    }


def test_create_default_scope_and_never_expires(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = matching(0)
    client.list_admin_tokens.return_value = []
    client.create_admin_token.return_value = dict(token("mon"), secretToken=SECRET_TOKEN)
    failed, result = run({"name": "mon", "never_expires": True}, client)
    assert not failed
    client.create_admin_token.assert_called_once_with({"name": "mon", "neverExpires": True})
    assert result["token"]["scope"] == ["*"]


def test_create_check_mode(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = matching(0)
    failed, result = run({"name": "mon", "scope": ["Metrics"]}, client, check=True)
    assert not failed
    assert result["changed"] is True
    assert result["token"]["id"] is None
    assert result["token"]["scope"] == ["Metrics"]
    assert "secret_token" not in result
    client.create_admin_token.assert_not_called()


def test_create_by_id_refused(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = GarageNotFound(
        "Admin token not found", status=404, code="NoSuchAdminToken"
    )
    failed, result = run({"id": TOK, "name": "mon"}, client)
    assert failed
    assert "does not exist" in result["msg"]
    client.create_admin_token.assert_not_called()


def test_no_op_one_read(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon", scope=["Metrics", "GetClusterStatus"])
    failed, result = run({"name": "mon", "scope": ["GetClusterStatus", "Metrics"], "never_expires": True}, client)
    assert not failed
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_admin_token_info(search="mon")]


def test_update_scope_and_expiration(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon", scope=["Metrics"])
    client.update_admin_token.return_value = token(
        "mon", scope=["ListBuckets", "Metrics"], expiration="2030-01-01T00:00:00Z"
    )
    failed, result = run(
        {"name": "mon", "scope": ["Metrics", "ListBuckets"], "expiration": "2030-01-01T02:00:00+02:00"}, client
    )
    assert not failed
    assert result["changed"] is True
    client.update_admin_token.assert_called_once_with(
        TOK, {"scope": ["ListBuckets", "Metrics"], "expiration": "2030-01-01T00:00:00Z"}
    )
    assert result["diff"]["before"]["scope"] == ["Metrics"]
    assert result["diff"]["after"]["scope"] == ["ListBuckets", "Metrics"]
    assert "secret_token" not in result


def test_update_check_mode(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon", expiration="2030-01-01T00:00:00Z")
    failed, result = run({"id": TOK, "never_expires": True}, client, check=True)
    assert not failed
    assert result["changed"] is True
    assert result["token"]["expiration"] is None
    client.update_admin_token.assert_not_called()


def test_rename_by_id_checks_uniqueness(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("old")
    client.list_admin_tokens.return_value = [token("admin_token (from daemon configuration)", tid=None), token("old")]
    client.update_admin_token.return_value = token("new")
    failed, result = run({"id": TOK, "name": "new"}, client)
    assert not failed
    client.update_admin_token.assert_called_once_with(TOK, {"name": "new"})
    assert result["token"]["name"] == "new"


def test_rename_onto_taken_name_refused(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("old")
    client.list_admin_tokens.return_value = [token("old"), token("new", tid=TOK2)]
    failed, result = run({"id": TOK, "name": "new"}, client)
    assert failed
    assert "already carry that name" in result["msg"]
    client.update_admin_token.assert_not_called()


def test_ambiguous_name_refused(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = matching(2)
    client.list_admin_tokens.return_value = [token("dup"), token("dup", tid=TOK2)]
    failed, result = run({"name": "dup", "state": "absent"}, client)
    assert failed
    assert "ambiguous" in result["msg"]
    assert result["token_ids"] == [TOK, TOK2]
    client.delete_admin_token.assert_not_called()


def test_search_matching_an_id_prefix_is_resolved_by_exact_name(client: mock.MagicMock) -> None:
    # A hex-looking name may match another token's id prefix: only the exact name counts.
    client.get_admin_token_info.return_value = token("other", tid=TOK2)
    client.list_admin_tokens.return_value = [token("other", tid=TOK2)]
    client.create_admin_token.return_value = dict(token("fedc"), secretToken=SECRET_TOKEN)
    failed, result = run({"name": "fedc"}, client)
    assert not failed
    assert result["changed"] is True
    client.create_admin_token.assert_called_once_with({"name": "fedc"})


def test_config_token_is_never_touched(client: mock.MagicMock) -> None:
    name = "admin_token (from daemon configuration)"
    client.get_admin_token_info.return_value = token(name, tid=None)
    client.list_admin_tokens.return_value = [token(name, tid=None)]
    failed, result = run({"name": name, "state": "absent"}, client)
    # Id-less pseudo-entries are not dynamic tokens: invisible to the module, never deleted.
    assert not failed
    assert result["changed"] is False
    client.delete_admin_token.assert_not_called()


def test_config_token_by_id_lookup_is_refused(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("admin_token (from daemon configuration)", tid=None)
    failed, result = run({"id": TOK, "state": "absent"}, client)
    assert failed
    assert "configuration file" in result["msg"]
    client.delete_admin_token.assert_not_called()


def test_unknown_scope_warns(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon", scope=["GetClusterStatuss"])
    failed, result = run({"name": "mon", "scope": ["GetClusterStatuss"]}, client)
    assert not failed
    assert result["changed"] is False
    assert any("GetClusterStatuss" in w for w in result["warnings"])


def test_absent(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon")
    failed, result = run({"name": "mon", "state": "absent"}, client)
    assert not failed
    assert result["changed"] is True
    client.delete_admin_token.assert_called_once_with(TOK)
    assert result["diff"]["before"]["name"] == "mon"
    assert result["diff"]["after"] == {"state": "absent"}


def test_absent_check_and_missing(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon")
    failed, result = run({"name": "mon", "state": "absent"}, client, check=True)
    assert not failed and result["changed"] is True
    client.delete_admin_token.assert_not_called()

    client.reset_mock()
    client.get_admin_token_info.side_effect = GarageNotFound(
        "Admin token not found", status=404, code="NoSuchAdminToken"
    )
    failed, result = run({"id": TOK, "state": "absent"}, client)
    assert not failed and result["changed"] is False


def test_api_error(client: mock.MagicMock) -> None:
    client.get_admin_token_info.return_value = token("mon")
    client.update_admin_token.side_effect = GarageServerError("Internal error: x", status=500, code="InternalError")
    failed, result = run({"name": "mon", "scope": ["Metrics"]}, client)
    assert failed
    assert result["msg"] == f"Failed to update admin token '{TOK}': InternalError: Internal error: x"


# --------------------------------------------------------------------------- issue 9: a create that timed out


def lost_answer() -> t.Any:
    return GarageConnectionError("No answer", endpoint="CreateAdminToken", may_have_landed=True)


def test_token_created_but_its_secret_lost_is_deleted_and_said_plainly(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = [matching(0), token("mon")]
    client.create_admin_token.side_effect = lost_answer()
    failed, result = run({"name": "mon"}, client)
    assert failed and result["changed"] is False
    assert result["failure_reason"] == "admin_token_secret_lost"
    assert "its secret never reached this run, so it was deleted again" in result["msg"]
    client.delete_admin_token.assert_called_once_with(TOK)
    client.create_admin_token.assert_called_once()


def test_token_secret_lost_and_delete_failing_is_manual_cleanup(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = [matching(0), token("mon")]
    client.create_admin_token.side_effect = lost_answer()
    client.delete_admin_token.side_effect = GarageBadRequest("nope", status=400, code="InvalidRequest")
    failed, result = run({"name": "mon"}, client)
    assert failed and result["changed"] is True
    assert result["manual_cleanup_required"] == [
        {"resource": "admin_token", "id": TOK, "name": "mon", "action": "delete the admin token"}
    ]


def test_token_create_that_did_not_land(client: mock.MagicMock) -> None:
    client.get_admin_token_info.side_effect = [matching(0), matching(0)]
    client.create_admin_token.side_effect = lost_answer()
    failed, result = run({"name": "mon"}, client)
    assert failed and result["changed"] is False
    assert "it was not created; running again is safe" in result["msg"]
    client.delete_admin_token.assert_not_called()
