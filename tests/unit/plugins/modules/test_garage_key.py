# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_key: a MagicMock client, main() with patched args."""

from __future__ import annotations

import json
import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageConflict,
    GarageConnectionError,
    GarageNotFound,
    GarageServerError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_key
from tests.unit.plugins.modules import harness

KEY_ID = "GK" + "a1" * 12
SECRET = "5e" * 32
OTHER_SECRET = "7f" * 32
CONN = {"admin_url": "http://garage.invalid:3903", "admin_token": "unit-test-admin-token"}


def key_info(
    name: str = "app",
    *,
    key_id: str = KEY_ID,
    create_bucket: bool = False,
    expiration: str | None = None,
    secret: str | None = None,
) -> dict[str, t.Any]:
    info: dict[str, t.Any] = {
        "accessKeyId": key_id,
        "name": name,
        "created": "2025-06-14T12:00:00.123Z",
        "expiration": expiration,
        "expired": False,
        "permissions": {"createBucket": create_bucket},
        "buckets": [],
    }
    if secret is not None:
        info["secretAccessKey"] = secret
    return info


def no_match() -> GarageBadRequest:
    return GarageBadRequest("Bad request: 0 matching keys", status=400, code="InvalidRequest", endpoint="GetKeyInfo")


def run(
    args: dict[str, t.Any], client: mock.MagicMock, *, check: bool = False, diff: bool = True
) -> tuple[bool, dict[str, t.Any]]:
    """Run garage_key.main() through the shared harness; return (failed, result)."""
    result = harness.run_module(garage_key, dict(CONN, **args), clients={"admin": client}, check_mode=check, diff=diff)
    return bool(result.get("failed")), harness.plain(result)


@pytest.fixture
def client() -> mock.MagicMock:
    return mock.MagicMock(name="GarageAdminClient")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"id": "GK123"}, "is not a Garage key id"),
        ({"id": "GK" + "A1" * 12}, "is not a Garage key id"),
        ({"name": "  "}, "name must not be empty"),
        ({"id": KEY_ID, "secret_access_key": "zz" * 32}, "secret_access_key must be exactly 64 hexadecimal"),
        ({"id": KEY_ID, "secret_access_key": "ab" * 31}, "secret_access_key must be exactly 64 hexadecimal"),
        ({"name": "app", "expiration": "tomorrow"}, "is not an RFC 3339 datetime"),
        ({"name": "app", "expiration": "2030-01-01T00:00:00"}, "with a UTC offset"),
        ({"name": "app", "expiration": "2030-02-30T00:00:00Z"}, "not a valid datetime"),
    ],
)
def test_invalid_input_fails_before_any_call(client: mock.MagicMock, args: dict[str, t.Any], fragment: str) -> None:
    failed, result = run(args, client)
    assert failed
    assert fragment in result["msg"]
    assert client.method_calls == []


def test_invalid_secret_is_not_echoed(client: mock.MagicMock) -> None:
    bad = "g" * 64
    failed, result = run({"id": KEY_ID, "secret_access_key": bad}, client)
    assert failed
    assert bad not in json.dumps(result)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"name": "app", "expiration": "2030-01-01T00:00:00Z", "never_expires": True}, "mutually exclusive"),
        ({"name": "app", "secret_access_key": SECRET}, "secret_access_key"),
        ({"state": "present"}, "one of the following is required"),
    ],
)
def test_contradictory_options(client: mock.MagicMock, args: dict[str, t.Any], fragment: str) -> None:
    failed, result = run(args, client)
    assert failed
    assert fragment in result["msg"]
    assert client.method_calls == []


# --------------------------------------------------------------------------- create


