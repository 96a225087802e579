# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Push and fetch against real Garage: check / apply / idempotence, byte-identical round trip,
dedup across packages, subsets, and damage detected by fetch and by verify."""

from __future__ import annotations

import os
from pathlib import Path

from tests.integration.artifacts.helpers import ArtifactEnv, read_tree, sha256, write_tree

PUSH = "cellar.garage.garage_artifact_push"
FETCH = "cellar.garage.garage_artifact_fetch"
VERIFY = "cellar.garage.garage_artifact_verify"
MIB = 1024 * 1024


def test_push_fetch_round_trip(art: ArtifactEnv, tmp_path: Path) -> None:
    files = {
        "bin/run": b"#!/bin/sh\necho hi\n",
        "conf/app.toml": b"port = 8080\n",
        "conf/copy.toml": b"port = 8080\n",  # same content: one blob
        "data/big.bin": os.urandom(3 * MIB + 123),  # multipart at 1 MiB
        "empty": b"",
        "unicodé.txt": "é".encode(),
    }
    src = write_tree(tmp_path / "src", files)
    push = art.args(
        src=[str(src)],
        name="app",
        producer="ci",
        subject="1.0",
        retention_class="raw-evidence",
        metadata={"commit": "abc", "build": 7},
        part_size="1MiB",
        multipart_threshold="1MiB",
    )
    before = art.snapshot()
    check = art.run([{"name": "check", PUSH: push, "check_mode": True}], diff=True)
    assert check.rc == 0, check.output
    assert art.snapshot() == before == {}, "check mode wrote something"
    predicted = check.task("check").result
    assert check.task("check").changed
    assert predicted["upload"]["count"] == 5 and predicted["manifest_digest"] is None
    assert predicted["upload"]["bytes"] == sum(len(v) for k, v in files.items() if k != "conf/copy.toml")

    r = art.run(
        [
            {"name": "push", PUSH: push},
            {"name": "again (check)", PUSH: push, "check_mode": True},
            {"name": "again", PUSH: push},
        ],
        diff=True,
        verbosity=3,
    )
    assert r.rc == 0, r.output
    pushed = r.task("push").result
    assert r.task("push").changed and not r.task("again").changed and not r.task("again (check)").changed
    assert pushed["package_id"] == predicted["package_id"]
    assert pushed["diff"] == predicted["diff"], "check mode predicted another diff"
    assert pushed["upload"] == predicted["upload"]
    assert r.task("again").result["manifest_digest"] == pushed["manifest_digest"]
    assert r.task("again").result["exists"] is True
    package_id = pushed["package_id"]
    stored = art.objects()
    blobs = [k for k in stored if k.startswith("art/blobs/sha256/")]
    assert len(blobs) == 5
    assert f"art/packages/{package_id}.json" in stored and f"art/retention/{package_id}.json" in stored
    assert not art.objects("inflight/") and not art.objects("gc/"), "push left its intent behind"
    for data in files.values():
        assert art.blob_key(sha256(data)) in stored
    manifest = art.env.client.get_object(Bucket=art.bucket, Key=f"art/packages/{package_id}.json")["Body"].read()
    assert sha256(manifest) == pushed["manifest_digest"]
    assert b" " not in manifest.replace(b"port = 8080", b"")  # canonical: no whitespace between tokens

    dest = tmp_path / "dest" / "app"
    fetch = art.args(package_id=package_id, dest=str(dest))
    f = art.run(
        [
            {"name": "check", FETCH: fetch, "check_mode": True},
            {"name": "fetch", FETCH: fetch},
            {"name": "again", FETCH: fetch},
        ],
        diff=True,
    )
    assert f.rc == 0, f.output
    assert f.task("check").changed and f.task("fetch").changed and not f.task("again").changed
    assert f.task("check").result["diff"] == f.task("fetch").result["diff"]
    assert read_tree(dest) == files, "the fetched tree is not byte-identical"
    assert sorted(f.task("fetch").result["written"]) == sorted(files)

    # One file changed locally, one removed: only those two are written again.
    (dest / "conf/app.toml").write_bytes(b"port = 1\n")
    (dest / "bin/run").unlink()
    again = art.run([{"name": "repair", FETCH: fetch}], diff=True)
    assert again.rc == 0, again.output
    assert sorted(again.task("repair").result["written"]) == ["bin/run", "conf/app.toml"]
    assert read_tree(dest) == files

    subset_dest = tmp_path / "subset"
    s = art.run([{"name": "subset", FETCH: {**fetch, "dest": str(subset_dest), "paths": ["conf", "empty"]}}])
    assert s.rc == 0, s.output
    assert read_tree(subset_dest) == {k: v for k, v in files.items() if k.startswith("conf/") or k == "empty"}
    bad = art.run([{"name": "unknown path", FETCH: {**fetch, "dest": str(tmp_path / "x"), "paths": ["nope"]}}])
    assert bad.task("unknown path").result["failure_reason"] == "path_not_in_package"


def test_dedup_across_packages(art: ArtifactEnv, tmp_path: Path) -> None:
    shared = {"lib/a.so": os.urandom(50_000), "lib/b.so": os.urandom(60_000)}
    first = write_tree(tmp_path / "one", {**shared, "one.txt": b"one"})
    second = write_tree(tmp_path / "two", {**shared, "two.txt": b"two!"})
    common = {"producer": "ci", "retention_class": "transient"}
    r = art.run(
        [
            {"name": "one", PUSH: art.args(src=[str(first)], name="one", **common)},
            {"name": "two", PUSH: art.args(src=[str(second)], name="two", **common)},
        ]
    )
    assert r.rc == 0, r.output
    assert r.task("one").result["upload"]["count"] == 3
    two = r.task("two").result
    assert two["upload"]["count"] == 1 and two["upload"]["bytes"] == 4
    assert two["reused"] == {"count": 2, "bytes": 110_000}
    assert len(art.objects("blobs/")) == 4
    assert len(art.objects("packages/")) == 2


def test_damage_is_detected_by_fetch_and_verify(art: ArtifactEnv, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha" * 100, "b.txt": b"bravo" * 100, "c.txt": b"charlie"}
    src = write_tree(tmp_path / "src", files)
    r = art.run(
        [{"name": "push", PUSH: art.args(src=[str(src)], name="d", producer="ci", retention_class="transient")}]
    )
    assert r.rc == 0, r.output
    package_id = r.task("push").result["package_id"]
    clean = art.run([{"name": "verify", VERIFY: art.args()}])
    assert clean.rc == 0 and clean.task("verify").result["ok"], clean.output
    assert clean.task("verify").result["checked"]["blobs"] == 3

    # An existing dest with the old a.txt must stay as it was when the fetch fails.
    existing = write_tree(tmp_path / "existing", {"a.txt": b"old", "keep.txt": b"mine"})
    art.put_raw(art.blob_key(sha256(files["b.txt"])), b"bravo" * 99 + b"BRAVO")  # tampered, same size
    art.delete_raw(art.blob_key(sha256(files["c.txt"])))  # missing
    fetch = art.args(package_id=package_id)
    r = art.run(
        [
            {"name": "fresh", FETCH: {**fetch, "dest": str(tmp_path / "fresh")}, "ignore_errors": True},
            {"name": "existing", FETCH: {**fetch, "dest": str(existing)}, "ignore_errors": True},
            {
                "name": "corrupt only",
                FETCH: {**fetch, "dest": str(existing), "paths": ["b.txt"]},
                "ignore_errors": True,
            },
            {"name": "verify", VERIFY: art.args(), "ignore_errors": True},
            {"name": "verify report", VERIFY: art.args(package_id=package_id, fail_on_damage=False)},
        ]
    )
    assert {r.task("fresh").result["failure_reason"], r.task("existing").result["failure_reason"]} <= {
        "blob_missing",
        "blob_corrupt",
    }
    assert r.task("corrupt only").result["failure_reason"] == "blob_corrupt"
    assert not (tmp_path / "fresh").exists(), "a failed fetch left a half-written tree"
    assert [p.name for p in (tmp_path).iterdir() if p.name.startswith(".fresh")] == [], "staging left behind"
    assert read_tree(existing) == {"a.txt": b"old", "keep.txt": b"mine"}, "a failed fetch changed dest"
    verify = r.task("verify").result
    assert verify["failure_reason"] == "artifacts_damaged"
    assert [m["digest"] for m in verify["missing"]] == [sha256(files["c.txt"])]
    assert [c["digest"] for c in verify["corrupt"]] == [sha256(files["b.txt"])]
    assert verify["broken_packages"] == [package_id]
    report = r.task("verify report").result
    assert report["ok"] is False and not r.task("verify report").failed
    assert report["broken_packages"] == [package_id]
