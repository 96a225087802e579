# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted stand-in for the ``pgbackrest`` command, behind the real :class:`PgBackRest` client.

    fake = FakePgBackRest()                 # repository without the stanza
    client = fake.client(config_file=str(tmp_path / "pgbackrest.conf"))
    stanza.ensure(client, spec, dry_run=False)
    assert fake.commands() == ["info", "stanza-create", "check", "info"]

The fake answers ``info --output=json`` from its state (stanza present or not, backups, a
repository error message), records every argv (and the configuration file each call was given,
with its content at that moment), and fails a command on request (``fail["check"] = "..."``).
"""

from __future__ import annotations

import json
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli

SECRET = "s3cr3t-0123456789abcdef0123456789abcdef"
KEY = "GK31c2f218a2e44f485b94239e"

FORBIDDEN = (
    "[ProtocolError] HTTP request failed with 403 (Forbidden):\n*** Path/Query ***:\nGET /b/?list-type=2\n"
    "*** Request Headers ***:\nauthorization: <redacted>\n*** Response Content ***:\n"
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Forbidden: Invalid signature'
    "</Message><Resource>/b/</Resource><Region>garage</Region></Error>"
)
UNTRUSTED = (
    "[CryptoError] unable to verify certificate presented by 'localhost:3443': [20] unable to get local issuer "
    "certificate"
)


def backup(label: str, kind: str, stop: int, *, prior: str | None = None) -> dict[str, t.Any]:
    return {
        "label": label, "type": kind, "prior": prior, "error": False,
        "timestamp": {"start": stop - 10, "stop": stop},
        "info": {"size": 1000, "delta": 500, "repository": {"size": 300, "delta": 200}},
        "archive": {"start": "000000010000000000000002", "stop": "000000010000000000000003"},
        "lsn": {"start": "0/2000028", "stop": "0/3000088"}, "database": {"id": 1, "repo-key": 1},
    }  # fmt: skip


class FakePgBackRest:
    def __init__(self, *, stanza: str = "main", exists: bool = False) -> None:
        self.stanza = stanza
        self.exists = exists
        self.backups: list[dict[str, t.Any]] = []
        self.repo_error: str | None = None
        self.lock_held = False
        self.fail: dict[str, str] = {}
        self.calls: list[list[str]] = []
        self.configs: list[tuple[str, str]] = []  # (path given with --config, its content then)
        self.connected: list[tuple[str, int]] = []
        self.unreachable = False
        self.next_backup_stop = 2_000_000_000

    def client(self, **kw: t.Any) -> cli.PgBackRest:
        kw.setdefault("run_as", "root")
        kw.setdefault("euid", 0)
        return cli.PgBackRest(self, connect=self.connect, **kw)

    def connect(self, host: str, port: int, timeout: float) -> None:
        self.connected.append((host, port))
        if self.unreachable:
            raise cli.OperationError("unreachable", failure_reason=cli.REPOSITORY_UNREACHABLE)

    def commands(self) -> list[str]:
        return [argv[-1] for argv in self.calls]

    def option(self, index: int, name: str) -> str | None:
        prefix = f"--{name}="
        return next((a[len(prefix):] for a in self.calls[index] if a.startswith(prefix)), None)

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(list(argv))
        config = next((a.split("=", 1)[1] for a in argv if a.startswith("--config=")), "")
        try:
            with open(config, encoding="utf-8") as handle:
                self.configs.append((config, handle.read()))
        except OSError:
            self.configs.append((config, ""))
        command = argv[-1]
        if command in self.fail:
            return 1, "", f"ERROR: [056]: {self.fail[command]}\n       HINT: something"
        if command == "info":
            return 0, json.dumps(self.info_json()), ""
        if command == "stanza-create":
            self.exists = True
        if command == "backup":
            kind = next(a.split("=", 1)[1] for a in argv if a.startswith("--type="))
            full = next((b["label"] for b in self.backups if b["type"] == "full"), None)
            if full is None:
                kind = "full"
            label = f"2033051{len(self.backups)}-000000{kind[0].upper()}"
            self.backups.append(backup(label, kind, self.next_backup_stop, prior=None if kind == "full" else full))
            return 0, "", "WARN: a warning from pgBackRest\n"
        return 0, "", ""

    def info_json(self) -> list[dict[str, t.Any]]:
        if self.repo_error is not None:
            status = {"code": 99, "message": self.repo_error}
        elif not self.exists:
            status = {"code": 1, "message": "missing stanza path"}
        elif not self.backups:
            status = {"code": 2, "message": "no valid backups"}
        else:
            status = {"code": 0, "message": "ok"}
        return [{
            "name": self.stanza, "cipher": "none",
            "archive": [{"id": "15-1", "min": "000000010000000000000001", "max": "000000010000000000000007",
                         "database": {"id": 1, "repo-key": 1}}] if self.exists else [],
            "backup": list(self.backups) if self.exists else [],
            "db": [{"id": 1, "repo-key": 1, "system-id": 7714482088159748693, "version": "15"}] if self.exists else [],
            "repo": [{"cipher": "none", "key": 1, "status": status}],
            "status": {"code": status["code"] if status["code"] != 99 else 99,
                       "message": status["message"] if status["code"] != 99 else "other",
                       "lock": {"backup": {"held": self.lock_held}}},
        }]  # fmt: skip
