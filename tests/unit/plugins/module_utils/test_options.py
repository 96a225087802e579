# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Option groups: argspecs, up-front validation, merging, and each group's client factory."""

from __future__ import annotations

import os
import typing as t
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from ansible_collections.cellar.garage.plugins.module_utils._options import (
    ADMIN,
    GROUPS,
    OPENBAO,
    S3,
    ClientHooks,
    OptionGroup,
    merge_groups,
    url_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._s3 import client as s3_client_module
from tests.unit.plugins.module_utils.http_fake import FakeHttp, Reply


class Hooks:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self.warnings: list[str] = []
        self.secrets: list[str] = []
        self.hooks = ClientHooks(warn=self.warnings.append, add_secret=self.secrets.append, environ=environ or {})


def defaults(group: OptionGroup, **params: t.Any) -> dict[str, t.Any]:
    values = {name: spec.get("default") for name, spec in group.argspec.argument_spec.items()}
    values.update(params)
    return values


# --------------------------------------------------------------------------- shape


def test_groups_name_their_fragment_and_action_group() -> None:
    assert [(g.name, g.doc_fragment, g.action_group) for g in GROUPS.values()] == [
        ("admin", "cellar.garage._admin", "garage"),
        ("s3", "cellar.garage._s3", "garage_s3"),
        ("openbao", "cellar.garage._openbao", "openbao"),
    ]
    assert ADMIN.attributes_fragment == "cellar.garage._attributes.actiongroup_garage"


@pytest.mark.parametrize(
    ("group", "secret", "not_secret"),
    [
        (ADMIN, ["admin_token"], ["admin_token_file"]),
        (S3, ["secret_access_key"], ["access_key_id"]),
        (OPENBAO, ["token", "secret_id"], ["token_file", "role_id"]),
    ],
)
def test_no_log_is_explicit_on_every_secret_looking_option(
    group: OptionGroup, secret: list[str], not_secret: list[str]
) -> None:
    spec = group.argspec.argument_spec
    assert all(spec[name]["no_log"] is True for name in secret)
    assert all(spec[name]["no_log"] is False for name in not_secret)


def test_all_groups_merge_and_share_identical_options() -> None:
    spec = merge_groups([ADMIN, S3, OPENBAO])
    assert {"admin_url", "s3_url", "url", "validate_certs", "timeout"} <= set(spec.argument_spec)
    assert ["admin_token", "admin_token_file"] in spec.mutually_exclusive
    assert ["token", "token_file"] in spec.mutually_exclusive


def test_groups_that_disagree_on_an_option_are_refused() -> None:
    other = OptionGroup(
        "other", ArgumentSpec({"timeout": {"type": "int", "default": 5}}), "x", "x", lambda p, h: None, lambda p: []
    )
    with pytest.raises(ValueError, match="disagree on option 'timeout'"):
        merge_groups([ADMIN, other])


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("garage:3903", "must start with http"),
        ("ftp://g:21", "must start with http"),
        ("http://", "no host"),
        ("http://g:99999", "not a valid URL"),
        ("http://g:3903/?x=1", "query string"),
        ("127.0.0.1:3903", "must start"),
    ],
)
def test_bad_urls(value: str, fragment: str) -> None:
    problem = url_problem("admin_url", value)
    assert problem is not None and fragment in problem and "admin_url" in problem


@pytest.mark.parametrize("value", ["http://127.0.0.1:3903", "https://garage.example/admin", "http://[::1]:3903/"])
def test_good_urls(value: str) -> None:
    assert url_problem("admin_url", value) is None


def test_admin_validation() -> None:
    assert ADMIN.validate(defaults(ADMIN)) == []
    problems = ADMIN.validate(defaults(ADMIN, admin_url="nope", timeout=0, retries=-1))
    assert len(problems) == 3
    assert "timeout must be at least 1" in problems[1] and "retries must not be negative" in problems[2]


def test_s3_and_openbao_validation() -> None:
    assert S3.validate(defaults(S3)) == []
    assert S3.validate(defaults(S3, s3_url="s3.example", region=" ")) == [
        "s3_url 's3.example' must start with http:// or https://",
        "region must not be empty",
    ]
    assert OPENBAO.validate(defaults(OPENBAO)) == ["url is required"]
    assert OPENBAO.validate(defaults(OPENBAO, url="https://bao:8200", timeout=0)) == [
        "timeout must be at least 1 (seconds), got 0"
    ]


# --------------------------------------------------------------------------- ADMIN factory


def test_admin_factory_masks_a_token_from_the_environment() -> None:
    h = Hooks({"GARAGE_ADMIN_TOKEN": "env-token-1"})
    client = ADMIN.factory(defaults(ADMIN, timeout=7), h.hooks)
    assert isinstance(client, GarageAdminClient)
    assert h.secrets == ["env-token-1"] and client.timeout == 7
    client.on_retry("retrying")
    assert h.warnings == ["retrying"]


