# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_admin_token: a MagicMock client, main() with patched args."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageNotFound,
    GarageServerError,
)
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.modules import garage_admin_token

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
    full = dict(CONN, **args, _ansible_check_mode=check, _ansible_diff=diff)
    out: dict[str, t.Any] = {"warnings": []}

    def _exit(self: GarageModule, **kwargs: t.Any) -> t.NoReturn:
        out.update(kwargs)
        raise SystemExit(0)

    def _fail(self: GarageModule, msg: str, **kwargs: t.Any) -> t.NoReturn:
        out.update(kwargs, msg=msg, failed=True)
        raise SystemExit(1)

    def _warn(self: GarageModule, warning: str) -> None:
        out["warnings"].append(warning)

    with (
        patch_module_args(full),
        mock.patch.object(GarageModule, "client", new_callable=mock.PropertyMock, return_value=client),
        mock.patch.object(GarageModule, "exit_json", _exit),
        mock.patch.object(GarageModule, "fail_json", _fail),
        mock.patch.object(GarageModule, "warn", _warn),
        pytest.raises(SystemExit),
    ):
        garage_admin_token.main()
    json.dumps(out)
    return bool(out.get("failed")), out


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
        "before": {},
        "after": {
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
    assert result["diff"]["after"] == {}


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
