# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_layout node_wait_timeout on real Garage: nodes named by hostname right after they connected.

Garage learns a peer's hostname from the peer's status broadcast (every 10 s), so right after
ConnectClusterNodes GetClusterStatus lists the peers with ``hostname: null``; an operator's
playbook that starts nodes and then names them by hostname would fail without the wait.
"""

from __future__ import annotations

import re
import typing as t

from tests.integration.ansible_run import run_playbook
from tests.integration.layout_helpers import MODULE, T, layout_oob, roles_oob


def test_nodes_named_by_hostname_right_after_connect(garage_factory: t.Any) -> None:
    # Connected, but not waited for the peers' hostnames (the fixture's hostnames=False).
    g = garage_factory(nodes=3, layout=False)
    ids = {node.hostname: node.node_id for node in g.cluster.nodes}
    declared = [{"node": f"node{i}", "zone": f"dc{i}", "capacity": "1T"} for i in (1, 2, 3)]

    r = run_playbook([{"name": "layout by hostname", MODULE: {"nodes": declared, "node_wait_timeout": 30}}], garage=g)
    assert r.rc == 0, r.output
    res = r.task("layout by hostname").result
    assert r.task("layout by hostname").changed and res["version"] == 1
    assert 0 <= res["waited_for_nodes"] < 30
    print(f"garage_layout waited {res['waited_for_nodes']} s for the peers' hostnames")  # shown with -s
    assert roles_oob(layout_oob(g)) == {ids[f"node{i}"]: (f"dc{i}", T, []) for i in (1, 2, 3)}

    # A node that never shows up: the module waits the timeout, then fails naming it, changing nothing.
    never = {"nodes": [*declared, {"node": "node9", "zone": "dc1", "capacity": "1T"}], "node_wait_timeout": 3}
    r = run_playbook([{"name": "never", MODULE: never, "ignore_errors": True}], garage=g)
    task = r.task("never")
    assert task.failed and "Node 'node9' is unknown" in task.result["msg"], task.result
    waited = re.search(r"\(waited (\d+) s for it to appear\)", task.result["msg"])
    assert waited is not None and int(waited.group(1)) >= 3, task.result["msg"]
    assert layout_oob(g)["version"] == 1

    # Converged: the same task again changes nothing and waits for nothing.
    r = run_playbook([{"name": "again", MODULE: {"nodes": declared, "node_wait_timeout": 30}}], garage=g)
    assert r.rc == 0 and not r.task("again").changed and r.task("again").result["waited_for_nodes"] == 0, r.output
