# SPDX-License-Identifier: GPL-3.0-or-later
"""_garage_admin validation, lookup and views: the bucket-name rule, references, lookups, views."""

from __future__ import annotations

import typing as t
from unittest.mock import MagicMock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageBadRequest, GarageNotFound
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import (
    AmbiguousKeyName,
    find_bucket,
    find_key,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    bucket_name_problem,
    reference_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import bucket_view, key_view

KEY_A = "GK" + "a" * 24
KEY_B = "GK" + "b" * 24
BUCKET = "c" * 64


@pytest.mark.parametrize("name", ["photos", "a.b-c", "abc", "x" * 63, "0ab"])
def test_valid_bucket_names(name: str) -> None:
    assert bucket_name_problem(name) is None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ab", "3 to 63"),
        ("x" * 64, "3 to 63"),
        ("Bad_Name", "lowercase"),
        ("-abc", "start or end"),
        ("abc.", "start or end"),
        ("192.168.1.1", "IP address"),
        ("xn--abc", "punycode"),
        ("a.xn--bc", "punycode"),
        ("data-s3alias", "-s3alias"),
    ],
)
def test_invalid_bucket_names(name: str, why: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({}, None),
        ({"bucket": "photos", "bucket_id": BUCKET, "access_key_id": KEY_A, "access_key_name": "app"}, None),
        ({"bucket": "Bad_Name"}, "Invalid bucket name 'Bad_Name'"),
        ({"bucket_id": "abc"}, "Invalid bucket id 'abc': expected 64 lowercase hexadecimal"),
        ({"bucket_id": BUCKET.upper()}, "Invalid bucket id"),
        ({"access_key_id": "GK123"}, "Invalid access key id 'GK123'"),
        ({"access_key_name": "  "}, "access_key_name must not be empty"),
    ],
)
def test_reference_problem(kwargs: dict[str, str], fragment: str | None) -> None:
    problem = reference_problem(**kwargs)
    if fragment is None:
        assert problem is None
    else:
        assert problem is not None and fragment in problem


def test_find_bucket_by_name_is_one_read_and_none_when_missing() -> None:
    client = MagicMock()
    client.get_bucket_info.return_value = {"id": BUCKET}
    assert find_bucket(client, name="photos") == {"id": BUCKET}
    client.get_bucket_info.assert_called_once_with(global_alias="photos")
    client.get_bucket_info.side_effect = GarageNotFound("Bucket not found", status=404, code="NoSuchBucket")
    assert find_bucket(client, bucket_id=BUCKET) is None


def _search_error(n: int) -> GarageBadRequest:
    return GarageBadRequest(f"Bad request: {n} matching keys", status=400, code="InvalidRequest")


def test_find_key_by_name_one_read_when_unique() -> None:
    client = MagicMock()
    client.get_key_info.return_value = {"accessKeyId": KEY_A, "name": "app"}
    assert find_key(client, name="app")["accessKeyId"] == KEY_A
    assert client.get_key_info.call_count == 1
    client.list_keys.assert_not_called()


@pytest.mark.parametrize(
    "no_match",
    [
        _search_error(0),  # Garage 2.0 - 2.2
        GarageNotFound("Access key not found: app", status=404, code="NoSuchAccessKey"),  # Garage >= 2.3
    ],
    ids=["garage-2.0-400", "garage-2.3-404"],
)
def test_find_key_by_name_absent(no_match: Exception) -> None:
    client = MagicMock()
    client.get_key_info.side_effect = no_match
    assert find_key(client, name="app") is None
    client.list_keys.assert_not_called()


def test_find_key_by_name_ambiguous() -> None:
    client = MagicMock()
    client.get_key_info.side_effect = _search_error(2)
    client.list_keys.return_value = [{"id": KEY_B, "name": "app"}, {"id": KEY_A, "name": "app"}]
    with pytest.raises(AmbiguousKeyName) as info:
        find_key(client, name="app")
    assert info.value.ids == [KEY_A, KEY_B]
    assert "ambiguous" in str(info.value)


def test_find_key_search_matching_another_case_falls_back_to_exact_name() -> None:
    """Garage's search is case-insensitive; our names are exact."""
    client = MagicMock()
    client.get_key_info.side_effect = [{"accessKeyId": KEY_A, "name": "App"}, {"accessKeyId": KEY_B, "name": "app"}]
    client.list_keys.return_value = [{"id": KEY_A, "name": "App"}, {"id": KEY_B, "name": "app"}]
    assert find_key(client, name="app")["accessKeyId"] == KEY_B
    assert client.get_key_info.call_args_list[-1].kwargs == {"id": KEY_B, "show_secret": False}


def test_find_key_other_bad_request_propagates() -> None:
    client = MagicMock()
    client.get_key_info.side_effect = GarageBadRequest("Bad request: nope", status=400, code="InvalidRequest")
    with pytest.raises(GarageBadRequest):
        find_key(client, name="app")


def test_bucket_view_is_sorted_snake_case_and_derives_local_aliases() -> None:
    info: dict[str, t.Any] = {
        "id": BUCKET,
        "created": "2026-01-01T00:00:00Z",
        "globalAliases": ["z-alias", "a-alias"],
        "websiteAccess": True,
        "websiteConfig": {"indexDocument": "index.html", "errorDocument": None},
        "keys": [
            {"accessKeyId": KEY_B, "name": "b", "permissions": {"read": True}, "bucketLocalAliases": ["y", "x"]},
            {"accessKeyId": KEY_A, "name": "a", "permissions": {}, "bucketLocalAliases": []},
        ],
        "objects": 3,
        "bytes": 42,
        "quotas": {"maxSize": 10, "maxObjects": None},
    }
    view = bucket_view(info)
    assert view["global_aliases"] == ["a-alias", "z-alias"]
    assert [k["access_key_id"] for k in view["keys"]] == [KEY_A, KEY_B]
    assert view["keys"][0]["permissions"] == {"read": False, "write": False, "owner": False}
    assert view["local_aliases"] == [{"access_key_id": KEY_B, "alias": "x"}, {"access_key_id": KEY_B, "alias": "y"}]
    assert view["website"] == {"enabled": True, "index_document": "index.html", "error_document": None}
    assert view["quotas"] == {"max_size": 10, "max_objects": None}
    assert (view["objects"], view["bytes"]) == (3, 42)


def test_key_view_never_carries_the_secret() -> None:
    info = {
        "accessKeyId": KEY_A,
        "name": "app",
        "secretAccessKey": "f" * 64,
        "permissions": {"createBucket": True},
        "buckets": [{"id": BUCKET, "globalAliases": ["p"], "localAliases": [], "permissions": {"owner": True}}],
        "expired": False,
    }
    view = key_view(info)
    assert "f" * 64 not in repr(view)
    assert view["permissions"] == {"create_bucket": True}
    assert view["buckets"][0]["permissions"] == {"read": False, "write": False, "owner": True}
