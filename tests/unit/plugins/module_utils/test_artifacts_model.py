# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of _artifacts: key layout, canonical manifests and identity, retention."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import manifest, paths, retention

HEX = "ab" + "0" * 62


def test_layout() -> None:
    assert paths.blob_key("art", "sha256", HEX) == f"art/blobs/sha256/ab/00/{HEX}"
    assert paths.blob_key("", "blake3", HEX) == f"blobs/blake3/ab/00/{HEX}"
    assert paths.digest_of_blob_key("art", f"art/blobs/sha256/ab/00/{HEX}") == f"sha256:{HEX}"
    assert paths.digest_of_blob_key("art", f"art/blobs/sha256/ab/01/{HEX}") is None  # wrong fan-out
    assert paths.digest_of_blob_key("art", "art/blobs/sha256/ab/00/xyz") is None
    assert paths.manifest_key("a/b", HEX) == f"a/b/packages/{HEX}.json"
    assert paths.package_id_of_manifest_key("a/b", f"a/b/packages/{HEX}.json") == HEX
    assert paths.package_id_of_retention_key("a/b", f"a/b/retention/{HEX}.json") == HEX
    assert paths.normalize_prefix("/art/") == "art" and paths.normalize_prefix(None) == "artifacts"
    for bad in ("a//b", "../x", "a/./b"):
        with pytest.raises(ValueError):
            paths.normalize_prefix(bad)
    for bad in ("", "/abs", "a/../b", "a//b", "a\\b"):
        with pytest.raises(ValueError):
            paths.check_relative_path(bad)
    with pytest.raises(ValueError):
        paths.blob_key("art", "md5", HEX)


def entries() -> list[manifest.FileEntry]:
    return [
        manifest.FileEntry("z.txt", 1, "text/plain", "sha256:" + "1" * 64),
        manifest.FileEntry("a/é.bin", 2, "application/octet-stream", "sha256:" + "2" * 64),
    ]


def build(**overrides: object) -> dict:
    values = {
        "files": entries(),
        "name": "app",
        "producer": "ci",
        "subject": "1.0",
        "metadata": {"b": "2", "a": "1"},
        "retention_class": "transient",
        "algorithm": "sha256",
        "created_at": "2026-01-01T00:00:00Z",
        **overrides,
    }
    return manifest.build(**values)  # type: ignore[arg-type]


def test_canonical_encoding_is_byte_stable() -> None:
    document = build()
    data = manifest.encode(document)
    assert data == manifest.encode(json.loads(data)), "decode + encode changes the bytes"
    assert b" " not in data and b"\n" not in data
    assert "é".encode() in data  # non-ASCII as itself
    assert list(json.loads(data)) == sorted(json.loads(data))
    assert [f["path"] for f in document["files"]] == ["a/é.bin", "z.txt"]
    assert manifest.parse(data, package_id=document["package_id"]) == document
    with pytest.raises(manifest.ManifestError):
        manifest.encode({"x": 1.5})


def test_identity_ignores_creation_time_and_nothing_else() -> None:
    base = build()
    assert build(created_at="2030-01-01T00:00:00Z")["package_id"] == base["package_id"]
    assert build(files=list(reversed(entries())))["package_id"] == base["package_id"]
    for change in (
        {"name": "other"},
        {"producer": "x"},
        {"subject": "2"},
        {"metadata": {"a": "1"}},
        {"retention_class": "raw-evidence"},
        {"files": entries()[:1]},
    ):
        assert build(**change)["package_id"] != base["package_id"], change
    assert base["package_id"] == hashlib.sha256(manifest.encode(manifest.identity(base))).hexdigest()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.replace(b'"name":"app"', b'"name":"App"'),  # content changed: id no longer matches
        lambda d: d.replace(b",", b", ", 1),  # not canonical
        lambda d: d[:-1],  # not JSON
        lambda d: d.replace(b"cellar.garage.artifact/1", b"other/1"),
    ],
)
def test_damaged_manifests_are_refused(mutate: object) -> None:
    document = build()
    data = mutate(manifest.encode(document))  # type: ignore[operator]
    with pytest.raises(manifest.ManifestError):
        manifest.parse(data, package_id=document["package_id"])


