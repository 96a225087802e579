# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The pgBackRest command line as a client: an injected ``run(argv) -> (rc, out, err)``.

No Ansible here: modules pass ``module.run_command`` in (through the ``PGBACKREST`` option
group), unit tests pass a fake. What this layer knows about pgBackRest 2.45:

- Commands run as the database's system user (``run_as``, ``postgres``): through
  ``runuser -u <user> --`` when we are root, directly when we are that user already.
- ``pgbackrest info --output=json`` exits 0 even when the repository answered 403 or could not
  be reached: :func:`repo_status` reads the stanza's and the repository's ``status.code`` in the
  JSON (0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data, 99 other) and
  :func:`raise_for_status` turns an error into a typed :class:`OperationError` whose
  ``failure_reason`` names the cause (:func:`classify`: TLS, refused credentials, access,
  missing bucket, unreachable, timeout).
- pgBackRest retries a failing request silently until ``io-timeout`` (60 s by default) runs
  out. :meth:`PgBackRest.info` takes a short ``io_timeout`` for a probe, so a certificate problem
  is reported within seconds with pgBackRest's own reason.
- Secrets are never on the command line (pgBackRest refuses them there anyway); pgBackRest
  redacts them from its own messages.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import re
import socket
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    INVALID_RESPONSE,
    MISSING_DEPENDENCY,
    OperationError,
)

#: ``run(argv) -> (rc, stdout, stderr)``, e.g. ``AnsibleModule.run_command``.
Run = t.Callable[[list[str]], tuple[int, str, str]]

DEFAULT_CONFIG_FILE = "/etc/pgbackrest/pgbackrest.conf"
DEFAULT_RUN_AS = "postgres"
DEFAULT_EXECUTABLE = "pgbackrest"
DEFAULT_PROBE_TIMEOUT = 3

# info status codes (pgBackRest src/command/info/info.c)
STATUS_OK = 0
STATUS_MISSING_STANZA_PATH = 1
STATUS_NO_BACKUP = 2
STATUS_MISSING_STANZA_DATA = 3
STATUS_MIXED = 4
STATUS_PG_MISMATCH = 5
STATUS_OTHER = 99
#: Codes that mean "the stanza does not exist (yet) in this repository": stanza-create is due.
STANZA_MISSING_CODES = frozenset({STATUS_MISSING_STANZA_PATH, STATUS_MISSING_STANZA_DATA})

# failure reasons
PGBACKREST_FAILED = "pgbackrest_failed"
RUN_AS_UNAVAILABLE = "run_as_unavailable"
REPOSITORY_TLS_FAILED = "repository_tls_failed"
REPOSITORY_CREDENTIALS_REFUSED = "repository_credentials_refused"
REPOSITORY_ACCESS_DENIED = "repository_access_denied"
REPOSITORY_BUCKET_MISSING = "repository_bucket_missing"
REPOSITORY_UNREACHABLE = "repository_unreachable"
REPOSITORY_TIMEOUT = "repository_timeout"
REPOSITORY_ERROR = "repository_error"
STANZA_MISMATCH = "stanza_mismatch"


@dataclasses.dataclass(frozen=True)
class CommandResult:
    argv: list[str]
    rc: int
    out: str
    err: str
    seconds: float

    @property
    def warnings(self) -> list[str]:
        """pgBackRest's ``WARN:`` messages (with their continuation lines)."""
        return _messages(self.out + "\n" + self.err, "WARN")

    @property
    def error(self) -> str:
        """pgBackRest's ``ERROR:`` message(s), else the last lines of its output."""
        errors = _messages(self.out + "\n" + self.err, "ERROR")
        if errors:
            return "; ".join(errors)
        tail = [line for line in (self.err or self.out).strip().splitlines() if line.strip()]
        return " ".join(tail[-3:]) or f"exit code {self.rc}"


_LOG_LINE = re.compile(r"^(?:\S+ \S+ P\d+\s+)?(ERROR|WARN|INFO|DETAIL|DEBUG|TRACE):\s*(.*)$")


def _messages(text: str, level: str) -> list[str]:
    """The console messages of ``level`` in ``text``, each joined with its indented continuation lines."""
    found: list[str] = []
    collecting = False
    for line in text.splitlines():
        head = _LOG_LINE.match(line.strip())
        if head:
            collecting = head.group(1) == level
            if collecting:
                found.append(head.group(2))
        elif collecting and line[:1].isspace() and line.strip():
            found[-1] += " " + line.strip()
        else:
            collecting = False
    return found


