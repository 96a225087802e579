# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_bucket_permission."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import permissions
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageBadRequest, GarageNotFound
from ansible_collections.cellar.garage.plugins.modules import garage_bucket_permission as mod
from tests.unit.plugins.modules._bucket_harness import (
    BUCKET_ID,
    KEY2_ID,
    KEY_ID,
    bucket_info,
    buckets_by,
    key_bucket,
    key_entry,
    key_info,
    not_found,
    run_module,
    write_calls,
)

NONE = {"read": False, "write": False, "owner": False}


@pytest.fixture
def client() -> mock.MagicMock:
    c = mock.MagicMock()
    c.get_bucket_info.side_effect = buckets_by(bucket_info(BUCKET_ID, aliases=["photos"]))
    c.get_key_info.return_value = key_info(KEY_ID, buckets=[])
    return c


def with_perms(client, **perms):
    client.get_key_info.return_value = key_info(KEY_ID, buckets=[key_bucket(BUCKET_ID, **perms)])


def answer(**perms):
    return bucket_info(keys=[key_entry(KEY_ID, **perms)])


def run(client, capsys, check_mode=False, **args):
    args.setdefault("bucket", "photos")
    if "access_key_name" not in args:
        args.setdefault("access_key_id", KEY_ID)
    # None means "not passed at all" here (Ansible counts a passed null as given for mutually_exclusive)
    args = {k: v for k, v in args.items() if v is not None}
    return run_module(mod, args, client, capsys, check_mode=check_mode, diff=True)


@pytest.mark.parametrize(
    "current, args, allow, deny, after",
    [
        ({}, {"read": True}, {"read": True}, {}, {"read": True, "write": False, "owner": False}),
        (
            {},
            {"read": True, "write": True, "owner": False},
            {"read": True, "write": True},
            {},
            {"read": True, "write": True, "owner": False},
        ),
        (
            {"read": True, "write": True},
            {"write": False},
            {},
            {"write": True},
            {"read": True, "write": False, "owner": False},
        ),
        (
            {"read": True},
            {"read": False, "owner": True},
            {"owner": True},
            {"read": True},
            {"read": False, "write": False, "owner": True},
        ),
        (
            {"read": True, "write": True, "owner": True},
            {"state": "absent"},
            {},
            {"read": True, "write": True, "owner": True},
            NONE,
        ),
        ({"owner": True}, {"state": "absent", "read": False}, {}, {"owner": True}, NONE),
    ],
)
@pytest.mark.parametrize("check_mode", [True, False])
def test_allow_deny_combinations(client, capsys, check_mode, current, args, allow, deny, after):
    with_perms(client, **current)
    client.allow_bucket_key.return_value = answer(**after)
    client.deny_bucket_key.return_value = answer(**after)
    result = run(client, capsys, check_mode=check_mode, **args)
    assert result["changed"] is True and not result["failed"]
    assert result["permissions"] == after
    assert result["diff"]["before"] == {**NONE, **current}
    assert result["diff"]["after"] == after
    assert result["bucket_id"] == BUCKET_ID and result["access_key_id"] == KEY_ID
    if check_mode:
        assert write_calls(client) == []
        return
    if allow:
        client.allow_bucket_key.assert_called_once_with(BUCKET_ID, KEY_ID, allow)
    else:
        assert not client.allow_bucket_key.called
    if deny:
        client.deny_bucket_key.assert_called_once_with(BUCKET_ID, KEY_ID, deny)
    else:
        assert not client.deny_bucket_key.called


@pytest.mark.parametrize(
    "current, args",
    [
        ({"read": True}, {"read": True}),
        ({"read": True, "write": True}, {"read": True, "owner": False}),
        ({}, {"state": "absent"}),  # listed on the bucket with all flags false: absent already
        ({}, {"read": False, "write": False, "owner": False}),
    ],
)
def test_noop_one_read(client, capsys, current, args):
    with_perms(client, **current)
    result = run(client, capsys, **args)
    assert result["changed"] is False and not result["failed"]
    assert client.method_calls == [mock.call.get_key_info(id=KEY_ID, show_secret=False)]
    assert result["diff"]["before"] == result["diff"]["after"]


