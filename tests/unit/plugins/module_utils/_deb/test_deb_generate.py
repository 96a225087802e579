# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""generate(): the lock-writing operation, on a synthetic file:// archive."""

from __future__ import annotations

import hashlib
import lzma
import typing as t
from pathlib import Path

import pytest
import yaml

from ansible_collections.cellar.garage.plugins.module_utils._deb import generate
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from tests.unit.plugins.module_utils._deb.debdata import index_entry as ix
from tests.unit.plugins.module_utils._deb.debdata import status_entry as st


def write_archive(root: Path, entries: list[str], date: str = "Sat, 10 May 2025 08:56:22 UTC") -> str:
    """A one-suite archive under ``root`` (InRelease unsigned: tests pass ``verify``)."""
    raw = lzma.compress("\n".join(entries).encode())
    index = root / "dists/bookworm/main/binary-amd64/Packages.xz"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_bytes(raw)
    (root / "dists/bookworm/InRelease").write_text(
        f"Suite: stable\nCodename: bookworm\nDate: {date}\nSHA256:\n"
        f" {hashlib.sha256(raw).hexdigest()} {len(raw)} main/binary-amd64/Packages.xz\n"
    )
    return f"file://{root}"


def accept(data: bytes, keyring: str) -> None:
    assert data.startswith(b"Suite:") and keyring


@pytest.fixture
def setup(tmp_path: Path) -> dict[str, t.Any]:
    url = write_archive(tmp_path / "archive", [ix("app", "2.0", Depends="lib (>= 1.1), base"), ix("lib", "1.1"),
                                               ix("lib", "1.2")])
    status = tmp_path / "status"
    status.write_text(st("base", "1"))
    params = {"dest": str(tmp_path / "out/app.lock.yml"), "packages": ["app"], "status_file": str(status),
              "sources": [{"url": url, "suite": "bookworm", "components": ["main"]}]}
    return {"params": params, "tmp": tmp_path, "url": url}


def run(params: t.Mapping[str, t.Any], dry_run: bool = False) -> generate.Outcome:
    return generate.generate(generate.spec_from_params(params), dry_run=dry_run, verify=accept)


def test_writes_the_lock_then_is_idempotent(setup: dict[str, t.Any]) -> None:
    first = run(setup["params"])
    assert first.changed
    dest = Path(setup["params"]["dest"])
    data = yaml.safe_load(dest.read_text())
    assert [(p["package"], p["version"]) for p in data["packages"]] == [("app", "2.0"), ("lib", "1.2")]
    assert data["packages"][0]["url"] == f"{setup['url']}/pool/main/a/app/app_2.0_amd64.deb"
    assert first.result["count"] == 2 and first.result["total_size"] == 6000
    assert first.before == {"state": "absent"}
    assert first.after["packages"]["lib"].startswith("1.2 amd64 ")
    assert oct(dest.stat().st_mode & 0o777) == "0o644"
    mtime = dest.stat().st_mtime_ns
    second = run(setup["params"])
    assert not second.changed
    assert dest.stat().st_mtime_ns == mtime


def test_a_newer_archive_date_alone_changes_nothing(setup: dict[str, t.Any]) -> None:
    run(setup["params"])
    text = Path(setup["params"]["dest"]).read_text()
    write_archive(setup["tmp"] / "archive", [ix("app", "2.0", Depends="lib (>= 1.1), base"), ix("lib", "1.1"),
                                             ix("lib", "1.2")], date="Sun, 11 May 2025 08:56:22 UTC")
    assert not run(setup["params"]).changed
    assert Path(setup["params"]["dest"]).read_text() == text


def test_a_new_version_rewrites_the_lock(setup: dict[str, t.Any]) -> None:
    run(setup["params"])
    write_archive(setup["tmp"] / "archive", [ix("app", "2.0", Depends="lib (>= 1.1), base"), ix("lib", "1.3")])
    outcome = run(setup["params"])
    assert outcome.changed
    assert outcome.diff()["before"]["packages"]["lib"].startswith("1.2 ")
    assert outcome.diff()["after"]["packages"]["lib"].startswith("1.3 ")
    assert "1.3" in Path(setup["params"]["dest"]).read_text()


def test_dry_run_writes_nothing(setup: dict[str, t.Any]) -> None:
    outcome = run(setup["params"], dry_run=True)
    assert outcome.changed
    assert not Path(setup["params"]["dest"]).exists()


def test_an_unreadable_old_lock_is_replaced(setup: dict[str, t.Any]) -> None:
    dest = Path(setup["params"]["dest"])
    dest.parent.mkdir(parents=True)
    dest.write_text("{not: [yaml")
    assert run(setup["params"]).changed
    assert yaml.safe_load(dest.read_text())["lock_version"] == 1


def test_resolution_errors_leave_the_old_lock(setup: dict[str, t.Any]) -> None:
    run(setup["params"])
    text = Path(setup["params"]["dest"]).read_text()
    with pytest.raises(DebClosureError) as info:
        run({**setup["params"], "packages": ["nope"]})
    assert info.value.failure_reason == "unknown_package"
    assert Path(setup["params"]["dest"]).read_text() == text


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"packages": []}, "at least one package"),
        ({"packages": ["a b"]}, "without blanks"),
        ({"architecture": "AMD64"}, "architecture"),
        ({"status_file": ""}, "status_file is required"),
        ({"dest": ""}, "dest is required"),
        ({"sources": [{"url": "ftp://x", "suite": "bookworm"}]}, "sources[0]"),
        ({"sources": [{"url": "http://x", "suite": "../x y"}]}, "sources[0]"),
    ],
)
def test_bad_input_is_refused_before_any_read(setup: dict[str, t.Any], change: dict[str, t.Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        generate.spec_from_params({**setup["params"], **change})
    assert words in info.value.message
    assert info.value.failure_reason == "invalid_input"


def test_status_file_problems(setup: dict[str, t.Any]) -> None:
    with pytest.raises(InputError) as info:
        run({**setup["params"], "status_file": str(setup["tmp"] / "missing")})
    assert "cannot read status_file" in info.value.message
    empty = setup["tmp"] / "empty"
    empty.write_text("")
    with pytest.raises(InputError) as info:
        run({**setup["params"], "status_file": str(empty)})
    assert "lists no installed package" in info.value.message


def test_default_sources_are_debian_12() -> None:
    spec = generate.spec_from_params({"dest": "x", "packages": ["podman"], "status_file": "s"})
    assert [s[1] for s in spec.sources] == ["bookworm", "bookworm-updates", "bookworm-security"]
    assert spec.lock_name == "podman"
    assert generate.spec_from_params({"dest": "x", "packages": ["a=1"], "status_file": "s"}).lock_name == "a"
