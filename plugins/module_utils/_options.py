# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Connection option groups: :data:`ADMIN`, :data:`S3`, :data:`OPENBAO`.

An :class:`OptionGroup` is the set that must travel together for one service:

- its argspec with its constraints (an :class:`ArgumentSpec`);
- the doc fragment that documents those options (``cellar.garage._admin``, ...);
- the action group its modules join in ``meta/runtime.yml`` (``garage``, ...), so that
  ``module_defaults: {group/cellar.garage.<group>: {...}}`` never hands a module an option it
  does not declare;
- ``validate(params)``: problems found before anything is called (a bad URL, ``timeout: 0``);
- ``factory(params, hooks)``: builds the service's client; raises :class:`OperationError`
  (``credentials_missing``, ``credentials_invalid``, ``missing_dependency``) and registers every
  secret it resolves (from a file, the environment or a login) with ``hooks.add_secret``.

``GarageModule(argument_spec, option_groups=(ADMIN, OPENBAO))`` merges the groups and exposes
the clients as ``module.admin``, ``module.s3``, ``module.openbao``. Groups may share options
with the same spec (``validate_certs``, ``ca_path``, ``timeout``): one value then applies to
every service of the module.
"""

from __future__ import annotations

import dataclasses
import os
import typing as t
from urllib.parse import urlsplit

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    CREDENTIALS_INVALID,
    CREDENTIALS_MISSING,
    MISSING_DEPENDENCY,
    OperationError,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    DEFAULT_ADMIN_URL,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    GarageAdminClient,
    resolve_admin_token,
)
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from ansible_collections.cellar.garage.plugins.module_utils._s3 import client as s3_client_module

USER_AGENT = "ansible-cellar.garage"

Params = t.Mapping[str, t.Any]


@dataclasses.dataclass(frozen=True)
class ClientHooks:
    """What a factory may use from the module: warnings (e.g. retries) and secret masking."""

    warn: t.Callable[[str], None]
    add_secret: t.Callable[[str], None]
    environ: t.Mapping[str, str] = dataclasses.field(default_factory=lambda: os.environ)


@dataclasses.dataclass(frozen=True)
class OptionGroup:
    """One service's connection options (see the module docstring)."""

    #: Short name, also the attribute of the module that holds the client (``module.admin``).
    name: str
    argspec: ArgumentSpec
    #: Fully qualified doc fragment, e.g. ``cellar.garage._admin``.
    doc_fragment: str
    #: Action group in meta/runtime.yml, e.g. ``garage``.
    action_group: str
    factory: t.Callable[[Params, ClientHooks], t.Any]
    validate: t.Callable[[Params], list[str]]

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(self.argspec.argument_spec)

    @property
    def attributes_fragment(self) -> str:
        """The ``_attributes`` fragment that documents the action group membership."""
        return f"cellar.garage._attributes.actiongroup_{self.action_group}"


# --------------------------------------------------------------------------- validation helpers


def url_problem(option: str, value: t.Any, *, required: bool = False) -> str | None:
    """Why ``value`` is not an http(s) URL with a host (None when fine or unset and optional)."""
    if value is None or value == "":
        return f"{option} is required" if required else None
    try:
        parts = urlsplit(str(value))
        port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        return f"{option} '{value}' is not a valid URL: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"{option} '{value}' must start with http:// or https://"
    if not parts.hostname:
        return f"{option} '{value}' has no host name"
    if parts.query or parts.fragment:
        return f"{option} '{value}' must not have a query string or a fragment"
    del port
    return None


def _number_problems(params: Params, *, timeout: str | None = "timeout", retries: str | None = "retries") -> list[str]:
    problems: list[str] = []
    if timeout and params.get(timeout) is not None and params[timeout] < 1:
        problems.append(f"{timeout} must be at least 1 (seconds), got {params[timeout]}")
    if retries and params.get(retries) is not None and params[retries] < 0:
        problems.append(f"{retries} must not be negative, got {params[retries]}")
    return problems


# --------------------------------------------------------------------------- ADMIN

