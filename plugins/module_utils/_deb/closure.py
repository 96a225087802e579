# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The closure of a set of packages against a target's base: what must be installed, and nothing else.

``resolve()`` is a pure function over plain values: the packages an archive offers (``Packages`` indexes),
the packages the target already has (its dpkg ``status``), the target's architecture and whether
Recommends count. It follows apt's choices where they are deterministic and refuses to guess where apt
would guess:

- a requested package (``name`` or ``name=version``) is taken at the requested or the highest version,
  unless exactly that version is already installed;
- a dependency (Depends and Pre-Depends, plus Recommends when asked) already satisfied by an installed or
  an already chosen package adds nothing; otherwise its first alternative that can be satisfied wins, by a
  real package at its highest version, or by the single package that provides it (an installed package
  too old for a versioned dependency is upgraded, like apt does);
- a virtual package with several providers, none requested, is an error naming the providers (add the
  one you want to the requested packages);
- a Recommends that cannot be satisfied is skipped (as apt does) and reported;
- Conflicts and Breaks between the result and the base (or within the result) are an error.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from ansible_collections.cellar.garage.plugins.module_utils._deb.control import Package, Relation
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._deb.version import compare, satisfies


@dataclass
class Closure:
    """What ``resolve`` found: the packages to install (sorted by name) and why each is there."""

    packages: list[Package]
    architecture: str
    recommends: bool
    requested: list[str]
    reasons: dict[str, str] = field(default_factory=dict)  # package name -> "requested" or "dep of X: rel"
    upgrades: dict[str, str] = field(default_factory=dict)  # package name -> installed version it replaces
    skipped_recommends: list[str] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(p.size for p in self.packages)


class _Index:
    """Packages by name and by what they provide, restricted to the target's architecture and ``all``."""

    def __init__(self, packages: t.Iterable[Package], architecture: str) -> None:
        self.by_name: dict[str, list[Package]] = {}
        self.providers: dict[str, list[tuple[Package, Relation]]] = {}
        seen: set[tuple[str, str, str]] = set()
        for package in packages:
            if package.architecture not in (architecture, "all") or package.key in seen:
                continue
            seen.add(package.key)
            self.by_name.setdefault(package.name, []).append(package)
            for provided in package.provides:
                self.providers.setdefault(provided.name, []).append((package, provided))
        for versions in self.by_name.values():
            versions.sort(key=_VersionKey, reverse=True)

    def candidate(self, name: str) -> Package | None:
        """The version apt would pick: the highest (all archives have the same priority here)."""
        versions = self.by_name.get(name)
        return versions[0] if versions else None


class _VersionKey:
    def __init__(self, package: Package) -> None:
        self.version = package.version

    def __lt__(self, other: _VersionKey) -> bool:
        return compare(self.version, other.version) < 0


def _arch_ok(relation: Relation, package: Package, architecture: str) -> bool:
    """Whether ``package`` may satisfy ``relation`` as far as architecture qualifiers go."""
    if relation.arch in (None, "native"):
        return package.architecture in (architecture, "all")
    if relation.arch == "any":
        # ``foo:any`` is only satisfied by a package that declares ``Multi-Arch: allowed``.
        return package.multi_arch == "allowed"
    return package.architecture == relation.arch


def _provides(package: Package, relation: Relation, architecture: str) -> bool:
    """Whether ``package`` (by itself or by a Provides) satisfies the single alternative ``relation``."""
    if not _arch_ok(relation, package, architecture):
        return False
    if package.name == relation.name and satisfies(package.version, relation.op, relation.version):
        return True
    for provided in package.provides:
        if provided.name != relation.name:
            continue
        if relation.op is None:
            return True
        # A versioned relation is only satisfied by a versioned Provides (``foo (= 1.2)``).
        if provided.op == "=" and provided.version and satisfies(provided.version, relation.op, relation.version):
            return True
    return False


def _depends_on(package: Package, name: str) -> bool:
    return any(alt.name == name for group in package.pre_depends + package.depends for alt in group)


def _parse_request(item: str) -> tuple[str, str | None]:
    name, _sep, version = item.strip().partition("=")
    if not name or (_sep and not version):
        raise DebClosureError(f"invalid package request {item!r}: expected 'name' or 'name=version'",
                              failure_reason="unknown_package")
    return name, version or None


