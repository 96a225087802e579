# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The six artifact modules through main(), on an in-memory bucket (artifact_fakes.FakeS3):
check mode writes nothing and predicts the real run, second runs change nothing, bad input
fails before any call, every failure carries its failure_reason."""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.modules import (
    garage_artifact_fetch,
    garage_artifact_gc,
    garage_artifact_info,
    garage_artifact_push,
    garage_artifact_retention,
    garage_artifact_verify,
)
from tests.unit.plugins.modules.artifact_fakes import FakeS3
from tests.unit.plugins.modules.conftest import RunModule

CREDS = {"access_key_id": "GK0123456789abcdef01234567", "secret_access_key": "unit-secret-0a1b2c"}
STORE = {**CREDS, "bucket": "b", "prefix": "art"}


@pytest.fixture
def fake() -> FakeS3:
    return FakeS3("b")


def tree(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True, exist_ok=True)
    (src / "a.txt").write_bytes(b"alpha")
    (src / "d" / "b.bin").write_bytes(b"\x00" * 100)
    (src / "d" / "copy.txt").write_bytes(b"alpha")
    return src


def push_args(src: Path, **extra: t.Any) -> dict[str, t.Any]:
    return {**STORE, "src": [str(src)], "name": "app", "producer": "ci", "retention_class": "transient", **extra}


def test_push_check_apply_idempotent(run_module: RunModule, fake: FakeS3, tmp_path: Path) -> None:
    args = push_args(tree(tmp_path))
    check = run_module(garage_artifact_push, args, clients={"s3": fake}, check_mode=True, diff=True)
    assert check["changed"] and fake.writes() == [] and fake.objects == {}
    assert check["upload"]["count"] == 2 and check["upload"]["bytes"] == 105 and check["manifest_digest"] is None
    real = run_module(garage_artifact_push, args, clients={"s3": fake}, diff=True)
    assert real["changed"] and real["diff"] == check["diff"] and real["upload"] == check["upload"]
    assert real["package_id"] == check["package_id"] and real["manifest_digest"].startswith("sha256:")
    keys = sorted(fake.objects)
    assert (
        keys
        == sorted(
            [
                f"art/packages/{real['package_id']}.json",
                f"art/retention/{real['package_id']}.json",
                *(k for k in keys if k.startswith("art/blobs/sha256/")),
            ]
        )
        and len([k for k in keys if "/blobs/" in k]) == 2
    ), keys
    fake.calls.clear()
    again = run_module(garage_artifact_push, args, clients={"s3": fake}, diff=True)
    assert not again["changed"] and again["exists"] and fake.writes() == []
    assert again["manifest_digest"] == real["manifest_digest"]


def test_push_bad_input_calls_nothing(run_module: RunModule, fake: FakeS3, tmp_path: Path) -> None:
    for bad in (
        push_args(tmp_path / "missing"),
        push_args(tree(tmp_path), prefix="../x"),
        push_args(tree(tmp_path), retention_durations={"transient": "soon"}),
        push_args(tree(tmp_path), metadata={"a": {"nested": 1}}),
        push_args(tree(tmp_path), part_size="1KiB"),
    ):
        result = run_module(garage_artifact_push, bad, clients={"s3": fake})
        assert result["failed"] and result["failure_reason"] == "invalid_input", result
    assert fake.calls == []


def test_fetch_verify_and_damage(run_module: RunModule, fake: FakeS3, tmp_path: Path) -> None:
    pushed = run_module(garage_artifact_push, push_args(tree(tmp_path)), clients={"s3": fake})
    dest = tmp_path / "out"
    fetch = {**STORE, "package_id": pushed["package_id"], "dest": str(dest)}
    check = run_module(garage_artifact_fetch, fetch, clients={"s3": fake}, check_mode=True, diff=True)
    assert check["changed"] and not dest.exists() and sorted(check["written"]) == ["a.txt", "d/b.bin", "d/copy.txt"]
    real = run_module(garage_artifact_fetch, fetch, clients={"s3": fake}, diff=True)
    assert real["changed"] and real["diff"] == check["diff"]
    assert (dest / "d" / "copy.txt").read_bytes() == b"alpha" and (dest / "d" / "b.bin").read_bytes() == b"\0" * 100
    assert not run_module(garage_artifact_fetch, fetch, clients={"s3": fake})["changed"]
    ok = run_module(garage_artifact_verify, STORE, clients={"s3": fake})
    assert ok["ok"] and not ok["changed"] and ok["checked"]["blobs"] == 2

    blob = sorted(k for k in fake.objects if "/blobs/" in k)[0]
    data, modified = fake.objects[blob]
    fake.objects[blob] = (data[:-1] + b"!", modified)
    broken = run_module(garage_artifact_fetch, {**fetch, "dest": str(tmp_path / "new")}, clients={"s3": fake})
    assert broken["failed"] and broken["failure_reason"] == "blob_corrupt" and not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new")] == []
    report = run_module(garage_artifact_verify, STORE, clients={"s3": fake})
    assert report["failed"] and report["failure_reason"] == "artifacts_damaged"
    assert report["broken_packages"] == [pushed["package_id"]] and len(report["corrupt"]) == 1
    del fake.objects[blob]
    missing = run_module(garage_artifact_fetch, {**fetch, "dest": str(tmp_path / "new")}, clients={"s3": fake})
    assert missing["failure_reason"] == "blob_missing"
    unknown = run_module(garage_artifact_fetch, {**fetch, "package_id": "0" * 64}, clients={"s3": fake})
    assert unknown["failure_reason"] == "package_not_found"


def test_retention_info_and_gc(run_module: RunModule, fake: FakeS3, tmp_path: Path) -> None:
    pushed = run_module(garage_artifact_push, push_args(tree(tmp_path)), clients={"s3": fake})
    pid = pushed["package_id"]
    hold = {**STORE, "package_id": pid, "hold": "legal", "reason": "case 1", "actor": "alice"}
    check = run_module(garage_artifact_retention, hold, clients={"s3": fake}, check_mode=True, diff=True)
    before = dict(fake.objects)
    assert check["changed"] and fake.objects == before
    real = run_module(garage_artifact_retention, hold, clients={"s3": fake}, diff=True)
    assert real["changed"] and real["diff"] == check["diff"] and real["held"]
    assert not run_module(garage_artifact_retention, hold, clients={"s3": fake})["changed"]
    expire = {**STORE, "package_id": pid, "expires_at": "2020-01-01T00:00:00Z"}
    assert run_module(garage_artifact_retention, expire, clients={"s3": fake})["expired"]
    listed = run_module(garage_artifact_info, {**STORE, "expired": True, "held": True}, clients={"s3": fake})
    assert [p["package_id"] for p in listed["packages"]] == [pid] and not listed["changed"]
    gc = {**STORE, "grace_period": "0"}
    fake.clock += 10
    kept = run_module(garage_artifact_gc, gc, clients={"s3": fake})
    assert not kept["changed"] and kept["kept"]["expired_held"] == [pid]
    release = {**STORE, "package_id": pid, "release_hold": "legal"}
    assert run_module(garage_artifact_retention, release, clients={"s3": fake})["changed"]
    fake.clock += 10
    preview = run_module(garage_artifact_gc, gc, clients={"s3": fake}, check_mode=True, diff=True)
    assert preview["changed"] and preview["deleted"]["packages"] == [pid] and preview["bytes_freed"] == 105
    assert any("/packages/" in k for k in fake.objects)
    done = run_module(garage_artifact_gc, gc, clients={"s3": fake}, diff=True)
    assert done["deleted"] == preview["deleted"] and done["diff"] == preview["diff"]
    assert fake.objects == {}, "the collection left something (blobs, lock, intents)"
    assert not run_module(garage_artifact_gc, gc, clients={"s3": fake})["changed"]
    shown = run_module(garage_artifact_info, {**STORE, "package_id": pid}, clients={"s3": fake})
    assert shown["exists"] is False


def test_retention_needs_a_change_and_valid_values(run_module: RunModule, fake: FakeS3) -> None:
    pid = "1" * 64
    nothing = run_module(garage_artifact_retention, {**STORE, "package_id": pid}, clients={"s3": fake})
    assert nothing["failed"] and "one of" in nothing["msg"]
    for bad in (
        {"extend_by": "later"},
        {"expires_at": "tomorrow"},
        {"hold": "bad name!"},
        {"hold": "x", "release_hold": "x"},
    ):
        result = run_module(garage_artifact_retention, {**STORE, "package_id": pid, **bad}, clients={"s3": fake})
        assert result["failure_reason"] == "invalid_input", (bad, result)
    assert fake.calls == []
    bad_id = run_module(garage_artifact_info, {**STORE, "package_id": "XYZ"}, clients={"s3": fake})
    assert bad_id["failure_reason"] == "invalid_input"
    bad_grace = run_module(garage_artifact_gc, {**STORE, "grace_period": "never"}, clients={"s3": fake})
    assert bad_grace["failure_reason"] == "invalid_input" and fake.calls == []


def test_missing_bucket_is_reported(run_module: RunModule, fake: FakeS3, tmp_path: Path) -> None:
    result = run_module(garage_artifact_push, {**push_args(tree(tmp_path)), "bucket": "nope"}, clients={"s3": fake})
    assert result["failed"] and result["failure_reason"] == "bucket_not_found"
    assert CREDS["secret_access_key"] not in str(result)
