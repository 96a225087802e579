# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Converge a pgBackRest stanza whose repository is a Garage bucket. No Ansible here.

:func:`ensure`:

1. merges the repository options (``[global]``: ``repoN-type=s3``, endpoint, port, bucket,
   region, key, secret, CA file, ``repoN-path``, retention...) and the stanza's options
   (``[<stanza>]``: ``pg1-path``...) into the configuration file, keeping every other line
   (:mod:`.config`);
2. probes the repository with the NEW configuration before anything is written -- a private
   copy when the file changes -- with a TCP connect and ``info --output=json`` under a short
   ``io-timeout``: a wrong CA, host name, secret, key or bucket fails within seconds, with
   nothing changed, and a ``failure_reason`` naming the cause;
3. writes the file (atomically, owner/group/mode for the database user) when it differs;
4. runs ``stanza-create`` only when ``info`` says the stanza is missing (status 1 or 3): it is
   not idempotent in pgBackRest 2.45;
5. runs ``check`` (a WAL switch archived through ``archive_command``), unless told not to.

Check mode stops after 2 and predicts 3 and 4 exactly. The views hold the managed options with
secrets masked (:data:`.config.MASK_CHANGED` for a secret this run writes), the file's owner,
group and mode, and whether the stanza exists in the repository.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import typing as t
from urllib.parse import urlsplit

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, present
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli, config, files

STANZA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
DEFAULT_REPO_PATH = "/pgbackrest"
DEFAULT_MODE = "0640"

#: Repository option (without ``repoN-``) -> the module option that sets it.
REPO_OPTIONS = {
    "type": None,
    "path": "repo_path",
    "s3-endpoint": "s3_url",
    "storage-port": "s3_url",
    "s3-bucket": "s3_bucket",
    "s3-region": "s3_region",
    "s3-key": "s3_key",
    "s3-key-secret": "s3_key_secret",
    "s3-uri-style": "s3_uri_style",
    "storage-ca-file": "ca_file",
    "storage-verify-tls": "verify_tls",
    "retention-full": "retention_full",
    "retention-full-type": "retention_full_type",
    "retention-diff": "retention_diff",
    "retention-archive": "retention_archive",
    "retention-archive-type": "retention_archive_type",
    "cipher-type": "cipher_type",
    "cipher-pass": "cipher_pass",
}
#: Stanza option (``pg1-...``) -> the module option that sets it.
PG_OPTIONS = {"pg1-path": "pg_path", "pg1-port": "pg_port", "pg1-socket-path": "pg_socket_path", "pg1-user": "pg_user"}


@dataclasses.dataclass(frozen=True)
class StanzaSpec:
    stanza: str
    repo: int
    endpoint: str
    port: int
    bucket: str
    region: str
    key: str
    key_secret: str
    uri_style: str
    repo_path: str
    verify_tls: bool
    ca_file: str | None
    retention: t.Mapping[str, str]
    cipher_type: str | None
    cipher_pass: str | None
    pg: t.Mapping[str, str]
    global_options: t.Mapping[str, config.Value]
    stanza_options: t.Mapping[str, config.Value]
    owner: str
    group: str | None
    mode: int
    check: bool = True

    @property
    def endpoint_label(self) -> str:
        return f"https://{self.endpoint}:{self.port}"

    def repo_key(self, name: str) -> str:
        return f"repo{self.repo}-{name}"

    def changes(self) -> dict[str, dict[str, config.Value]]:
        """``{section: {key: value}}`` that the file must hold (``None``: remove the key)."""
        repo: dict[str, config.Value] = {
            self.repo_key("type"): "s3",
            self.repo_key("path"): self.repo_path,
            self.repo_key("s3-endpoint"): self.endpoint,
            self.repo_key("storage-port"): str(self.port),
            self.repo_key("s3-bucket"): self.bucket,
            self.repo_key("s3-region"): self.region,
            self.repo_key("s3-key"): self.key,
            self.repo_key("s3-key-secret"): self.key_secret,
            self.repo_key("s3-uri-style"): self.uri_style,
            self.repo_key("storage-verify-tls"): "y" if self.verify_tls else "n",
        }
        if self.ca_file:
            repo[self.repo_key("storage-ca-file")] = self.ca_file
        for name, value in self.retention.items():
            repo[self.repo_key(name)] = value
        if self.cipher_type:
            repo[self.repo_key("cipher-type")] = self.cipher_type
        if self.cipher_pass:
            repo[self.repo_key("cipher-pass")] = self.cipher_pass
        changes: dict[str, dict[str, config.Value]] = {"global": {**repo, **self.global_options}}
        changes[self.stanza] = {**self.pg, **self.stanza_options}
        return changes

    def managed_keys(self) -> dict[str, list[str]]:
        return {section: list(keys) for section, keys in self.changes().items()}


# --------------------------------------------------------------------------- input


