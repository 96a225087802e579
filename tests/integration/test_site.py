# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml, the playbooks and the two inventories.

- site.yml passes ``--syntax-check`` with inventories/local and inventories/gamma;
- ``ansible-inventory`` reads both inventories into the documented shape (gamma: 6 storage
  nodes and 1 gateway in 3 zones; local: the demo cluster's node1..node3);
- playbooks/provision.yml + playbooks/manifest.yml with inventories/local, against a private
  real Garage cluster: check -> apply -> idempotent check -> idempotent apply, each verified out of band
  (check mode writes nothing, the apply creates exactly the declared estate), diff asserted,
  new secrets stored 0600 and never shown.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import typing as t
from pathlib import Path

import pytest
import yaml

from tests.fixtures.garage import canonical
from tests.integration.ansible_run import REPO_ROOT, _bin, run_playbook

LOCAL = REPO_ROOT / "inventories" / "local"
GAMMA = REPO_ROOT / "inventories" / "gamma"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "GARAGE_"))}
    env["ANSIBLE_CONFIG"] = str(REPO_ROOT / "ansible.cfg")
    return env


def _inventory(path: Path) -> dict[str, t.Any]:
    proc = subprocess.run(
        [_bin("ansible-inventory"), "-i", str(path), "--list"],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return t.cast(dict, json.loads(proc.stdout))  # type: ignore[type-arg]


def _estate() -> dict[str, t.Any]:
    return t.cast(
        dict,  # type: ignore[type-arg]
        yaml.safe_load((LOCAL / "group_vars" / "garage" / "estate.yml").read_text(encoding="utf-8")),
    )


# --------------------------------------------------------------------------- static checks


@pytest.mark.parametrize("inventory", [LOCAL, GAMMA], ids=["local", "gamma"])
@pytest.mark.parametrize("playbook", ["site.yml", "playbooks/provision.yml", "playbooks/manifest.yml"])
def test_syntax_check(inventory: Path, playbook: str) -> None:
    if playbook == "site.yml" and not (REPO_ROOT / "playbooks" / "layout.yml").exists():
        pytest.xfail("playbooks/layout.yml (imported by site.yml) has not landed yet")
    proc = subprocess.run(
        [_bin("ansible-playbook"), "--syntax-check", playbook, "-i", str(inventory)],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"playbook: {playbook}" in proc.stdout


def test_gamma_inventory_graph() -> None:
    proc = subprocess.run(
        [_bin("ansible-inventory"), "-i", str(GAMMA), "--graph"],
        cwd=REPO_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    graph = proc.stdout
    for group in ("@garage:", "@garage_storage:", "@garage_gateway:", "@podman_hosts:", "@databases:"):
        assert group in graph, graph
    # A host is listed once per group it is in (the storage nodes are podman hosts too).
    hosts = {line.split("--", 1)[1] for line in graph.splitlines() if "--" in line and "@" not in line}
    assert len(hosts) == 10, graph  # 6 storage nodes, 1 gateway, 3 database hosts
    assert all(h.endswith(".gamma.example.net") for h in hosts), hosts


def test_gamma_inventory_is_a_three_zone_estate() -> None:
    inv = _inventory(GAMMA)
    hostvars = inv["_meta"]["hostvars"]
    storage = inv["garage_storage"]["hosts"]
    gateways = inv["garage_gateway"]["hosts"]
    assert len(storage) == 6 and len(gateways) == 1
    assert sorted(inv["garage"]["children"]) == ["garage_gateway", "garage_storage"]
    assert len(inv["databases"]["hosts"]) == 3
    assert {hostvars[h]["garage_zone"] for h in storage} == {"par1", "par2", "fra1"}
    for h in storage:
        assert hostvars[h]["garage_capacity"], h
        assert not hostvars[h].get("garage_gateway", False), h
    for h in gateways:
        assert hostvars[h]["garage_gateway"] is True
        assert "garage_capacity" not in hostvars[h]
    # The Admin API tasks are delegated to a storage node, reading a token file there.
    some = hostvars[storage[0]]
    assert some["garage_admin_host"] in storage
    assert some["garage_admin_url"].startswith("http://127.0.0.1:")
    assert some["garage_admin_token_file"].startswith("/")
    # Every permission and local alias refers to a declared bucket and key.
    buckets = {b["name"] for b in some["garage_buckets"] if b.get("state", "present") == "present"}
    keys = {k["name"] for k in some["garage_keys"]}
    for p in some["garage_bucket_permissions"] + some["garage_local_aliases"]:
        assert p["bucket"] in buckets and p["key"] in keys, p


def test_local_inventory_matches_the_demo_nodes(garage: t.Any) -> None:
    inv = _inventory(LOCAL)
    hosts = sorted(inv["garage"]["hosts"])
    status, answer = garage.admin("GetClusterStatus")
    assert status == 200, answer
    assert hosts == sorted(n["hostname"] for n in answer["nodes"])
    zones = {inv["_meta"]["hostvars"][h]["garage_zone"] for h in hosts}
    assert zones == {"dc1", "dc2", "dc3"}


# --------------------------------------------------------------------------- provision quartet


def _oob_estate(garage: t.Any) -> dict[str, t.Any]:
    """Buckets by first global alias, keys by name, tokens by name, read out of band."""
    status, listing = garage.admin("ListBuckets")
    assert status == 200, listing
    buckets = {}
    for item in listing:
        status, info = garage.admin("GetBucketInfo", query={"id": item["id"]})
        assert status == 200, info
        buckets[sorted(info["globalAliases"])[0] if info["globalAliases"] else info["id"]] = info
    status, klist = garage.admin("ListKeys")
    assert status == 200, klist
    keys = {}
    for item in klist:
        status, info = garage.admin("GetKeyInfo", query={"id": item["id"]})
        assert status == 200, info
        keys[info["name"]] = info
    status, tlist = garage.admin("ListAdminTokens")
    assert status == 200, tlist
    tokens = {tok["name"]: tok for tok in tlist if tok.get("id")}
    return canonical({"buckets": buckets, "keys": keys, "tokens": tokens})


def _bucket(oob: dict[str, t.Any], name: str) -> dict[str, t.Any]:
    for info in oob["buckets"].values():
        if name in info["globalAliases"]:
            return t.cast(dict, info)  # type: ignore[type-arg]
    raise AssertionError(f"bucket {name} not found out of band; have {sorted(oob['buckets'])}")


def _perms(bucket: dict[str, t.Any], key_id: str) -> dict[str, bool]:
    for entry in bucket.get("keys") or []:
        if entry["accessKeyId"] == key_id:
            return t.cast(dict, entry["permissions"])  # type: ignore[type-arg]
    return {"read": False, "write": False, "owner": False}


#: provision.yml converges the whole estate in one garage_estate task (issue 9) and shows its plan.
CONVERGE_TASKS = ["Converge the estate"]
PLAN_TASK = "Show what the estate changes (in check mode, what a real run would change)"
KINDS = {
    "keys": "garage_keys",
    "buckets": "garage_buckets",
    "local_aliases": "garage_local_aliases",
    "permissions": "garage_bucket_permissions",
    "admin_tokens": "garage_admin_tokens",
}


@pytest.mark.slow
def test_provision_and_manifest_quartet(garage_factory: t.Any, tmp_path: Path) -> None:
    garage = garage_factory(nodes=3, layout=True)
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir(mode=0o700)
    token_file = demo_dir / "admin.token"
    token_file.write_text(garage.admin_token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    env = {
        "GARAGE_DEMO_DIR": str(demo_dir),
        "GARAGE_ADMIN_URL": garage.admin_url,
        "GARAGE_ADMIN_TOKEN_FILE": str(token_file),
    }
    plays = [
        {"import_playbook": str(REPO_ROOT / "playbooks" / "provision.yml")},
        {"import_playbook": str(REPO_ROOT / "playbooks" / "manifest.yml")},
    ]
    estate = _estate()
    before = _oob_estate(garage)
    assert before["buckets"] == {} and before["keys"] == {}

    def run(check: bool) -> t.Any:
        return run_playbook(plays, garage=None, inventory=LOCAL, env=env, check=check, diff=True)

    # 1. check mode: every resource of every kind is predicted to change, nothing is written.
    r = run(check=True)
    r.assert_ok()
    for name in CONVERGE_TASKS:
        assert r.task(name).changed, name
    plan = r.task(PLAN_TASK).result["msg"]
    assert plan["counts"] == {kind: len(estate[var]) for kind, var in KINDS.items()}, plan
    assert [c["resource"] for c in plan["changes"]["buckets"]] == [
        f"bucket '{b['name']}'" for b in estate["garage_buckets"]
    ]
    assert all(c["action"] == "create" for c in plan["changes"]["buckets"])
    assert len(plan["changes"]["permissions"]) == len(estate["garage_bucket_permissions"])
    assert _oob_estate(garage) == before
    assert not (demo_dir / "manifest.json").exists()
    assert not (demo_dir / "secrets").exists() or not any((demo_dir / "secrets").iterdir())

    # 2. apply: exactly the declared estate, secrets stored 0600 and never shown.
    r = run(check=False)
    r.assert_ok()
    for name in CONVERGE_TASKS:
        assert r.task(name).changed, name
    after = _oob_estate(garage)
    assert set(after["keys"]) == {k["name"] for k in estate["garage_keys"]}
    for k in estate["garage_keys"]:
        assert after["keys"][k["name"]]["permissions"].get("createBucket", False) == k["allow_create_bucket"]
    assert len(after["buckets"]) == len(estate["garage_buckets"])
    for b in estate["garage_buckets"]:
        info = _bucket(after, b["name"])
        assert set(info["globalAliases"]) == {b["name"], *b.get("global_aliases", [])}
        assert info["websiteAccess"] == bool(b.get("website"))
        if "max_objects" in b.get("quotas", {}):
            assert info["quotas"]["maxObjects"] == b["quotas"]["max_objects"]
    for p in estate["garage_bucket_permissions"]:
        got = _perms(_bucket(after, p["bucket"]), after["keys"][p["key"]]["accessKeyId"])
        assert got == {f: p.get(f, False) for f in ("read", "write", "owner")}, p
    for la in estate["garage_local_aliases"]:
        key = after["keys"][la["key"]]
        assert any(
            e.get("localAliases") and la["alias"] in e["localAliases"] and la["bucket"] in e["globalAliases"]
            for e in key["buckets"]
        ), key["buckets"]
    assert {tok["name"] for tok in estate["garage_admin_tokens"]} <= set(after["tokens"])
    assert after["tokens"]["monitoring"]["scope"] == sorted(estate["garage_admin_tokens"][0]["scope"])

    secrets_dir = demo_dir / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    shown = r.stdout + r.stderr + json.dumps(r.results)
    for k in estate["garage_keys"]:
        path = secrets_dir / f"{k['name']}.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        stored = json.loads(path.read_text(encoding="utf-8"))
        key_id = after["keys"][k["name"]]["accessKeyId"]
        assert stored["access_key_id"] == key_id
        status, full = garage.admin("GetKeyInfo", query={"id": key_id, "showSecretKey": "true"})
        assert status == 200 and full["secretAccessKey"] == stored["secret_access_key"]
        assert stored["secret_access_key"] not in shown
    bearer = (secrets_dir / "admin-token-monitoring").read_text(encoding="utf-8").strip()
    assert bearer.startswith(after["tokens"]["monitoring"]["id"] + ".")
    assert stat.S_IMODE((secrets_dir / "admin-token-monitoring").stat().st_mode) == 0o600
    assert bearer not in shown
    status, _body = garage.admin("GetClusterHealth", token=bearer)
    assert status == 200  # the stored token works, within its scope
    status, _body = garage.admin("ListBuckets", token=bearer)
    assert status == 403

    manifest_path = demo_dir / "manifest.json"
    assert stat.S_IMODE(manifest_path.stat().st_mode) == 0o600
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert {b["id"] for b in manifest["buckets"]} == {i["id"] for i in after["buckets"].values()}
    assert {k["name"] for k in manifest["keys"]} == set(after["keys"])
    secrets_before = {p.name: p.read_bytes() for p in secrets_dir.iterdir()}
    manifest_before = manifest_path.read_bytes()

    # 3. and 4. idempotent check, idempotent apply: nothing changes, nothing is written.
    for check in (True, False):
        r = run(check=check)
        r.assert_ok()
        assert r.changed_tasks() == [], (check, r.changed_tasks())
        assert _oob_estate(garage) == after
        assert {p.name: p.read_bytes() for p in secrets_dir.iterdir()} == secrets_before
        assert manifest_path.read_bytes() == manifest_before


def test_provision_rejects_a_malformed_estate(garage: t.Any, tmp_path: Path) -> None:
    """An entry without its required field fails before any Admin API call."""
    token_file = tmp_path / "admin.token"
    token_file.write_text(garage.admin_token, encoding="utf-8")
    token_file.chmod(0o600)
    env = {"GARAGE_DEMO_DIR": str(tmp_path), "GARAGE_ADMIN_URL": garage.admin_url,
           "GARAGE_ADMIN_TOKEN_FILE": str(token_file)}  # fmt: skip
    status, listing = garage.admin("ListBuckets")
    r = run_playbook(
        [{"import_playbook": str(REPO_ROOT / "playbooks" / "provision.yml")}],
        garage=None,
        inventory=LOCAL,
        env=env,
        extra_vars={"garage_bucket_permissions": [{"bucket": "photos"}]},
    )
    assert r.rc != 0
    assert r.failed_tasks() == ["Check the estate variables"], r.output
    assert "needs a `name`" in json.dumps(r.task("Check the estate variables").result)
    assert garage.admin("ListBuckets") == (status, listing)


def test_provision_never_loses_a_created_secret(garage_factory: t.Any, tmp_path: Path) -> None:
    """Issue 9: when one item failed, the play stopped before the secrets of the items created in the
    same loop were stored, and the next run reported them ok: an admin token's bearer token was lost
    for good. Now the secrets of what was created are stored first, then the failure is reported."""
    garage = garage_factory(nodes=3, layout=True)
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir(mode=0o700)
    token_file = demo_dir / "admin.token"
    token_file.write_text(garage.admin_token + "\n", encoding="utf-8")
    token_file.chmod(0o600)
    env = {
        "GARAGE_DEMO_DIR": str(demo_dir),
        "GARAGE_ADMIN_URL": garage.admin_url,
        "GARAGE_ADMIN_TOKEN_FILE": str(token_file),
    }
    plays = [{"import_playbook": str(REPO_ROOT / "playbooks" / "provision.yml")}]
    estate = _estate()
    tokens = [*estate["garage_admin_tokens"], {"name": "second", "scope": ["GetClusterHealth"]}]
    estate["garage_admin_tokens"] = tokens
    # The second admin token's creation fails: the keys, buckets and the first token exist by then.
    garage.fault("CreateAdminToken", nth=2, status=500)
    r = run_playbook(plays, garage=None, inventory=LOCAL, env=env, extra_vars={"garage_admin_tokens": tokens})
    garage.clear_faults()
    assert r.rc != 0 and r.failed_tasks() == ["Report a failure of the estate"], r.output
    secrets_dir = demo_dir / "secrets"
    first_token = estate["garage_admin_tokens"][0]["name"]
    bearer = (secrets_dir / f"admin-token-{first_token}").read_text(encoding="utf-8").strip()
    assert garage.admin("GetClusterHealth", token=bearer)[0] == 200  # stored, and it works
    for k in estate["garage_keys"]:
        stored = json.loads((secrets_dir / f"{k['name']}.json").read_text(encoding="utf-8"))
        full = garage.ok("GetKeyInfo", query={"id": stored["access_key_id"], "showSecretKey": "true"})
        assert full["secretAccessKey"] == stored["secret_access_key"]
    report = json.dumps(r.task("Report a failure of the estate").result)
    assert "admin token 'second' failed" in report and bearer not in r.stdout + r.stderr
    # the next run finishes the job and keeps what was stored
    r = run_playbook(plays, garage=None, inventory=LOCAL, env=env, extra_vars={"garage_admin_tokens": tokens})
    r.assert_ok()
    assert (secrets_dir / f"admin-token-{first_token}").read_text(encoding="utf-8").strip() == bearer
    assert all((secrets_dir / f"admin-token-{tok['name']}").exists() for tok in estate["garage_admin_tokens"])
