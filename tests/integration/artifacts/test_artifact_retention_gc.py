# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Retention and collection against real Garage: holds with reason and actor, expiry changes
(check / apply / idempotence), info filters, and expiry -> sweep -> GC freeing exactly the
unreferenced bytes while shared blobs and held packages survive."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.integration.artifacts.helpers import ArtifactEnv, sha256, write_tree

PUSH = "cellar.garage.garage_artifact_push"
RETENTION = "cellar.garage.garage_artifact_retention"
INFO = "cellar.garage.garage_artifact_info"
GC = "cellar.garage.garage_artifact_gc"
FETCH = "cellar.garage.garage_artifact_fetch"
VERIFY = "cellar.garage.garage_artifact_verify"
PAST = "2020-01-01T00:00:00Z"


def push_task(art: ArtifactEnv, name: str, src: Path, retention_class: str = "raw-evidence") -> dict:
    return {
        "name": name,
        PUSH: art.args(src=[str(src)], name=name, producer=f"p-{name}", retention_class=retention_class),
    }


def test_retention_changes_and_info(art: ArtifactEnv, tmp_path: Path) -> None:
    src = write_tree(tmp_path / "e", {"report.json": b'{"ok": true}'})
    r = art.run([push_task(art, "evidence", src)])
    assert r.rc == 0, r.output
    pid = r.task("evidence").result["package_id"]
    created = r.task("evidence").result["created_at"]
    hold = art.args(package_id=pid, hold="case-17", reason="LEG-17", actor="alice")
    before = art.snapshot()
    q = art.run(
        [
            {"name": "check", RETENTION: hold, "check_mode": True},
        ],
        diff=True,
    )
    assert q.rc == 0, q.output
    assert art.snapshot() == before, "check mode wrote something"
    r = art.run(
        [
            {"name": "hold", RETENTION: hold},
            {"name": "hold again", RETENTION: hold},
            {"name": "extend (check)", RETENTION: art.args(package_id=pid, extend_by="30d"), "check_mode": True},
            {"name": "extend", RETENTION: art.args(package_id=pid, extend_by="30d")},
            {"name": "extend again", RETENTION: art.args(package_id=pid, extend_by="30d")},
            {"name": "class", RETENTION: art.args(package_id=pid, retention_class="summary-evidence")},
            {"name": "show", INFO: art.args(package_id=pid)},
            {"name": "held", INFO: art.args(held=True)},
            {"name": "by producer", INFO: art.args(producer="p-evidence", retention_class="summary-evidence")},
            {"name": "nobody", INFO: art.args(producer="nobody")},
            {"name": "missing", INFO: art.args(package_id="0" * 64)},
            {"name": "bad", RETENTION: art.args(package_id=pid, extend_by="soon"), "ignore_errors": True},
            {"name": "gone", RETENTION: art.args(package_id="0" * 64, hold="x"), "ignore_errors": True},
        ],
        diff=True,
    )
    assert r.rc == 0, r.output
    check = q.task("check").result
    assert q.task("check").changed and check["diff"] == r.task("hold").result["diff"]
    assert r.task("hold").result["diff"]["after"]["holds"] == {"case-17": {"reason": "LEG-17", "actor": "alice"}}
    assert r.task("hold").changed and not r.task("hold again").changed
    assert r.task("extend").changed and not r.task("extend again").changed
    assert r.task("extend (check)").result["diff"] == r.task("extend").result["diff"]
    day = 86400
    from ansible_collections.cellar.garage.plugins.module_utils._artifacts.retention import epoch

    assert epoch(r.task("extend").result["retention"]["expires_at"]) == epoch(created) + 120 * day
    assert epoch(r.task("class").result["retention"]["expires_at"]) == epoch(created) + 365 * day
    shown = r.task("show").result
    assert shown["exists"] and shown["package"]["held"] and shown["package"]["files"][0]["path"] == "report.json"
    actions = [h["action"] for h in shown["package"]["retention"]["history"]]
    assert actions == ["create", "hold", "expiry", "class", "expiry"]
    assert shown["package"]["retention"]["holds"][0]["actor"] == "alice"
    assert [p["package_id"] for p in r.task("held").result["packages"]] == [pid]
    assert r.task("by producer").result["count"] == 1 and r.task("nobody").result["packages"] == []
    assert r.task("missing").result["exists"] is False
    assert r.task("bad").result["failure_reason"] == "invalid_input"
    assert r.task("gone").result["failure_reason"] == "package_not_found"


