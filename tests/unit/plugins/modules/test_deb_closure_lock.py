# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import typing as t
from pathlib import Path

import pytest
import yaml

from ansible_collections.cellar.garage.plugins.module_utils._deb import archive
from ansible_collections.cellar.garage.plugins.modules import deb_closure_lock
from tests.unit.plugins.module_utils._deb.debdata import index_entry as ix
from tests.unit.plugins.module_utils._deb.debdata import status_entry as st
from tests.unit.plugins.module_utils._deb.test_deb_generate import write_archive


@pytest.fixture
def args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, t.Any]:
    monkeypatch.setattr(archive, "verify_inrelease", lambda data, keyring: None)
    url = write_archive(tmp_path / "archive", [ix("app", Depends="lib"), ix("lib")])
    status = tmp_path / "status"
    status.write_text(st("base"))
    return {"dest": str(tmp_path / "app.lock.yml"), "packages": ["app"], "status_file": str(status),
            "sources": [{"url": url, "suite": "bookworm"}]}


def test_check_mode_predicts_and_writes_nothing(run_module: t.Any, args: dict[str, t.Any]) -> None:
    result = run_module(deb_closure_lock, args, check_mode=True, diff=True)
    assert result["changed"] and not result["failed"]
    assert result["diff"]["before"] == {"state": "absent"}
    assert sorted(result["diff"]["after"]["packages"]) == ["app", "lib"]
    assert not Path(args["dest"]).exists()


def test_writes_then_reports_no_change(run_module: t.Any, args: dict[str, t.Any]) -> None:
    first = run_module(deb_closure_lock, args)
    assert first["changed"] and first["count"] == 2 and first["lock"] == args["dest"]
    assert [p["package"] for p in yaml.safe_load(Path(args["dest"]).read_text())["packages"]] == ["app", "lib"]
    second = run_module(deb_closure_lock, args)
    assert not second["changed"]
    check = run_module(deb_closure_lock, args, check_mode=True)
    assert not check["changed"]


def test_failure_carries_the_reason(run_module: t.Any, args: dict[str, t.Any]) -> None:
    result = run_module(deb_closure_lock, {**args, "packages": ["missing"]})
    assert result["failed"]
    assert result["failure_reason"] == "unknown_package"
    assert result["changed"] is False
    assert "missing is not in the archive" in result["msg"]


def test_bad_input(run_module: t.Any, args: dict[str, t.Any]) -> None:
    result = run_module(deb_closure_lock, {**args, "architecture": "Not An Arch"})
    assert result["failed"] and result["failure_reason"] == "invalid_input"


def test_signature_failure_stops_before_resolving(run_module: t.Any, args: dict[str, t.Any],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(data: bytes, keyring: str) -> None:
        raise archive.DebClosureError("bad signature", failure_reason="signature_invalid")

    monkeypatch.setattr(archive, "verify_inrelease", refuse)
    result = run_module(deb_closure_lock, args)
    assert result["failed"] and result["failure_reason"] == "signature_invalid"
    assert not Path(args["dest"]).exists()
