# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy
import typing as t

import pytest
import yaml

from ansible_collections.cellar.garage.plugins.module_utils._deb.closure import resolve
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._deb.lock import render_lock, sha256sums, validate_lock
from tests.unit.plugins.module_utils._deb.debdata import MIRROR, packages
from tests.unit.plugins.module_utils._deb.debdata import index_entry as ix

SOURCES = [{"url": MIRROR, "suite": "bookworm", "components": ["main"], "date": "Sat, 10 May 2025 08:56:22 UTC",
            "ignored": "x"}]
BASE = {"status_sha256": "c" * 64, "installed_packages": 2}


def render(requested: list[str] | None = None, **kwargs: t.Any) -> str:
    index = packages(ix("app", "1:2.0~rc1+ds-1", Depends="lib"), ix("lib", "1.0", arch="all"))
    closure = resolve(requested or ["app"], index, [], "amd64", recommends=True)
    return render_lock(closure, name="app", sources=SOURCES, base=BASE, **kwargs)


def test_round_trip_through_yaml() -> None:
    data = validate_lock(yaml.safe_load(render(command="scripts/deb-closure lock app")))
    assert data["lock_version"] == 1
    assert data["name"] == "app"
    assert data["architecture"] == "amd64"
    assert data["recommends"] is True
    assert data["requested"] == ["app"]
    assert data["base"] == BASE
    assert data["sources"] == [{k: v for k, v in SOURCES[0].items() if k != "ignored"}]
    assert data["total_size"] == 6000
    app, lib = data["packages"]
    assert app == {
        "package": "app",
        "version": "1:2.0~rc1+ds-1",
        "architecture": "amd64",
        "filename": "app_2.0~rc1+ds-1_amd64.deb",
        "sha256": app["sha256"],
        "size": 3000,
        "url": f"{MIRROR}/pool/main/a/app/app_2.0~rc1+ds-1_amd64.deb",
    }
    assert len(app["sha256"]) == 64
    assert lib["architecture"] == "all"


def test_rendering_is_byte_stable_and_documents_regeneration() -> None:
    text = render(command="scripts/deb-closure lock app")
    assert text == render(command="scripts/deb-closure lock app")
    assert text.startswith("# Lock of the app .deb closure")
    assert "# Regenerate with: scripts/deb-closure lock app\n" in text
    assert text.endswith("}\n")


def test_empty_closure_renders_an_empty_list() -> None:
    index = packages(ix("app"))
    from ansible_collections.cellar.garage.plugins.module_utils._deb.control import parse_status

    base = parse_status("Package: app\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n")
    closure = resolve(["app"], index, base, "amd64")
    data = validate_lock(yaml.safe_load(render_lock(closure, name="app", sources=SOURCES, base=BASE)))
    assert data["packages"] == []
    assert data["total_size"] == 0


def test_sha256sums() -> None:
    data = validate_lock(yaml.safe_load(render()))
    lines = sha256sums(data).splitlines()
    assert lines == [f"{p['sha256']}  {p['filename']}" for p in data["packages"]]


def good() -> dict[str, t.Any]:
    return t.cast(dict, yaml.safe_load(render()))


def broken(change: t.Callable[[dict[str, t.Any]], None]) -> dict[str, t.Any]:
    data = copy.deepcopy(good())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (lambda d: d.update(lock_version=2), "malformed_lock", "lock_version"),
        (lambda d: d.update(architecture="AMD 64"), "malformed_lock", "architecture"),
        (lambda d: d.update(packages={}), "malformed_lock", "packages must be a list"),
        (lambda d: d["packages"].append("x"), "malformed_lock", "not a mapping"),
        (lambda d: d["packages"][0].pop("sha256"), "malformed_lock", "lacks sha256"),
        (lambda d: d["packages"][0].update(sha256="A" * 64), "malformed_lock", "64 lowercase hex"),
        (lambda d: d["packages"][0].update(version="x"), "malformed_lock", "malformed Debian version"),
        (lambda d: d["packages"][0].update(package="Bad_Name"), "malformed_lock", "not a package name"),
        (lambda d: d["packages"][0].update(filename="../../etc/x.deb"), "malformed_lock", "plain *.deb"),
        (lambda d: d["packages"][0].update(filename="x.tar"), "malformed_lock", "plain *.deb"),
        (lambda d: d["packages"][1].update(package="app"), "malformed_lock", "listed twice"),
        (lambda d: d["packages"][1].update(filename=d["packages"][0]["filename"]), "malformed_lock", "listed twice"),
        (lambda d: d["packages"][0].update(architecture="arm64"), "architecture_mismatch", "arm64"),
    ],
)
def test_validate_rejects(change: t.Callable[[dict[str, t.Any]], None], reason: str, words: str) -> None:
    with pytest.raises(DebClosureError) as info:
        validate_lock(broken(change))
    assert info.value.failure_reason == reason
    assert words in info.value.message


def test_validate_rejects_non_mapping() -> None:
    with pytest.raises(DebClosureError) as info:
        validate_lock(["packages"])
    assert info.value.failure_reason == "malformed_lock"
