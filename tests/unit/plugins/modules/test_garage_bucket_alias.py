# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_bucket_alias."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageServerError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_bucket_alias
from tests.unit.plugins.modules._bucket_harness import (
    BUCKET_ID,
    KEY2_ID,
    KEY_ID,
    OTHER_ID,
    bucket_info,
    buckets_by,
    key_bucket,
    key_entry,
    key_info,
    not_found,
    run_module,
    write_calls,
)


@pytest.fixture
def client() -> mock.MagicMock:
    c = mock.MagicMock()
    c.get_bucket_info.side_effect = buckets_by(
        bucket_info(BUCKET_ID, aliases=["photos"]),
        bucket_info(OTHER_ID, aliases=["archive", "taken"]),
    )
    c.get_key_info.side_effect = not_found("Access key not found", code="NoSuchAccessKey")
    c.add_bucket_alias.return_value = bucket_info()
    c.remove_bucket_alias.return_value = bucket_info()
    return c


def run(client, capsys, check_mode=False, **args):
    return run_module(garage_bucket_alias, args, client, capsys, check_mode=check_mode, diff=True)


def alias_state(state, key_id=None, bucket_id=BUCKET_ID, alias="pics"):
    return {"alias": alias, "bucket_id": bucket_id, "access_key_id": key_id, "state": state}


# --------------------------------------------------------------------------- global


@pytest.mark.parametrize("check_mode", [True, False])
def test_global_add(client, capsys, check_mode):
    result = run(client, capsys, check_mode=check_mode, bucket="photos", alias="pics")
    assert result["changed"] is True and not result["failed"]
    assert result["alias"] == alias_state("present")
    # One "absent" shape for every resource (issue 9); the header names the alias and the bucket.
    assert result["diff"] == {
        "before": {"state": "absent"},
        "after": alias_state("present"),
        "before_header": "global alias 'pics' of bucket 'photos'",
        "after_header": "global alias 'pics' of bucket 'photos'",
    }
    if check_mode:
        assert write_calls(client) == []
    else:
        client.add_bucket_alias.assert_called_once_with({"bucketId": BUCKET_ID, "globalAlias": "pics"})


def test_global_present_noop_one_read(client, capsys):
    result = run(client, capsys, bucket_id=BUCKET_ID, alias="photos")
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_bucket_info(id=BUCKET_ID)]


def test_global_alias_of_other_bucket_refused(client, capsys):
    result = run(client, capsys, bucket="photos", alias="taken")
    assert result["failed"] is True
    assert f"Global alias 'taken' already points to another bucket ({OTHER_ID})" in result["msg"]
    assert write_calls(client) == []


def test_global_present_unknown_bucket(client, capsys):
    result = run(client, capsys, bucket="nope", alias="pics")
    assert result["failed"] is True and result["msg"] == "Bucket 'nope' does not exist"


def test_global_absent_not_on_this_bucket_is_noop(client, capsys):
    # 'taken' is on another bucket: removing it from photos would be Garage's 500 quirk
    result = run(client, capsys, bucket="photos", alias="taken", state="absent")
    assert result["changed"] is False and not result["failed"]
    assert write_calls(client) == []


def test_global_absent_unknown_bucket_is_noop(client, capsys):
    result = run(client, capsys, bucket="nope", alias="pics", state="absent")
    assert result["changed"] is False
    assert result["alias"] == alias_state("absent", bucket_id=None)


@pytest.mark.parametrize("check_mode", [True, False])
def test_global_remove(client, capsys, check_mode):
    result = run(client, capsys, check_mode=check_mode, bucket="archive", alias="taken", state="absent")
    assert result["changed"] is True
    assert result["diff"]["before"]["state"] == "present" and result["diff"]["after"]["state"] == "absent"
    if check_mode:
        assert write_calls(client) == []
    else:
        client.remove_bucket_alias.assert_called_once_with({"bucketId": OTHER_ID, "globalAlias": "taken"})


