# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Garage answers for the bucket-side unit tests (test_garage_bucket*.py, layout, cluster), and
``run_module`` with one Admin API client (a thin wrapper of harness.run_module)."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageNotFound
from tests.unit.plugins.modules import harness

BUCKET_ID = "b" * 63 + "1"
OTHER_ID = "c" * 63 + "2"
KEY_ID = "GK" + "a" * 24
KEY2_ID = "GK" + "d" * 24


def run_module(
    module: t.Any,
    args: dict[str, t.Any],
    client: t.Any,
    capsys: pytest.CaptureFixture[str] | None = None,
    *,
    check_mode: bool = False,
    diff: bool = False,
) -> dict[str, t.Any]:
    """Run ``module.main()`` with ``client`` as its Admin API client (see harness.run_module)."""
    return harness.run_module(module, args, clients={"admin": client}, check_mode=check_mode, diff=diff)


def bucket_info(
    bucket_id: str = BUCKET_ID,
    *,
    aliases: list[str] | None = None,
    website: dict[str, t.Any] | None = None,
    quotas: dict[str, t.Any] | None = None,
    keys: list[dict[str, t.Any]] | None = None,
    objects: int = 0,
    bytes_: int = 0,
) -> dict[str, t.Any]:
    """A GetBucketInfo answer in Garage's camelCase shape."""
    return {
        "id": bucket_id,
        "created": "2025-06-14T12:00:00.000Z",
        "globalAliases": list(aliases if aliases is not None else ["photos"]),
        "websiteAccess": website is not None,
        "websiteConfig": website,
        "keys": keys or [],
        "objects": objects,
        "bytes": bytes_,
        "unfinishedUploads": 0,
        "unfinishedMultipartUploads": 0,
        "unfinishedMultipartUploadParts": 0,
        "unfinishedMultipartUploadBytes": 0,
        "quotas": dict(quotas or {"maxSize": None, "maxObjects": None}),
    }


def key_entry(
    key_id: str = KEY_ID,
    *,
    name: str = "app",
    read: bool = False,
    write: bool = False,
    owner: bool = False,
    local_aliases: list[str] | None = None,
) -> dict[str, t.Any]:
    return {
        "accessKeyId": key_id,
        "name": name,
        "permissions": {"read": read, "write": write, "owner": owner},
        "bucketLocalAliases": list(local_aliases or []),
    }


def key_info(
    key_id: str = KEY_ID, *, name: str = "app", buckets: list[dict[str, t.Any]] | None = None
) -> dict[str, t.Any]:
    """A GetKeyInfo answer (never with a secret)."""
    return {
        "accessKeyId": key_id,
        "name": name,
        "created": "2025-06-14T12:00:00.000Z",
        "expiration": None,
        "expired": False,
        "permissions": {"createBucket": False},
        "buckets": buckets or [],
    }


def key_bucket(
    bucket_id: str = BUCKET_ID,
    *,
    aliases: list[str] | None = None,
    local: list[str] | None = None,
    read: bool = False,
    write: bool = False,
    owner: bool = False,
) -> dict[str, t.Any]:
    return {
        "id": bucket_id,
        "globalAliases": list(aliases if aliases is not None else ["photos"]),
        "localAliases": list(local or []),
        "permissions": {"read": read, "write": write, "owner": owner},
    }


def not_found(what: str = "Bucket not found: x", code: str = "NoSuchBucket") -> GarageNotFound:
    return GarageNotFound(what, status=404, code=code, endpoint="GetBucketInfo")


def buckets_by(*infos: dict[str, t.Any]) -> t.Callable[..., dict[str, t.Any]]:
    """A get_bucket_info side effect resolving ids and global aliases among ``infos``."""

    def lookup(
        *, id: str | None = None, global_alias: str | None = None, search: str | None = None
    ) -> dict[str, t.Any]:
        for info in infos:
            if id is not None and info["id"] == id:
                return info
            if global_alias is not None and global_alias in info["globalAliases"]:
                return info
            if search is not None and (search in info["globalAliases"] or info["id"].startswith(search)):
                return info
        raise not_found(f"Bucket not found: {id or global_alias or search}")

    return lookup


def write_calls(client: mock.MagicMock) -> list[str]:
    """Names of the mutating client methods that were called."""
    return harness.write_calls(client)