def test_expiry_sweep_gc_frees_exactly_the_unreferenced_bytes(art: ArtifactEnv, tmp_path: Path) -> None:
    shared, only_old, only_held, only_live = (os.urandom(n) for n in (7000, 11000, 13000, 17000))
    old = write_tree(tmp_path / "old", {"shared.bin": shared, "old.bin": only_old})
    held = write_tree(tmp_path / "held", {"held.bin": only_held, "shared.bin": shared})
    live = write_tree(tmp_path / "live", {"live.bin": only_live, "shared.bin": shared})
    r = art.run([push_task(art, "old", old, "transient"), push_task(art, "held", held, "transient"),
                 push_task(art, "live", live, "release-evidence")])  # fmt: skip
    assert r.rc == 0, r.output
    ids = {n: r.task(n).result["package_id"] for n in ("old", "held", "live")}
    # A blob nobody references (a push that died) and the expiries.
    orphan = os.urandom(5000)
    art.put_raw(art.blob_key(sha256(orphan)), orphan)
    r = art.run(
        [
            {"name": "expire old", RETENTION: art.args(package_id=ids["old"], expires_at=PAST)},
            {"name": "expire held", RETENTION: art.args(package_id=ids["held"], expires_at=PAST)},
            {"name": "hold", RETENTION: art.args(package_id=ids["held"], hold="audit", reason="keep")},
            {"name": "eligible", INFO: art.args(expired=True, held=False)},
        ]
    )
    assert r.rc == 0, r.output
    assert [p["package_id"] for p in r.task("eligible").result["packages"]] == [ids["old"]]
    time.sleep(2.5)  # every blob is now older than the grace window of 1 s
    before = art.snapshot()
    gc = art.args(grace_period="1s")
    check = art.run([{"name": "check", GC: gc, "check_mode": True}], diff=True)
    assert check.rc == 0, check.output
    assert art.snapshot() == before, "check mode deleted something"
    run = art.run([{"name": "gc", GC: gc}, {"name": "gc again", GC: gc}], diff=True)
    assert run.rc == 0, run.output
    predicted, done = check.task("check").result, run.task("gc").result
    assert predicted["deleted"] == done["deleted"] and predicted["bytes_freed"] == done["bytes_freed"]
    assert predicted["diff"] == done["diff"]
    assert done["deleted"]["packages"] == [ids["old"]]
    assert sorted(done["deleted"]["blobs"]) == sorted([sha256(only_old), sha256(orphan)])
    assert done["bytes_freed"] == len(only_old) + len(orphan)
    assert done["kept"]["expired_held"] == [ids["held"]]
    assert run.task("gc").changed and not run.task("gc again").changed
    after = art.snapshot()
    gone = sorted(set(before) - set(after))
    assert gone == sorted([f"art/packages/{ids['old']}.json", f"art/retention/{ids['old']}.json",
                           art.blob_key(sha256(only_old)), art.blob_key(sha256(orphan))])  # fmt: skip
    assert not art.objects("gc/"), "the collector left its lock"

    # The shared blob survives while live packages reference it; both still fetch and verify.
    ok = art.run(
        [
            {"name": "fetch live", FETCH: art.args(package_id=ids["live"], dest=str(tmp_path / "out-live"))},
            {"name": "fetch held", FETCH: art.args(package_id=ids["held"], dest=str(tmp_path / "out-held"))},
            {"name": "verify", VERIFY: art.args()},
            {"name": "release", RETENTION: art.args(package_id=ids["held"], release_hold="audit")},
            {"name": "gc released", GC: gc},
        ]
    )
    assert ok.rc == 0, ok.output
    assert (tmp_path / "out-live" / "shared.bin").read_bytes() == shared
    released = ok.task("gc released").result
    assert released["deleted"]["packages"] == [ids["held"]]
    assert released["deleted"]["blobs"] == [sha256(only_held)], "a blob the live package shares was deleted"
    assert released["bytes_freed"] == len(only_held)
    assert art.blob_key(sha256(shared)) in art.objects("blobs/")
