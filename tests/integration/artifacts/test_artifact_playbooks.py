# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/artifacts_push.yml -> artifacts_deploy.yml -> retention_gc.yml on real Garage, with
the S3 connection from the GARAGE_S3_* environment as cron or CI would give it, and site.yml's
artifact steps doing nothing when their variables are not set."""

from __future__ import annotations

from pathlib import Path

from tests.integration.ansible_run import REPO_ROOT, run_playbook
from tests.integration.artifacts.helpers import PREFIX, ArtifactEnv, read_tree, write_tree
from tests.integration.s3.s3_helpers import assert_no_secret

PLAYBOOKS = REPO_ROOT / "playbooks"


def test_push_deploy_collect_playbooks(art: ArtifactEnv, tmp_path: Path) -> None:
    files = {"bin/app": b"\x7fELF...", "etc/app.conf": b"x=1\n"}
    src = write_tree(tmp_path / "build", files)
    dest = tmp_path / "hosts" / "release"
    id_file = tmp_path / "package-id"
    common = {"artifacts_bucket": art.bucket, "artifacts_prefix": PREFIX}
    inventory = {
        "all": {
            "hosts": {"localhost": {"ansible_connection": "local"}},
            "children": {"artifacts_targets": {"hosts": {"localhost": {}}}},
        }
    }
    plays = [
        {"ansible.builtin.import_playbook": str(PLAYBOOKS / "artifacts_push.yml")},
        {"ansible.builtin.import_playbook": str(PLAYBOOKS / "artifacts_deploy.yml")},
        {"ansible.builtin.import_playbook": str(PLAYBOOKS / "retention_gc.yml")},
    ]
    extra = {
        **common,
        "artifacts_src": str(src),
        "artifacts_name": "app",
        "artifacts_dest": str(dest),
        "artifacts_package_id_file": str(id_file),
        "artifacts_gc_grace": "1h",
    }
    env = art.env.creds().environment()
    r = run_playbook(plays, garage=None, extra_vars=extra, env=env, inventory=_inventory(tmp_path, inventory))
    assert r.rc == 0, r.output
    assert_no_secret(r, art.env.secret)
    package_id = id_file.read_text().strip()
    assert r.task("Push the package").result["package_id"] == package_id
    assert read_tree(dest) == files
    assert r.task("Fetch the package").changed
    assert not r.task("Collect expired packages and unreferenced blobs").changed
    assert r.task("Spot-check stored blobs").result["ok"] is True

    again = run_playbook(plays, garage=None, extra_vars=extra, env=env, inventory=_inventory(tmp_path, inventory))
    assert again.rc == 0, again.output
    assert again.changed_tasks() == [], "a second run of the artifact playbooks changed something"

    # Nothing set: every step is skipped (site.yml imports them unconditionally).
    idle = run_playbook(plays, garage=None, env=env, inventory=_inventory(tmp_path, inventory))
    assert idle.rc == 0, idle.output
    assert all(t["skipped"] for t in idle.results), idle.output


def _inventory(tmp_path: Path, inventory: dict) -> str:
    import yaml

    path = tmp_path / "inventory.yml"
    inventory["all"]["hosts"]["localhost"]["ansible_python_interpreter"] = __import__("sys").executable
    path.write_text(yaml.safe_dump(inventory))
    return str(path)
