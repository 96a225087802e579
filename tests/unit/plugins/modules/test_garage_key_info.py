# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_key_info: a MagicMock client, main() with patched args."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageBadRequest,
    GarageNotFound,
)
from ansible_collections.cellar.garage.plugins.modules import garage_key_info
from tests.unit.plugins.modules import harness

KEY_A = "GK" + "0a" * 12
KEY_B = "GK" + "0b" * 12
SECRET = "5e" * 32
CONN = {"admin_url": "http://garage.invalid:3903", "admin_token": "unit-test-admin-token"}


def key_info(key_id: str, name: str, *, secret: str | None = None) -> dict[str, t.Any]:
    info: dict[str, t.Any] = {
        "accessKeyId": key_id,
        "name": name,
        "created": "2025-06-14T12:00:00.123Z",
        "expiration": None,
        "expired": False,
        "permissions": {"createBucket": True},
        "buckets": [
            {"id": "f" * 64, "globalAliases": ["b"], "localAliases": [], "permissions": {"read": True}},
            {"id": "0" * 64, "globalAliases": [], "localAliases": ["l"], "permissions": {"owner": True}},
        ],
    }
    if secret is not None:
        info["secretAccessKey"] = secret
    return info


def run(
    args: dict[str, t.Any], client: mock.MagicMock, *, check: bool = False, diff: bool = False
) -> tuple[bool, dict[str, t.Any]]:
    """Run garage_key_info.main() through the shared harness; return (failed, result)."""
    result = harness.run_module(
        garage_key_info, dict(CONN, **args), clients={"admin": client}, check_mode=check, diff=diff
    )
    return bool(result.get("failed")), harness.plain(result)


@pytest.fixture
def client() -> mock.MagicMock:
    return mock.MagicMock(name="GarageAdminClient")


def test_one_by_id_without_secret(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info(KEY_A, "a")
    failed, result = run({"id": KEY_A}, client, check=True)
    assert not failed
    assert result["changed"] is False
    assert result["exists"] is True
    assert client.method_calls == [mock.call.get_key_info(id=KEY_A, show_secret=False)]
    key = result["key"]
    assert key["id"] == KEY_A
    assert key["permissions"] == {"create_bucket": True}
    assert [b["id"] for b in key["buckets"]] == ["0" * 64, "f" * 64]
    assert key["buckets"][1]["permissions"] == {"read": True, "write": False, "owner": False}
    assert "secret_access_key" not in key


def test_one_by_name_with_secret(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info(KEY_A, "a", secret=SECRET)
    failed, result = run({"name": "a", "show_secret": True}, client)
    assert not failed
    client.get_key_info.assert_called_once_with(search="a", show_secret=True)
    assert result["key"]["secret_access_key"] == SECRET


def test_missing_key(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    failed, result = run({"id": KEY_A}, client)
    assert not failed
    assert result == {"changed": False, "exists": False, "key": None}


def test_missing_name(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageBadRequest("Bad request: 0 matching keys", status=400)
    failed, result = run({"name": "nope"}, client)
    assert not failed
    assert result["exists"] is False


def test_ambiguous_name_fails(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageBadRequest("Bad request: 2 matching keys", status=400)
    client.list_keys.return_value = [{"id": KEY_B, "name": "dup"}, {"id": KEY_A, "name": "dup"}]
    failed, result = run({"name": "dup"}, client)
    assert failed
    assert "ambiguous" in result["msg"]
    assert result["key_ids"] == [KEY_A, KEY_B]


def test_all_keys_sorted_without_secrets(client: mock.MagicMock) -> None:
    client.list_keys.return_value = [{"id": KEY_B, "name": "b"}, {"id": KEY_A, "name": "a"}]
    client.get_key_info.side_effect = lambda id, show_secret=False: key_info(id, id[-2:])
    failed, result = run({}, client)
    assert not failed
    assert [k["id"] for k in result["keys"]] == [KEY_A, KEY_B]
    assert client.get_key_info.call_args_list == [
        mock.call(id=KEY_A, show_secret=False),
        mock.call(id=KEY_B, show_secret=False),
    ]
    assert "secret" not in json.dumps(result)
    assert "exists" not in result


def test_all_keys_with_secret_and_a_key_deleted_meanwhile(client: mock.MagicMock) -> None:
    client.list_keys.return_value = [{"id": KEY_A, "name": "a"}, {"id": KEY_B, "name": "b"}]

    def info(id: str, show_secret: bool) -> dict[str, t.Any]:
        if id == KEY_B:
            raise GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
        return key_info(id, "a", secret=SECRET if show_secret else None)

    client.get_key_info.side_effect = info
    failed, result = run({"show_secret": True}, client)
    assert not failed
    assert [k["id"] for k in result["keys"]] == [KEY_A]
    assert result["keys"][0]["secret_access_key"] == SECRET


def test_empty_cluster(client: mock.MagicMock) -> None:
    client.list_keys.return_value = []
    failed, result = run({}, client)
    assert not failed
    assert result["keys"] == []


def test_list_error(client: mock.MagicMock) -> None:
    client.list_keys.side_effect = GarageAccessDenied(
        "Forbidden: Invalid bearer token", status=403, code="AccessDenied"
    )
    failed, result = run({}, client)
    assert failed
    assert result["msg"] == "Failed to list keys: AccessDenied: Forbidden: Invalid bearer token"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"id": "nope"}, "is not a Garage key id"),
        ({"name": ""}, "name must not be empty"),
        ({"id": KEY_A, "name": "a"}, "mutually exclusive"),
    ],
)
def test_invalid_input(client: mock.MagicMock, args: dict[str, t.Any], fragment: str) -> None:
    failed, result = run(args, client)
    assert failed
    assert fragment in result["msg"]
    assert client.method_calls == []
