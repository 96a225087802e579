# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pgBackRest client: argv, user switch, status codes of ``info``, causes of repository errors."""

from __future__ import annotations

import json
import socket

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli
from tests.unit.plugins.module_utils.pgbackrest_fake import FORBIDDEN, UNTRUSTED, FakePgBackRest


def test_root_switches_to_the_database_user() -> None:
    client = cli.PgBackRest(lambda argv: (0, "[]", ""), executable="/usr/bin/pgbackrest", run_as="postgres", euid=0)
    assert client.argv("info", stanza="main", options=["--output=json"]) == [
        "runuser", "-u", "postgres", "--", "/usr/bin/pgbackrest", "--config=/etc/pgbackrest/pgbackrest.conf",
        "--stanza=main", "--output=json", "info"]  # fmt: skip


@pytest.mark.parametrize(("euid", "user", "run_as", "prefix"), [
    (0, "root", "root", []), (101, "postgres", "postgres", []), (0, "root", None, []), (101, "postgres", None, []),
])  # fmt: skip
def test_no_switch_needed(euid: int, user: str, run_as: str | None, prefix: list[str]) -> None:
    client = cli.PgBackRest(lambda argv: (0, "", ""), run_as=run_as, euid=euid, user=user)
    assert client.prefix() == prefix


def test_another_user_cannot_switch() -> None:
    client = cli.PgBackRest(lambda argv: (0, "", ""), run_as="postgres", euid=1000, user="deploy")
    with pytest.raises(OperationError) as failure:
        client.prefix()
    assert failure.value.failure_reason == cli.RUN_AS_UNAVAILABLE and "become: true" in failure.value.message


def test_info_passes_the_probe_timeout_and_parses_json() -> None:
    fake = FakePgBackRest(exists=True)
    client = fake.client()
    info = client.info("main", repo=1, io_timeout=3)
    assert fake.option(0, "io-timeout") == "3" and fake.option(0, "repo") == "1"
    assert cli.repo_status(info, "main", 1) == cli.Status(2, "no valid backups")


def test_a_failing_command_reports_pgbackrests_error() -> None:
    fake = FakePgBackRest()
    fake.fail["check"] = "WAL segment was not archived before the 60000ms timeout"
    with pytest.raises(OperationError) as failure:
        fake.client().check("main")
    assert failure.value.failure_reason == "stanza_check_failed"
    assert "[056]: WAL segment was not archived" in failure.value.message and "HINT: something" in failure.value.message
    assert failure.value.details["pgbackrest_error_code"] == 56


def test_output_that_is_not_json_is_refused() -> None:
    client = cli.PgBackRest(lambda argv: (0, "Usage: pgbackrest", ""), run_as=None)
    with pytest.raises(OperationError) as failure:
        client.info("main")
    assert failure.value.failure_reason == "invalid_response"


def test_a_missing_program_is_a_missing_dependency() -> None:
    def run(argv: list[str]) -> tuple[int, str, str]:
        raise FileNotFoundError(2, "No such file or directory")

    with pytest.raises(OperationError) as failure:
        cli.PgBackRest(run, run_as=None).info("main")
    assert failure.value.failure_reason == "missing_dependency"


def test_repo_status_reads_the_repository_not_the_exit_code() -> None:
    fake = FakePgBackRest(exists=True)
    fake.repo_error = FORBIDDEN
    info = json.loads(fake(["pgbackrest", "info"])[1])
    status = cli.repo_status(info, "main", 1)
    assert status.code == 99 and status.is_error and "Invalid signature" in status.message
    assert cli.repo_status([], "main", 1).stanza_missing
    assert cli.repo_status(info, "other", 1) == cli.Status(1, "missing stanza path")


@pytest.mark.parametrize(("message", "reason", "advice"), [
    (UNTRUSTED, cli.REPOSITORY_TLS_FAILED, "ca_file"),
    ("[CryptoError] unable to set user-defined CA certificate location: [2147483661] no details available",
     cli.REPOSITORY_TLS_FAILED, "run_as may read it"),
    ("[CryptoError] unable to find hostname '127.0.0.1' in certificate common name or subject alternative names",
     cli.REPOSITORY_TLS_FAILED, "IP addresses"),
    ("[ServiceError] TLS error [1:167772427] wrong version number", cli.REPOSITORY_TLS_FAILED, "TLS front"),
    ("[CryptoError] unable to verify certificate presented by 'h:1': [18] self-signed certificate",
     cli.REPOSITORY_TLS_FAILED, "ca_file"),
    (FORBIDDEN, cli.REPOSITORY_CREDENTIALS_REFUSED, "s3_key_secret"),
    (FORBIDDEN.replace("Invalid signature", "No such key: GK0000"), cli.REPOSITORY_CREDENTIALS_REFUSED, "s3_key"),
    (FORBIDDEN.replace("Invalid signature", "Operation is not allowed for this key."),
     cli.REPOSITORY_ACCESS_DENIED, "grant"),
    (FORBIDDEN.replace("403 (Forbidden)", "404 (Not Found)").replace("AccessDenied", "NoSuchBucket"),
     cli.REPOSITORY_BUCKET_MISSING, "s3_bucket"),
    ("[HostConnectError] unable to connect to 'localhost:1': [111] Connection refused", cli.REPOSITORY_UNREACHABLE,
     "s3_url"),
    ("[FileReadError] timeout after 5000ms waiting for read from 'localhost:45999'", cli.REPOSITORY_TIMEOUT,
     "in time"),
    ("[FormatError] something new", cli.REPOSITORY_ERROR, "pgbackrest_message"),
])  # fmt: skip
def test_causes_of_repository_errors(message: str, reason: str, advice: str) -> None:
    got_reason, got_advice = cli.classify(message)
    assert (got_reason, advice in got_advice) == (reason, True)
    error = cli.repository_error(cli.Status(99, message), stanza="main", repo=1, endpoint="https://h:1")
    assert error.failure_reason == reason and "stanza 'main' in repository repo1 at https://h:1" in error.message
    assert "*** Request Headers" not in error.message and error.details["pgbackrest_message"] == message


def test_summary_keeps_the_s3_error_and_drops_the_request_dump() -> None:
    assert cli.summary(FORBIDDEN) == (
        "[ProtocolError] HTTP request failed with 403 (Forbidden): AccessDenied: Forbidden: Invalid signature")


def test_messages_are_joined_with_their_continuation_lines() -> None:
    result = cli.CommandResult(["x"], 0, "", "WARN: option 'repo1-retention-full' is not set\n      HINT: set it\n"
                               "INFO: fine\nERROR: [031]: bad\n", 0.1)  # fmt: skip
    assert result.warnings == ["option 'repo1-retention-full' is not set HINT: set it"]
    assert result.error == "[031]: bad"


def test_the_tcp_probe_names_an_unreachable_endpoint() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        with pytest.raises(OperationError) as failure:
            cli.tcp_probe("127.0.0.1", port, 3)
    assert failure.value.failure_reason == cli.REPOSITORY_UNREACHABLE
    assert f"127.0.0.1:{port}" in failure.value.message
