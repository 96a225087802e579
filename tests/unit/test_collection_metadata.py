# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options travel as a set of three per option group (STYLE.md item 4):

- the group's argspec (plugins/module_utils/_options.py) and its doc fragment document the
  same options with the same types, defaults and choices;
- every module that uses a group (``GarageModule(..., option_groups=(ADMIN, S3))``, ADMIN by
  default) documents the group's fragment and the action-group attribute, and is listed in the
  group's action group in meta/runtime.yml -- and each action group lists nothing else.
"""

from __future__ import annotations

import ast
import importlib
import typing as t
from pathlib import Path

import pytest
import yaml

from ansible_collections.cellar.garage.plugins.module_utils._options import GROUPS, OptionGroup

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
#: Python names of the groups in _options.py -> group.
GROUP_NAMES = {name.upper(): group for name, group in GROUPS.items()}


def _documentation(path: Path) -> dict[str, t.Any]:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DOCUMENTATION" for t in node.targets):
            return yaml.safe_load(ast.literal_eval(node.value))
    raise AssertionError(f"{path.name} has no DOCUMENTATION")


def module_groups(path: Path) -> list[OptionGroup] | None:
    """The option groups a module passes to GarageModule (None: it does not use GarageModule)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "GarageModule":
            for kw in node.keywords:
                if kw.arg == "option_groups":
                    assert isinstance(kw.value, (ast.Tuple, ast.List)), f"{path.name}: write option_groups literally"
                    return [GROUP_NAMES[t.cast(ast.Name, elt).id] for elt in kw.value.elts]
            return [GROUPS["admin"]]
    return None


def _action_groups() -> dict[str, list[str]]:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return {name: list(members or []) for name, members in runtime["action_groups"].items()}


def _fragment(group: OptionGroup) -> dict[str, t.Any]:
    name = group.doc_fragment.removeprefix("cellar.garage.")
    module = importlib.import_module(f"ansible_collections.cellar.garage.plugins.doc_fragments.{name}")
    return yaml.safe_load(module.ModuleDocFragment.DOCUMENTATION)


def _attributes_fragment(group: OptionGroup) -> dict[str, t.Any]:
    module = importlib.import_module("ansible_collections.cellar.garage.plugins.doc_fragments._attributes")
    text = getattr(module.ModuleDocFragment, group.attributes_fragment.rsplit(".", 1)[1].upper())
    return yaml.safe_load(text)


@pytest.mark.parametrize("group", list(GROUPS.values()), ids=list(GROUPS))
def test_fragment_documents_the_argspec(group: OptionGroup) -> None:
    documented = _fragment(group)["options"]
    spec = group.argspec.argument_spec
    assert sorted(documented) == sorted(spec), f"{group.doc_fragment} and the {group.name} argspec differ"
    for name, option in spec.items():
        doc = documented[name]
        assert doc["type"] == option["type"], name
        assert doc.get("default") == option.get("default"), name
        assert doc.get("choices") == option.get("choices"), name


@pytest.mark.parametrize("group", list(GROUPS.values()), ids=list(GROUPS))
def test_attributes_fragment_names_the_action_group(group: OptionGroup) -> None:
    attribute = _attributes_fragment(group)["attributes"]["action_group"]
    assert attribute["membership"] == [f"cellar.garage.{group.action_group}"]
    assert group.action_group in _action_groups()


def test_action_groups_list_exactly_the_modules_that_use_them() -> None:
    uses: dict[str, set[str]] = {g.action_group: set() for g in GROUPS.values()}
    for path in MODULES:
        for group in module_groups(path) or []:
            uses[group.action_group].add(path.stem)
    declared = _action_groups()
    assert set(declared) == set(uses), "meta/runtime.yml action groups != option groups"
    for name, members in declared.items():
        assert sorted(members) == sorted(uses[name]), f"action group {name}"


@pytest.mark.parametrize("path", [p for p in MODULES if module_groups(p)], ids=lambda p: p.stem)
def test_module_documents_its_groups(path: Path) -> None:
    doc = _documentation(path)
    assert doc["module"] == path.stem
    fragments = doc.get("extends_documentation_fragment") or []
    groups = module_groups(path) or []
    for group in groups:
        assert group.doc_fragment in fragments, (
            f"{path.name}: add {group.doc_fragment} to extends_documentation_fragment"
        )
    if len(groups) == 1:
        assert groups[0].attributes_fragment in fragments, f"{path.name}: add {groups[0].attributes_fragment}"
    else:
        # Fragments cannot merge two memberships: a multi-group module writes the attribute itself.
        membership = (doc.get("attributes") or {}).get("action_group", {}).get("membership")
        assert sorted(membership or []) == sorted(f"cellar.garage.{g.action_group}" for g in groups), path.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_author_renders_with_a_github_handle(path: Path) -> None:
    """Issue 9: an author without a handle renders as "(!UNKNOWN)" in ansible-doc."""
    authors = _documentation(path)["author"]
    assert all("!UNKNOWN" not in a and "(@" in a for a in authors), authors


def test_ansible_lint_leftovers_are_neither_committed_nor_built() -> None:
    """Issue 9: ansible-lint leaves .ansible/ behind; `make build` shipped a nested copy of the collection."""
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").split()
    assert ".ansible/" in ignored or ".ansible" in ignored
    build_ignore = yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["build_ignore"]
    assert ".ansible" in build_ignore
