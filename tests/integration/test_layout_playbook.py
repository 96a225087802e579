# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/layout.yml: the layout converged from inventory variables, then a health wait."""

from __future__ import annotations

import sys
import typing as t

from tests.integration.ansible_run import REPO_ROOT, run_playbook
from tests.integration.layout_helpers import effective_staged, layout_oob, roles_oob

PLAYBOOK = str(REPO_ROOT / "playbooks" / "layout.yml")
LAYOUT_TASK = "Converge the cluster layout (one staged change, previewed, applied once)"
WAIT_TASK = "Wait for the cluster to be healthy"


def inventory(g: t.Any, hostvars: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    return {
        "all": {
            "children": {
                "garage": {
                    "hosts": {h: {**local, **v} for h, v in hostvars.items()},
                    "vars": {"garage_admin_url": g.admin_url, "garage_admin_token": g.admin_token},
                }
            }
        }
    }


def test_layout_playbook_from_inventory(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3, layout=False, hostnames=True)
    status = {n["hostname"]: n["id"] for n in g.ok("GetClusterStatus")["nodes"]}
    hostvars = {
        "node1": {"garage_zone": "dc1", "garage_capacity": "1T", "garage_tags": ["a"]},
        # identified by id prefix instead of its inventory name
        "storage-two": {"garage_zone": "dc2", "garage_capacity": "1T", "garage_node_id": status["node2"][:10]},
        "node3": {"garage_zone": "dc3", "garage_capacity": "1T"},
    }
    inv = inventory(g, hostvars)
    plays = [{"import_playbook": PLAYBOOK}]
    r = run_playbook(plays, garage=None, inventory=inv, check=True, diff=True)
    assert r.rc == 0, r.output
    assert r.task(LAYOUT_TASK).changed and r.task(WAIT_TASK).skipped
    assert layout_oob(g)["version"] == 0 and effective_staged(layout_oob(g)) == []
    r = run_playbook(plays, garage=None, inventory=inv)
    assert r.rc == 0, r.output
    assert r.task(LAYOUT_TASK).changed and not r.task(WAIT_TASK).changed
    assert r.task(WAIT_TASK).result["health"]["status"] == "healthy"
    after = layout_oob(g)
    assert after["version"] == 1
    assert roles_oob(after) == {
        status["node1"]: ("dc1", 10**12, ["a"]),
        status["node2"]: ("dc2", 10**12, []),
        status["node3"]: ("dc3", 10**12, []),
    }
    r = run_playbook(plays, garage=None, inventory=inv)
    assert r.rc == 0 and r.changed_tasks() == [], r.output
    assert layout_oob(g)["version"] == 1

    # a bad inventory is refused by the preflight before the layout is touched
    bad = inventory(g, {**hostvars, "node3": {"garage_zone": "dc3", "garage_capacity": "1T", "garage_gateway": True}})
    r = run_playbook(plays, garage=None, inventory=bad)
    assert r.rc != 0 and "either garage_capacity" in r.output, r.output
    assert layout_oob(g)["version"] == 1
