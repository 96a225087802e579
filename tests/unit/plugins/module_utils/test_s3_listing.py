# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.listing: the fast ListObjectsV2 parser (and its ElementTree fallback), and paging."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._s3 import listing
from tests.unit.plugins.module_utils.s3_fakes import FakeBucket, client_error, list_xml

WEIRD = "dir/a b&c<d>\u00e9\"'+%20.txt"


def test_parse_garage_answer_decodes_keys_etags_and_token() -> None:
    page = listing.parse_list_objects_v2(list_xml([("a/1", 5), (WEIRD, 7)], token="]Zi8wMDA=", prefixes=["p/"]))
    assert [o.key for o in page.objects] == ["a/1", WEIRD]
    assert [o.size for o in page.objects] == [5, 7]
    assert page.objects[1].etag == f"{1:032x}"
    assert page.objects[0].last_modified == "2025-06-14T12:00:00.123Z"
    assert page.common_prefixes == ["p/"]
    assert page.next_token == "]Zi8wMDA="


def test_last_page_has_no_token_and_plain_keys_are_unescaped() -> None:
    page = listing.parse_list_objects_v2(list_xml([(WEIRD, 1)], url_encoded=False))
    assert page.objects[0].key == WEIRD
    assert page.next_token is None


def test_a_format_the_expressions_do_not_cover_falls_back_to_elementtree() -> None:
    body = list_xml([("a/1", 5), ("a/2", 6)], token="tok")
    pretty = body.replace(b"<Contents>", b"\n  <Contents>\n    ").replace(b"<Size>", b"\n    <Size>")
    fast = listing.parse_list_objects_v2(body)
    slow = listing.parse_list_objects_v2(pretty)
    assert slow == fast
    assert [o.key for o in slow.objects] == ["a/1", "a/2"]


def test_keycount_mismatch_uses_the_tree_result() -> None:
    body = list_xml([("a/1", 5)]).replace(b"<KeyCount>1</KeyCount>", b"<KeyCount>2</KeyCount>")
    with mock.patch.object(listing, "_parse_list_objects_v2_tree", wraps=listing._parse_list_objects_v2_tree) as tree:
        page = listing.parse_list_objects_v2(body)
    assert tree.called and [o.key for o in page.objects] == ["a/1"]


def _botocore_pages(client: mock.MagicMock, pages: list[dict[str, t.Any]]) -> None:
    client.list_objects_v2.side_effect = pages


def test_pages_follow_the_token_with_a_test_double() -> None:
    client = mock.MagicMock()
    _botocore_pages(
        client,
        [
            {"Contents": [{"Key": "a", "Size": 1, "ETag": '"e1"', "LastModified": "t"}], "IsTruncated": True,
             "NextContinuationToken": "n1"},
            {"Contents": [{"Key": "b", "Size": 2, "ETag": '"e2"', "LastModified": "t"}], "IsTruncated": False},
        ],
    )  # fmt: skip
    assert list(listing.objects(client, "bkt", "p/")) == [
        listing.ObjectEntry("a", 1, "e1", "t"),
        listing.ObjectEntry("b", 2, "e2", "t"),
    ]
    calls = client.list_objects_v2.call_args_list
    assert calls[0].kwargs == {"Bucket": "bkt", "Prefix": "p/", "MaxKeys": 1000}
    assert calls[1].kwargs["ContinuationToken"] == "n1"


def test_key_pages_skip_empty_pages_and_stop_lazily() -> None:
    client = mock.MagicMock()
    _botocore_pages(
        client,
        [
            {"CommonPrefixes": [{"Prefix": "x/"}], "IsTruncated": True, "NextContinuationToken": "n1"},
            {"Contents": [{"Key": "a", "Size": 1}], "IsTruncated": True, "NextContinuationToken": "n2"},
            {"Contents": [{"Key": "never fetched"}], "IsTruncated": False},
        ],
    )
    pages = listing.key_pages(client, "bkt", delimiter="/")
    assert next(pages) == ["a"]
    assert client.list_objects_v2.call_count == 2


def test_fast_path_signs_with_the_client_and_retries_server_errors() -> None:
    client = mock.MagicMock()
    session = mock.MagicMock()
    answers = [mock.Mock(status_code=503, content=b""), mock.Mock(status_code=200, content=list_xml([("k", 3)]))]
    session.send.side_effect = answers
    client.generate_presigned_url.return_value = "http://s3/bkt?list-type=2&X-Amz-Signature=x"
    with mock.patch.object(listing, "http_session", return_value=session), mock.patch.object(listing, "_backoff"):
        entries = list(listing.objects(client, "bkt", "p/", start_after="a"))
    assert entries == [listing.ObjectEntry("k", 3, f"{0:032x}", "2025-06-14T12:00:00.123Z")]
    assert session.send.call_count == 2
    op, kwargs = client.generate_presigned_url.call_args.args[0], client.generate_presigned_url.call_args.kwargs
    assert op == "list_objects_v2"
    assert kwargs["Params"] == {"Bucket": "bkt", "Prefix": "p/", "MaxKeys": 1000, "StartAfter": "a"}


