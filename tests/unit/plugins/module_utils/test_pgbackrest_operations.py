# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stanza, backup and info operations against a scripted ``pgbackrest`` (the real client, a fake command)."""

from __future__ import annotations

import os
import stat
import typing as t
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import backup, cli, config, info, stanza
from tests.unit.plugins.module_utils.pgbackrest_fake import FORBIDDEN, KEY, SECRET, UNTRUSTED, FakePgBackRest
from tests.unit.plugins.module_utils.pgbackrest_fake import backup as fake_backup

NOW = 2_000_000_000.0


def params(**overrides: t.Any) -> dict[str, t.Any]:
    base = {
        "stanza": "main", "repo": 1, "s3_url": "https://s3.example.net:3443", "s3_bucket": "pgbr",
        "s3_region": "garage", "s3_key": KEY, "s3_key_secret": SECRET, "s3_uri_style": "path",
        "ca_file": __file__, "verify_tls": True, "repo_path": "/pgbackrest", "retention_full": 2,
        "pg_path": "/var/lib/postgresql/15/main", "pg_port": 5432, "global_options": {"start-fast": True},
        "stanza_options": {}, "owner": "root", "group": None, "mode": "0640", "run_check": True,
    }  # fmt: skip
    base.update(overrides)
    return base


def spec(**overrides: t.Any) -> stanza.StanzaSpec:
    return stanza.spec_from_params(params(**overrides), run_as="root")


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    return tmp_path / "etc" / "pgbackrest.conf"


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(("override", "words"), [
    ({"s3_url": "http://s3.example.net:3900"}, "plain HTTP"),
    ({"s3_url": "https://10.0.0.1:3443"}, "IP address"),
    ({"s3_url": "https://s3.example.net/bucket"}, "path"),
    ({"s3_url": "ftp://x"}, "https://"),
    ({"stanza": "global"}, "stanza"),
    ({"stanza": "a/b"}, "stanza"),
    ({"repo": 0}, "repo"),
    ({"s3_key_secret": ""}, "s3_key_secret"),
    ({"repo_path": "relative"}, "absolute"),
    ({"retention_full": 0}, "retention_full"),
    ({"cipher_type": "aes-256-cbc"}, "cipher_pass"),
    ({"global_options": {"repo1-s3-bucket": "x"}}, "managed"),
    ({"global_options": {"repo2-cipher-pass": "x"}}, "secret"),
    ({"global_options": {"Bad Key": "x"}}, "option name"),
    ({"stanza_options": {"pg1-path": "/x"}}, "managed"),
    ({"owner": "no-such-user-here"}, "No user"),
    ({"mode": "rw-r-----"}, "octal"),
    ({"pg_path": "relative"}, "pg_path"),
    ({"ca_file": "/no/such/ca.pem"}, "does not exist"),
])  # fmt: skip
def test_bad_input_is_refused_before_anything(override: dict[str, t.Any], words: str) -> None:
    with pytest.raises(OperationError) as failure:
        spec(**override)
    assert failure.value.failure_reason == "invalid_input" and words in failure.value.message


def test_an_ip_endpoint_is_accepted_without_verification_and_port_defaults_to_443() -> None:
    assert (spec(s3_url="https://10.0.0.1", verify_tls=False).endpoint, spec(s3_url="https://h").port) == (
        "10.0.0.1", 443)


def test_options_become_repo_and_stanza_keys() -> None:
    changes = spec(repo=2, retention_diff=3, stanza_options={"recovery-option": ["a=b"]}).changes()
    assert changes["global"]["repo2-s3-endpoint"] == "s3.example.net"
    assert changes["global"]["repo2-storage-port"] == "3443"
    assert changes["global"]["repo2-storage-verify-tls"] == "y"
    assert changes["global"]["repo2-retention-diff"] == "3"
    assert changes["global"]["start-fast"] == "y"
    assert changes["main"] == {"pg1-path": "/var/lib/postgresql/15/main", "pg1-port": "5432",
                               "recovery-option": ["a=b"]}  # fmt: skip


# --------------------------------------------------------------------------- stanza


def test_check_mode_probes_the_new_configuration_and_writes_nothing(conf: Path) -> None:
    fake = FakePgBackRest()
    outcome = stanza.ensure(fake.client(config_file=str(conf)), spec(), dry_run=True)
    assert outcome.changed and outcome.result["stanza_created"] and not outcome.result["checked"]
    assert fake.commands() == ["info"]
    probed_path, probed_text = fake.configs[0]
    assert probed_path != str(conf) and f"repo1-s3-key-secret={SECRET}" in probed_text
    assert fake.option(0, "io-timeout") == "3"
    assert not os.path.exists(probed_path)  # the private copy is gone
    assert not conf.exists()
    assert fake.connected == [("s3.example.net", 3443)]
    assert outcome.after["stanza"] == {"repo1": "present"} and outcome.before["stanza"] == {"repo1": "absent"}