def test_create_by_name_returns_secret_once(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    client.create_key.return_value = key_info("app", secret=SECRET, create_bucket=True)
    failed, result = run(
        {"name": "app", "allow_create_bucket": True, "expiration": "2030-01-01T01:00:00+01:00"}, client
    )
    assert not failed
    assert result["changed"] is True
    client.create_key.assert_called_once_with(
        {"name": "app", "allow": {"createBucket": True}, "expiration": "2030-01-01T00:00:00Z"}
    )
    assert result["secret_access_key"] == SECRET
    assert result["key"]["id"] == KEY_ID
    assert "secret" not in json.dumps(result["key"])
    assert SECRET not in json.dumps(result["diff"])
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["name"] == "app"
    assert result["diff"]["before_header"] == "key 'app'"


def test_create_never_expires(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    client.create_key.return_value = key_info("app", secret=SECRET)
    failed, result = run({"name": "app", "never_expires": True}, client)
    assert not failed
    assert result["key"]["expiration"] is None
    client.create_key.assert_called_once_with({"name": "app", "neverExpires": True})


def test_create_check_mode_predicts_and_writes_nothing(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    failed, result = run({"name": "app", "allow_create_bucket": True}, client, check=True)
    assert not failed
    assert result["changed"] is True
    assert result["key"]["id"] is None
    assert result["key"]["name"] == "app"
    assert result["key"]["permissions"] == {"create_bucket": True}
    assert "secret_access_key" not in result
    client.create_key.assert_not_called()
    assert result["diff"]["after"] == {
        "state": "present",
        "id": None,
        "name": "app",
        "allow_create_bucket": True,
        "expiration": None,
    }


def test_create_by_id_without_secret_is_refused(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    failed, result = run({"id": KEY_ID, "name": "app"}, client)
    assert failed
    assert "does not exist" in result["msg"]
    assert "secret_access_key" in result["msg"]
    client.create_key.assert_not_called()
    client.import_key.assert_not_called()


def test_create_api_error_is_one_clean_failure(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    client.create_key.side_effect = GarageServerError("Internal error: boom", status=500, code="InternalError")
    failed, result = run({"name": "app"}, client)
    assert failed
    assert result["msg"] == "Failed to create key 'app': InternalError: Internal error: boom"


# --------------------------------------------------------------------------- no-op and updates


def test_existing_by_name_no_op_costs_one_read(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("app", expiration="2030-01-01T00:00:00Z")
    failed, result = run(
        {"name": "app", "allow_create_bucket": False, "expiration": "2030-01-01T01:00:00.000+01:00"}, client
    )
    assert not failed
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_key_info(search="app", show_secret=False)]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_rename_by_id(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("old")
    client.update_key.return_value = key_info("new")
    failed, result = run({"id": KEY_ID, "name": "new"}, client)
    assert not failed
    assert result["changed"] is True
    client.get_key_info.assert_called_once_with(id=KEY_ID, show_secret=False)
    client.update_key.assert_called_once_with(KEY_ID, {"name": "new"})
    assert result["diff"]["before"]["name"] == "old"
    assert result["diff"]["after"]["name"] == "new"
    assert result["key"]["name"] == "new"
    assert "secret_access_key" not in result


def test_rename_check_mode(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("old")
    failed, result = run({"id": KEY_ID, "name": "new"}, client, check=True)
    assert not failed
    assert result["changed"] is True
    assert result["key"]["name"] == "new"
    client.update_key.assert_not_called()


@pytest.mark.parametrize(
    ("current", "wanted", "body"),
    [
        (False, True, {"allow": {"createBucket": True}}),
        (True, False, {"deny": {"createBucket": True}}),
    ],
)
def test_allow_create_bucket(client: mock.MagicMock, current: bool, wanted: bool, body: dict[str, t.Any]) -> None:
    client.get_key_info.return_value = key_info(create_bucket=current)
    client.update_key.return_value = key_info(create_bucket=wanted)
    failed, result = run({"id": KEY_ID, "allow_create_bucket": wanted}, client)
    assert not failed
    assert result["changed"] is True
    client.update_key.assert_called_once_with(KEY_ID, body)
    assert result["diff"]["before"]["allow_create_bucket"] is current
    assert result["diff"]["after"]["allow_create_bucket"] is wanted


def test_expiration_set_and_cleared(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info()
    client.update_key.return_value = key_info(expiration="2031-05-06T07:08:09.500Z")
    failed, result = run({"id": KEY_ID, "expiration": "2031-05-06T09:08:09.5+02:00"}, client)
    assert not failed
    assert result["changed"] is True
    client.update_key.assert_called_once_with(KEY_ID, {"expiration": "2031-05-06T07:08:09.500Z"})
    assert result["diff"]["after"]["expiration"] == "2031-05-06T07:08:09.500Z"

    client.reset_mock()
    client.get_key_info.return_value = key_info(expiration="2031-05-06T07:08:09.500Z")
    client.update_key.return_value = key_info()
    failed, result = run({"id": KEY_ID, "never_expires": True}, client)
    assert not failed
    assert result["changed"] is True
    client.update_key.assert_called_once_with(KEY_ID, {"neverExpires": True})
    assert result["diff"]["after"]["expiration"] is None


def test_never_expires_false_is_a_no_op(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info(expiration="2031-05-06T07:08:09Z")
    failed, result = run({"id": KEY_ID, "never_expires": False}, client)
    assert not failed
    assert result["changed"] is False
    client.update_key.assert_not_called()


def test_update_error_names_the_key(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("old")
    client.update_key.side_effect = GarageBadRequest("Bad request: nope", status=400, code="InvalidRequest")
    failed, result = run({"id": KEY_ID, "name": "new"}, client)
    assert failed
    assert result["msg"] == f"Failed to update key '{KEY_ID}': InvalidRequest: Bad request: nope"


def test_read_error(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageServerError("Internal error: x", status=500, code="InternalError")
    failed, result = run({"id": KEY_ID}, client)
    assert failed
    assert result["msg"].startswith(f"Failed to read key '{KEY_ID}': InternalError")


def test_ambiguous_name_is_refused(client: mock.MagicMock) -> None:
    other = "GK" + "b2" * 12
    client.get_key_info.side_effect = GarageBadRequest(
        "Bad request: 2 matching keys", status=400, code="InvalidRequest"
    )
    client.list_keys.return_value = [
        {"id": KEY_ID, "name": "dup", "expired": False},
        {"id": other, "name": "dup", "expired": False},
    ]
    failed, result = run({"name": "dup", "allow_create_bucket": True}, client)
    assert failed
    assert "ambiguous" in result["msg"]
    assert result["key_ids"] == sorted([KEY_ID, other])
    client.update_key.assert_not_called()
    client.create_key.assert_not_called()
    client.delete_key.assert_not_called()


# --------------------------------------------------------------------------- import


def test_import_absent_key_then_update(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    client.import_key.return_value = key_info("imp")
    client.update_key.return_value = key_info("imp", create_bucket=True)
    failed, result = run(
        {"id": KEY_ID, "secret_access_key": SECRET, "name": "imp", "allow_create_bucket": True}, client
    )
    assert not failed
    assert result["changed"] is True
    client.get_key_info.assert_called_once_with(id=KEY_ID, show_secret=True)
    client.import_key.assert_called_once_with({"accessKeyId": KEY_ID, "secretAccessKey": SECRET, "name": "imp"})
    client.update_key.assert_called_once_with(KEY_ID, {"allow": {"createBucket": True}})
    assert "secret_access_key" not in result
    assert SECRET not in json.dumps(result)
    assert result["diff"]["after"] == {
        "state": "present",
        "id": KEY_ID,
        "name": "imp",
        "allow_create_bucket": True,
        "expiration": None,
    }


def test_import_without_name_keeps_garage_default(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    client.import_key.return_value = key_info("Imported key")
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET}, client)
    assert not failed
    client.import_key.assert_called_once_with({"accessKeyId": KEY_ID, "secretAccessKey": SECRET})
    client.update_key.assert_not_called()
    assert result["key"]["name"] == "Imported key"


def test_import_check_mode(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET, "name": "imp"}, client, check=True)
    assert not failed
    assert result["changed"] is True
    assert result["key"]["id"] == KEY_ID
    client.import_key.assert_not_called()


def test_reimport_same_secret_is_no_op(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("imp", secret=SECRET)
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET, "name": "imp"}, client)
    assert not failed
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_key_info(id=KEY_ID, show_secret=True)]
    assert SECRET not in json.dumps(result)


def test_reimport_other_secret_fails_without_leaking(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("imp", secret=OTHER_SECRET)
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET}, client)
    assert failed
    assert "different secret" in result["msg"]
    dumped = json.dumps(result)
    assert SECRET not in dumped
    assert OTHER_SECRET not in dumped


def test_import_of_a_deleted_id_fails_clearly(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    client.import_key.side_effect = GarageConflict(
        f"Key {KEY_ID} already exists in data store. Even if it is deleted, we can't let you create a new key "
        "with the same ID. Sorry.",
        status=409,
        code="KeyAlreadyExists",
    )
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET}, client)
    assert failed
    assert result["msg"].startswith(f"Failed to import key '{KEY_ID}': KeyAlreadyExists")
    assert SECRET not in json.dumps(result)


# --------------------------------------------------------------------------- absent


def test_absent_deletes(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("gone")
    failed, result = run({"id": KEY_ID, "state": "absent"}, client)
    assert not failed
    assert result["changed"] is True
    client.delete_key.assert_called_once_with(KEY_ID)
    assert result["key"] is None
    assert result["diff"]["before"]["name"] == "gone"
    assert result["diff"]["after"] == {"state": "absent"}


def test_absent_by_name_check_mode(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("gone")
    failed, result = run({"name": "gone", "state": "absent"}, client, check=True)
    assert not failed
    assert result["changed"] is True
    client.delete_key.assert_not_called()


def test_absent_with_secret_does_not_read_the_secret(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("gone")
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET, "state": "absent"}, client)
    assert not failed and result["changed"] is True
    client.get_key_info.assert_called_once_with(id=KEY_ID, show_secret=False)
    client.delete_key.assert_called_once_with(KEY_ID)


def test_absent_missing_is_not_changed(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    failed, result = run({"id": KEY_ID, "state": "absent"}, client)
    assert not failed
    assert result["changed"] is False
    client.delete_key.assert_not_called()


def test_absent_delete_error(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("gone")
    client.delete_key.side_effect = GarageNotFound("Access key not found", status=404, code="NoSuchAccessKey")
    failed, result = run({"id": KEY_ID, "state": "absent"}, client)
    assert failed
    assert result["msg"].startswith(f"Failed to delete key '{KEY_ID}': NoSuchAccessKey")


def test_no_diff_without_diff_mode(client: mock.MagicMock) -> None:
    client.get_key_info.return_value = key_info("app")
    failed, result = run({"name": "app"}, client, diff=False)
    assert not failed
    assert "diff" not in result


# --------------------------------------------------------------------------- issue 9 defects


def test_rename_onto_a_name_another_key_carries_is_refused(client: mock.MagicMock) -> None:
    """Every later lookup by that name would fail as ambiguous: refuse, as garage_admin_token does."""
    other = "GK" + "b2" * 12
    client.get_key_info.return_value = key_info("old")
    client.list_keys.return_value = [{"id": KEY_ID, "name": "old"}, {"id": other, "name": "taken"}]
    failed, result = run({"id": KEY_ID, "name": "taken"}, client)
    assert failed and "already carry that name" in result["msg"]
    assert result["failure_reason"] == "name_taken" and result["key_ids"] == [other]
    client.update_key.assert_not_called()


def test_create_that_timed_out_but_landed_returns_the_secret(client: mock.MagicMock) -> None:
    """CreateKey got no answer but Garage created the key: its secret must not be lost."""
    client.get_key_info.side_effect = [no_match(), key_info("app", secret=SECRET)]
    client.create_key.side_effect = GarageConnectionError("No answer", endpoint="CreateKey", may_have_landed=True)
    failed, result = run({"name": "app"}, client)
    assert not failed and result["changed"] is True
    assert result["secret_access_key"] == SECRET and result["key"]["id"] == KEY_ID
    client.create_key.assert_called_once()
    assert client.get_key_info.call_args_list[-1] == mock.call(search="app", show_secret=True)


def test_create_that_timed_out_and_did_not_land_says_so(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    client.create_key.side_effect = GarageConnectionError("No answer", endpoint="CreateKey", may_have_landed=True)
    failed, result = run({"name": "app"}, client)
    assert failed and result["changed"] is False
    assert "it was not created; running again is safe" in result["msg"]


def test_key_created_already_expired_warns(client: mock.MagicMock) -> None:
    client.get_key_info.side_effect = no_match()
    client.create_key.return_value = key_info("app", expiration="2001-01-01T00:00:00Z", secret=SECRET)
    failed, result = run({"name": "app", "expiration": "2001-01-01T00:00:00Z"}, client)
    assert not failed
    assert any("already past" in w for w in result["warnings"])


def test_other_secret_advice_names_what_works(client: mock.MagicMock) -> None:
    """Garage never lets a used key id be imported again: do not advise "delete and import again"."""
    client.get_key_info.return_value = key_info("imp", secret=OTHER_SECRET)
    failed, result = run({"id": KEY_ID, "secret_access_key": SECRET}, client)
    assert failed and "import it again" not in result["msg"]
    assert "create a new key" in result["msg"] and result["failure_reason"] == "key_secret_mismatch"