MISSING_TOKEN_MSG = (
    "No Garage admin token: set admin_token or admin_token_file (or the environment variables "
    "GARAGE_ADMIN_TOKEN / GARAGE_ADMIN_TOKEN_FILE), e.g. with "
    "module_defaults: {group/cellar.garage.garage: {admin_token: ...}}"
)


def _admin_argspec() -> ArgumentSpec:
    return ArgumentSpec(
        {
            "admin_url": {
                "type": "str",
                "default": DEFAULT_ADMIN_URL,
                "fallback": (env_fallback, ["GARAGE_ADMIN_URL"]),
            },
            # GARAGE_ADMIN_TOKEN / GARAGE_ADMIN_TOKEN_FILE are read by the factory, not by an
            # env_fallback here: a fallback would be applied before the mutually_exclusive check
            # and turn "token in the environment + admin_token_file" into a spurious error.
            "admin_token": {"type": "str", "no_log": True},
            "admin_token_file": {"type": "path", "no_log": False},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
            "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
            "retries": {"type": "int", "default": DEFAULT_RETRIES},
        },
        mutually_exclusive=[["admin_token", "admin_token_file"]],
    )


def _admin_validate(params: Params) -> list[str]:
    problems = [p for p in [url_problem("admin_url", params.get("admin_url"), required=True)] if p]
    return problems + _number_problems(params)


