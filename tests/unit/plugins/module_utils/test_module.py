# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GarageModule: shared options and constraints, token handling, error conversion, results.

Modules are run for real (AnsibleModule prints its JSON result and exits); the printed
JSON is what the tests assert on, so masking and serialisation are covered too.
"""

from __future__ import annotations

import copy
import json
import os
import typing as t
from pathlib import Path
from unittest import mock

import pytest
from ansible.module_utils.common import warnings as _warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAdminClient,
    GarageConflict,
    GarageConnectionError,
    GarageNotFound,
    error_for_status,
)
from ansible_collections.cellar.garage.plugins.module_utils._module import MISSING_TOKEN_MSG, GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from ansible_collections.cellar.garage.plugins.module_utils._options import (
    ADMIN,
    CONNECTION_OPTION_NAMES,
    OPENBAO,
    S3,
    connection_argspec,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, present

TOKEN = "unit-module-token-Xy7"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "GARAGE_ADMIN_URL",
        "GARAGE_ADMIN_TOKEN",
        "GARAGE_ADMIN_TOKEN_FILE",
        "GARAGE_S3_URL",
        "GARAGE_S3_ACCESS_KEY_ID",
        "GARAGE_S3_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "BAO_ADDR",
        "VAULT_ADDR",
        "BAO_TOKEN",
        "VAULT_TOKEN",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _isolated_warnings() -> t.Iterator[None]:
    """AnsibleModule.warn() records into module-global state: keep it from leaking into other tests."""
    names = ("_global_warnings", "_global_deprecations")  # dicts in ansible-core 2.19, lists before
    saved = {name: copy.copy(getattr(_warnings, name)) for name in names}
    yield
    for name, value in saved.items():
        store = getattr(_warnings, name)
        store.clear()
        if isinstance(store, dict):
            store.update(value)
        else:
            store.extend(value)


def run_module(
    args: dict[str, t.Any],
    body: t.Callable[[GarageModule], None],
    capsys: pytest.CaptureFixture[str],
    *,
    spec: dict[str, t.Any] | ArgumentSpec | None = None,
    **module_kwargs: t.Any,
) -> tuple[int, dict[str, t.Any]]:
    """Build a GarageModule from ``args``, run ``body(module)``; return (exit code, printed JSON)."""
    with patch_module_args(args), pytest.raises(SystemExit) as info:
        module = GarageModule(spec or {"name": {"type": "str"}}, **module_kwargs)
        body(module)
        module.exit_json(changed=False)
    out = capsys.readouterr().out
    return int(info.value.code or 0), json.loads(out)


def nothing(module: GarageModule) -> None:
    pass


# --------------------------------------------------------------------------- options


def test_connection_argspec_shape() -> None:
    spec = connection_argspec()
    assert tuple(spec.argument_spec) == CONNECTION_OPTION_NAMES
    assert spec.argument_spec["admin_token"]["no_log"] is True
    assert spec.argument_spec["admin_token_file"]["no_log"] is False
    assert spec.argument_spec["admin_token_file"]["type"] == "path"
    assert spec.mutually_exclusive == [["admin_token", "admin_token_file"]]
    # A copy each time: callers can't corrupt the shared spec.
    spec.argument_spec["timeout"]["default"] = 1
    assert connection_argspec().argument_spec["timeout"]["default"] == 30


def test_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    seen: dict[str, t.Any] = {}
    rc, _result = run_module({"admin_token": TOKEN}, lambda m: seen.update(m.params), capsys)
    assert rc == 0
    assert seen["admin_url"] == "http://127.0.0.1:3903"
    assert (seen["validate_certs"], seen["ca_path"], seen["timeout"], seen["retries"]) == (True, None, 30, 3)


def test_admin_url_from_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARAGE_ADMIN_URL", "http://garage.internal:3903")
    seen: dict[str, t.Any] = {}
    run_module({"admin_token": TOKEN}, lambda m: seen.update(m.params), capsys)
    assert seen["admin_url"] == "http://garage.internal:3903"


def test_token_options_are_mutually_exclusive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rc, result = run_module({"admin_token": TOKEN, "admin_token_file": str(tmp_path / "t")}, nothing, capsys)
    assert rc == 1
    assert result["failed"]
    assert "mutually exclusive" in result["msg"]
    assert "admin_token|admin_token_file" in result["msg"]


def test_module_constraints_merge_with_connection_constraints(capsys: pytest.CaptureFixture[str]) -> None:
    spec = ArgumentSpec({"a": {"type": "str"}, "b": {"type": "str"}}, mutually_exclusive=[["a", "b"]])
    rc, result = run_module({"admin_token": TOKEN, "a": "1", "b": "2"}, nothing, capsys, spec=spec)
    assert rc == 1 and "a|b" in result["msg"]
    rc, result = run_module(
        {"admin_token": TOKEN, "admin_token_file": "/x"}, nothing, capsys, spec=spec, required_one_of=[["a", "b"]]
    )
    assert rc == 1 and "mutually exclusive" in result["msg"]
    rc, result = run_module({"admin_token": TOKEN}, nothing, capsys, spec=spec, required_one_of=[["a", "b"]])
    assert rc == 1 and "one of the following is required: a, b" in result["msg"]


def test_env_token_plus_token_file_is_not_a_conflict(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GARAGE_ADMIN_TOKEN in the environment must not clash with an explicit admin_token_file."""
    path = tmp_path / "token"
    path.write_text("from-file\n")
    os.chmod(path, 0o600)
    monkeypatch.setenv("GARAGE_ADMIN_TOKEN", "from-env")
    seen: list[str] = []

    def body(module: GarageModule) -> None:
        seen.append(module.admin.auth_headers()["Authorization"].removeprefix("Bearer "))

    rc, _result = run_module({"admin_token_file": str(path)}, body, capsys)
    assert rc == 0
    assert seen == ["from-file"]