def test_first_run_writes_creates_and_checks_then_nothing_changes(conf: Path) -> None:
    fake = FakePgBackRest()
    client = fake.client(config_file=str(conf))
    first = stanza.ensure(client, spec(), dry_run=False)
    assert first.changed and first.result["stanza_created"] and first.result["checked"]
    assert fake.commands() == ["info", "stanza-create", "check", "info"]
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    assert fake.configs[1] == (str(conf), conf.read_text())  # stanza-create used the real file
    second = stanza.ensure(client, spec(), dry_run=False)
    assert not second.changed and not second.result["stanza_created"]
    assert fake.commands()[4:] == ["info", "check", "info"]  # no second stanza-create
    assert f"--config={conf}" in fake.calls[4]  # unchanged file: probed as it is


def test_check_mode_after_a_run_predicts_no_change(conf: Path) -> None:
    fake = FakePgBackRest()
    client = fake.client(config_file=str(conf))
    stanza.ensure(client, spec(), dry_run=False)
    assert not stanza.ensure(client, spec(), dry_run=True).changed


def test_other_lines_of_the_file_are_kept(conf: Path) -> None:
    conf.parent.mkdir()
    conf.write_text("# mine\n[global]\nlog-level-console=info\n\n[other]\npg1-path=/srv/other\n")
    fake = FakePgBackRest(exists=True)
    stanza.ensure(fake.client(config_file=str(conf)), spec(), dry_run=False)
    text = conf.read_text()
    assert text.startswith("# mine\n[global]\nlog-level-console=info\nrepo1-type=s3\n")
    assert "[other]\npg1-path=/srv/other\n" in text and "[main]\npg1-path=/var/lib/postgresql/15/main\n" in text


def test_a_rotated_secret_changes_the_file_and_shows_masked(conf: Path) -> None:
    fake = FakePgBackRest(exists=True)
    client = fake.client(config_file=str(conf))
    stanza.ensure(client, spec(), dry_run=False)
    rotated = stanza.ensure(client, spec(s3_key_secret="n3w-" + SECRET), dry_run=False)
    shown = rotated.diff()
    assert rotated.changed
    assert shown["before"]["config_file"]["options"]["global"]["repo1-s3-key-secret"] == config.MASK
    assert shown["after"]["config_file"]["options"]["global"]["repo1-s3-key-secret"] == config.MASK_CHANGED
    assert SECRET not in repr(shown) and SECRET not in repr(rotated.result)


def test_mode_alone_is_corrected(conf: Path) -> None:
    fake = FakePgBackRest(exists=True)
    client = fake.client(config_file=str(conf))
    stanza.ensure(client, spec(), dry_run=False)
    conf.chmod(0o644)
    fixed = stanza.ensure(client, spec(run_check=False), dry_run=False)
    assert fixed.changed and fixed.before["config_file"]["mode"] == "0644"
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640


@pytest.mark.parametrize(("message", "reason"), [(FORBIDDEN, "repository_credentials_refused"),
                                                 (UNTRUSTED, "repository_tls_failed")])  # fmt: skip
def test_a_repository_refusal_fails_before_the_file_is_written(conf: Path, message: str, reason: str) -> None:
    fake = FakePgBackRest()
    fake.repo_error = message
    with pytest.raises(OperationError) as failure:
        stanza.ensure(fake.client(config_file=str(conf)), spec(), dry_run=False)
    assert failure.value.failure_reason == reason and not failure.value.changed
    assert not conf.exists() and fake.commands() == ["info"]
    assert "https://s3.example.net:3443" in failure.value.message


def test_an_unreachable_endpoint_fails_before_pgbackrest_runs(conf: Path) -> None:
    fake = FakePgBackRest()
    fake.unreachable = True
    with pytest.raises(OperationError) as failure:
        stanza.ensure(fake.client(config_file=str(conf)), spec(), dry_run=True)
    assert failure.value.failure_reason == "repository_unreachable" and fake.calls == []


def test_a_failed_stanza_create_reports_the_written_file(conf: Path) -> None:
    fake = FakePgBackRest()
    fake.fail["stanza-create"] = "unable to connect to the database"
    with pytest.raises(OperationError) as failure:
        stanza.ensure(fake.client(config_file=str(conf)), spec(), dry_run=False)
    assert failure.value.failure_reason == "stanza_create_failed" and failure.value.changed
    assert failure.value.details["config_file_written"] is True and conf.exists()


def test_run_check_false_skips_check(conf: Path) -> None:
    fake = FakePgBackRest()
    outcome = stanza.ensure(fake.client(config_file=str(conf)), spec(run_check=False), dry_run=False)
    assert "check" not in fake.commands() and not outcome.result["checked"]


# --------------------------------------------------------------------------- backup


def backup_spec(**overrides: t.Any) -> backup.BackupSpec:
    return backup.spec_from_params({"stanza": "main", "type": "full", "max_age": "1d", "repo": 1,
                                    "start_fast": True, **overrides})  # fmt: skip


