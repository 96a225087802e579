# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Done-when of the foundation issue: secrets never appear in what Ansible prints or logs.

A playbook run with -vvv and --diff creates a key, imports a key, creates an admin token,
re-runs them, reads keys back (without show_secret), writes a manifest, and hits an error
path. Everything Ansible printed (stdout + stderr) and logged (ANSIBLE_LOG_PATH) is then
searched for the real secrets, fetched out of band. A control marker, printed on purpose,
proves the search would find a secret if one were printed.
"""

from __future__ import annotations

import json
import secrets
import stat
import typing as t
import uuid
from pathlib import Path

from tests.integration.ansible_run import run_playbook


def test_secrets_never_printed_or_logged(garage: t.Any, tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:10]
    created_name = f"it-sec-created-{suffix}"
    imported_name = f"it-sec-imported-{suffix}"
    token_name = f"it-sec-token-{suffix}"
    imported_id = "GK" + secrets.token_hex(12)
    imported_secret = secrets.token_hex(32)
    marker = f"CONTROL-MARKER-{uuid.uuid4().hex}"
    secrets_file = tmp_path / "secrets.txt"
    manifest_file = tmp_path / "manifest.json"
    log_file = tmp_path / "ansible.log"

    tasks: list[dict[str, t.Any]] = [
        {"name": "control: print a marker on purpose", "ansible.builtin.debug": {"msg": "{{ marker }}"}},
        {
            "name": "create a key (an operator registers it with no_log)",
            "cellar.garage.garage_key": {"name": created_name, "allow_create_bucket": True},
            "register": "created",
            "no_log": True,
        },
        {
            # No no_log here on purpose: the secret is a no_log option, the module must not echo it.
            "name": "import a key",
            "cellar.garage.garage_key": {
                "id": "{{ imported_id }}",
                "secret_access_key": "{{ imported_secret }}",
                "name": imported_name,
            },
            "register": "imported",
        },
        {
            "name": "create an admin token (an operator registers it with no_log)",
            "cellar.garage.garage_admin_token": {"name": token_name, "scope": ["GetClusterStatus"]},
            "register": "token",
            "no_log": True,
        },
        {
            "name": "store the secrets the way an operator would",
            "ansible.builtin.copy": {
                "content": "{{ created.secret_access_key }}\n{{ token.secret_token }}\n",
                "dest": str(secrets_file),
                "mode": "0600",
            },
            "no_log": True,
        },
        # Everything below runs WITHOUT no_log: the modules themselves must not print secrets.
        {"name": "key again (idempotent)", "cellar.garage.garage_key": {"name": created_name}},
        {
            "name": "key update (diff)",
            "cellar.garage.garage_key": {"name": created_name, "allow_create_bucket": False},
        },
        {
            "name": "re-import (idempotent)",
            "cellar.garage.garage_key": {"id": "{{ imported_id }}", "secret_access_key": "{{ imported_secret }}"},
        },
        {
            "name": "re-import with a wrong secret (error path)",
            "cellar.garage.garage_key": {"id": "{{ imported_id }}", "secret_access_key": "{{ '0' * 64 }}"},
            "ignore_errors": True,
        },
        {
            "name": "token again (idempotent)",
            "cellar.garage.garage_admin_token": {"name": token_name, "scope": ["GetClusterStatus"]},
        },
        {
            "name": "token update (diff)",
            "cellar.garage.garage_admin_token": {"name": token_name, "scope": ["GetClusterStatus", "Metrics"]},
        },
        {"name": "key info by name", "cellar.garage.garage_key_info": {"name": created_name, "show_secret": False}},
        {"name": "key info of the imported key", "cellar.garage.garage_key_info": {"id": "{{ imported_id }}"}},
        {"name": "all keys", "cellar.garage.garage_key_info": {}},
        {"name": "manifest", "cellar.garage.garage_manifest": {"dest": str(manifest_file)}},
        {"name": "show what an operator may print", "ansible.builtin.debug": {"var": "imported"}},
    ]
    r = run_playbook(
        tasks,
        garage=garage,
        verbosity=3,
        diff=True,
        extra_vars={"marker": marker, "imported_id": imported_id, "imported_secret": imported_secret},
        env={"ANSIBLE_LOG_PATH": str(log_file)},
    )
    assert r.rc == 0, r.output
    assert r.task("re-import with a wrong secret (error path)").failed
    assert r.task("key update (diff)").changed and r.task("token update (diff)").changed

    printed = r.stdout + r.stderr
    logged = log_file.read_text(encoding="utf-8", errors="replace")
    recorded = json.dumps(r.results)

    # Control: the capture works and the search would find a printed value.
    assert marker in printed
    assert marker in logged
    assert len(printed) > 10_000  # -vvv really was verbose

    # The real secrets, fetched out of band.
    created_id = next(k["id"] for k in garage.ok("ListKeys") if k["name"] == created_name)
    created_secret = garage.ok("GetKeyInfo", query={"id": created_id, "showSecretKey": "true"})["secretAccessKey"]
    assert garage.ok("GetKeyInfo", query={"id": imported_id, "showSecretKey": "true"})["secretAccessKey"] == (
        imported_secret
    )
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    stored_key_secret, token_secret = secrets_file.read_text(encoding="utf-8").split()
    assert stored_key_secret == created_secret  # the module returned the real secret on creation
    token_id = next(tok["id"] for tok in garage.ok("ListAdminTokens") if tok["name"] == token_name)
    assert token_secret.startswith(token_id + ".")
    assert garage.admin("GetClusterStatus", token=token_secret)[0] == 200  # it is the real token

    found = {
        label: [
            where for where, text in (("printed", printed), ("logged", logged), ("recorded", recorded)) if value in text
        ]
        for label, value in (
            ("created key secret", created_secret),
            ("imported key secret", imported_secret),
            ("admin token secret", token_secret),
            ("admin token secret part", token_secret.split(".", 1)[1]),
            ("cluster admin_token", garage.admin_token),
        )
    }
    assert {label: where for label, where in found.items() if where} == {}
    assert created_secret not in manifest_file.read_text(encoding="utf-8")
