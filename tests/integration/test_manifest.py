# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_manifest through the real ansible-playbook against a Garage: file written once with
mode 0600, idempotent, sorted, secret-free, and cross-checked against out-of-band reads."""

from __future__ import annotations

import json
import stat
import typing as t
import uuid
from pathlib import Path

from tests.integration.ansible_run import run_playbook

MODULE = "cellar.garage.garage_manifest"


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_manifest_file_and_content(garage: t.Any, tmp_path: Path) -> None:
    # Some state to find in the manifest.
    alias = uid("it-man")
    bucket = garage.ok("CreateBucket", body={"globalAlias": alias})
    key_id, key_secret = garage.create_key(uid("it-man-key"))
    garage.ok(
        "AllowBucketKey",
        body={"bucketId": bucket["id"], "accessKeyId": key_id, "permissions": {"read": True, "write": True}},
    )
    garage.ok("AddBucketAlias", body={"bucketId": bucket["id"], "accessKeyId": key_id, "localAlias": "mine"})
    token = garage.ok("CreateAdminToken", body={"name": uid("it-man-tok"), "scope": ["Metrics"]})

    dest = tmp_path / "manifest.json"
    args = {"dest": str(dest)}
    check = run_playbook([{"name": "check", MODULE: args}], garage=garage, check=True, diff=True)
    assert check.rc == 0 and check.task("check").changed, check.output
    assert not dest.exists()  # check mode wrote nothing

    r = run_playbook(
        [
            {"name": "write", MODULE: args},
            {"name": "idempotent check", MODULE: args, "check_mode": True},
            {"name": "idempotent write", MODULE: args},
            {"name": "no dest", MODULE: {}},
        ],
        garage=garage,
        diff=True,
    )
    assert r.rc == 0, r.output
    assert r.task("write").changed
    assert not r.task("idempotent check").changed
    assert not r.task("idempotent write").changed
    assert not r.task("no dest").changed
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    text = dest.read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert manifest == r.task("write").result["manifest"]
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert r.task("no dest").result["checksum"] == r.task("write").result["checksum"]
    assert r.task("write").result["diff"][0]["after"] == text

    # No secret anywhere: not the key's, not the admin token's, not the cluster's.
    for secret in (key_secret, token["secretToken"], garage.admin_token):
        assert secret not in text
        assert secret not in r.stdout + r.stderr

    # Cross-check against out-of-band reads.
    status = garage.ok("GetClusterStatus")
    layout = garage.ok("GetClusterLayout")
    cluster = manifest["cluster"]
    assert cluster["layout_version"] == layout["version"]
    assert [n["id"] for n in cluster["nodes"]] == sorted(n["id"] for n in status["nodes"])
    roles = {role["id"]: role for role in layout["roles"]}
    for node in cluster["nodes"]:
        assert node["zone"] == roles[node["id"]]["zone"]
        assert node["capacity"] == roles[node["id"]]["capacity"]
        assert node["is_up"] is True

    bucket_ids = [b["id"] for b in manifest["buckets"]]
    assert bucket_ids == sorted(b["id"] for b in garage.ok("ListBuckets"))
    mine = next(b for b in manifest["buckets"] if b["id"] == bucket["id"])
    assert mine["global_aliases"] == [alias]
    assert mine["local_aliases"] == [{"access_key_id": key_id, "alias": "mine"}]
    assert [k["access_key_id"] for k in mine["keys"]] == [key_id]
    assert mine["keys"][0]["permissions"] == {"read": True, "write": True, "owner": False}
    info = garage.ok("GetBucketInfo", query={"id": bucket["id"]})
    assert (mine["objects"], mine["bytes"]) == (info["objects"], info["bytes"])

    key_ids = [k["id"] for k in manifest["keys"]]
    assert key_ids == sorted(k["id"] for k in garage.ok("ListKeys"))
    my_key = next(k for k in manifest["keys"] if k["id"] == key_id)
    assert [b["id"] for b in my_key["buckets"]] == [bucket["id"]]

    listed_tokens = sorted(tok["id"] for tok in garage.ok("ListAdminTokens") if tok["id"])
    assert [tok["id"] for tok in manifest["admin_tokens"]] == listed_tokens
    assert next(tok for tok in manifest["admin_tokens"] if tok["id"] == token["id"])["scope"] == ["Metrics"]

    # A change in the cluster changes the file (and only then); the diff shows it.
    garage.ok("UpdateKey", query={"id": key_id}, body={"name": uid("it-man-renamed")})
    r = run_playbook([{"name": "rewrite", MODULE: args}], garage=garage, diff=True)
    assert r.rc == 0 and r.task("rewrite").changed, r.output
    d = r.task("rewrite").result["diff"][0]
    assert d["before"] == text and d["after"] == dest.read_text(encoding="utf-8")
    assert "it-man-renamed" in d["after"]


def test_mode_is_enforced(garage: t.Any, tmp_path: Path) -> None:
    dest = tmp_path / "m.json"
    r = run_playbook([{"name": "write", MODULE: {"dest": str(dest), "include_admin_tokens": False}}], garage=garage)
    assert r.rc == 0 and r.task("write").changed, r.output
    assert "admin_tokens" not in json.loads(dest.read_text())
    dest.chmod(0o644)
    garage.reset_calls()
    r = run_playbook(
        [
            {"name": "fix mode", MODULE: {"dest": str(dest), "include_admin_tokens": False}},
            {"name": "again", MODULE: {"dest": str(dest), "include_admin_tokens": False}},
        ],
        garage=garage,
    )
    assert r.rc == 0, r.output
    assert r.task("fix mode").changed and not r.task("again").changed
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    # Cost: one status, one layout, one list + one read per bucket and per key, per run.
    manifest = json.loads(dest.read_text())
    expected = {
        "GetClusterStatus": 2,
        "GetClusterLayout": 2,
        "ListBuckets": 2,
        "ListKeys": 2,
        "GetBucketInfo": 2 * len(manifest["buckets"]),
        "GetKeyInfo": 2 * len(manifest["keys"]),
    }
    assert {k: v for k, v in garage.calls().items() if v} == {k: v for k, v in expected.items() if v}
