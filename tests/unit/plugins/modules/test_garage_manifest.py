# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_manifest: a MagicMock client, main() with patched args."""

from __future__ import annotations

import json
import os
import stat
import typing as t
from pathlib import Path
from unittest import mock

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageNotFound,
)
from ansible_collections.cellar.garage.plugins.modules import garage_manifest
from tests.unit.plugins.modules import harness

CONN = {"admin_url": "http://garage.invalid:3903", "admin_token": "unit-test-admin-token"}
N1, N2, N3 = ("1" * 64, "2" * 64, "3" * 64)
B1, B2 = ("a" * 64, "b" * 64)
K1, K2 = ("GK" + "01" * 12, "GK" + "02" * 12)
SECRET = "5e" * 32
TOK = "0123456789abcdef01234567"


def make_client() -> mock.MagicMock:
    client = mock.MagicMock(name="GarageAdminClient")
    client.get_cluster_status.return_value = {
        "layoutVersion": 2,
        "nodes": [
            {
                "id": N2,
                "hostname": "n2",
                "addr": "127.0.0.1:3902",
                "isUp": False,
                "draining": False,
                "garageVersion": "v2.0.0",
                "lastSeenSecsAgo": 12,
                "role": {"zone": "z2", "tags": ["b", "a"], "capacity": 2000},
            },
            {
                "id": N1,
                "hostname": "n1",
                "addr": "127.0.0.1:3901",
                "isUp": True,
                "draining": False,
                "garageVersion": "v2.0.0",
                "role": {"zone": "z1", "tags": [], "capacity": 1000},
            },
        ],
    }
    client.get_cluster_layout.return_value = {
        "version": 2,
        "roles": [
            {"id": N1, "zone": "z1", "tags": [], "capacity": 1000, "storedPartitions": 256, "usableCapacity": 900},
            {
                "id": N2,
                "zone": "z2",
                "tags": ["b", "a"],
                "capacity": 2000,
                "storedPartitions": 256,
                "usableCapacity": 1900,
            },
            {"id": N3, "zone": "z3", "tags": [], "capacity": None},
        ],
        "parameters": {"zoneRedundancy": {"atLeast": 2}},
        "partitionSize": 4096,
        "stagedRoleChanges": [{"id": N3, "remove": True}],
    }
    client.list_buckets.return_value = [{"id": B2}, {"id": B1}]
    client.get_bucket_info.side_effect = lambda id: {
        "id": id,
        "created": "2025-01-01T00:00:00Z",
        "globalAliases": ["zeta", "alpha"] if id == B1 else [],
        "websiteAccess": False,
        "websiteConfig": None,
        "keys": [
            {"accessKeyId": K2, "name": "k2", "permissions": {"read": True}, "bucketLocalAliases": ["loc"]},
            {
                "accessKeyId": K1,
                "name": "k1",
                "permissions": {"read": True, "write": True, "owner": True},
                "bucketLocalAliases": [],
            },
        ],
        "objects": 3,
        "bytes": 42,
        "unfinishedUploads": 0,
        "quotas": {"maxSize": None, "maxObjects": 10},
    }
    client.list_keys.return_value = [{"id": K2, "name": "k2"}, {"id": K1, "name": "k1"}]
    client.get_key_info.side_effect = lambda id, show_secret=False: {
        "accessKeyId": id,
        "name": id[-2:],
        "created": None,
        "expiration": None,
        "expired": False,
        # a server that leaked the secret anyway must not leak it into the manifest
        "secretAccessKey": SECRET,
        "permissions": {"createBucket": False},
        "buckets": [],
    }
    client.list_admin_tokens.return_value = [
        {"id": None, "name": "admin_token (from daemon configuration)", "scope": ["*"], "expired": False},
        {
            "id": TOK,
            "name": "mon",
            "created": "2025-01-01T00:00:00Z",
            "expiration": None,
            "expired": False,
            "scope": ["Metrics", "GetClusterStatus"],
        },
    ]
    return client


def run(
    args: dict[str, t.Any], client: mock.MagicMock, *, check: bool = False, diff: bool = True
) -> tuple[bool, dict[str, t.Any]]:
    """Run garage_manifest.main() through the shared harness; return (failed, result)."""
    result = harness.run_module(
        garage_manifest, dict(CONN, **args), clients={"admin": client}, check_mode=check, diff=diff
    )
    return bool(result.get("failed")), harness.plain(result)