@dataclasses.dataclass(frozen=True)
class Status:
    """A status of ``info --output=json``: the stanza's or one repository's."""

    code: int
    message: str

    @property
    def stanza_missing(self) -> bool:
        return self.code in STANZA_MISSING_CODES

    @property
    def is_error(self) -> bool:
        return self.code not in (STATUS_OK, STATUS_NO_BACKUP) and not self.stanza_missing

    def view(self) -> dict[str, t.Any]:
        return {"code": self.code, "message": self.message}


def current_user() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return str(os.geteuid())


class PgBackRest:
    """Runs pgBackRest commands (see the module docstring)."""

    def __init__(
        self,
        run: Run,
        *,
        executable: str = DEFAULT_EXECUTABLE,
        config_file: str = DEFAULT_CONFIG_FILE,
        run_as: str | None = DEFAULT_RUN_AS,
        probe_timeout: float = DEFAULT_PROBE_TIMEOUT,
        euid: int | None = None,
        user: str | None = None,
        connect: t.Callable[[str, int, float], None] | None = None,
    ) -> None:
        self._run = run
        self._connect = connect or tcp_probe
        self.executable = executable
        self.config_file = config_file
        self.run_as = run_as or None
        self.probe_timeout = probe_timeout
        self._euid = os.geteuid() if euid is None else euid
        self._user = user

    def reachable(self, host: str, port: int) -> None:
        """Raise ``repository_unreachable`` at once when nothing accepts a TCP connection at ``host:port``."""
        self._connect(host, port, self.probe_timeout)

    # ------------------------------------------------------------------ argv

    def prefix(self) -> list[str]:
        """``runuser -u <run_as> --`` when root must switch user; nothing when we are that user."""
        if not self.run_as:
            return []
        if self._euid == 0:
            return [] if self.run_as == "root" else ["runuser", "-u", self.run_as, "--"]
        user = self._user or current_user()
        if user != self.run_as:
            raise OperationError(
                f"pgBackRest must run as '{self.run_as}', but this task runs as '{user}': run it as root "
                f"(become: true) or as '{self.run_as}', or set run_as",
                failure_reason=RUN_AS_UNAVAILABLE,
            )
        return []

    def argv(
        self,
        command: str,
        *,
        stanza: str | None = None,
        options: t.Sequence[str] = (),
        config_file: str | None = None,
    ) -> list[str]:
        argv = [*self.prefix(), self.executable, f"--config={config_file or self.config_file}"]
        if stanza:
            argv.append(f"--stanza={stanza}")
        return [*argv, *options, command]

    def call(self, argv: list[str]) -> CommandResult:
        started = time.monotonic()
        try:
            rc, out, err = self._run(list(argv))
        except OSError as exc:  # the executable (or runuser) is missing
            raise OperationError(
                f"Cannot run {argv[0]}: {exc}. Install pgBackRest (role cellar.garage.pgbackrest)",
                failure_reason=MISSING_DEPENDENCY,
            ) from None
        return CommandResult(list(argv), rc, out or "", err or "", round(time.monotonic() - started, 3))

    def checked(self, argv: list[str], *, what: str, failure_reason: str = PGBACKREST_FAILED) -> CommandResult:
        """``call`` that raises when pgBackRest exits non-zero, with its ERROR message."""
        result = self.call(argv)
        if result.rc != 0:
            code = re.search(r"ERROR: \[(\d+)\]", result.out + result.err)
            raise OperationError(
                f"Failed to {what}: {result.error}",
                failure_reason=failure_reason,
                details={
                    "rc": result.rc,
                    "pgbackrest_error_code": int(code.group(1)) if code else None,
                    "command": _command_name(argv),
                },
            )
        return result

    # ------------------------------------------------------------------ commands

    def info(
        self,
        stanza: str | None = None,
        *,
        repo: int | None = None,
        config_file: str | None = None,
        io_timeout: float | None = None,
    ) -> list[dict[str, t.Any]]:
        """The parsed ``info --output=json`` (one entry per stanza). Raises only when pgBackRest
        itself failed (bad option, unreadable config): read the status codes with :func:`repo_status`."""
        options = ["--output=json"]
        if repo is not None:
            options.append(f"--repo={repo}")
        if io_timeout is not None:
            options.append(f"--io-timeout={_seconds(io_timeout)}")
        result = self.checked(self.argv("info", stanza=stanza, options=options, config_file=config_file),
                              what="read the pgBackRest repository (info)")  # fmt: skip
        try:
            parsed = json.loads(result.out)
        except ValueError:
            parsed = None
        if not isinstance(parsed, list) or not all(isinstance(entry, dict) for entry in parsed):
            raise OperationError(
                f"pgBackRest info returned something that is not its JSON: {result.out[:200]!r}",
                failure_reason=INVALID_RESPONSE,
            )
        return parsed

    def stanza_create(self, stanza: str, *, config_file: str | None = None) -> CommandResult:
        return self.checked(self.argv("stanza-create", stanza=stanza, config_file=config_file),
                            what=f"create stanza '{stanza}'", failure_reason="stanza_create_failed")  # fmt: skip

    def check(self, stanza: str) -> CommandResult:
        return self.checked(self.argv("check", stanza=stanza),
                            what=f"check stanza '{stanza}' (WAL archiving and backups)",
                            failure_reason="stanza_check_failed")  # fmt: skip

    def backup(
        self, stanza: str, backup_type: str, *, start_fast: bool | None = None, repo: int | None = None
    ) -> CommandResult:
        options = [f"--type={backup_type}"]
        if repo is not None:
            options.append(f"--repo={repo}")
        if start_fast is not None:
            options.append("--start-fast" if start_fast else "--no-start-fast")
        return self.checked(self.argv("backup", stanza=stanza, options=options),
                            what=f"take a {backup_type} backup of stanza '{stanza}'",
                            failure_reason="backup_failed")  # fmt: skip


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _command_name(argv: t.Sequence[str]) -> str:
    return argv[-1] if argv else ""