def test_fast_path_raises_client_errors_like_botocore() -> None:
    client = mock.MagicMock()
    session = mock.MagicMock()
    body = b"<?xml version='1.0'?><Error><Code>NoSuchBucket</Code><Message>Bucket not found: x</Message></Error>"
    session.send.return_value = mock.Mock(status_code=404, content=body)
    with mock.patch.object(listing, "http_session", return_value=session):
        with pytest.raises(Exception) as info:
            list(listing.objects(client, "x"))
    error = info.value.response  # type: ignore[attr-defined]
    assert error["Error"] == {"Code": "NoSuchBucket", "Message": "Bucket not found: x"}
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert session.send.call_count == 1


def test_multipart_uploads_use_the_paginator() -> None:
    client = mock.MagicMock()
    client.get_paginator.return_value.paginate.return_value = [
        {"Uploads": [{"Key": "a", "UploadId": "u1", "Initiated": "t1"}]},
        {},
        {"Uploads": [{"Key": "b", "UploadId": "u2"}]},
    ]
    assert list(listing.multipart_uploads(client, "bkt", "p/")) == [
        listing.UploadEntry("a", "u1", "t1"),
        listing.UploadEntry("b", "u2", ""),
    ]
    client.get_paginator.return_value.paginate.assert_called_once_with(Bucket="bkt", Prefix="p/")


def test_client_error_helper_is_a_client_error() -> None:
    from botocore.exceptions import ClientError

    assert isinstance(listing.client_error(500, b"not xml", "ListObjectsV2"), ClientError)
    assert client_error("X", 1).response["Error"]["Code"] == "X"


def test_a_listing_that_does_not_advance_is_an_error() -> None:
    from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError

    client = mock.MagicMock()
    client.list_objects_v2.return_value = {"Contents": [], "IsTruncated": True, "NextContinuationToken": "same"}
    with pytest.raises(OperationError) as info:
        list(listing.pages(client, "bkt"))
    assert info.value.failure_reason == "invalid_response"
    assert client.list_objects_v2.call_count == 2


# --------------------------------------------------------------------------- scan


def _scan_keys(bucket: FakeBucket, prefix: str = "", workers: int = 3) -> list[str]:
    client = mock.MagicMock()
    client.list_objects_v2.side_effect = bucket
    return sorted(o.key for page in listing.scan(client, "b", prefix, workers=workers) for o in page.objects)


HIERARCHY = [f"data/{f:02d}/{i:03d}" for f in range(12) for i in range(25)] + ["data/top.txt", "other/x"]


@pytest.mark.parametrize("page_size", [7, 1000])
@pytest.mark.parametrize("prefix", ["", "data/", "data/03/", "nothing/"])
def test_scan_finds_exactly_what_the_flat_listing_finds(page_size: int, prefix: str) -> None:
    bucket = FakeBucket(HIERARCHY, page_size=page_size)
    expected = sorted(k for k in HIERARCHY if k.startswith(prefix))
    assert _scan_keys(bucket, prefix) == expected


def test_scan_descends_a_single_folder_and_lists_folders_side_by_side() -> None:
    bucket = FakeBucket([f"root/{k}" for k in HIERARCHY], page_size=1000)
    assert len(_scan_keys(bucket)) == len(HIERARCHY)
    delimited = [c for c in bucket.calls if c.get("Delimiter")]
    assert [c["Prefix"] for c in delimited] == ["", "root/", "root/data/", "root/other/"]
    assert {c["Prefix"] for c in bucket.calls if not c.get("Delimiter")} == {f"root/data/{f:02d}/" for f in range(12)}


def test_scan_of_a_flat_bucket_costs_no_extra_request_when_it_fits_one_page() -> None:
    bucket = FakeBucket([f"k{i}" for i in range(50)])
    assert len(_scan_keys(bucket)) == 50
    assert len(bucket.calls) == 1


def test_scan_falls_back_to_the_flat_listing_for_big_levels() -> None:
    keys = [f"k{i:05d}" for i in range(30)] + [f"f{i:04d}/x" for i in range(listing.MAX_SPLIT + 1)]
    for bucket in (FakeBucket(keys[:30], page_size=10), FakeBucket(keys)):
        assert _scan_keys(bucket) == sorted(bucket.keys)
        assert not any(c.get("Delimiter") for c in bucket.calls[1:])


def test_scan_errors_reach_the_caller_and_an_early_stop_stops_the_threads() -> None:
    bucket = FakeBucket(HIERARCHY)
    client = mock.MagicMock()

    def failing(**params: t.Any) -> dict[str, t.Any]:
        if params["Prefix"] == "data/05/":
            raise client_error("InternalError", 500, "boom")
        return bucket(**params)

    client.list_objects_v2.side_effect = failing
    with pytest.raises(Exception, match="boom"):
        list(listing.scan(client, "b", "data/", workers=2))
    client.list_objects_v2.side_effect = bucket
    pages = listing.scan(client, "b", "data/", workers=2)
    next(pages)
    pages.close()
    import threading

    assert not [t for t in threading.enumerate() if t.name.startswith("cellar-scan")]


def test_scan_with_one_worker_is_the_plain_listing() -> None:
    bucket = FakeBucket(HIERARCHY)
    assert _scan_keys(bucket, workers=1) == sorted(HIERARCHY)
    assert not any(c.get("Delimiter") for c in bucket.calls)
