# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""openbao_kv, openbao_kv_check and the openbao_kv lookup against a real OpenBao dev server.

Each test gets a fresh KV v2 mount (``kv_mount``) and checks OpenBao out of band
(``openbao.kv_read`` / ``kv_metadata`` with the root token). Every playbook runs with ``-vvv``
and its whole output is searched for the secrets written, generated and used to log in.
"""

from __future__ import annotations

import re
import secrets
import typing as t
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from tests.fixtures.openbao import OpenBaoServer
from tests.integration._secret_checks import assert_no_secrets
from tests.integration.ansible_run import run_adhoc, run_playbook

MARKER = "control-marker-" + secrets.token_hex(8)
CONTROL = {"name": "control", "ansible.builtin.debug": {"msg": MARKER}}


def kv_task(name: str, mount: str, path: str, **args: t.Any) -> dict[str, t.Any]:
    check = args.pop("check_mode", None)
    task: dict[str, t.Any] = {"name": name, "cellar.garage.openbao_kv": {"mount": mount, "path": path, **args},
                              "register": re.sub(r"\W", "_", name)}  # fmt: skip
    if check is not None:
        task["check_mode"] = check
    return task


def test_write_if_changed_check_mode_diff_and_absent(openbao: OpenBaoServer, kv_mount: str) -> None:
    password, user, new_password = (secrets.token_urlsafe(16) for n in range(3))
    data = {"username": "{{ user }}", "password": "{{ password }}"}
    changed_data = {**data, "password": "{{ new_password }}"}
    r = run_playbook(
        [
            CONTROL,
            kv_task("plan", kv_mount, "app/db", data=data, check_mode=True),
            kv_task("write", kv_mount, "app/db", data=data),
            kv_task("again", kv_mount, "app/db", data=data),
            kv_task("plan again", kv_mount, "app/db", data=data, check_mode=True),
            kv_task("plan change", kv_mount, "app/db", data=changed_data, check_mode=True),
            kv_task("change", kv_mount, "app/db", data=changed_data),
            kv_task("plan absent", kv_mount, "app/db", state="absent", check_mode=True),
            kv_task("absent", kv_mount, "app/db", state="absent"),
            kv_task("absent again", kv_mount, "app/db", state="absent"),
        ],
        garage=None, openbao=openbao, diff=True, verbosity=3,
        extra_vars={"user": user, "password": password, "new_password": new_password},
    )  # fmt: skip
    assert r.rc == 0, r.output
    assert r.changed_tasks() == ["plan", "write", "plan change", "change", "plan absent", "absent"]
    plan, write, again = r.task("plan").result, r.task("write").result, r.task("again").result
    # Check mode predicted exactly what the write reports; the second run did not write.
    assert (plan["version"], plan["created"]) == (write["version"], write["created"]) == (1, True)
    assert again["version"] == 1 and again["generated"] == [] and again["fields"] == ["password", "username"]
    assert "data" not in write and "data" not in again
    assert plan["diff"] == write["diff"] == {
        "before": {"state": "absent"},
        "after": {"state": "present", "version": 1,
                  "fields": {"password": kv.MASK_CHANGED, "username": kv.MASK_CHANGED}},
    }  # fmt: skip
    change = r.task("change").result
    assert r.task("plan change").result["diff"] == change["diff"]
    assert change["diff"]["before"]["fields"] == {"password": kv.MASK, "username": kv.MASK}
    assert change["diff"]["after"] == {"state": "present", "version": 2,
                                       "fields": {"password": kv.MASK_CHANGED, "username": kv.MASK}}  # fmt: skip
    assert r.task("absent").result["version"] == 2 and r.task("absent again").result["version"] == 2
    # Out of band: exactly two versions were ever written, the latest is (soft-)deleted.
    meta = openbao.kv_metadata(kv_mount, "app/db")
    assert meta is not None and meta["current_version"] == 2 and sorted(meta["versions"]) == ["1", "2"]
    assert meta["versions"]["2"]["deletion_time"] and not meta["versions"]["1"]["deletion_time"]
    assert openbao.kv_read(kv_mount, "app/db") is None
    assert_no_secrets(r.stdout + r.stderr, [password, user, new_password, openbao.token], marker=MARKER)


def test_generate_once_and_purge(openbao: OpenBaoServer, kv_mount: str) -> None:
    generate = {"rpc_secret": "hex32", "admin_token": "base64url32", "pin": "alnum12"}
    r = run_playbook(
        [
            CONTROL,
            kv_task("plan", kv_mount, "garage/cluster", generate=generate, check_mode=True),
            kv_task("generate", kv_mount, "garage/cluster", generate=generate),
            kv_task("again", kv_mount, "garage/cluster", generate=generate),
            kv_task("plan again", kv_mount, "garage/cluster", generate=generate, check_mode=True),
            kv_task("add a field", kv_mount, "garage/cluster", generate=generate, data={"region": "garage"}),
        ],
        garage=None, openbao=openbao, diff=True, verbosity=3,
    )  # fmt: skip
    assert r.rc == 0, r.output
    assert r.changed_tasks() == ["plan", "generate", "add a field"]
    assert r.task("plan").result["generated"] == r.task("generate").result["generated"] == sorted(generate)
    assert r.task("again").result["generated"] == [] and r.task("again").result["version"] == 1
    assert r.task("add a field").result["generated"] == [] and r.task("add a field").result["version"] == 2
    stored = openbao.kv_read(kv_mount, "garage/cluster")
    assert stored is not None and stored["version"] == 2
    values = stored["data"]
    assert re.fullmatch(r"[0-9a-f]{64}", values["rpc_secret"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", values["admin_token"])
    assert re.fullmatch(r"[A-Za-z0-9]{12}", values["pin"])
    # Version 1 (generated) and version 2 (a field added) hold the same generated values.
    first = openbao.ok("GET", f"/v1/{kv_mount}/data/garage/cluster?version=1")["data"]["data"]
    assert {k: first[k] for k in generate} == {k: values[k] for k in generate}
    assert_no_secrets(r.stdout + r.stderr, [values["rpc_secret"], values["admin_token"], values["pin"]],
                      marker=MARKER)  # fmt: skip

    # purge=false keeps a field written by someone else; purge=true (the default) removes it.
    openbao.kv_write(kv_mount, "garage/cluster", {**values, "foreign": "kept-or-not"})
    client = OpenBaoClient(openbao.url, openbao.token)
    keep = kv.spec_from_params({"path": "garage/cluster", "mount": kv_mount, "generate": generate,
                                "data": {"region": "garage"}, "purge": False})  # fmt: skip
    assert not kv.ensure(client, keep, dry_run=False).changed
    purge = kv.spec_from_params({"path": "garage/cluster", "mount": kv_mount, "generate": generate,
                                 "data": {"region": "garage"}})  # fmt: skip
    outcome = kv.ensure(client, purge, dry_run=False)
    assert outcome.changed and outcome.result["version"] == 4 and outcome.result["generated"] == []
    assert "foreign" not in t.cast(dict, openbao.kv_read(kv_mount, "garage/cluster"))["data"]


def test_concurrent_write_is_a_check_and_set_conflict(openbao: OpenBaoServer, kv_mount: str) -> None:
    """Someone writes between our read and our write: the write is refused, theirs is kept."""
    openbao.kv_write(kv_mount, "shared", {"value": "v1"})

    def interleave(name: str) -> None:
        if name == "kv write":
            openbao.kv_write(kv_mount, "shared", {"value": "theirs"})

    client = OpenBaoClient(openbao.url, openbao.token, on_request=interleave)
    spec = kv.spec_from_params({"mount": kv_mount, "path": "shared", "data": {"value": "ours"}})
    with pytest.raises(OperationError) as failure:
        kv.ensure(client, spec, dry_run=False)
    assert failure.value.failure_reason == "cas_mismatch"
    assert "check-and-set" in failure.value.message and failure.value.details["read_version"] == 1
    assert openbao.kv_read(kv_mount, "shared") == {"data": {"value": "theirs"}, "version": 2}

    # Create-only (cas=0) loses the same way when the secret appears in between.
    def appear(name: str) -> None:
        if name == "kv write":
            openbao.kv_write(kv_mount, "fresh", {"value": "first"})

    client = OpenBaoClient(openbao.url, openbao.token, on_request=appear)
    spec = kv.spec_from_params({"mount": kv_mount, "path": "fresh", "generate": {"k": "hex16"}})
    with pytest.raises(OperationError) as failure:
        kv.ensure(client, spec, dry_run=False)
    assert failure.value.failure_reason == "cas_mismatch" and failure.value.details["read_version"] == 0
    assert openbao.kv_read(kv_mount, "fresh") == {"data": {"value": "first"}, "version": 1}


def test_check_lists_every_missing_secret(openbao: OpenBaoServer, kv_mount: str) -> None:
    complete = {"rpc_secret": secrets.token_hex(16), "admin_token": secrets.token_hex(16)}
    openbao.kv_write(kv_mount, "garage/cluster", complete)
    openbao.kv_write(kv_mount, "tenants/acme", {"access_key_id": "GKacme", "secret_access_key": ""})
    openbao.kv_write(kv_mount, "gone", {"x": "deleted-value-1"})
    openbao.ok("DELETE", f"/v1/{kv_mount}/data/gone")
    openbao.create_policy("check-partial", f'path "{kv_mount}/data/garage/*" {{ capabilities = ["read"] }}\n'
                          f'path "{kv_mount}/data/tenants/*" {{ capabilities = ["read"] }}')  # fmt: skip
    partial = openbao.create_token(["check-partial"])
    required = [
        {"mount": kv_mount, "path": "garage/cluster", "fields": ["rpc_secret", "admin_token"]},
        {"mount": kv_mount, "path": "tenants/acme", "fields": ["access_key_id", "secret_access_key", "region"]},
        {"mount": kv_mount, "path": "tenants/globex", "fields": ["access_key_id"]},
        {"mount": kv_mount, "path": "gone"},
    ]
    r = run_playbook(
        [
            CONTROL,
            {"name": "all", "cellar.garage.openbao_kv_check": {"secrets": required}, "register": "all",
             "ignore_errors": True},
            {"name": "present only", "cellar.garage.openbao_kv_check": {"secrets": required[:1]}},
            {"name": "unreadable", "cellar.garage.openbao_kv_check": {"secrets": [required[0], required[3]],
             "token": "{{ partial }}"}, "ignore_errors": True},
        ],
        garage=None, openbao=openbao, verbosity=3, extra_vars={"partial": partial},
    )  # fmt: skip
    assert r.rc == 0, r.output
    failed = r.task("all").result
    assert r.task("all").failed and failed["failure_reason"] == "secrets_missing"
    assert failed["missing"] == [
        {"mount": kv_mount, "path": "tenants/acme", "problem": "fields_missing",
         "missing_fields": ["secret_access_key", "region"], "version": 1},
        {"mount": kv_mount, "path": "tenants/globex", "problem": "absent", "missing_fields": ["access_key_id"]},
        {"mount": kv_mount, "path": "gone", "problem": "absent", "missing_fields": []},
    ]  # fmt: skip
    assert "3 of 4 required secrets" in failed["msg"] and "tenants/globex: absent" in failed["msg"]
    ok = r.task("present only").result
    assert not r.task("present only").failed and not r.task("present only").changed
    assert ok["secrets"] == [{"mount": kv_mount, "path": "garage/cluster", "version": 1,
                              "fields": ["admin_token", "rpc_secret"]}]  # fmt: skip
    unreadable = r.task("unreadable").result
    assert unreadable["failure_reason"] == "secrets_unreadable"
    assert [(m["path"], m["problem"]) for m in unreadable["missing"]] == [("gone", "unreadable")]
    assert_no_secrets(r.stdout + r.stderr, [*complete.values(), "deleted-value-1", partial, openbao.token],
                      marker=MARKER)  # fmt: skip


def test_approle_login_and_a_policy_that_forbids_the_write(openbao: OpenBaoServer, kv_mount: str) -> None:
    openbao.create_policy(f"writer-{kv_mount}", f'path "{kv_mount}/data/allowed/*" {{ capabilities = ["create", '
                          f'"update", "read"] }}\npath "{kv_mount}/metadata/*" {{ capabilities = ["read"] }}\n'
                          f'path "{kv_mount}/data/*" {{ capabilities = ["read"] }}')  # fmt: skip
    role_id, secret_id = openbao.approle(f"writer-{kv_mount}", [f"writer-{kv_mount}"])
    approle = {"auth_method": "approle", "role_id": role_id, "secret_id": "{{ secret_id }}"}
    value = secrets.token_urlsafe(20)
    r = run_playbook(
        [
            CONTROL,
            kv_task("allowed", kv_mount, "allowed/app", data={"v": "{{ value }}"}, **approle),
            kv_task("forbidden", kv_mount, "other/app", data={"v": "{{ value }}"}, **approle)
            | {"ignore_errors": True},
            kv_task("bad secret id", kv_mount, "allowed/app", data={"v": "{{ value }}"}, auth_method="approle",
                    role_id=role_id, secret_id="not-{{ secret_id }}") | {"ignore_errors": True},
        ],
        garage=None, openbao=openbao, verbosity=3, extra_vars={"secret_id": secret_id, "value": value},
    )  # fmt: skip
    assert r.rc == 0, r.output
    assert r.task("allowed").changed and r.task("allowed").result["version"] == 1
    forbidden = r.task("forbidden").result
    assert r.task("forbidden").failed and forbidden["failure_reason"] == "secret_write_failed"
    assert forbidden["cause"] == "access_denied" and forbidden["status"] == 403
    assert forbidden["msg"] == (f"Failed to write secret '{kv_mount}/other/app': permission denied; "
                                f"the token's policies must allow 'create' and 'update' on {kv_mount}/data/other/app")
    assert openbao.kv_read(kv_mount, "other/app") is None
    bad = r.task("bad secret id").result
    assert r.task("bad secret id").failed and bad["failure_reason"] == "credentials_invalid"
    assert t.cast(dict, openbao.kv_read(kv_mount, "allowed/app"))["data"] == {"v": value}
    assert_no_secrets(r.stdout + r.stderr, [value, secret_id, openbao.token], marker=MARKER)


def test_tls_with_ca_path(openbao_tls: OpenBaoServer) -> None:
    mount = "kv-tls-" + secrets.token_hex(4)
    openbao_tls.enable_kv(mount)
    value = secrets.token_hex(16)
    try:
        r = run_playbook(
            [
                kv_task("with ca_path", mount, "app", data={"v": "{{ value }}"}),
                kv_task("system CAs", mount, "app", data={"v": "{{ value }}"}, ca_path=None)
                | {"ignore_errors": True},
                kv_task("no validation", mount, "app", data={"v": "{{ value }}"}, ca_path=None,
                        validate_certs=False),
            ],
            garage=None, openbao=openbao_tls, verbosity=3, extra_vars={"value": value},
        )  # fmt: skip
        assert r.rc == 0, r.output
        assert r.task("with ca_path").changed and r.task("with ca_path").result["version"] == 1
        refused = r.task("system CAs").result
        assert r.task("system CAs").failed and refused["cause"] == "connection_failed"
        assert "TLS" in refused["msg"] or "CERTIFICATE" in refused["msg"].upper()
        assert not r.task("no validation").changed and r.task("no validation").result["version"] == 1
        assert_no_secrets(r.stdout + r.stderr, [value, openbao_tls.token])
    finally:
        openbao_tls.disable_mount(mount)


def test_environment_fallbacks_and_token_file(openbao: OpenBaoServer, kv_mount: str, tmp_path: Path) -> None:
    args = {"mount": kv_mount, "path": "env", "data": {"v": "from-the-environment"}}
    r = run_adhoc("cellar.garage.openbao_kv", args, garage=None, verbosity=3,
                  env={"BAO_ADDR": openbao.url, "VAULT_TOKEN": openbao.token})  # fmt: skip
    assert r.rc == 0 and r.results[0]["changed"], r.output
    r2 = run_adhoc("cellar.garage.openbao_kv", args, garage=None,
                   env={"VAULT_ADDR": openbao.url, "BAO_TOKEN": openbao.token})  # fmt: skip
    assert r2.rc == 0 and not r2.results[0]["changed"], r2.output
    token_file = tmp_path / "token"
    token_file.write_text(openbao.token + "\n")
    token_file.chmod(0o600)
    r3 = run_adhoc("cellar.garage.openbao_kv", {**args, "token_file": str(token_file), "url": openbao.url},
                   garage=None)  # fmt: skip
    assert r3.rc == 0 and not r3.results[0]["changed"], r3.output
    r4 = run_adhoc("cellar.garage.openbao_kv", args, garage=None, env={"BAO_ADDR": openbao.url})
    assert r4.rc != 0 and r4.results[0]["result"]["failure_reason"] == "credentials_missing", r4.output
    assert_no_secrets(r.stdout + r.stderr, [openbao.token])


def test_lookup_feeds_module_defaults(openbao: OpenBaoServer, kv_mount: str, garage: t.Any) -> None:
    """The Garage admin token is read from OpenBao into module_defaults; nothing prints it."""
    openbao.kv_write(kv_mount, "garage/cluster", {"admin_token": garage.admin_token, "other": "x" * 12})
    lookup = f"lookup('cellar.garage.openbao_kv', 'garage/cluster', mount='{kv_mount}', field='admin_token')"
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"cellar_garage_openbao_url": openbao.url, "cellar_garage_openbao_token": openbao.token},
        "module_defaults": {"group/cellar.garage.garage": {"admin_url": garage.admin_url,
                                                           "admin_token": "{{ " + lookup + " }}"}},
        "tasks": [
            CONTROL,
            {"name": "cluster", "cellar.garage.garage_cluster_info": {}},
            {"name": "whole secret", "ansible.builtin.set_fact": {
                "n": f"{{{{ lookup('cellar.garage.openbao_kv', 'garage/cluster', mount='{kv_mount}') | length }}}}"}},
            {"name": "missing field", "ansible.builtin.debug": {
                "msg": f"{{{{ lookup('cellar.garage.openbao_kv', 'garage/cluster', mount='{kv_mount}', "
                       "field='nope') }}"}, "ignore_errors": True},
        ],
    }  # fmt: skip
    r = run_playbook([play], garage=None, verbosity=3)
    assert r.rc == 0, r.output
    assert not r.task("cluster").failed and r.task("cluster").result["status"]["nodes"]
    assert r.task("whole secret").result["ansible_facts"]["n"] in (2, "2")
    assert r.task("missing field").failed and "has no field 'nope'" in r.task("missing field").result["msg"]
    assert_no_secrets(r.stdout + r.stderr, [garage.admin_token, openbao.token], marker=MARKER)
