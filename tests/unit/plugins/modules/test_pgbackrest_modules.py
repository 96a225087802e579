# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pgbackrest_stanza, pgbackrest_info and pgbackrest_backup through main(), with a scripted pgbackrest."""

from __future__ import annotations

import json
import time
import typing as t
from pathlib import Path

from ansible_collections.cellar.garage.plugins.modules import pgbackrest_backup, pgbackrest_info, pgbackrest_stanza
from tests.unit.plugins.module_utils.pgbackrest_fake import FORBIDDEN, KEY, SECRET, FakePgBackRest, backup
from tests.unit.plugins.modules.harness import run_module


def stanza_args(conf: Path, **overrides: t.Any) -> dict[str, t.Any]:
    return {"config_file": str(conf), "run_as": "root", "stanza": "main", "s3_url": "https://s3.example.net:3443",
            "s3_bucket": "pgbr", "s3_key": KEY, "s3_key_secret": SECRET, "pg_path": "/var/lib/postgresql/15/main",
            "owner": "root", **overrides}  # fmt: skip


def test_stanza_check_mode_diff_then_apply_then_idempotent(tmp_path: Path) -> None:
    conf = tmp_path / "pgbackrest.conf"
    fake = FakePgBackRest()
    clients = {"pgbackrest": fake.client(config_file=str(conf))}
    planned = run_module(pgbackrest_stanza, stanza_args(conf), clients=clients, check_mode=True, diff=True)
    assert planned["changed"] and not planned["failed"] and not conf.exists()
    assert planned["diff"]["after"]["config_file"]["options"]["global"]["repo1-s3-key-secret"] == "********"
    assert SECRET not in json.dumps(planned)
    applied = run_module(pgbackrest_stanza, stanza_args(conf), clients=clients, diff=True)
    assert applied["changed"] and applied["stanza_created"] and applied["checked"]
    assert applied["status"] == {"code": 2, "message": "no valid backups"}
    again = run_module(pgbackrest_stanza, stanza_args(conf), clients=clients, diff=True)
    assert not again["changed"] and not again["stanza_created"]
    assert fake.commands().count("stanza-create") == 1


def test_stanza_failure_names_the_cause_without_the_secret(tmp_path: Path) -> None:
    fake = FakePgBackRest()
    fake.repo_error = FORBIDDEN
    conf = tmp_path / "pgbackrest.conf"
    clients = {"pgbackrest": fake.client(config_file=str(conf))}
    result = run_module(pgbackrest_stanza, stanza_args(conf), clients=clients)
    assert result["failed"] and result["failure_reason"] == "repository_credentials_refused"
    assert "Invalid signature" in result["msg"] and SECRET not in json.dumps(result)
    assert result["status"]["code"] == 99 and not conf.exists()


def test_stanza_refuses_plain_http_before_calling_anything(tmp_path: Path) -> None:
    fake = FakePgBackRest()
    conf = tmp_path / "pgbackrest.conf"
    result = run_module(pgbackrest_stanza, stanza_args(conf, s3_url="http://127.0.0.1:3900"),
                        clients={"pgbackrest": fake.client(config_file=str(conf))})  # fmt: skip
    assert result["failed"] and result["failure_reason"] == "invalid_input" and fake.calls == []


def test_info_returns_the_stanzas() -> None:
    fake = FakePgBackRest(exists=True)
    fake.backups = [backup("20330510-000000F", "full", int(time.time()))]
    result = run_module(pgbackrest_info, {"stanza": "main", "run_as": "root"}, clients={"pgbackrest": fake.client()})
    assert not result["changed"] and result["exists"]
    assert [b["label"] for b in result["stanzas"][0]["backups"]] == ["20330510-000000F"]


def test_backup_skips_when_recent_and_takes_when_not() -> None:
    fake = FakePgBackRest(exists=True)
    fake.backups = [backup("20330510-000000F", "full", int(time.time()) - 60)]
    client = fake.client()
    args = {"stanza": "main", "run_as": "root", "type": "diff", "max_age": "1h"}
    kept = run_module(pgbackrest_backup, args, clients={"pgbackrest": client}, diff=True)
    assert not kept["changed"] and kept["backup"]["label"] == "20330510-000000F" and not kept["taken"]
    planned = run_module(pgbackrest_backup, {**args, "max_age": "30s"}, clients={"pgbackrest": client},
                         check_mode=True)  # fmt: skip
    assert planned["changed"] and planned["taken"] and "backup" not in fake.commands()
    fake.next_backup_stop = int(time.time())
    taken = run_module(pgbackrest_backup, {**args, "max_age": "30s"}, clients={"pgbackrest": client})
    assert taken["changed"] and taken["backup"]["type"] == "diff" and fake.commands().count("backup") == 1


def test_backup_refuses_a_bad_max_age() -> None:
    fake = FakePgBackRest(exists=True)
    result = run_module(pgbackrest_backup, {"stanza": "main", "run_as": "root", "max_age": "weekly"},
                        clients={"pgbackrest": fake.client()})  # fmt: skip
    assert result["failed"] and result["failure_reason"] == "invalid_input" and fake.calls == []