# --------------------------------------------------------------------------- info JSON


def find_stanza(info: t.Sequence[t.Mapping[str, t.Any]], stanza: str) -> t.Mapping[str, t.Any] | None:
    return next((entry for entry in info if entry.get("name") == stanza), None)


def _status(raw: t.Any) -> Status:
    if not isinstance(raw, t.Mapping) or not isinstance(raw.get("code"), int):
        raise OperationError(f"pgBackRest info has no status code: {raw!r:.200}", failure_reason=INVALID_RESPONSE)
    return Status(int(raw["code"]), str(raw.get("message") or ""))


def repo_status(info: t.Sequence[t.Mapping[str, t.Any]], stanza: str, repo: int) -> Status:
    """The status of ``stanza`` in repository ``repo`` (``repoN``), from ``info --output=json``.

    The repository's own status carries the error message (the stanza's says ``other``).
    """
    entry = find_stanza(info, stanza)
    if entry is None:
        return Status(STATUS_MISSING_STANZA_PATH, "missing stanza path")
    repos = [r for r in entry.get("repo") or [] if isinstance(r, t.Mapping)]
    mine = next((r for r in repos if r.get("key") == repo), None)
    if mine is not None:
        return _status(mine.get("status"))
    return _status(entry.get("status"))


def backup_running(info: t.Sequence[t.Mapping[str, t.Any]], stanza: str) -> bool:
    entry = find_stanza(info, stanza) or {}
    lock = (entry.get("status") or {}).get("lock") or {}
    return bool((lock.get("backup") or {}).get("held"))


# --------------------------------------------------------------------------- error causes

_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_HTTP_STATUS = re.compile(r"HTTP request failed with (\d{3})(?: \(([^)]*)\))?")

_TLS_VERIFY = ("unable to verify certificate", "certificate verify failed", "self-signed certificate",
               "self signed certificate", "unable to get local issuer")  # fmt: skip
_TLS_HOSTNAME = "in certificate common name or subject alternative names"
_TLS_PROTOCOL = ("TLS error", "wrong version number", "unexpected eof", "[ServiceError]", "SSL")
_CREDENTIALS = ("Invalid signature", "SignatureDoesNotMatch", "InvalidAccessKeyId", "No such key",
                "invalid access key", "Invalid key")  # fmt: skip
_UNREACHABLE = ("[HostConnectError]", "Connection refused", "unable to get address", "Name or service not known",
                "No route to host", "Network is unreachable")  # fmt: skip


