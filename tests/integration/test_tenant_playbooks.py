# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/provision_customer.yml and playbooks/rotate_keys.yml on real Garage and OpenBao.

Two customers (one with an extra read-only key) are provisioned: check mode writes nothing, the
run creates exactly the declared buckets, keys and OpenBao secrets, a re-run changes nothing.
Then both rotation phases: the successors work at once and the old keys keep working until
``finish`` retires them (boto3 with the credentials read back from OpenBao); both phases are
safe to re-run. Every run is ``-vvv`` and is searched for the secrets created and read.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import typing as t

import pytest

from tests.fixtures.openbao import OpenBaoServer
from tests.integration._secret_checks import assert_no_secrets
from tests.integration._tenant_state import garage_facts, left_over
from tests.integration.ansible_run import REPO_ROOT, PlaybookResult, _bin, run_playbook

INVENTORY = {"all": {"children": {"garage": {"hosts": {"localhost": {
    "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}}  # fmt: skip


@pytest.mark.parametrize("playbook", ["playbooks/provision_customer.yml", "playbooks/rotate_keys.yml"])
@pytest.mark.parametrize("inventory", ["inventories/local", "inventories/gamma"])
def test_syntax_check(playbook: str, inventory: str) -> None:
    env = {"ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"), "PATH": "/usr/bin:/bin"}
    argv = [_bin("ansible-playbook"), "--syntax-check", playbook, "-i", inventory]
    proc = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def run(playbook: str, extra: dict[str, t.Any], *, check: bool = False) -> PlaybookResult:
    return run_playbook([{"ansible.builtin.import_playbook": str(REPO_ROOT / "playbooks" / playbook)}], garage=None,
                        inventory=INVENTORY, extra_vars=extra, check=check, diff=True, verbosity=3)  # fmt: skip


def creds(openbao: OpenBaoServer, mount: str, name: str) -> dict[str, str]:
    stored = openbao.kv_read(mount, f"customers/{name}")
    assert stored is not None, f"no secret for {name}"
    return t.cast(dict, stored["data"])


def test_provision_and_rotate_customers(garage: t.Any, openbao: OpenBaoServer, kv_mount: str) -> None:
    tag = secrets.token_hex(3)
    acme, globex = f"acme-{tag}", f"globex-{tag}"
    customers = [
        {"name": acme, "display_name": f"{acme}-data", "extra_keys": [{"name": f"{acme}-reporting", "tier": "ro"}]},
        {"name": globex},
    ]
    key_names = [f"{acme}-admin", f"{acme}-reporting", f"{globex}-admin"]
    extra = {
        "garage_admin_url": garage.admin_url, "garage_admin_token": garage.admin_token,
        "garage_openbao_url": openbao.url, "garage_openbao_token": openbao.token, "garage_s3_url": garage.s3_url,
        "garage_customers_openbao_mount": kv_mount, "garage_customers_openbao_prefix": "customers",
        "garage_customers": customers,
    }  # fmt: skip
    start = garage_facts(garage.state())
    outputs: list[PlaybookResult] = []

    planned = run("provision_customer.yml", extra, check=True)
    outputs.append(planned)
    assert planned.rc == 0, planned.output
    assert garage_facts(garage.state()) == start and openbao.kv_read(kv_mount, f"customers/{acme}-admin") is None
    assert [r.changed for r in planned.results if r.name == "Provision each customer's bucket and admin key"]

    done = run("provision_customer.yml", extra)
    outputs.append(done)
    assert done.rc == 0, done.output
    assert "Add each customer's other keys" in done.changed_tasks()
    created = {k: creds(openbao, kv_mount, k) for k in key_names}
    facts = garage_facts(garage.state())
    new = facts - start
    assert {f[0] for f in new} == {"bucket", "key", "local_alias", "permission"}
    assert len([f for f in new if f[0] == "bucket"]) == 2 and len([f for f in new if f[0] == "key"]) == 3
    assert not [f for f in new if f[0] == "global_alias"], "customer buckets carry no cluster-wide name"
    bucket = f"{acme}-data"
    garage.s3_client(**_boto(created[f"{acme}-admin"])).put_object(Bucket=bucket, Key="k", Body=b"v")
    reporting = garage.s3_client(**_boto(created[f"{acme}-reporting"]))
    assert reporting.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"

    again = run("provision_customer.yml", extra)
    outputs.append(again)
    assert again.rc == 0 and again.changed_tasks() == [], again.output
    one = run("provision_customer.yml", {**extra, "customer": globex})
    outputs.append(one)
    assert one.rc == 0 and one.changed_tasks() == [], one.output
    assert garage_facts(garage.state()) == facts

    # Rotation, phase 1: every customer key is due (older than 0 days).
    rotate = {**extra, "garage_rotate_older_than_days": 0}
    phase1 = run("rotate_keys.yml", {**rotate, "garage_rotate_phase": "start"})
    outputs.append(phase1)
    assert phase1.rc == 0, phase1.output
    successors = {k: creds(openbao, kv_mount, k) for k in key_names}
    assert all(successors[k]["key_name"] == f"{k}.g2" for k in key_names), successors
    for name in key_names:  # the successor works at once, the old key still works
        for c in (created[name], successors[name]):
            client = garage.s3_client(**_boto(c))
            client.head_bucket(Bucket=c["bucket"])
    assert garage.s3_client(**_boto(successors[f"{acme}-reporting"])).get_object(Bucket=bucket, Key="k")
    again1 = run("rotate_keys.yml", {**rotate, "garage_rotate_phase": "start"})
    outputs.append(again1)
    assert again1.rc == 0 and again1.changed_tasks() == [], again1.output

    phase2 = run("rotate_keys.yml", {**rotate, "garage_rotate_phase": "finish"})
    outputs.append(phase2)
    assert phase2.rc == 0, phase2.output
    from botocore.exceptions import ClientError

    for name in key_names:
        with pytest.raises(ClientError):
            garage.s3_client(**_boto(created[name])).head_bucket(Bucket=created[name]["bucket"])
        garage.s3_client(**_boto(successors[name])).head_bucket(Bucket=successors[name]["bucket"])
    again2 = run("rotate_keys.yml", {**rotate, "garage_rotate_phase": "finish"})
    outputs.append(again2)
    assert again2.rc == 0 and again2.changed_tasks() == [], again2.output

    # A named key only, in a new round (generation 3).
    named = run("rotate_keys.yml", {**extra, "garage_rotate_phase": "start", "garage_rotate_keys": [f"{globex}-admin"]})
    outputs.append(named)
    assert named.rc == 0, named.output
    assert creds(openbao, kv_mount, f"{globex}-admin")["key_name"] == f"{globex}-admin.g3"
    assert creds(openbao, kv_mount, f"{acme}-admin")["key_name"] == f"{acme}-admin.g2"
    third = creds(openbao, kv_mount, f"{globex}-admin")

    # Customers leave: their buckets (emptied first) and keys go.
    garage.s3_client(**_boto(successors[f"{acme}-admin"])).delete_object(Bucket=bucket, Key="k")
    gone = run("provision_customer.yml", {**extra, "garage_customers": [{**c, "state": "absent"} for c in customers]})
    outputs.append(gone)
    assert gone.rc == 0, gone.output
    assert left_over(start, garage_facts(garage.state())) == set()

    every = [c["secret_access_key"] for c in [*created.values(), *successors.values(), third]]
    for result in outputs:
        assert_no_secrets(result.stdout + result.stderr, [*every, garage.admin_token, openbao.token])


def _boto(c: t.Mapping[str, str]) -> dict[str, str]:
    return {"access_key_id": c["access_key_id"], "secret_access_key": c["secret_access_key"]}