def test_bucket_matched_by_id(client, capsys):
    with_perms(client, read=True)
    result = run(client, capsys, bucket=None, bucket_id=BUCKET_ID, read=True)
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_key_info(id=KEY_ID, show_secret=False)]


def test_key_never_on_bucket_reads_bucket(client, capsys):
    client.allow_bucket_key.return_value = answer(write=True)
    result = run(client, capsys, write=True)
    assert result["changed"] is True
    client.get_bucket_info.assert_called_once_with(global_alias="photos")
    client.allow_bucket_key.assert_called_once_with(BUCKET_ID, KEY_ID, {"write": True})


def test_key_never_on_bucket_deny_is_noop(client, capsys):
    result = run(client, capsys, read=False)
    assert result["changed"] is False
    assert write_calls(client) == []


def test_by_key_name(client, capsys):
    with_perms(client, read=True)
    client.get_key_info.return_value["name"] = "app"
    result = run(client, capsys, access_key_name="app", read=True)
    assert result["changed"] is False and result["access_key_id"] == KEY_ID
    client.get_key_info.assert_called_once_with(search="app", show_secret=False)


def test_ambiguous_key_name(client, capsys):
    client.get_key_info.side_effect = GarageBadRequest(
        "Bad request: 2 matching keys", status=400, code="InvalidRequest"
    )
    client.list_keys.return_value = [{"id": KEY_ID, "name": "app"}, {"id": KEY2_ID, "name": "app"}]
    result = run(client, capsys, access_key_name="app", read=True)
    assert result["failed"] is True and "ambiguous" in result["msg"]
    assert write_calls(client) == []


def test_unknown_key_present_fails(client, capsys):
    client.get_key_info.side_effect = not_found("Access key not found", code="NoSuchAccessKey")
    result = run(client, capsys, read=True)
    assert result["failed"] is True and result["msg"] == f"Access key '{KEY_ID}' does not exist"


def test_unknown_key_absent_is_noop(client, capsys):
    client.get_key_info.side_effect = not_found("Access key not found", code="NoSuchAccessKey")
    result = run(client, capsys, state="absent")
    assert result["changed"] is False and not result["failed"]
    assert result["permissions"] == NONE and result["access_key_id"] is None


def test_unknown_bucket_present_fails(client, capsys):
    result = run(client, capsys, bucket="nope", read=True)
    assert result["failed"] is True and result["msg"] == "Bucket 'nope' does not exist"
    assert write_calls(client) == []


def test_unknown_bucket_absent_is_noop(client, capsys):
    result = run(client, capsys, bucket="nope", state="absent")
    assert result["changed"] is False and result["bucket_id"] is None


def test_api_error_after_allow_reports_changed(client, capsys):
    with_perms(client, write=True)
    client.deny_bucket_key.side_effect = GarageNotFound("Bucket not found", status=404, code="NoSuchBucket")
    result = run(client, capsys, read=True, write=False)
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == "Failed to deny permissions on bucket 'photos': NoSuchBucket: Bucket not found"


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({}, "needs at least one of read, write and owner"),
        ({"state": "absent", "write": True}, "write=true"),
        ({"bucket": "Bad_Name", "read": True}, "Invalid bucket name 'Bad_Name'"),
        ({"bucket": None, "bucket_id": "nothex", "read": True}, "Invalid bucket id 'nothex'"),
        ({"access_key_id": "GKxyz", "read": True}, "Invalid access key id 'GKxyz'"),
        ({"access_key_id": None, "access_key_name": "", "read": True}, "must not be empty"),
        ({"bucket_id": BUCKET_ID, "read": True}, "mutually exclusive"),
        ({"access_key_id": KEY_ID, "access_key_name": "app", "read": True}, "mutually exclusive"),
        ({"bucket": None, "read": True}, "one of the following is required: bucket, bucket_id"),
    ],
)
def test_bad_input(client, capsys, args, fragment):
    result = run(client, capsys, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert client.method_calls == []


def test_plan_pure():
    cur = {"read": True, "write": False, "owner": True}
    assert permissions.plan(cur, {"read": True, "write": True, "owner": False}) == ({"write": True}, {"owner": True})
    assert permissions.plan(cur, cur) == ({}, {})