def test_manifest_content_is_sorted_and_secret_free() -> None:
    failed, result = run({}, make_client())
    assert not failed
    assert result["changed"] is False
    m = result["manifest"]
    assert m["manifest_version"] == 2
    assert "generated_at" not in m
    cluster = m["cluster"]
    assert cluster["layout_version"] == 2
    # One shape everywhere (issue 9): an int, as garage_layout takes it and garage_cluster_info returns it.
    assert cluster["zone_redundancy"] == 2
    assert cluster["staged_role_changes"] == [{"id": N3, "remove": True}]
    assert [n["id"] for n in cluster["nodes"]] == [N1, N2, N3]
    n2 = cluster["nodes"][1]
    assert n2 == {
        "id": N2,
        "hostname": "n2",
        "addr": "127.0.0.1:3902",
        "zone": "z2",
        "capacity": 2000,
        "tags": ["b", "a"],  # Garage's order, as garage_layout and garage_cluster_info show it
        "gateway": False,
        "stored_partitions": 256,
        "usable_capacity": 1900,
        "version": "v2.0.0",
        "is_up": False,
        "draining": False,
    }
    n3 = cluster["nodes"][2]
    assert n3["gateway"] is True and n3["hostname"] is None and n3["is_up"] is False
    assert [b["id"] for b in m["buckets"]] == [B1, B2]
    assert m["buckets"][0]["global_aliases"] == ["alpha", "zeta"]
    assert [k["access_key_id"] for k in m["buckets"][0]["keys"]] == [K1, K2]
    assert m["buckets"][0]["local_aliases"] == [{"access_key_id": K2, "alias": "loc"}]
    assert m["buckets"][0]["quotas"] == {"max_size": None, "max_objects": 10}
    assert [k["id"] for k in m["keys"]] == [K1, K2]
    assert m["admin_tokens"] == [
        {
            "id": TOK,
            "name": "mon",
            "created": "2025-01-01T00:00:00Z",
            "expiration": None,
            "expired": False,
            "scope": ["GetClusterStatus", "Metrics"],
        }
    ]
    dumped = json.dumps(result)
    assert SECRET not in dumped
    assert "secret" not in dumped.lower()


def test_timestamp_and_no_tokens() -> None:
    client = make_client()
    failed, result = run({"include_timestamp": True, "include_admin_tokens": False}, client)
    assert not failed
    assert result["manifest"]["generated_at"].endswith("Z")
    assert "admin_tokens" not in result["manifest"]
    client.list_admin_tokens.assert_not_called()


def test_two_runs_identical() -> None:
    first_failed, first = run({}, make_client())
    second_failed, second = run({}, make_client())
    assert not first_failed and not second_failed
    assert first["checksum"] == second["checksum"]
    assert first["manifest"] == second["manifest"]


def test_dest_written_once_with_mode_0600(tmp_path: Path) -> None:
    dest = tmp_path / "manifest.json"
    failed, result = run({"dest": str(dest)}, make_client(), check=True)
    assert not failed and result["changed"] is True
    assert not dest.exists()
    assert result["diff"][0]["before"] == ""

    failed, result = run({"dest": str(dest)}, make_client())
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    on_disk = json.loads(dest.read_text())
    assert on_disk == result["manifest"]
    assert dest.read_text() == json.dumps(result["manifest"], indent=2, sort_keys=True) + "\n"
    assert result["dest"] == str(dest)
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temporary file left

    mtime = dest.stat().st_mtime_ns
    failed, result = run({"dest": str(dest)}, make_client())
    assert not failed and result["changed"] is False
    assert "diff" not in result
    assert dest.stat().st_mtime_ns == mtime


def test_content_change_and_mode_change(tmp_path: Path) -> None:
    dest = tmp_path / "manifest.json"
    dest.write_text('{"old": true}\n')
    os.chmod(dest, 0o644)
    failed, result = run({"dest": str(dest)}, make_client())
    assert not failed and result["changed"] is True
    assert result["diff"][0] == {
        "before": {"path": str(dest), "mode": "0644"},
        "after": {"path": str(dest), "mode": "0600"},
    }
    assert result["diff"][1]["before"] == '{"old": true}\n'
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600

    os.chmod(dest, 0o640)
    failed, result = run({"dest": str(dest)}, make_client(), check=True)
    assert not failed and result["changed"] is True
    assert stat.S_IMODE(dest.stat().st_mode) == 0o640  # check mode touched nothing
    failed, result = run({"dest": str(dest)}, make_client())
    assert result["changed"] is True and len(result["diff"]) == 1
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600


def test_missing_directory_fails_before_reading(tmp_path: Path) -> None:
    client = make_client()
    failed, result = run({"dest": str(tmp_path / "nope" / "m.json")}, client)
    assert failed
    assert "does not exist" in result["msg"]
    assert client.method_calls == []


def test_dest_is_a_directory(tmp_path: Path) -> None:
    failed, result = run({"dest": str(tmp_path)}, make_client())
    assert failed
    assert "not a regular file" in result["msg"]


def test_api_error() -> None:
    client = make_client()
    client.list_admin_tokens.side_effect = GarageAccessDenied(
        "Forbidden: Invalid bearer token", status=403, code="AccessDenied"
    )
    failed, result = run({}, client)
    assert failed
    assert result["msg"] == "Failed to list admin tokens: AccessDenied: Forbidden: Invalid bearer token"


def test_bucket_deleted_during_read_is_skipped() -> None:
    client = make_client()
    original = client.get_bucket_info.side_effect

    def info(id: str) -> dict[str, t.Any]:
        if id == B2:
            raise GarageNotFound("Bucket not found", status=404, code="NoSuchBucket")
        return t.cast(dict, original(id))

    client.get_bucket_info.side_effect = info
    failed, result = run({}, client)
    assert not failed
    assert [b["id"] for b in result["manifest"]["buckets"]] == [B1]
