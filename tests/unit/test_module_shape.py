# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shape every module keeps (issue 9): docs + argspec + a short ``main()``.

- a module file defines no function but ``main()`` and no class: resource logic lives in
  module_utils, where other modules (orchestrations, garage_estate) can import it;
- only ``main()`` ends the process (``run``, ``exit_outcome``, ``exit_json``, ``fail_json``, ...);
- in module_utils only the glue (``_module.py``) calls ``exit_json`` / ``fail_json``;
- every module is built on ``GarageModule`` (one error conversion, ``failure_reason`` everywhere).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(p for p in (REPO / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
MODULE_UTILS = sorted((REPO / "plugins" / "module_utils").rglob("*.py"))
EXITS = {"exit_json", "fail_json", "exit_outcome", "fail_error", "run"}
MAIN_MAX_LINES = 45


def _calls_outside_main(tree: ast.Module, names: set[str]) -> list[str]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "main":
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Attribute) and sub.func.attr in names:
                found.append(f"line {sub.lineno}: .{sub.func.attr}()")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_only_main_ends_the_process(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _calls_outside_main(tree, EXITS) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_module_file_is_docs_argspec_and_a_short_main(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert functions == ["main"], f"move {functions} into module_utils"
    assert classes == [], f"move {classes} into module_utils"
    main = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main")
    length = t_end(main) - main.lineno + 1
    assert length <= MAIN_MAX_LINES, f"main() has {length} lines"
    assert "GarageModule(" in path.read_text(encoding="utf-8")


def t_end(node: ast.AST) -> int:
    return int(getattr(node, "end_lineno", 0) or 0)


@pytest.mark.parametrize("path", MODULE_UTILS, ids=lambda p: str(p.relative_to(REPO / "plugins" / "module_utils")))
def test_module_utils_never_end_the_process(path: Path) -> None:
    if path.name == "_module.py":
        return
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        f"line {n.lineno}: .{n.func.attr}()"
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in ("exit_json", "fail_json")
    ]
    assert calls == []


@pytest.mark.parametrize("path", MODULE_UTILS, ids=lambda p: str(p.relative_to(REPO / "plugins" / "module_utils")))
def test_layers_below_the_glue_do_not_import_ansible_module_machinery(path: Path) -> None:
    """Clients and operations stay free of AnsibleModule (only ansible.module_utils.urls is allowed)."""
    if path.name in ("_module.py", "_options.py"):
        return
    text = path.read_text(encoding="utf-8")
    assert "ansible.module_utils.basic" not in text, "only the glue may use AnsibleModule"


def test_advice_names_only_things_that_exist() -> None:
    """Issue 9: error messages advised a bucket-clear module that does not exist yet. Every
    ``cellar.garage.<name>`` the module_utils mention is a module, a doc fragment or an action group."""
    modules = {p.stem for p in MODULES}
    fragments = {p.stem for p in (REPO / "plugins" / "doc_fragments").glob("_*.py")}
    groups = set(yaml.safe_load((REPO / "meta" / "runtime.yml").read_text(encoding="utf-8"))["action_groups"])
    unknown = []
    for path in MODULE_UTILS:
        for name in re.findall(r"cellar\.garage\.(\w+)", path.read_text(encoding="utf-8")):
            if name not in modules | fragments | groups | {"plugins"}:
                unknown.append(f"{path.name}: cellar.garage.{name}")
    assert unknown == []