def test_parse_refuses_another_packages_manifest() -> None:
    with pytest.raises(manifest.ManifestError, match="not"):
        manifest.parse(manifest.encode(build()), package_id="0" * 64)


def test_collect_and_hash_files(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "sub" / "a.txt").write_bytes(b"hello")
    (tmp_path / "d" / "b.json").write_bytes(b"{}")
    (tmp_path / "d" / "link").symlink_to(tmp_path / "d" / "b.json")
    found = manifest.collect_files([str(tmp_path / "d")])
    assert [rel for rel, _unused in found] == ["b.json", "link", "sub/a.txt"]
    hashed = manifest.hash_files(found, "sha256", workers=2)
    assert hashed[2].digest == "sha256:" + hashlib.sha256(b"hello").hexdigest()
    assert hashed[2].size == 5 and hashed[2].media_type == "text/plain"
    assert hashed[0].media_type == "application/json"
    with pytest.raises(ValueError, match=r"twice|several"):
        manifest.collect_files([str(tmp_path / "d" / "b.json"), str(tmp_path / "d" / "sub" / "..") + "/b.json"])
    if manifest.blake3_available():
        import blake3

        assert manifest.hash_file(str(tmp_path / "d" / "sub" / "a.txt"), "blake3")[0] == (
            "blake3:" + blake3.blake3(b"hello").hexdigest()
        )


def test_durations_and_classes() -> None:
    assert retention.parse_duration("90d") == 90 * 86400 and retention.parse_duration(60) == 60
    assert retention.parse_duration("never") is None and retention.parse_duration("7y") == 7 * 365 * 86400
    for bad in ("soon", "-1", "1.5d", True):
        with pytest.raises(retention.RetentionError):
            retention.parse_duration(bad)
    table = retention.durations({"transient": "2h", "permanent-record": "never"})
    assert table["transient"] == 7200 and table["raw-evidence"] == 90 * 86400
    with pytest.raises(retention.RetentionError):
        retention.durations({"forever-ish": "1d"})
    assert retention.DEFAULT_DURATIONS == {
        "transient": 86400,
        "raw-evidence": 90 * 86400,
        "summary-evidence": 365 * 86400,
        "release-evidence": 7 * 365 * 86400,
        "permanent-record": None,
    }


def test_retention_changes_are_idempotent_and_recorded() -> None:
    table = retention.durations()
    created = "2026-01-01T00:00:00Z"
    state = retention.initial_state(HEX, created, "raw-evidence", table, "ci")
    assert state["expires_at"] == "2026-04-01T00:00:00Z"
    kwargs = {"now": "2026-02-01T00:00:00Z", "actor": "alice", "table": table}
    held = retention.change(state, hold="case", reason="why", **kwargs)  # type: ignore[arg-type]
    assert retention.change(held, hold="case", reason="other", **kwargs) == held  # type: ignore[arg-type]
    assert held["holds"] == [{"name": "case", "reason": "why", "actor": "alice", "since": "2026-02-01T00:00:00Z"}]
    extended = retention.change(held, extend_by=86400, **kwargs)  # type: ignore[arg-type]
    assert extended["expires_at"] == "2026-04-02T00:00:00Z"
    assert retention.change(extended, extend_by=86400, **kwargs) == extended  # type: ignore[arg-type]
    promoted = retention.change(extended, retention_class="permanent-record", **kwargs)  # type: ignore[arg-type]
    assert promoted["expires_at"] is None
    released = retention.change(promoted, release_hold="case", **kwargs)  # type: ignore[arg-type]
    assert released["holds"] == []
    assert [h["action"] for h in released["history"]] == ["create", "hold", "expiry", "class", "expiry", "release_hold"]
    past = retention.change(released, expires_at="2020-01-01T00:00:00+02:00", **kwargs)  # type: ignore[arg-type]
    now = retention.epoch("2026-02-01T00:00:00Z")
    assert past["expires_at"] == "2019-12-31T22:00:00Z" and retention.is_eligible(past, now)
    assert not retention.is_eligible(retention.change(past, hold="h", **kwargs), now)  # type: ignore[arg-type]
    assert retention.view(held) == {
        "retention_class": "raw-evidence",
        "expires_at": "2026-04-01T00:00:00Z",
        "holds": {"case": {"reason": "why", "actor": "alice"}},
    }