def test_global_last_alias_refused(client, capsys):
    result = run(client, capsys, bucket="photos", alias="photos", state="absent")
    assert result["failed"] is True
    assert "last alias of bucket" in result["msg"] and "Delete the bucket instead" in result["msg"]
    assert write_calls(client) == []


def test_global_last_global_alias_allowed_with_a_local_one(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(
        bucket_info(BUCKET_ID, aliases=["photos"], keys=[key_entry(local_aliases=["mine"])])
    )
    result = run(client, capsys, bucket="photos", alias="photos", state="absent")
    assert result["changed"] is True and not result["failed"]


def test_global_api_error(client, capsys):
    client.add_bucket_alias.side_effect = GarageBadRequest(
        "Invalid bucket name: x", status=400, code="InvalidBucketName"
    )
    result = run(client, capsys, bucket="photos", alias="pics")
    assert result["failed"] is True
    assert result["msg"] == "Failed to add global alias to bucket 'photos': InvalidBucketName: Invalid bucket name: x"


# --------------------------------------------------------------------------- local


def with_local_on_photos(client):
    """Key KEY_ID holds local alias 'mine' on the bucket photos (which also has its global alias)."""
    with_key(client, key_bucket(BUCKET_ID, local=["mine"]))
    client.get_bucket_info.side_effect = buckets_by(
        bucket_info(BUCKET_ID, aliases=["photos"], keys=[key_entry(local_aliases=["mine"])])
    )


def with_key(client, *buckets, key_id=KEY_ID, name="app"):
    info = key_info(key_id, name=name, buckets=list(buckets))
    client.get_key_info.side_effect = None
    client.get_key_info.return_value = info
    return info


@pytest.mark.parametrize("check_mode", [True, False])
def test_local_add_by_key_id(client, capsys, check_mode):
    with_key(client)
    result = run(client, capsys, check_mode=check_mode, bucket="photos", alias="mine", access_key_id=KEY_ID)
    assert result["changed"] is True
    assert result["alias"] == alias_state("present", KEY_ID, alias="mine")
    if check_mode:
        assert write_calls(client) == []
    else:
        client.add_bucket_alias.assert_called_once_with(
            {"bucketId": BUCKET_ID, "accessKeyId": KEY_ID, "localAlias": "mine"}
        )


def test_local_add_by_key_name_when_key_already_on_bucket(client, capsys):
    with_key(client, key_bucket(BUCKET_ID, read=True))
    client.get_key_info.side_effect = None
    result = run(client, capsys, bucket_id=BUCKET_ID, alias="mine", access_key_name="app")
    assert result["changed"] is True
    client.get_key_info.assert_called_once_with(search="app", show_secret=False)
    assert not client.get_bucket_info.called  # bucket id known from the key
    client.add_bucket_alias.assert_called_once_with(
        {"bucketId": BUCKET_ID, "accessKeyId": KEY_ID, "localAlias": "mine"}
    )


def test_local_present_noop_one_read(client, capsys):
    with_key(client, key_bucket(BUCKET_ID, local=["mine"]))
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY_ID)
    assert result["changed"] is False and not result["failed"]
    assert client.method_calls == [mock.call.get_key_info(id=KEY_ID, show_secret=False)]


def test_local_alias_taken_in_key_namespace(client, capsys):
    with_key(client, key_bucket(OTHER_ID, aliases=["archive"], local=["mine"]))
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY_ID)
    assert result["failed"] is True
    assert f"Local alias 'mine' of access key {KEY_ID} already points to another bucket ({OTHER_ID})" in result["msg"]
    assert write_calls(client) == []


def test_local_unknown_key_present_fails(client, capsys):
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY2_ID)
    assert result["failed"] is True and result["msg"] == f"Access key '{KEY2_ID}' does not exist"


def test_local_unknown_key_absent_is_noop(client, capsys):
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY2_ID, state="absent")
    assert result["changed"] is False and not result["failed"]