def test_admin_factory_without_token() -> None:
    with pytest.raises(OperationError) as info:
        ADMIN.factory(defaults(ADMIN), Hooks().hooks)
    assert info.value.failure_reason == "credentials_missing"


def test_admin_factory_unsafe_token_file(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("t")
    os.chmod(path, 0o644)
    with pytest.raises(OperationError) as info:
        ADMIN.factory(defaults(ADMIN, admin_token_file=str(path)), Hooks().hooks)
    assert info.value.failure_reason == "credentials_invalid"


# --------------------------------------------------------------------------- S3 factory


def test_s3_factory_builds_a_garage_ready_boto3_client() -> None:
    h = Hooks()
    params = defaults(
        S3,
        s3_url="https://s3.example:3900",
        access_key_id="GK" + "a" * 24,
        secret_access_key="s3-secret-1",
        ca_path="/etc/ssl/ca.pem",
    )
    client = S3.factory(params, h.hooks)
    assert h.secrets == ["s3-secret-1"]
    assert client.meta.endpoint_url == "https://s3.example:3900"
    assert client.meta.region_name == "garage"
    config = client.meta.config
    assert config.s3["addressing_style"] == "path"
    assert config.request_checksum_calculation == "when_required"
    assert config.response_checksum_validation == "when_required"
    assert config.retries["mode"] == "standard"
    assert client._endpoint.http_session._verify == "/etc/ssl/ca.pem"


def test_s3_factory_without_certificate_validation() -> None:
    params = defaults(S3, access_key_id="GK1", secret_access_key="s", validate_certs=False, region="eu-1")
    client = S3.factory(params, Hooks().hooks)
    assert client._endpoint.http_session._verify is False
    assert client.meta.region_name == "eu-1"


def test_s3_factory_without_credentials() -> None:
    with pytest.raises(OperationError) as info:
        S3.factory(defaults(S3, access_key_id="GK1"), Hooks().hooks)
    assert info.value.failure_reason == "credentials_missing"


def test_s3_factory_without_boto3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3_client_module, "boto3_import_error", lambda: "Traceback: No module named 'boto3'")
    with pytest.raises(OperationError) as info:
        S3.factory(defaults(S3, access_key_id="GK1", secret_access_key="s"), Hooks().hooks)
    assert info.value.failure_reason == "missing_dependency"
    assert "boto3" in info.value.message
    assert info.value.details["exception"].startswith("Traceback")


def test_boto3_import_error_is_none_here() -> None:
    assert s3_client_module.boto3_import_error() is None


# --------------------------------------------------------------------------- OPENBAO factory


def test_openbao_factory_token_sources(tmp_path: Path) -> None:
    h = Hooks({"VAULT_TOKEN": "vault-env", "BAO_TOKEN": ""})
    client = OPENBAO.factory(defaults(OPENBAO, url="http://bao:8200"), h.hooks)
    assert isinstance(client, OpenBaoClient) and client.auth_headers() == {"X-Vault-Token": "vault-env"}
    path = tmp_path / "token"
    path.write_text(" file-token \n")
    client = OPENBAO.factory(defaults(OPENBAO, url="http://bao:8200", token_file=str(path)), h.hooks)
    assert client.auth_headers() == {"X-Vault-Token": "file-token"}
    client = OPENBAO.factory(defaults(OPENBAO, url="http://bao:8200", token="opt", namespace="ns"), h.hooks)
    assert client.auth_headers() == {"X-Vault-Token": "opt", "X-Vault-Namespace": "ns"}
    assert h.secrets == ["vault-env", "file-token", "opt"]


def test_openbao_factory_without_token(tmp_path: Path) -> None:
    with pytest.raises(OperationError) as info:
        OPENBAO.factory(defaults(OPENBAO, url="http://bao:8200"), Hooks().hooks)
    assert info.value.failure_reason == "credentials_missing"
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(OperationError) as info:
        OPENBAO.factory(defaults(OPENBAO, url="http://bao:8200", token_file=str(empty)), Hooks().hooks)
    assert info.value.failure_reason == "credentials_invalid"


def test_openbao_factory_approle_login_masks_the_issued_token() -> None:
    bao = FakeHttp(prefix="/v1/")
    try:
        bao.route("POST", "auth/approle/login", Reply(200, {"auth": {"client_token": "s.issued"}}))
        h = Hooks()
        params = defaults(OPENBAO, url=bao.url, auth_method="approle", role_id="r", secret_id="sid")
        client = OPENBAO.factory(params, h.hooks)
        assert h.secrets == ["s.issued"]
        assert client.auth_headers() == {"X-Vault-Token": "s.issued"}
        assert bao.requests[0].json == {"role_id": "r", "secret_id": "sid"}
    finally:
        bao.close()
