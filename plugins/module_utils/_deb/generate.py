# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Generate (or refresh) a lock file: the operation behind ``deb_closure_lock`` and ``scripts/deb-closure``.

Reads the target base's dpkg status, every source through its signed ``InRelease``, resolves the closure and
writes the lock. The file is rewritten only when what it pins changes (the packages, their versions and
hashes, the request, the architecture, Recommends): a newer archive date alone leaves it alone, so a second
run reports no change.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import re
import tempfile
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._deb import archive, closure, control, lock
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, present

DEBIAN_12_SOURCES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("http://deb.debian.org/debian", "bookworm", ("main",)),
    ("http://deb.debian.org/debian", "bookworm-updates", ("main",)),
    ("http://deb.debian.org/debian-security", "bookworm-security", ("main",)),
)
_ARCH_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SUITE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


@dataclasses.dataclass(frozen=True)
class LockSpec:
    dest: str
    packages: tuple[str, ...]
    status_file: str
    name: str = ""
    architecture: str = "amd64"
    recommends: bool = False
    sources: tuple[tuple[str, str, tuple[str, ...]], ...] = DEBIAN_12_SOURCES
    keyring: str = archive.DEFAULT_KEYRING
    base_description: str = ""
    regenerate_hint: str = ""

    @property
    def lock_name(self) -> str:
        return self.name or self.packages[0].partition("=")[0]


def spec_from_params(params: t.Mapping[str, t.Any]) -> LockSpec:
    """Build and validate a :class:`LockSpec` from module-style parameters (raises ``InputError``)."""
    packages = tuple(str(p).strip() for p in params.get("packages") or [])
    if not packages or any(not p or " " in p for p in packages):
        raise InputError("packages must list at least one package name (or name=version), without blanks")
    arch = params.get("architecture") or "amd64"
    if not _ARCH_RE.match(arch):
        raise InputError(f"architecture {arch!r} is not a Debian architecture name")
    sources = params.get("sources")
    if sources:
        parsed = []
        for i, source in enumerate(sources):
            url, suite = str(source.get("url") or ""), str(source.get("suite") or "")
            components = tuple(source.get("components") or ("main",))
            if not url.startswith(("http://", "https://", "file://")) or not _SUITE_RE.match(suite):
                raise InputError(f"sources[{i}] needs an http(s) or file url and a suite, got {dict(source)!r}")
            parsed.append((url.rstrip("/"), suite, components))
        source_tuple = tuple(parsed)
    else:
        source_tuple = DEBIAN_12_SOURCES
    status_file = str(params.get("status_file") or "")
    if not status_file:
        raise InputError("status_file is required: a copy of the target base's /var/lib/dpkg/status")
    dest = str(params.get("dest") or "")
    if not dest:
        raise InputError("dest is required: the lock file to write")
    return LockSpec(
        dest=dest,
        packages=packages,
        status_file=status_file,
        name=str(params.get("name") or ""),
        architecture=arch,
        recommends=bool(params.get("recommends")),
        sources=source_tuple,
        keyring=str(params.get("keyring") or archive.DEFAULT_KEYRING),
        base_description=str(params.get("base_description") or ""),
        regenerate_hint=str(params.get("regenerate_hint") or ""),
    )


def pinned_view(data: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    """What a lock pins (the part whose change is a change): None for no lock or an unreadable one."""
    if not data or not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        return None
    return present({
        "name": data.get("name"),
        "architecture": data.get("architecture"),
        "recommends": bool(data.get("recommends")),
        "requested": list(data.get("requested") or []),
        "packages": {
            str(p.get("package")): f"{p.get('version')} {p.get('architecture')} {p.get('sha256')}"
            for p in data["packages"] if isinstance(p, dict)
        },
    })


def _yaml() -> t.Any:
    """PyYAML (a dependency of ansible-core), imported where a lock is read."""
    try:
        return importlib.import_module("yaml")
    except ImportError:  # pragma: no cover - ansible-core always has it
        raise DebClosureError("PyYAML is needed to read a lock", failure_reason="missing_dependency") from None


def read_lock(path: str) -> dict[str, t.Any] | None:
    """The parsed lock at ``path``; None when there is no file or it is not a lock."""
    if not os.path.exists(path):
        return None
    yaml = _yaml()
    with open(path, encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError:
            return None
    return data if isinstance(data, dict) else None


def _write(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".lock-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def generate(
    spec: LockSpec,
    *,
    dry_run: bool,
    fetch: archive.Fetch | None = None,
    verify: t.Callable[[bytes, str], None] | None = None,
) -> Outcome:
    """Resolve the closure of ``spec`` and write its lock to ``spec.dest`` when what it pins changed.

    ``fetch`` and ``verify`` default to :func:`archive.http_get` and :func:`archive.verify_inrelease`
    (looked up at call time).
    """
    fetch = fetch or archive.http_get
    verify = verify or archive.verify_inrelease
    try:
        with open(spec.status_file, encoding="utf-8") as handle:
            status_text = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read status_file {spec.status_file}: {exc.strerror}") from None
    installed = control.parse_status(status_text)
    if not installed:
        raise InputError(f"{spec.status_file} lists no installed package: is it a dpkg status file?")
    available: list[control.Package] = []
    facts = []
    for url, suite, components in spec.sources:
        found, fact = archive.read_source(url, suite, components, spec.architecture, keyring=spec.keyring,
                                          fetch=fetch, verify=verify)
        available.extend(found)
        facts.append(fact)
    result = closure.resolve(spec.packages, available, installed, spec.architecture, recommends=spec.recommends)
    base: dict[str, t.Any] = {
        "status_sha256": hashlib.sha256(status_text.encode()).hexdigest(),
        "installed_packages": len(installed),
    }
    if spec.base_description:
        base["description"] = spec.base_description
    text = lock.render_lock(result, name=spec.lock_name, sources=facts, base=base, command=spec.regenerate_hint)
    new = lock.validate_lock(_yaml().safe_load(text))
    before = pinned_view(read_lock(spec.dest))
    after = pinned_view(new)
    if before != after and not dry_run:
        _write(spec.dest, text)
    entries = [{k: e[k] for k in ("package", "version", "architecture", "size")} for e in new["packages"]]
    return Outcome(
        before=before,
        after=after,
        result={
            "lock": spec.dest,
            "packages": entries,
            "count": len(entries),
            "total_size": result.total_size,
            "upgrades": dict(sorted(result.upgrades.items())),
            "skipped_recommends": list(result.skipped_recommends),
        },
    )