# --------------------------------------------------------------------------- token


def test_missing_token_fails_before_any_call(capsys: pytest.CaptureFixture[str]) -> None:
    with mock.patch.object(GarageAdminClient, "call") as call:
        rc, result = run_module({}, lambda m: m.admin.list_buckets(), capsys)
    assert rc == 1
    assert result["msg"] == MISSING_TOKEN_MSG
    call.assert_not_called()


def test_token_from_environment(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GARAGE_ADMIN_TOKEN", TOKEN)
    seen: list[bool] = []
    rc, _result = run_module({}, lambda m: seen.append(m.admin.has_token), capsys)
    assert rc == 0 and seen == [True]


def test_unsafe_token_file_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN)
    os.chmod(path, 0o644)
    rc, result = run_module({"admin_token_file": str(path)}, lambda m: m.admin.list_buckets(), capsys)
    assert rc == 1
    assert "accessible by group or others" in result["msg"]
    assert TOKEN not in json.dumps(result)


def test_token_from_file_is_masked_in_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text(TOKEN)
    os.chmod(path, 0o600)

    def body(module: GarageModule) -> None:
        module.admin  # noqa: B018 - resolves the token
        module.exit_json(changed=False, echo=f"token is {TOKEN}")

    rc, result = run_module({"admin_token_file": str(path)}, body, capsys)
    assert rc == 0
    assert TOKEN not in json.dumps(result)


def test_client_is_built_once_with_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    clients: list[GarageAdminClient] = []

    def body(module: GarageModule) -> None:
        clients.extend([module.admin, module.admin])

    run_module(
        {"admin_token": TOKEN, "admin_url": "https://g:3903/", "timeout": 5, "retries": 0, "validate_certs": False},
        body,
        capsys,
    )
    first, second = clients
    assert first is second
    assert first.admin_url == "https://g:3903"
    assert (first.timeout, first.retries, first.validate_certs) == (5, 0, False)


def test_retries_become_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    def body(module: GarageModule) -> None:
        assert module.admin.on_retry is not None
        module.admin.on_retry("Garage admin API ListKeys: HTTP 503 (busy); retry 1/3 in 0.5s")

    rc, result = run_module({"admin_token": TOKEN}, body, capsys)
    assert rc == 0
    # ansible-core 2.19 returns structured warnings; older versions plain strings.
    assert "retry 1/3" in json.dumps(result.get("warnings", []))


# --------------------------------------------------------------------------- errors


def raise_in_run(exc: BaseException, *, what: str | None = None) -> t.Callable[[GarageModule], None]:
    """A module body that raises ``exc`` deep inside an operation wrapped in api_context."""

    def body(module: GarageModule) -> None:
        def operation() -> t.Any:
            with api_context("delete", "bucket", "photos", failure_reason="bucket_delete_failed"):
                raise exc

        module.run(operation, what=what)

    return body