def resolve(
    requested: t.Sequence[str],
    available: t.Iterable[Package],
    installed: t.Iterable[Package],
    architecture: str,
    *,
    recommends: bool = False,
) -> Closure:
    """Resolve the closure of ``requested`` against the base ``installed``; see the module docstring."""
    if not requested:
        raise DebClosureError("no package requested", failure_reason="unknown_package")
    index = _Index(available, architecture)
    base: dict[str, Package] = {}
    for package in installed:
        if package.architecture in (architecture, "all"):
            base[package.name] = package
    chosen: dict[str, Package] = {}
    closure = Closure(packages=[], architecture=architecture, recommends=recommends,
                      requested=[r.strip() for r in requested])
    requested_names = {_parse_request(r)[0] for r in requested}
    queue: list[Package] = []
    dependents: list[Package] = []  # installed packages that depend on one the closure upgrades

    def choose(package: Package, reason: str) -> None:
        if package.name in chosen:
            if chosen[package.name].version != package.version:
                raise DebClosureError(
                    f"{package.name} is needed at two versions: {chosen[package.name].version} "
                    f"({closure.reasons[package.name]}) and {package.version} ({reason})",
                    failure_reason="conflict",
                    details={"package": package.name},
                )
            return
        chosen[package.name] = package
        closure.reasons[package.name] = reason
        if package.name in base and base[package.name].version != package.version:
            closure.upgrades[package.name] = base[package.name].version
            dependents.extend(p for p in base.values() if p.name not in chosen and _depends_on(p, package.name))
        queue.append(package)

    for item in requested:
        name, version = _parse_request(item)
        versions = index.by_name.get(name, [])
        if version is not None:
            versions = [p for p in versions if compare(p.version, version) == 0]
        if not versions:
            if name in base and (version is None or compare(base[name].version, version) == 0):
                continue  # already in the base, and no archive offers it: nothing to install
            what = f"{name}={version}" if version else name
            providers = sorted({p.name for p, _rel in index.providers.get(name, [])})
            hint = f" (a virtual package provided by {', '.join(providers)}: request one of them)" if providers else ""
            raise DebClosureError(f"{what} is not in the archive for {architecture}{hint}",
                                  failure_reason="unknown_package", details={"package": name})
        wanted = versions[0]
        if name in base and compare(base[name].version, wanted.version) == 0:
            continue
        choose(wanted, "requested")

    def satisfied(relation: Relation) -> bool:
        if any(_provides(package, relation, architecture) for package in chosen.values()):
            return True
        # An installed version that the closure replaces no longer counts.
        return any(
            _provides(package, relation, architecture) for name, package in base.items() if name not in chosen
        )

    def pick(relation: Relation) -> Package | None:
        real = index.candidate(relation.name)
        if real is not None and _provides(real, relation, architecture):
            return real
        providers: dict[str, Package] = {}
        for package, _provided in index.providers.get(relation.name, []):
            best = index.candidate(package.name)
            if best is not None and _provides(best, relation, architecture):
                providers[best.name] = best
        if not providers:
            return None
        if len(providers) == 1:
            return next(iter(providers.values()))
        preferred = [p for name, p in providers.items() if name in requested_names]
        if len(preferred) == 1:
            return preferred[0]
        raise DebClosureError(
            f"{relation} is a virtual package with several providers ({', '.join(sorted(providers))}): "
            "add the one you want to the requested packages",
            failure_reason="ambiguous_virtual_package",
            details={"relation": str(relation), "providers": sorted(providers)},
        )

    def _upgrade_dependent(installed_package: Package) -> None:
        """An installed package whose dependency the closure upgraded: still fine, or upgraded too."""
        if installed_package.name in chosen:
            return
        groups = installed_package.pre_depends + installed_package.depends
        if all(any(satisfied(alt) for alt in group) for group in groups):
            return
        newer = index.candidate(installed_package.name)
        if newer is None or compare(newer.version, installed_package.version) == 0:
            raise DebClosureError(
                f"{installed_package} (in the base) would break: the closure upgrades one of its dependencies"
                " and the archive has no other version of it",
                failure_reason="conflict",
                details={"package": installed_package.name},
            )
        choose(newer, f"upgraded with its dependencies (was {installed_package.version})")

    while queue or dependents:
        if not queue:
            _upgrade_dependent(dependents.pop(0))
            continue
        package = queue.pop(0)
        kinds: list[tuple[str, t.Any]] = [("Pre-Depends", package.pre_depends), ("Depends", package.depends)]
        if recommends:
            kinds.append(("Recommends", package.recommends))
        for kind, groups in kinds:
            for group in groups:
                if any(satisfied(alt) for alt in group):
                    continue
                found = None
                for alt in group:
                    found = pick(alt)
                    if found is not None:
                        break
                text = " | ".join(str(alt) for alt in group)
                if found is None:
                    if kind == "Recommends":
                        closure.skipped_recommends.append(f"{package.name}: {text}")
                        continue
                    raise DebClosureError(
                        f"{package} {kind} {text}, which neither the base nor the archive satisfies"
                        f" (why {package.name}: {closure.reasons[package.name]})",
                        failure_reason="unresolvable_dependency",
                        details={"package": package.name, "relation": text},
                    )
                choose(found, f"{kind} of {package.name}: {text}")

    _check_conflicts(chosen, base, architecture)
    closure.packages = sorted(chosen.values(), key=lambda p: p.name)
    return closure


def _check_conflicts(chosen: t.Mapping[str, Package], base: t.Mapping[str, Package], architecture: str) -> None:
    """Conflicts/Breaks of a chosen package against the result and the base (the base as upgraded)."""
    final: dict[str, Package] = dict(base)
    final.update(chosen)
    for package in chosen.values():
        for kind, groups in (("Conflicts", package.conflicts), ("Breaks", package.breaks)):
            for group in groups:
                for relation in group:
                    for other in final.values():
                        if other.name == package.name:
                            continue  # a package never conflicts with itself (Provides/Conflicts/Replaces)
                        if _provides(other, relation, architecture):
                            raise DebClosureError(
                                f"{package} {kind} {relation}, which {other} satisfies"
                                f" ({'in the base' if other.name not in chosen else 'in the closure'})",
                                failure_reason="conflict",
                                details={"package": package.name, "other": other.name, "relation": str(relation)},
                            )
    # The other direction: an installed package that conflicts with or breaks a chosen one.
    for other in base.values():
        if other.name in chosen:
            continue
        for kind, groups in (("Conflicts", other.conflicts), ("Breaks", other.breaks)):
            for group in groups:
                for relation in group:
                    for package in chosen.values():
                        if package.name != other.name and _provides(package, relation, architecture):
                            raise DebClosureError(
                                f"{other} (in the base) {kind} {relation}, which {package} satisfies",
                                failure_reason="conflict",
                                details={"package": package.name, "other": other.name, "relation": str(relation)},
                            )