def test_a_recent_enough_backup_means_no_change() -> None:
    fake = FakePgBackRest(exists=True)
    fake.backups = [fake_backup("20330510-000000F", "full", int(NOW) - 3600)]
    outcome = backup.ensure(fake.client(), backup_spec(type="incr", max_age="2h"), dry_run=False, now=NOW)
    assert not outcome.changed and not outcome.result["taken"] and outcome.result["age_seconds"] == 3600
    assert fake.commands() == ["info"]


def test_an_old_backup_is_replaced_and_check_mode_predicts_it() -> None:
    fake = FakePgBackRest(exists=True)
    fake.backups = [fake_backup("20330510-000000F", "full", int(NOW) - 3 * 86400)]
    planned = backup.ensure(fake.client(), backup_spec(type="incr"), dry_run=True, now=NOW)
    assert planned.changed and planned.result["taken"] and planned.result["backup"] is None
    assert fake.commands() == ["info"]
    taken = backup.ensure(fake.client(), backup_spec(type="incr"), dry_run=False, now=NOW)
    assert taken.changed and taken.result["backup"]["type"] == "incr"
    assert taken.result["backup"]["prior"] == "20330510-000000F"
    assert fake.commands()[1:] == ["info", "backup", "info"]
    backup_call = fake.calls[2]
    assert "--type=incr" in backup_call and "--start-fast" in backup_call and "--repo=1" in backup_call
    assert taken.warnings == ("a warning from pgBackRest",)


def test_an_incremental_without_a_full_is_reported_as_the_full_pgbackrest_took() -> None:
    fake = FakePgBackRest(exists=True)
    taken = backup.ensure(fake.client(), backup_spec(type="incr", max_age="0"), dry_run=False, now=NOW)
    assert taken.result["backup"]["type"] == "full"


def test_max_age_zero_always_takes_a_backup() -> None:
    fake = FakePgBackRest(exists=True)
    fake.backups = [fake_backup("20330510-000000F", "full", int(NOW))]
    assert backup.ensure(fake.client(), backup_spec(max_age="0"), dry_run=False, now=NOW + 1).changed


@pytest.mark.parametrize(("exists", "locked", "reason"), [(False, False, "stanza_missing"),
                                                          (True, True, "backup_in_progress")])  # fmt: skip
def test_backup_refusals(exists: bool, locked: bool, reason: str) -> None:
    fake = FakePgBackRest(exists=exists)
    fake.lock_held = locked
    with pytest.raises(OperationError) as failure:
        backup.ensure(fake.client(), backup_spec(), dry_run=False, now=NOW)
    assert failure.value.failure_reason == reason and "backup" not in fake.commands()


@pytest.mark.parametrize("bad", [{"max_age": "soon"}, {"max_age": None}, {"type": "snapshot"}, {"stanza": ""}])
def test_bad_backup_input(bad: dict[str, t.Any]) -> None:
    with pytest.raises(OperationError) as failure:
        backup_spec(**bad)
    assert failure.value.failure_reason == "invalid_input"


# --------------------------------------------------------------------------- info


def test_info_views_and_exists(conf: Path) -> None:
    conf.parent.mkdir()
    conf.write_text("[global]\nrepo1-type=s3\nrepo1-s3-endpoint=s3.example.net\nrepo1-storage-port=3443\n")
    fake = FakePgBackRest(exists=True)
    fake.backups = [fake_backup("20330510-000000F", "full", int(NOW))]
    result = info.stanzas(fake.client(config_file=str(conf)), stanza="main", repo=None)
    assert result["exists"] is True and fake.connected == [("s3.example.net", 3443)]
    (main,) = result["stanzas"]
    assert main["status"] == {"code": 0, "message": "ok"} and main["backup_running"] is False
    assert main["backups"][0] == {
        "label": "20330510-000000F", "type": "full", "prior": None, "error": False,
        "timestamp_start": int(NOW) - 10, "timestamp_stop": int(NOW), "started_at": "2033-05-18T03:33:10Z",
        "stopped_at": "2033-05-18T03:33:20Z", "size": 1000, "delta": 500, "repository_size": 300,
        "repository_delta": 200, "wal_start": "000000010000000000000002", "wal_stop": "000000010000000000000003",
        "lsn_start": "0/2000028", "lsn_stop": "0/3000088", "repo": 1,
    }  # fmt: skip
    assert main["archive"] == [{"id": "15-1", "wal_min": "000000010000000000000001",
                                "wal_max": "000000010000000000000007", "repo": 1}]  # fmt: skip


def test_info_of_a_missing_stanza_is_not_an_error() -> None:
    assert info.stanzas(FakePgBackRest().client(), stanza="main", repo=None)["exists"] is False


def test_info_fails_on_a_repository_error_although_pgbackrest_exits_0() -> None:
    fake = FakePgBackRest(exists=True)
    fake.repo_error = FORBIDDEN
    with pytest.raises(OperationError) as failure:
        info.stanzas(fake.client(), stanza=None, repo=None)
    assert failure.value.failure_reason == cli.REPOSITORY_CREDENTIALS_REFUSED
