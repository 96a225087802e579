# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_bucket_info."""

from __future__ import annotations

from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageBadRequest,
    GarageConnectionError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_bucket_info
from tests.unit.plugins.modules._bucket_harness import (
    BUCKET_ID,
    KEY_ID,
    OTHER_ID,
    bucket_info,
    buckets_by,
    key_entry,
    run_module,
    write_calls,
)


@pytest.fixture
def client() -> mock.MagicMock:
    c = mock.MagicMock()
    c.get_bucket_info.side_effect = buckets_by(
        bucket_info(
            BUCKET_ID,
            aliases=["photos", "pics"],
            website={"indexDocument": "index.html", "errorDocument": None},
            quotas={"maxSize": 10**9, "maxObjects": None},
            keys=[key_entry(KEY_ID, read=True, local_aliases=["mine"])],
            objects=12,
            bytes_=3456,
        ),
        bucket_info(OTHER_ID, aliases=["archive"]),
    )
    c.list_buckets.return_value = [
        {"id": OTHER_ID, "globalAliases": ["archive"], "localAliases": []},
        {
            "id": BUCKET_ID,
            "globalAliases": ["photos", "pics"],
            "localAliases": [{"accessKeyId": KEY_ID, "alias": "mine"}],
        },
    ]
    return c


def run(client, capsys, check_mode=False, **args):
    return run_module(garage_bucket_info, args, client, capsys, check_mode=check_mode)


@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize(
    "selector, call",
    [
        ({"name": "pics"}, mock.call.get_bucket_info(global_alias="pics")),
        ({"id": BUCKET_ID}, mock.call.get_bucket_info(id=BUCKET_ID)),
        ({"bucket_id": BUCKET_ID}, mock.call.get_bucket_info(id=BUCKET_ID)),
        ({"search": "bbbb"}, mock.call.get_bucket_info(search="bbbb")),
    ],
)
def test_one_bucket_one_read(client, capsys, selector, call, check_mode):
    result = run(client, capsys, check_mode=check_mode, **selector)
    assert result["changed"] is False and result["exists"] is True
    assert client.method_calls == [call]
    bucket = result["bucket"]
    assert bucket["id"] == BUCKET_ID
    assert bucket["global_aliases"] == ["photos", "pics"]
    assert bucket["local_aliases"] == [{"access_key_id": KEY_ID, "alias": "mine"}]
    assert bucket["keys"][0]["permissions"] == {"read": True, "write": False, "owner": False}
    assert bucket["website"]["enabled"] is True
    assert bucket["quotas"] == {"max_size": 10**9, "max_objects": None}
    assert (bucket["objects"], bucket["bytes"]) == (12, 3456)
    assert "buckets" not in result


def test_missing_bucket(client, capsys):
    result = run(client, capsys, name="nothing-here")
    result.pop("invocation", None)  # ansible-core < 2.20 echoes the module arguments
    assert result == {"changed": False, "exists": False, "bucket": None, "failed": False}


def test_all_buckets_sorted_by_id(client, capsys):
    result = run(client, capsys)
    assert [b["id"] for b in result["buckets"]] == sorted([BUCKET_ID, OTHER_ID])
    assert result["buckets"][0]["global_aliases"] == ["photos", "pics"]
    assert "exists" not in result and "bucket" not in result
    assert client.get_bucket_info.call_count == 2
    assert write_calls(client) == []


def test_all_buckets_empty_is_empty_list(client, capsys):
    client.list_buckets.return_value = []
    result = run(client, capsys)
    assert result["buckets"] == [] and result["changed"] is False


def test_all_buckets_skips_one_deleted_meanwhile(client, capsys):
    client.list_buckets.return_value.append({"id": "e" * 64, "globalAliases": [], "localAliases": []})
    result = run(client, capsys)
    assert len(result["buckets"]) == 2


def test_search_with_several_matches(client, capsys):
    client.get_bucket_info.side_effect = GarageBadRequest(
        "Bad request: Several matching buckets: ab", status=400, code="InvalidRequest"
    )
    result = run(client, capsys, search="ab")
    assert result["failed"] is True
    assert "Search 'ab' matches several buckets" in result["msg"]


def test_other_bad_request(client, capsys):
    client.get_bucket_info.side_effect = GarageBadRequest("Bad request: weird", status=400, code="InvalidRequest")
    result = run(client, capsys, name="photos")
    assert result["failed"] is True
    assert result["msg"] == "Failed to read bucket 'photos': InvalidRequest: Bad request: weird"


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"name": "Bad_Name"}, "Invalid bucket name 'Bad_Name'"),
        ({"id": "1234"}, "Invalid bucket id '1234'"),
        ({"search": "a"}, "at least 2 characters"),
        ({"name": "photos", "id": BUCKET_ID}, "mutually exclusive"),
        ({"name": "photos", "search": "ab"}, "mutually exclusive"),
    ],
)
def test_bad_input(client, capsys, args, fragment):
    result = run(client, capsys, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert client.method_calls == []


def test_list_error(client, capsys):
    client.list_buckets.side_effect = GarageAccessDenied(
        "Forbidden: Invalid bearer token", status=403, code="AccessDenied"
    )
    result = run(client, capsys)
    assert result["failed"] is True
    assert result["msg"] == "Failed to list buckets: AccessDenied: Forbidden: Invalid bearer token"


def test_read_error_during_listing(client, capsys):
    client.get_bucket_info.side_effect = GarageConnectionError("Cannot reach Garage admin API at x: refused")
    result = run(client, capsys)
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to read bucket '")