def _option_value(name: str, value: t.Any) -> config.Value:
    if value is None:
        return None
    if isinstance(value, bool):
        return "y" if value else "n"
    if isinstance(value, (list, tuple)):
        return [str(_option_value(name, v)) for v in value]
    if isinstance(value, dict):
        raise InputError(f"option '{name}' must be a string, a number, a boolean, a list or null")
    return str(value)


def _raw_options(option: str, raw: t.Any, managed: t.Iterable[str]) -> dict[str, config.Value]:
    managed = set(managed)
    result: dict[str, config.Value] = {}
    for key, value in (raw or {}).items():
        key = str(key).strip()
        if not config.valid_key(key):
            raise InputError(f"{option}: '{key}' is not a pgBackRest option name (lowercase letters, digits, '-')")
        if key in managed:
            raise InputError(f"{option}: '{key}' is managed by this module; set it with its own option")
        if config.is_secret_option(key):
            raise InputError(
                f"{option}: '{key}' holds a secret and would be logged from here; use s3_key_secret or cipher_pass"
            )
        result[key] = _option_value(key, value)
    return result


def parse_s3_url(url: t.Any, *, verify_tls: bool = True) -> tuple[str, int]:
    """``https://host[:port]`` -> ``(host, port)``; pgBackRest speaks only HTTPS to S3."""
    text = str(url or "").strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InputError(f"s3_url '{text}' is not a valid URL: {exc}") from None
    if parts.scheme.lower() == "http":
        raise InputError(
            f"s3_url '{text}' is plain HTTP: pgBackRest talks to S3 only over HTTPS. Garage serves no TLS, so put a "
            "TLS front before its S3 port (role cellar.garage.garage_tls_front) and use its https:// URL"
        )
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise InputError(f"s3_url '{text}' must be an https:// URL with a host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InputError(f"s3_url '{text}' must not have a path, query or fragment (the bucket is s3_bucket)")
    host = parts.hostname
    if verify_tls:
        with_ip = True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            with_ip = False
        if with_ip:
            raise InputError(
                f"s3_url '{text}' names the endpoint by IP address: pgBackRest 2.45 does not match IP addresses in "
                "certificates, so TLS verification would fail. Use a host name the certificate lists"
            )
    return host, port or 443


def spec_from_params(params: t.Mapping[str, t.Any], *, run_as: str | None) -> StanzaSpec:
    """Check the module's parameters (before anything is called) and build the spec."""
    stanza = str(params.get("stanza") or "").strip()
    if not STANZA_RE.match(stanza) or stanza == "global":
        raise InputError(f"stanza '{stanza}' must be 1 to 64 letters, digits, '.', '_' or '-' (and not 'global')")
    repo = 1 if params.get("repo") is None else int(params["repo"])
    if not 1 <= repo <= 256:
        raise InputError(f"repo must be from 1 to 256, got {repo}")
    verify_tls = bool(params.get("verify_tls", True))
    host, port = parse_s3_url(params.get("s3_url"), verify_tls=verify_tls)
    for option in ("s3_bucket", "s3_key", "s3_key_secret"):
        if not str(params.get(option) or "").strip():
            raise InputError(f"{option} must not be empty")
    bucket = str(params["s3_bucket"]).strip()
    if "/" in bucket or " " in bucket:
        raise InputError(f"s3_bucket '{bucket}' is not a bucket name")
    repo_path = str(params.get("repo_path") or DEFAULT_REPO_PATH).strip()
    if not repo_path.startswith("/"):
        raise InputError(f"repo_path '{repo_path}' must be absolute (start with '/')")
    retention: dict[str, str] = {}
    for name, option in (("retention-full", "retention_full"), ("retention-diff", "retention_diff"),
                         ("retention-archive", "retention_archive")):  # fmt: skip
        value = params.get(option)
        if value is not None:
            if int(value) < 1:
                raise InputError(f"{option} must be at least 1, got {value}")
            retention[name] = str(int(value))
    for name, option in (("retention-full-type", "retention_full_type"),
                         ("retention-archive-type", "retention_archive_type")):  # fmt: skip
        if params.get(option):
            retention[name] = str(params[option])
    cipher_type = params.get("cipher_type")
    cipher_pass = params.get("cipher_pass")
    if cipher_type and cipher_type != "none" and not cipher_pass:
        raise InputError(f"cipher_type {cipher_type} needs cipher_pass")
    pg_path = str(params.get("pg_path") or "").strip()
    if not pg_path.startswith("/"):
        raise InputError(f"pg_path '{pg_path}' must be the absolute path of the PostgreSQL data directory")
    pg: dict[str, str] = {"pg1-path": pg_path}
    if params.get("pg_port") is not None:
        pg["pg1-port"] = str(int(params["pg_port"]))
    if params.get("pg_socket_path"):
        pg["pg1-socket-path"] = str(params["pg_socket_path"])
    if params.get("pg_user"):
        pg["pg1-user"] = str(params["pg_user"])
    ca_file = params.get("ca_file") or None
    if ca_file and not os.path.isfile(ca_file):
        raise InputError(f"ca_file {ca_file} does not exist on this host")
    owner = params.get("owner") or run_as or "root"
    group = params.get("group")
    files.user_ids(owner, group)  # unknown user or group: refused now
    repo_keys = [f"repo{repo}-{name}" for name in REPO_OPTIONS]
    return StanzaSpec(
        stanza=stanza,
        repo=repo,
        endpoint=host,
        port=port,
        bucket=bucket,
        region=str(params.get("s3_region") or "garage"),
        key=str(params["s3_key"]).strip(),
        key_secret=str(params["s3_key_secret"]),
        uri_style=str(params.get("s3_uri_style") or "path"),
        repo_path=repo_path,
        verify_tls=verify_tls,
        ca_file=ca_file,
        retention=retention,
        cipher_type=cipher_type or None,
        cipher_pass=cipher_pass or None,
        pg=pg,
        global_options=_raw_options("global_options", params.get("global_options"), repo_keys),
        stanza_options=_raw_options("stanza_options", params.get("stanza_options"), PG_OPTIONS),
        owner=owner,
        group=group,
        mode=files.parse_mode(params.get("mode") or DEFAULT_MODE),
        check=bool(params.get("run_check", True)),
    )


# --------------------------------------------------------------------------- views


def file_view(state: files.FileState, text: str | None, spec: StanzaSpec, *, previous: str | None = None,
              attributes: t.Mapping[str, t.Any] | None = None) -> dict[str, t.Any]:  # fmt: skip
    """The managed part of the configuration file: path, owner, group, mode and managed options."""
    if text is None:
        return dict(ABSENT)
    attrs = dict(attributes) if attributes is not None else state.attributes()
    return present(
        {"path": state.path, **attrs, "options": config.view(text, spec.managed_keys(), previous=previous)}
    )


def _stanza_view(spec: StanzaSpec, exists: bool) -> dict[str, t.Any]:
    return {f"repo{spec.repo}": "present" if exists else "absent"}


# --------------------------------------------------------------------------- the operation


def probe(client: cli.PgBackRest, spec: StanzaSpec, *, config_file: str | None = None) -> cli.Status:
    """TCP connect, then ``info`` with a short io-timeout; raises a typed error for a broken repository."""
    client.reachable(spec.endpoint, spec.port)
    info = client.info(spec.stanza, repo=spec.repo, config_file=config_file, io_timeout=client.probe_timeout)
    status = cli.repo_status(info, spec.stanza, spec.repo)
    return cli.raise_for_status(status, stanza=spec.stanza, repo=spec.repo, endpoint=spec.endpoint_label)


def ensure(client: cli.PgBackRest, spec: StanzaSpec, *, dry_run: bool) -> Outcome:
    state = files.read_state(client.config_file)
    merged = config.merge(state.text or "", spec.changes())
    group = spec.group or files.primary_group(spec.owner)
    wanted_attrs = {"owner": spec.owner, "group": group, "mode": files.format_mode(spec.mode)}
    content_changed = merged != state.text
    attrs_changed = state.exists and state.attributes() != wanted_attrs

    # Probe the configuration this run would leave, before anything is written.
    if content_changed:
        with files.private_copy(merged, owner=client.run_as) as candidate:
            status = probe(client, spec, config_file=candidate)
    else:
        status = probe(client, spec)
    create = status.stanza_missing

    before = {
        "config_file": file_view(state, state.text, spec),
        "stanza": _stanza_view(spec, not create),
    }
    after = {
        "config_file": file_view(state, merged, spec, previous=state.text, attributes=wanted_attrs),
        "stanza": _stanza_view(spec, True),
    }
    warnings: list[str] = []
    checked = False
    file_written = content_changed or attrs_changed
    if not dry_run:
        if content_changed:
            files.write(client.config_file, merged, mode=spec.mode, owner=spec.owner, group=group)
        elif attrs_changed:
            files.set_attributes(client.config_file, mode=spec.mode, owner=spec.owner, group=group)
        try:
            if create:
                warnings += client.stanza_create(spec.stanza).warnings
            if spec.check:
                warnings += client.check(spec.stanza).warnings
                checked = True
            info = client.info(spec.stanza, repo=spec.repo)
            status = cli.raise_for_status(cli.repo_status(info, spec.stanza, spec.repo), stanza=spec.stanza,
                                          repo=spec.repo, endpoint=spec.endpoint_label)  # fmt: skip
        except OperationError as exc:
            if file_written or create:
                exc.changed = True
                if file_written:
                    exc.details.setdefault("config_file_written", True)
            raise
    return Outcome(
        before=before,
        after=after,
        label=f"pgBackRest stanza '{spec.stanza}' ({client.config_file})",
        warnings=tuple(dict.fromkeys(warnings)),
        result={
            "stanza": spec.stanza,
            "repo": spec.repo,
            "config_file": client.config_file,
            "stanza_created": create,
            "checked": checked,
            "status": status.view(),
        },
    )
