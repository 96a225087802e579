# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection options travel as a set of three (STYLE.md item 4): every Admin API module
uses GarageModule, documents the `_connection` fragment and the action-group attribute, and
is listed in the `garage` action group of meta/runtime.yml -- and the group lists nothing else."""

from __future__ import annotations

import ast
import typing as t
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
FRAGMENTS = ["cellar.garage._connection", "cellar.garage._attributes.actiongroup_garage"]


def _documentation(path: Path) -> dict[str, t.Any]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


def _uses_garage_module(path: Path) -> bool:
    return "GarageModule" in path.read_text(encoding="utf-8")


def _action_group() -> list[str]:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return list(runtime["action_groups"]["garage"])


def test_action_group_lists_only_existing_modules() -> None:
    names = {p.stem for p in MODULES}
    missing = [m for m in _action_group() if m not in names]
    assert not missing, f"meta/runtime.yml lists modules that do not exist: {missing}"


@pytest.mark.parametrize("path", [p for p in MODULES if _uses_garage_module(p)], ids=lambda p: p.stem)
def test_admin_api_module_has_the_set_of_three(path: Path) -> None:
    doc = _documentation(path)
    fragments = doc.get("extends_documentation_fragment") or []
    for fragment in FRAGMENTS:
        assert fragment in fragments, f"{path.name}: add {fragment} to extends_documentation_fragment"
    assert path.stem in _action_group(), f"{path.name}: add it to action_groups.garage in meta/runtime.yml"
    assert doc["module"] == path.stem