def summary(message: str) -> str:
    """pgBackRest's repository error in one line: the error class and first line, plus the S3
    error code and message of an HTTP failure (its request dump is left out)."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    code, text = _XML_CODE.search(message), _XML_MESSAGE.search(message)
    if code:
        first = f"{first.rstrip(':')}: {code.group(1)}" + (f": {text.group(1)}" if text else "")
    return first


def classify(message: str) -> tuple[str, str]:
    """``(failure_reason, advice)`` for a repository error message of pgBackRest."""
    http = _HTTP_STATUS.search(message)
    status = int(http.group(1)) if http else None
    if status is None:
        if "CA certificate location" in message or "unable to load CA" in message:
            return REPOSITORY_TLS_FAILED, (
                "pgBackRest cannot read ca_file as the database user; check that it exists and that run_as may "
                "read it (and the directories above it)"
            )
        if _TLS_HOSTNAME in message:
            return REPOSITORY_TLS_FAILED, (
                "the host name of s3_url is not in the endpoint's certificate; use a name the certificate lists "
                "(pgBackRest 2.45 does not match IP addresses in certificates)"
            )
        if any(s in message for s in _TLS_VERIFY):
            return REPOSITORY_TLS_FAILED, (
                "pgBackRest does not trust the endpoint's certificate; set ca_file to the PEM of the CA that "
                "signed it (the TLS front's CA), or verify_tls: false"
            )
        if any(s in message for s in _UNREACHABLE):
            return REPOSITORY_UNREACHABLE, "nothing answers at the host and port of s3_url from this host"
        if any(s in message for s in _TLS_PROTOCOL):
            return REPOSITORY_TLS_FAILED, (
                "the endpoint did not complete a TLS handshake; pgBackRest speaks only HTTPS, so s3_url must "
                "be a TLS front before Garage's S3 port (role cellar.garage.garage_tls_front), not Garage itself"
            )
        if "timeout" in message.lower() or "timed out" in message.lower():
            return REPOSITORY_TIMEOUT, (
                "the endpoint accepted the connection but did not answer in time; check the TLS front and "
                "the Garage node behind it"
            )
        return REPOSITORY_ERROR, "see pgbackrest_message for pgBackRest's own report"
    if status == 403 and any(s in message for s in _CREDENTIALS):
        if "No such key" in message or "InvalidAccessKeyId" in message:
            return REPOSITORY_CREDENTIALS_REFUSED, "Garage does not know the access key: check s3_key"
        return REPOSITORY_CREDENTIALS_REFUSED, (
            "Garage refused the signature: s3_key_secret is not the secret of s3_key"
        )
    if status in (401, 403):
        return REPOSITORY_ACCESS_DENIED, (
            "the key is valid but may not use the bucket; grant it read and write on the bucket "
            "(cellar.garage.garage_bucket_permission or garage_customer_bucket)"
        )
    if status == 404 and "NoSuchBucket" in message:
        return REPOSITORY_BUCKET_MISSING, (
            "no bucket of that name for this key; check s3_bucket (a local alias resolves only for the key "
            "it belongs to) or create the bucket"
        )
    return REPOSITORY_ERROR, "see pgbackrest_message for pgBackRest's own report"


def repository_error(
    status: Status, *, stanza: str, repo: int, endpoint: str | None = None, changed: bool = False
) -> OperationError:
    """The typed error for a repository status that is an error (see :func:`classify`)."""
    if status.code == STATUS_OTHER:
        reason, advice = classify(status.message)
    elif status.code in (STATUS_MIXED, STATUS_PG_MISMATCH):
        reason, advice = STANZA_MISMATCH, "the repositories of the stanza disagree; run pgbackrest info"
    else:
        reason, advice = REPOSITORY_ERROR, "see pgbackrest_message for pgBackRest's own report"
    where = f" at {endpoint}" if endpoint else ""
    return OperationError(
        f"Failed to read stanza '{stanza}' in repository repo{repo}{where}: {summary(status.message)} -- {advice}",
        failure_reason=reason,
        changed=changed,
        details={
            "status": {"code": status.code, "message": summary(status.message)},
            "pgbackrest_message": status.message,
        },
    )


def raise_for_status(status: Status, *, stanza: str, repo: int, endpoint: str | None = None) -> Status:
    """Raise :func:`repository_error` unless ``status`` is ok, "no valid backups" or "stanza missing"."""
    if status.is_error:
        raise repository_error(status, stanza=stanza, repo=repo, endpoint=endpoint)
    return status


def tcp_probe(host: str, port: int, timeout: float) -> None:
    """Fail at once (``repository_unreachable``) when nothing accepts a TCP connection at
    ``host:port``: pgBackRest would retry a refused connection for several ``io-timeout``s."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise OperationError(
            f"Failed to reach the repository endpoint {host}:{port}: {reason} -- nothing answers at the host and "
            "port of s3_url from this host",
            failure_reason=REPOSITORY_UNREACHABLE,
        ) from None