def _admin_factory(params: Params, hooks: ClientHooks) -> GarageAdminClient:
    token = resolve_admin_token(params.get("admin_token"), params.get("admin_token_file"), environ=hooks.environ)
    if not token:
        raise OperationError(MISSING_TOKEN_MSG, failure_reason=CREDENTIALS_MISSING)
    # A token read from a file or the environment is a secret too: mask it everywhere.
    hooks.add_secret(token)
    return GarageAdminClient(
        params["admin_url"],
        token,
        timeout=params["timeout"],
        retries=params["retries"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        on_retry=hooks.warn,
        user_agent=USER_AGENT,
    )


ADMIN = OptionGroup(
    name="admin",
    argspec=_admin_argspec(),
    doc_fragment="cellar.garage._admin",
    action_group="garage",
    factory=_admin_factory,
    validate=_admin_validate,
)

#: The Admin API connection option names (kept for callers of the former ``_connection``).
CONNECTION_OPTION_NAMES = ADMIN.option_names


def connection_argspec() -> ArgumentSpec:
    """A fresh copy of the Admin API connection options with their constraints."""
    return ADMIN.argspec.copy()


# --------------------------------------------------------------------------- S3


def _s3_argspec() -> ArgumentSpec:
    return ArgumentSpec(
        {
            "s3_url": {
                "type": "str",
                "default": s3_client_module.DEFAULT_S3_URL,
                "fallback": (env_fallback, ["GARAGE_S3_URL"]),
            },
            "region": {
                "type": "str",
                "default": s3_client_module.DEFAULT_REGION,
                "fallback": (env_fallback, ["GARAGE_S3_REGION"]),
            },
            "access_key_id": {
                "type": "str",
                "no_log": False,
                "fallback": (env_fallback, ["GARAGE_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"]),
            },
            "secret_access_key": {
                "type": "str",
                "no_log": True,
                "fallback": (env_fallback, ["GARAGE_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"]),
            },
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
        },
    )


def _s3_validate(params: Params) -> list[str]:
    problems = [p for p in [url_problem("s3_url", params.get("s3_url"), required=True)] if p]
    if params.get("region") is not None and not str(params["region"]).strip():
        problems.append("region must not be empty")
    return problems


def _s3_factory(params: Params, hooks: ClientHooks) -> t.Any:
    import_error = s3_client_module.boto3_import_error()
    if import_error is not None:
        raise OperationError(
            missing_required_lib("boto3"),
            failure_reason=MISSING_DEPENDENCY,
            details={"exception": import_error},
        )
    key_id, secret = params.get("access_key_id"), params.get("secret_access_key")
    if not key_id or not secret:
        raise OperationError(
            "No S3 credentials: set access_key_id and secret_access_key (or the environment variables "
            "GARAGE_S3_ACCESS_KEY_ID / GARAGE_S3_SECRET_ACCESS_KEY), e.g. with "
            "module_defaults: {group/cellar.garage.garage_s3: {...}}",
            failure_reason=CREDENTIALS_MISSING,
        )
    hooks.add_secret(secret)
    return s3_client_module.s3_client(
        endpoint_url=params["s3_url"],
        access_key_id=key_id,
        secret_access_key=secret,
        region=params["region"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        user_agent=USER_AGENT,
    )


S3 = OptionGroup(
    name="s3",
    argspec=_s3_argspec(),
    doc_fragment="cellar.garage._s3",
    action_group="garage_s3",
    factory=_s3_factory,
    validate=_s3_validate,
)


# --------------------------------------------------------------------------- OPENBAO

OPENBAO_URL_ENV = ("BAO_ADDR", "VAULT_ADDR")
OPENBAO_TOKEN_ENV = ("BAO_TOKEN", "VAULT_TOKEN")


def _openbao_argspec() -> ArgumentSpec:
    return ArgumentSpec(
        {
            "url": {"type": "str", "fallback": (env_fallback, list(OPENBAO_URL_ENV))},
            # BAO_TOKEN / VAULT_TOKEN are read by the factory (see admin_token above).
            "token": {"type": "str", "no_log": True},
            "token_file": {"type": "path", "no_log": False},
            "auth_method": {"type": "str", "choices": ["token", "approle"], "default": "token"},
            "role_id": {"type": "str", "no_log": False},
            "secret_id": {"type": "str", "no_log": True},
            "namespace": {"type": "str", "fallback": (env_fallback, ["BAO_NAMESPACE", "VAULT_NAMESPACE"])},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
            "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
        },
        mutually_exclusive=[["token", "token_file"]],
        required_if=[["auth_method", "approle", ["role_id"]]],
    )


def _openbao_validate(params: Params) -> list[str]:
    problems = [p for p in [url_problem("url", params.get("url"), required=True)] if p]
    return problems + _number_problems(params, retries=None)


def _read_secret_file(path: str, what: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise OperationError(f"Cannot read {what} file {path}: {exc}", failure_reason=CREDENTIALS_INVALID) from None
    if not value:
        raise OperationError(f"{what.capitalize()} file {path} is empty", failure_reason=CREDENTIALS_INVALID)
    return value


def _openbao_factory(params: Params, hooks: ClientHooks) -> OpenBaoClient:
    client = OpenBaoClient(
        params["url"],
        namespace=params.get("namespace"),
        timeout=params["timeout"],
        validate_certs=params["validate_certs"],
        ca_path=params.get("ca_path"),
        on_retry=hooks.warn,
        user_agent=USER_AGENT,
    )
    if params.get("auth_method") == "approle":
        hooks.add_secret(client.approle_login(params["role_id"], params.get("secret_id")))
        return client
    token: str | None = params.get("token")
    if not token and params.get("token_file"):
        token = _read_secret_file(params["token_file"], "OpenBao token")
    if not token:
        token = next((hooks.environ[v].strip() for v in OPENBAO_TOKEN_ENV if hooks.environ.get(v, "").strip()), None)
    if not token:
        raise OperationError(
            "No OpenBao token: set token or token_file (or BAO_TOKEN / VAULT_TOKEN), or use auth_method=approle",
            failure_reason=CREDENTIALS_MISSING,
        )
    hooks.add_secret(token)
    client.set_token(token)
    return client


OPENBAO = OptionGroup(
    name="openbao",
    argspec=_openbao_argspec(),
    doc_fragment="cellar.garage._openbao",
    action_group="openbao",
    factory=_openbao_factory,
    validate=_openbao_validate,
)

#: Every option group, by name.
GROUPS: dict[str, OptionGroup] = {g.name: g for g in (ADMIN, S3, OPENBAO)}


def merge_groups(groups: t.Sequence[OptionGroup]) -> ArgumentSpec:
    """The argspec of several groups. Refuses two groups that declare one option differently."""
    spec = ArgumentSpec()
    for group in groups:
        for option, definition in group.argspec.argument_spec.items():
            existing = spec.argument_spec.get(option)
            if existing is not None and existing != definition:
                raise ValueError(f"option groups disagree on option {option!r}: {existing} != {definition}")
        spec.merge(group.argspec)
    return spec