def test_local_unknown_bucket_fails(client, capsys):
    with_key(client)
    result = run(client, capsys, bucket="nope", alias="mine", access_key_id=KEY_ID)
    assert result["failed"] is True and result["msg"] == "Bucket 'nope' does not exist"


def test_local_ambiguous_key_name(client, capsys):
    client.get_key_info.side_effect = GarageBadRequest(
        "Bad request: 2 matching keys", status=400, code="InvalidRequest"
    )
    client.list_keys.return_value = [{"id": KEY_ID, "name": "app"}, {"id": KEY2_ID, "name": "app"}]
    result = run(client, capsys, bucket="photos", alias="mine", access_key_name="app")
    assert result["failed"] is True
    assert "Key name 'app' is ambiguous" in result["msg"]
    assert result["key_ids"] == sorted([KEY_ID, KEY2_ID])
    assert write_calls(client) == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_local_remove(client, capsys, check_mode):
    with_local_on_photos(client)
    result = run(
        client, capsys, check_mode=check_mode, bucket="photos", alias="mine", access_key_id=KEY_ID, state="absent"
    )
    assert result["changed"] is True
    assert result["diff"]["after"] == {"state": "absent"}
    assert result["alias"] == alias_state("absent", KEY_ID, alias="mine")
    if check_mode:
        assert write_calls(client) == []
    else:
        client.remove_bucket_alias.assert_called_once_with(
            {"bucketId": BUCKET_ID, "accessKeyId": KEY_ID, "localAlias": "mine"}
        )


def test_local_remove_last_alias_refused(client, capsys):
    with_key(client, key_bucket(BUCKET_ID, aliases=[], local=["mine"]))
    client.get_bucket_info.side_effect = buckets_by(
        bucket_info(BUCKET_ID, aliases=[], keys=[key_entry(local_aliases=["mine"])])
    )
    result = run(client, capsys, bucket_id=BUCKET_ID, alias="mine", access_key_id=KEY_ID, state="absent")
    assert result["failed"] is True and "last alias" in result["msg"]
    assert write_calls(client) == []


def test_local_absent_not_pointing_here_is_noop(client, capsys):
    with_key(client, key_bucket(OTHER_ID, aliases=["archive"], local=["mine"]))
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY_ID, state="absent")
    assert result["changed"] is False
    assert write_calls(client) == []


def test_local_remove_server_error(client, capsys):
    with_local_on_photos(client)
    client.remove_bucket_alias.side_effect = GarageServerError("Internal error: x", status=500, code="InternalError")
    result = run(client, capsys, bucket="photos", alias="mine", access_key_id=KEY_ID, state="absent")
    assert result["failed"] is True
    assert result["msg"] == "Failed to remove local alias from bucket 'photos': InternalError: Internal error: x"


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"bucket": "photos", "alias": "Bad_Alias"}, "Invalid alias 'Bad_Alias'"),
        ({"bucket": "photos", "alias": "10.0.0.1"}, "IP address"),
        ({"bucket": "-x-", "alias": "pics"}, "Invalid bucket name '-x-'"),
        ({"bucket_id": "xyz", "alias": "pics"}, "Invalid bucket id 'xyz'"),
        ({"bucket": "photos", "alias": "pics", "access_key_id": "AK123"}, "Invalid access key id 'AK123'"),
        ({"bucket": "photos", "alias": "pics", "access_key_name": " "}, "must not be empty"),
        ({"bucket": "photos", "bucket_id": BUCKET_ID, "alias": "pics"}, "mutually exclusive"),
        (
            {"bucket": "photos", "alias": "pics", "access_key_id": KEY_ID, "access_key_name": "app"},
            "mutually exclusive",
        ),
        ({"alias": "pics"}, "one of the following is required: bucket, bucket_id"),
        ({"bucket": "photos"}, "missing required arguments: alias"),
    ],
)
def test_bad_input(client, capsys, args, fragment):
    result = run(client, capsys, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert client.method_calls == []