def test_api_error_message_format(capsys: pytest.CaptureFixture[str]) -> None:
    exc = GarageConflict(
        "Tried to delete a non-empty bucket", status=409, code="BucketNotEmpty", endpoint="DeleteBucket"
    )
    rc, result = run_module({"admin_token": TOKEN}, raise_in_run(exc), capsys)
    assert rc == 1
    assert result["msg"] == "Failed to delete bucket 'photos': BucketNotEmpty: Tried to delete a non-empty bucket"
    assert result["status"] == 409
    assert result["garage_code"] == "BucketNotEmpty"
    assert result["failure_reason"] == "bucket_delete_failed" and result["cause"] == "conflict"
    assert "exception" not in result  # expected API errors carry no traceback noise
    assert result["changed"] is False


def test_access_denied_names_what_a_403_can_mean(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 9: Garage answers the same 403 for a wrong token, an expired one and a narrow scope."""
    body = b'{"code":"AccessDenied","message":"Forbidden: Invalid token"}'
    exc = error_for_status(403, body, endpoint="DeleteBucket")
    _rc, result = run_module({"admin_token": TOKEN}, raise_in_run(exc), capsys)
    assert result["msg"].startswith("Failed to delete bucket 'photos': AccessDenied: Forbidden: Invalid token (")
    assert "expired" in result["msg"] and "scope does not include DeleteBucket" in result["msg"]
    assert result["cause"] == "access_denied"


def test_connection_error_message(capsys: pytest.CaptureFixture[str]) -> None:
    exc = GarageConnectionError("Cannot reach Garage admin API at http://x:3903: Connection refused")
    rc, result = run_module({"admin_token": TOKEN}, raise_in_run(exc), capsys)
    assert rc == 1
    assert (
        result["msg"]
        == "Failed to delete bucket 'photos': Cannot reach Garage admin API at http://x:3903: Connection refused"
    )
    assert result["status"] is None and result["cause"] == "connection_failed"


def test_unexpected_error_includes_exception_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc, result = run_module(
        {"admin_token": TOKEN}, raise_in_run(KeyError("globalAliases"), what="delete bucket 'photos'"), capsys
    )
    assert rc == 1
    assert result["msg"].startswith("Failed to delete bucket 'photos': unexpected KeyError:")
    assert "globalAliases" in result["msg"]
    # The traceback is passed along; ansible-core >= 2.19 keeps it only when tracebacks are enabled.
    assert "Traceback" in result.get("exception", "Traceback")


def test_token_never_in_error_output(capsys: pytest.CaptureFixture[str]) -> None:
    exc = GarageNotFound(f"weird server echoing {TOKEN}", status=404, code="NoSuchBucket")
    rc, result = run_module({"admin_token": TOKEN}, raise_in_run(exc), capsys)
    assert rc == 1
    assert TOKEN not in json.dumps(result)


def test_check_mode_supported_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[bool] = []
    rc, result = run_module(
        {"admin_token": TOKEN, "_ansible_check_mode": True}, lambda m: seen.append(m.check_mode), capsys
    )
    assert rc == 0 and seen == [True]
    assert not result.get("skipped")


# --------------------------------------------------------------------------- option groups, run, exit_outcome


def test_bad_connection_values_fail_before_anything(capsys: pytest.CaptureFixture[str]) -> None:
    called: list[bool] = []
    rc, result = run_module(
        {"admin_token": TOKEN, "admin_url": "garage:3903", "timeout": 0, "retries": -1},
        lambda m: called.append(True),
        capsys,
    )
    assert rc == 1 and called == []
    assert result["failure_reason"] == "invalid_input" and result["changed"] is False
    assert "admin_url 'garage:3903' must start with http:// or https://" in result["msg"]
    assert "timeout must be at least 1" in result["msg"] and "retries must not be negative" in result["msg"]


def test_missing_token_has_a_failure_reason(capsys: pytest.CaptureFixture[str]) -> None:
    rc, result = run_module({}, lambda m: m.admin, capsys)
    assert rc == 1 and result["failure_reason"] == "credentials_missing"


def test_a_module_without_the_admin_group_has_no_admin_options(capsys: pytest.CaptureFixture[str]) -> None:
    rc, result = run_module({"admin_url": "http://x:3903"}, nothing, capsys, option_groups=(S3,))
    assert rc == 1 and "Unsupported parameters" in result["msg"]
    with pytest.raises(ValueError, match="does not use the 'admin' option group"):
        run_module({}, lambda m: m.admin, capsys, option_groups=(S3,))


def test_s3_secret_from_the_environment_is_masked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3-secret-from-env-Kq1"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("GARAGE_S3_ACCESS_KEY_ID", "GK" + "b" * 24)

    def body(module: GarageModule) -> None:
        assert module.s3.meta.config.s3["addressing_style"] == "path"
        module.exit_json(changed=False, echo=f"secret is {secret}")

    rc, result = run_module({}, body, capsys, option_groups=(S3,))
    assert rc == 0 and secret not in json.dumps(result)


def test_admin_and_openbao_together(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAO_TOKEN", "bao-env-token-Lm4")
    monkeypatch.setenv("BAO_ADDR", "http://127.0.0.1:8200")
    seen: list[t.Any] = []

    def body(module: GarageModule) -> None:
        seen.extend([module.admin, module.openbao])
        module.exit_json(changed=False, echo="bao-env-token-Lm4")

    rc, result = run_module({"admin_token": TOKEN}, body, capsys, option_groups=(ADMIN, OPENBAO))
    assert rc == 0 and "bao-env-token-Lm4" not in json.dumps(result)
    assert isinstance(seen[0], GarageAdminClient) and isinstance(seen[1], OpenBaoClient)


def run_body(
    capsys: pytest.CaptureFixture[str], value: t.Callable[[], t.Any], *, diff: bool = False, what: str | None = None
) -> tuple[int, dict[str, t.Any]]:
    return run_module(
        {"admin_token": TOKEN, "_ansible_diff": diff}, lambda m: m.run(value, what=what), capsys
    )


def test_run_exits_with_an_outcome_and_its_diff(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = Outcome(before=None, after=present({"name": "b"}), result={"bucket": {"id": "b1"}}, warnings=("careful",))
    rc, result = run_body(capsys, lambda: outcome, diff=True)
    assert rc == 0 and result["changed"] is True and result["bucket"] == {"id": "b1"}
    assert result["diff"] == {"before": {"state": "absent"}, "after": {"state": "present", "name": "b"}}
    assert "careful" in json.dumps(result["warnings"])
    rc, result = run_body(capsys, lambda: Outcome.unchanged(present({"name": "b"})))
    assert rc == 0 and result["changed"] is False and "diff" not in result


def test_run_exits_with_a_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    rc, result = run_body(capsys, lambda: {"buckets": []})
    assert rc == 0 and result["changed"] is False and result["buckets"] == []


def test_run_converts_an_operation_error_once(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> t.Any:
        raise OperationError(
            "Failed to configure new bucket 'b'",
            failure_reason="bucket_configure_failed",
            changed=True,
            manual_cleanup_required=[{"resource": "bucket", "bucket_id": "b1"}],
            details={"failed_step": "configure"},
        )

    rc, result = run_body(capsys, body)
    assert rc == 1
    assert result["msg"] == "Failed to configure new bucket 'b'"
    assert result["failure_reason"] == "bucket_configure_failed"
    assert result["changed"] is True
    assert result["manual_cleanup_required"] == [{"resource": "bucket", "bucket_id": "b1"}]
    assert result["failed_step"] == "configure"
    assert "exception" not in result


def test_run_converts_an_api_error(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> t.Any:
        raise GarageNotFound("Bucket not found", status=404, code="NoSuchBucket", endpoint="GetBucketInfo")

    rc, result = run_body(capsys, body)
    assert rc == 1 and result["failure_reason"] == "not_found"
    assert (result["status"], result["garage_code"]) == (404, "NoSuchBucket")


def test_run_reports_a_bug_with_its_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> t.Any:
        raise KeyError("globalAliases")

    rc, result = run_body(capsys, body, what="manage bucket 'b'")
    assert rc == 1
    assert result["failure_reason"] == "unexpected_error" and result["changed"] is False
    assert result["msg"].startswith("Failed to manage bucket 'b': unexpected KeyError")
    assert "Traceback" in result.get("exception", "Traceback")


def test_run_never_leaks_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    def body() -> t.Any:
        raise OperationError(f"server echoed {TOKEN}", failure_reason="server_error", details={"x": TOKEN})

    _rc, result = run_body(capsys, body)
    assert TOKEN not in json.dumps(result)


def test_injected_client_is_used(capsys: pytest.CaptureFixture[str]) -> None:
    fake = mock.MagicMock()

    def body(module: GarageModule) -> None:
        module.set_client("admin", fake)
        assert module.admin is fake and module.client is fake

    rc, _result = run_module({}, body, capsys)
    assert rc == 0


def test_argument_errors_carry_a_failure_reason(capsys: pytest.CaptureFixture[str]) -> None:
    rc, result = run_module({"admin_token": TOKEN, "bogus": 1}, nothing, capsys)
    assert rc == 1 and "Unsupported parameters" in result["msg"]
    assert result["failure_reason"] == "invalid_input"
