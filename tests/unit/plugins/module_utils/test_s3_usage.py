# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.usage: grouping, truncation, uploads apart, input checks."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._s3 import usage
from tests.unit.plugins.module_utils.s3_fakes import FakeBucket


@pytest.mark.parametrize(
    ("key", "prefix", "depth", "group"),
    [
        ("a/b/c.txt", "", 1, "a/"),
        ("a/b/c.txt", "", 2, "a/b/"),
        ("a/b/c.txt", "", 5, "a/b/"),
        ("a/x.txt", "", 2, "a/"),
        ("top.txt", "", 1, ""),
        ("logs/2024/06/app.log", "logs/", 1, "logs/2024/"),
        ("logs/2024/06/app.log", "logs/", 2, "logs/2024/06/"),
        ("logs/x", "logs/", 1, "logs/"),
        ("logs-a/b", "logs", 1, "logs-a/"),
    ],
)
def test_group_of(key: str, prefix: str, depth: int, group: str) -> None:
    assert usage.group_of(key, prefix, depth) == group


def _client(keys: list[tuple[str, int]], uploads: int = 0, page_size: int = 2) -> mock.MagicMock:
    client = mock.MagicMock()
    bucket = FakeBucket([k for k, _size in keys], page_size=page_size)
    sizes = dict(keys)

    def list_objects_v2(**params: t.Any) -> dict[str, t.Any]:
        answer = bucket(**params)
        for item in answer["Contents"]:
            item["Size"] = sizes[item["Key"]]
        return answer

    client.list_objects_v2.side_effect = list_objects_v2
    client.get_paginator.return_value.paginate.return_value = [
        {"Uploads": [{"Key": f"u{i}", "UploadId": str(i)} for i in range(uploads)]}
    ]
    return client


def test_totals_groups_and_uploads() -> None:
    client = _client([("a/1", 1), ("a/2", 2), ("b/1", 4), ("c", 8)], uploads=2)
    result = usage.usage(client, usage.UsageSpec("bkt", group_by_prefix=1))
    assert (result["count"], result["bytes"], result["truncated"], result["multipart_uploads"]) == (4, 15, False, 2)
    assert result["prefixes"] == [
        {"prefix": "", "count": 1, "bytes": 8},
        {"prefix": "a/", "count": 2, "bytes": 3},
        {"prefix": "b/", "count": 1, "bytes": 4},
    ]


@pytest.mark.parametrize(
    ("max_objects", "count", "truncated"), [(3, 3, True), (4, 4, False), (2, 2, True), (9, 4, False)]
)
@pytest.mark.parametrize("page_size", [1, 2, 1000])
def test_truncation(max_objects: int, count: int, truncated: bool, page_size: int) -> None:
    client = _client([("a", 1), ("b", 1), ("c/1", 1), ("d/1", 1)], page_size=page_size)
    result = usage.usage(client, usage.UsageSpec("bkt", max_objects=max_objects, multipart_uploads=False))
    assert (result["count"], result["bytes"], result["truncated"]) == (count, count, truncated)
    assert "multipart_uploads" not in result


def test_bad_input_is_refused_before_any_call() -> None:
    with pytest.raises(InputError) as info:
        usage.spec_from_params({"bucket": "b", "max_objects": 0, "group_by_prefix": -1, "delimiter": ""})
    assert "max_objects" in info.value.message and "group_by_prefix" in info.value.message
    assert "delimiter" in info.value.message
