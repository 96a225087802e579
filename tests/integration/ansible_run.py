# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ``ansible-playbook`` / ``ansible`` against a real Garage cluster from tests.

    from tests.integration.ansible_run import run_playbook, run_adhoc

    r = run_playbook([{"name": "Create", "cellar.garage.garage_bucket": {"name": "photos"}}],
                     garage=cluster, diff=True)
    assert r.rc == 0, r.output
    assert r.task("Create").changed
    assert r.changed_tasks() == ["Create"]

- A list of *tasks* becomes one play on ``localhost`` (``gather_facts: false``,
  ``collections: [cellar.garage]`` so short names resolve to the collection, and
  ``module_defaults: {group/cellar.garage.garage: {admin_url, admin_token}}``).
- A list of *plays* (dicts with ``hosts`` or ``import_playbook``) runs as given; plays on
  which the helper can add connection defaults get them unless they set their own.
- ``garage`` is any object with ``.admin_url`` and ``.admin_token`` (e.g.
  ``tests/fixtures/garage.py``'s ``GarageCluster``), or ``None`` for plays that need no Garage.
- ``openbao`` (optional) is any object with ``.url``, ``.token`` and ``.ca_file`` (e.g.
  ``tests/fixtures/openbao.py``'s ``OpenBaoServer``): its connection goes into
  ``module_defaults`` for ``group/cellar.garage.openbao`` the same way.
- ``BAO_*`` / ``VAULT_*`` variables of the calling environment are not passed on (tests set
  them through ``env`` when they test the fallbacks).
- ``s3`` (optional): S3 connection values (``s3_url``, ``access_key_id``, ``secret_access_key``,
  ``region``, ...) given to every task through
  ``module_defaults: {group/cellar.garage.garage_s3: {...}}``, next to the admin defaults (see
  :class:`S3Credentials`); ``run_adhoc`` passes them as ``GARAGE_S3_*`` environment variables.
- The real ``ansible-playbook`` of the running venv is used with the repository's
  ``ansible.cfg``; each task result is recorded by ``callback_plugins/cellar_results.py``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CALLBACK_DIR = Path(__file__).resolve().parent / "callback_plugins"
ACTION_GROUP = "group/cellar.garage.garage"
OPENBAO_ACTION_GROUP = "group/cellar.garage.openbao"
S3_ACTION_GROUP = "group/cellar.garage.garage_s3"
DEFAULT_TIMEOUT = 600


class GarageLike(t.Protocol):
    admin_url: str
    admin_token: str


class OpenBaoLike(t.Protocol):
    url: str
    token: str
    ca_file: str | None


def _bin(name: str) -> str:
    """``ansible-playbook``/``ansible`` next to the running interpreter (the venv), else the repo venv."""
    for candidate in (Path(sys.executable).parent / name, REPO_ROOT / ".venv" / "bin" / name):
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found; run `make venv` first")
    return found


class TaskRecord(dict):  # type: ignore[type-arg]
    """One task result on one host: a dict with keys ``task``, ``host``, ``action``, ``changed``,
    ``failed``, ``skipped``, ``unreachable``, ``ignore_errors``, ``result`` (the module's return
    values, after Ansible's no_log censoring), also readable as attributes."""

    @property
    def name(self) -> str:
        return t.cast(str, self["task"])

    @property
    def host(self) -> str:
        return t.cast(str, self["host"])

    @property
    def changed(self) -> bool:
        return bool(self["changed"])

    @property
    def failed(self) -> bool:
        return bool(self["failed"])

    @property
    def skipped(self) -> bool:
        return bool(self["skipped"])

    @property
    def result(self) -> dict[str, t.Any]:
        return t.cast(dict, self["result"])  # type: ignore[type-arg]


@dataclasses.dataclass
class PlaybookResult:
    rc: int
    stdout: str
    stderr: str
    results: list[TaskRecord]
    command: list[str]
    playbook_text: str = ""

    @property
    def output(self) -> str:
        """stdout + stderr, handy in assertion messages: ``assert r.rc == 0, r.output``."""
        return f"$ {' '.join(self.command)}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"

    @property
    def ok(self) -> bool:
        return self.rc == 0

    def tasks(self, name: str) -> list[TaskRecord]:
        """Every record of task ``name`` (one per host, in order)."""
        return [r for r in self.results if r["task"] == name]

    def task(self, name: str, host: str | None = None) -> TaskRecord:
        """The record of task ``name`` (on ``host`` if given). KeyError lists the known names."""
        for record in self.results:
            if record["task"] == name and (host is None or record["host"] == host):
                return record
        known = ", ".join(repr(r["task"]) for r in self.results)
        raise KeyError(f"no result for task {name!r}; recorded tasks: {known}")

    def changed_tasks(self) -> list[str]:
        return [r["task"] for r in self.results if r["changed"]]

    def failed_tasks(self) -> list[str]:
        return [r["task"] for r in self.results if r["failed"] and not r.get("ignore_errors")]

    def assert_ok(self) -> PlaybookResult:
        if self.rc != 0:
            raise AssertionError(f"ansible exited {self.rc}; failed tasks: {self.failed_tasks()}\n{self.output}")
        return self


@dataclasses.dataclass(frozen=True)
class S3Credentials:
    """S3 connection values for the ``garage_s3`` action group (``repr`` hides the secret)."""

    s3_url: str
    access_key_id: str
    secret_access_key: str = dataclasses.field(repr=False)
    region: str = "garage"

    def defaults(self) -> dict[str, str]:
        return {
            "s3_url": self.s3_url,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": self.region,
        }

    def environment(self) -> dict[str, str]:
        return {
            "GARAGE_S3_URL": self.s3_url,
            "GARAGE_S3_ACCESS_KEY_ID": self.access_key_id,
            "GARAGE_S3_SECRET_ACCESS_KEY": self.secret_access_key,
            "GARAGE_S3_REGION": self.region,
        }


S3Like = t.Union[S3Credentials, t.Mapping[str, t.Any], None]


def _s3_defaults(s3: S3Like) -> dict[str, t.Any]:
    if s3 is None:
        return {}
    if isinstance(s3, S3Credentials):
        return s3.defaults()
    return dict(s3)


def _group_defaults(garage: GarageLike | None, s3: S3Like) -> dict[str, dict[str, t.Any]]:
    groups: dict[str, dict[str, t.Any]] = {}
    admin = _connection_defaults(garage)
    if admin:
        groups[ACTION_GROUP] = admin
    s3_values = _s3_defaults(s3)
    if s3_values:
        groups[S3_ACTION_GROUP] = s3_values
    return groups


def _is_play(item: t.Any) -> bool:
    return isinstance(item, dict) and (
        "hosts" in item or "import_playbook" in item or "ansible.builtin.import_playbook" in item
    )


def _connection_defaults(garage: GarageLike | None) -> dict[str, t.Any]:
    if garage is None:
        return {}
    return {"admin_url": garage.admin_url, "admin_token": garage.admin_token}


def _openbao_defaults(openbao: OpenBaoLike | None) -> dict[str, t.Any]:
    if openbao is None:
        return {}
    defaults = {"url": openbao.url, "token": openbao.token}
    if openbao.ca_file:
        defaults["ca_path"] = openbao.ca_file
    return defaults


def build_plays(
    tasks_or_plays: t.Any, garage: GarageLike | None, s3: S3Like = None, openbao: OpenBaoLike | None = None
) -> list[dict[str, t.Any]]:
    """The list of plays the helper would run (exposed for tests of the helper itself)."""
    if isinstance(tasks_or_plays, str):
        tasks_or_plays = yaml.safe_load(tasks_or_plays)
    if isinstance(tasks_or_plays, dict):
        tasks_or_plays = [tasks_or_plays]
    items = list(tasks_or_plays or [])
    groups = _group_defaults(garage, s3)
    openbao_values = _openbao_defaults(openbao)
    if openbao_values:
        groups[OPENBAO_ACTION_GROUP] = openbao_values
    if items and all(_is_play(i) for i in items):
        plays = [dict(p) for p in items]
        for play in plays:
            if "hosts" in play and groups:
                md = dict(play.get("module_defaults") or {})
                for group, values in groups.items():
                    md.setdefault(group, values)
                play["module_defaults"] = md
        return plays
    if any(_is_play(i) for i in items):
        raise ValueError("run_playbook: pass either a list of tasks or a list of plays, not a mix")
    play: dict[str, t.Any] = {
        "name": "cellar.garage test",
        "hosts": "localhost",
        "gather_facts": False,
        "collections": ["cellar.garage"],
        "tasks": items,
    }
    if groups:
        play["module_defaults"] = dict(groups)
    return [play]


def _environment(workdir: Path, results_file: Path, env: t.Mapping[str, str | None] | None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANSIBLE_", "GARAGE_ADMIN_", "GARAGE_S3_", "BAO_", "VAULT_"))
    }
    base.update(
        {
            "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "cellar_results",
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_HOST_KEY_CHECKING": "0",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
            "ANSIBLE_REMOTE_TEMP": str(workdir / "remote_tmp"),
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "CELLAR_RESULTS_FILE": str(results_file),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    for key, value in (env or {}).items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = str(value)
    return base


def _inventory(workdir: Path, inventory: str | os.PathLike[str] | t.Mapping[str, t.Any] | None) -> str:
    if inventory is None:
        path = workdir / "inventory.ini"
        path.write_text(
            f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n",
            encoding="utf-8",
        )
        return str(path)
    if isinstance(inventory, t.Mapping):
        path = workdir / "inventory.yml"
        path.write_text(yaml.safe_dump(dict(inventory), sort_keys=False), encoding="utf-8")
        return str(path)
    return os.fspath(inventory)


def _read_results(results_file: Path) -> list[TaskRecord]:
    if not results_file.exists():
        return []
    records = []
    for line in results_file.read_text(encoding="utf-8").splitlines():
        if line.strip():
            records.append(TaskRecord(json.loads(line)))
    return records


def _common_flags(check: bool, diff: bool, verbosity: int) -> list[str]:
    flags = []
    if check:
        flags.append("--check")
    if diff:
        flags.append("--diff")
    if verbosity > 0:
        flags.append("-" + "v" * verbosity)
    return flags


def _run(cmd: list[str], env: dict[str, str], results_file: Path, timeout: float, text: str) -> PlaybookResult:
    proc = subprocess.run(
        cmd,
        cwd=str(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return PlaybookResult(proc.returncode, proc.stdout, proc.stderr, _read_results(results_file), cmd, text)


def run_playbook(
    tasks_or_plays: t.Any,
    *,
    garage: GarageLike | None,
    openbao: OpenBaoLike | None = None,
    s3: S3Like = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    extra_vars: t.Mapping[str, t.Any] | None = None,
    env: t.Mapping[str, str | None] | None = None,
    inventory: str | os.PathLike[str] | t.Mapping[str, t.Any] | None = None,
    limit: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> PlaybookResult:
    """Run tasks or plays with the real ``ansible-playbook``; see the module docstring.

    ``env`` entries override the environment (``None`` removes a variable). ``inventory`` is a
    path, a YAML-able dict, or ``None`` for a local ``localhost``.
    """
    plays = build_plays(tasks_or_plays, garage, s3=s3, openbao=openbao)
    text = yaml.safe_dump(plays, sort_keys=False)
    with tempfile.TemporaryDirectory(prefix="cellar-run-") as tmp:
        workdir = Path(tmp)
        playbook = workdir / "playbook.yml"
        playbook.write_text(text, encoding="utf-8")
        results_file = workdir / "results.jsonl"
        cmd = [_bin("ansible-playbook"), str(playbook), "-i", _inventory(workdir, inventory)]
        cmd += _common_flags(check, diff, verbosity)
        if extra_vars:
            vars_file = workdir / "extra_vars.json"
            vars_file.write_text(json.dumps(dict(extra_vars)), encoding="utf-8")
            cmd += ["-e", f"@{vars_file}"]
        if limit:
            cmd += ["--limit", limit]
        return _run(cmd, _environment(workdir, results_file, env), results_file, timeout, text)


def run_adhoc(
    module: str,
    args: t.Mapping[str, t.Any] | str | None = None,
    *,
    garage: GarageLike | None,
    s3: S3Credentials | None = None,
    check: bool = False,
    diff: bool = False,
    verbosity: int = 0,
    env: t.Mapping[str, str | None] | None = None,
    host: str = "localhost",
    timeout: float = DEFAULT_TIMEOUT,
) -> PlaybookResult:
    """Run ``ansible <host> -m <module> -a <args>`` the way a user at a shell would.

    Ad-hoc commands have no module_defaults, so the connection comes from the environment
    (``GARAGE_ADMIN_URL`` / ``GARAGE_ADMIN_TOKEN``, and ``GARAGE_S3_*`` with ``s3``) as documented
    for users. ``args`` given as
    a dict are passed as JSON.
    """
    with tempfile.TemporaryDirectory(prefix="cellar-adhoc-") as tmp:
        workdir = Path(tmp)
        results_file = workdir / "results.jsonl"
        cmd = [_bin("ansible"), host, "-i", _inventory(workdir, None), "-m", module]
        if args:
            cmd += ["-a", args if isinstance(args, str) else json.dumps(dict(args))]
        cmd += _common_flags(check, diff, verbosity)
        full_env: dict[str, str | None] = {}
        if garage is not None:
            full_env.update({"GARAGE_ADMIN_URL": garage.admin_url, "GARAGE_ADMIN_TOKEN": garage.admin_token})
        if s3 is not None:
            full_env.update(s3.environment())
        full_env.update(env or {})
        return _run(cmd, _environment(workdir, results_file, full_env), results_file, timeout, "")
