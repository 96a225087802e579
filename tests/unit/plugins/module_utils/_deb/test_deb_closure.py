# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._deb.closure import Closure, resolve
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from tests.unit.plugins.module_utils._deb.debdata import index_entry as ix
from tests.unit.plugins.module_utils._deb.debdata import packages, status
from tests.unit.plugins.module_utils._deb.debdata import status_entry as st


def names(closure: Closure) -> list[str]:
    return [p.name for p in closure.packages]


def versions(closure: Closure) -> dict[str, str]:
    return {p.name: p.version for p in closure.packages}


def run(requested, index, base=(), arch="amd64", recommends=False) -> Closure:
    return resolve(requested, packages(*index), status(*base), arch, recommends=recommends)


def failure(requested, index, base=(), **kwargs) -> DebClosureError:
    with pytest.raises(DebClosureError) as info:
        run(requested, index, base, **kwargs)
    return info.value


# ------------------------------------------------------------------------------------------------ basics


def test_chain_is_followed_and_sorted() -> None:
    result = run(["app"], [ix("app", Depends="libb"), ix("libb", Depends="libc"), ix("libc"), ix("unrelated")])
    assert names(result) == ["app", "libb", "libc"]
    assert result.reasons == {"app": "requested", "libb": "Depends of app: libb", "libc": "Depends of libb: libc"}
    assert result.total_size == (3 + 4 + 4) * 1000


def test_base_satisfies_dependencies() -> None:
    result = run(["app"], [ix("app", Depends="libb, libc"), ix("libb"), ix("libc")], base=[st("libc")])
    assert names(result) == ["app", "libb"]
    assert result.upgrades == {}


def test_pre_depends_are_followed() -> None:
    result = run(["app"], [ix("app", Pre_Depends="libpre"), ix("libpre")])
    assert names(result) == ["app", "libpre"]
    assert result.reasons["libpre"] == "Pre-Depends of app: libpre"


def test_cycles_terminate() -> None:
    result = run(["a"], [ix("a", Depends="b"), ix("b", Depends="a")])
    assert names(result) == ["a", "b"]


def test_duplicates_across_sources_count_once() -> None:
    index = [ix("app", Depends="lib"), ix("lib"), ix("lib")]
    assert names(run(["app"], index)) == ["app", "lib"]


def test_deterministic() -> None:
    index = [ix("app", Depends="z, y | x, w"), ix("z"), ix("y"), ix("x"), ix("w", Depends="v"), ix("v")]
    first, second = run(["app"], index), run(["app"], list(reversed(index)))
    assert [p.key for p in first.packages] == [p.key for p in second.packages]
    assert names(first) == ["app", "v", "w", "y", "z"]


# ------------------------------------------------------------------------------------------------ requests


def test_highest_version_is_taken() -> None:
    result = run(["app"], [ix("app", "1.0"), ix("app", "1.10"), ix("app", "1.9"), ix("app", "1:0.1", arch="arm64")])
    assert versions(result) == {"app": "1.10"}


def test_requested_version() -> None:
    result = run(["app=1.9"], [ix("app", "1.0"), ix("app", "1.10"), ix("app", "1.9")])
    assert versions(result) == {"app": "1.9"}


def test_requested_version_missing() -> None:
    err = failure(["app=2.0"], [ix("app", "1.0")])
    assert err.failure_reason == "unknown_package"
    assert "app=2.0" in err.message


def test_unknown_package() -> None:
    err = failure(["nope"], [ix("app")])
    assert err.failure_reason == "unknown_package"
    assert err.details == {"package": "nope"}


def test_requesting_a_virtual_package_names_its_providers() -> None:
    err = failure(["mta"], [ix("exim", Provides="mta"), ix("postfix", Provides="mta")])
    assert err.failure_reason == "unknown_package"
    assert "provided by exim, postfix" in err.message


def test_invalid_request() -> None:
    assert failure(["app="], [ix("app")]).failure_reason == "unknown_package"
    assert failure([], [ix("app")]).failure_reason == "unknown_package"


def test_requested_and_installed_at_the_same_version_adds_nothing() -> None:
    result = run(["app"], [ix("app", "1.0", Depends="lib"), ix("lib")], base=[st("app", "1.0")])
    assert names(result) == []


def test_requested_and_installed_older_is_upgraded() -> None:
    result = run(["app"], [ix("app", "2.0")], base=[st("app", "1.0")])
    assert versions(result) == {"app": "2.0"}
    assert result.upgrades == {"app": "1.0"}


def test_requested_installed_but_not_in_archive() -> None:
    assert names(run(["local"], [ix("other")], base=[st("local")])) == []


# ------------------------------------------------------------------------------------------------ versions


def test_versioned_dependency_upgrades_an_old_base_package() -> None:
    result = run(["app"], [ix("app", Depends="libc6 (>= 2.36-9+deb12u4)"), ix("libc6", "2.36-9+deb12u14")],
                 base=[st("libc6", "2.36-9+deb12u3")])
    assert versions(result) == {"app": "1.0", "libc6": "2.36-9+deb12u14"}
    assert result.upgrades == {"libc6": "2.36-9+deb12u3"}


def test_versioned_dependency_the_archive_cannot_meet() -> None:
    err = failure(["app"], [ix("app", Depends="lib (>= 3)"), ix("lib", "2")])
    assert err.failure_reason == "unresolvable_dependency"
    assert err.details == {"package": "app", "relation": "lib (>= 3)"}
    assert "(why app: requested)" in err.message


def test_upgrade_drags_along_an_exact_version_dependent() -> None:
    """Upgrading libfoo breaks the installed foo-bin (Depends libfoo (= 1)): apt upgrades foo-bin too."""
    index = [ix("app", Depends="libfoo (>= 2)"), ix("libfoo", "2"), ix("foo-bin", "2", Depends="libfoo (= 2)")]
    base = [st("libfoo", "1"), st("foo-bin", "1", Depends="libfoo (= 1)")]
    result = run(["app"], index, base)
    assert versions(result) == {"app": "1.0", "foo-bin": "2", "libfoo": "2"}
    assert result.upgrades == {"libfoo": "1", "foo-bin": "1"}


def test_upgrade_that_would_break_the_base_is_an_error() -> None:
    index = [ix("app", Depends="libfoo (>= 2)"), ix("libfoo", "2"), ix("foo-bin", "1", Depends="libfoo (= 1)")]
    base = [st("libfoo", "1"), st("foo-bin", "1", Depends="libfoo (= 1)")]
    err = failure(["app"], index, base)
    assert err.failure_reason == "conflict"
    assert err.details == {"package": "foo-bin"}


def test_dependents_still_satisfied_are_left_alone() -> None:
    index = [ix("app", Depends="libfoo (>= 2)"), ix("libfoo", "2"), ix("foo-bin", "2")]
    base = [st("libfoo", "1"), st("foo-bin", "1", Depends="libfoo (>= 1)")]
    assert versions(run(["app"], index, base)) == {"app": "1.0", "libfoo": "2"}


def test_same_package_needed_at_two_versions() -> None:
    err = failure(["lib=1", "app"], [ix("app", Depends="lib (>= 2)"), ix("lib", "1"), ix("lib", "2")])
    assert err.failure_reason == "conflict"
    assert err.details == {"package": "lib"}


# ------------------------------------------------------------------------------------------------ alternatives


def test_first_satisfiable_alternative_wins() -> None:
    result = run(["app"], [ix("app", Depends="missing | crun | runc"), ix("crun"), ix("runc")])
    assert names(result) == ["app", "crun"]


def test_alternative_already_installed_adds_nothing() -> None:
    result = run(["app"], [ix("app", Depends="crun | runc"), ix("crun"), ix("runc")], base=[st("runc")])
    assert names(result) == ["app"]


def test_alternative_already_chosen_adds_nothing() -> None:
    result = run(["app", "runc"], [ix("app", Depends="crun | runc"), ix("crun"), ix("runc")])
    assert names(result) == ["app", "runc"]


def test_versioned_alternative_skips_a_too_old_candidate() -> None:
    result = run(["app"], [ix("app", Depends="crun (>= 2) | runc (>= 1.0.0~rc92~)"), ix("crun", "1.8"),
                           ix("runc", "1.1.5")])
    assert names(result) == ["app", "runc"]


# ------------------------------------------------------------------------------------------------ virtual


def test_single_provider_is_chosen() -> None:
    result = run(["app"], [ix("app", Depends="default-mta"), ix("exim", Provides="default-mta")])
    assert names(result) == ["app", "exim"]


def test_installed_provider_satisfies() -> None:
    result = run(["app"], [ix("app", Depends="mta"), ix("exim", Provides="mta"), ix("postfix", Provides="mta")],
                 base=[st("postfix", Provides="mta")])
    assert names(result) == ["app"]


def test_several_providers_are_an_error() -> None:
    err = failure(["app"], [ix("app", Depends="container-network-stack"),
                            ix("netavark", Provides="container-network-stack"),
                            ix("containernetworking-plugins", Provides="container-network-stack")])
    assert err.failure_reason == "ambiguous_virtual_package"
    assert err.details["providers"] == ["containernetworking-plugins", "netavark"]


def test_requested_provider_resolves_the_ambiguity() -> None:
    index = [ix("app", Depends="container-network-stack"), ix("netavark", Provides="container-network-stack"),
             ix("containernetworking-plugins", Provides="container-network-stack")]
    assert names(run(["app", "netavark"], index)) == ["app", "netavark"]
    # requested *after* the package that needs it: still the requested one.
    assert names(run(["containernetworking-plugins", "app"], index)) == ["app", "containernetworking-plugins"]


def test_versioned_virtual_needs_a_versioned_provides() -> None:
    index = [ix("app", Depends="libvirt (>= 2)"), ix("impl-a", Provides="libvirt"),
             ix("impl-b", Provides="libvirt (= 2.1)")]
    assert names(run(["app"], index)) == ["app", "impl-b"]
    err = failure(["app"], [ix("app", Depends="libvirt (>= 3)"), ix("impl-b", Provides="libvirt (= 2.1)")])
    assert err.failure_reason == "unresolvable_dependency"


def test_real_package_preferred_over_providers() -> None:
    result = run(["app"], [ix("app", Depends="awk"), ix("awk"), ix("mawk", Provides="awk")])
    assert names(result) == ["app", "awk"]


# ------------------------------------------------------------------------------------------------ recommends


def test_recommends_ignored_by_default() -> None:
    result = run(["app"], [ix("app", Recommends="extra"), ix("extra")])
    assert names(result) == ["app"]


def test_recommends_followed_when_asked() -> None:
    result = run(["app"], [ix("app", Recommends="extra"), ix("extra", Recommends="more"), ix("more")],
                 recommends=True)
    assert names(result) == ["app", "extra", "more"]
    assert result.reasons["extra"] == "Recommends of app: extra"


def test_unsatisfiable_recommends_are_skipped_and_reported() -> None:
    result = run(["app"], [ix("app", Recommends="gone, extra")], recommends=True)
    assert names(result) == ["app"]
    assert result.skipped_recommends == ["app: gone", "app: extra"]


# ------------------------------------------------------------------------------------------------ arch


def test_other_architectures_are_ignored() -> None:
    result = run(["app"], [ix("app", Depends="lib"), ix("lib", "9", arch="arm64"), ix("lib", "1")])
    assert versions(result) == {"app": "1.0", "lib": "1"}
    err = failure(["app"], [ix("app", Depends="lib"), ix("lib", arch="arm64")])
    assert err.failure_reason == "unresolvable_dependency"


def test_arch_all_is_accepted() -> None:
    result = run(["app"], [ix("app", Depends="data"), ix("data", arch="all")])
    assert [p.key for p in result.packages] == [("app", "1.0", "amd64"), ("data", "1.0", "all")]


def test_any_qualifier_needs_multi_arch_allowed() -> None:
    good = run(["app"], [ix("app", Depends="python3:any"), ix("python3", Multi_Arch="allowed")])
    assert names(good) == ["app", "python3"]
    bad = failure(["app"], [ix("app", Depends="python3:any"), ix("python3")])
    assert bad.failure_reason == "unresolvable_dependency"


def test_native_and_explicit_qualifiers() -> None:
    assert names(run(["app"], [ix("app", Depends="lib:native"), ix("lib")])) == ["app", "lib"]
    assert names(run(["app"], [ix("app", Depends="lib:amd64"), ix("lib")])) == ["app", "lib"]


def test_foreign_installed_packages_do_not_satisfy() -> None:
    result = run(["app"], [ix("app", Depends="lib"), ix("lib")], base=[st("lib", arch="i386")])
    assert names(result) == ["app", "lib"]


def test_packages_not_fully_installed_do_not_count() -> None:
    base = [st("lib", state="deinstall ok config-files"), st("lib2", state="install ok half-configured")]
    result = run(["app"], [ix("app", Depends="lib, lib2"), ix("lib"), ix("lib2")], base=base)
    assert names(result) == ["app", "lib", "lib2"]


# ------------------------------------------------------------------------------------------------ conflicts


def test_conflict_with_the_base() -> None:
    err = failure(["app"], [ix("app", Conflicts="old-app")], base=[st("old-app")])
    assert err.failure_reason == "conflict"
    assert err.details == {"package": "app", "other": "old-app", "relation": "old-app"}
    assert "in the base" in err.message


def test_conflict_within_the_closure() -> None:
    err = failure(["app"], [ix("app", Depends="a, b"), ix("a", Conflicts="b"), ix("b")])
    assert err.failure_reason == "conflict"
    assert "in the closure" in err.message


def test_breaks_with_a_version_range() -> None:
    err = failure(["app"], [ix("app", Breaks="tool (<< 2)")], base=[st("tool", "1.5")])
    assert err.failure_reason == "conflict"
    assert names(run(["app"], [ix("app", Breaks="tool (<< 2)")], base=[st("tool", "2.0")])) == ["app"]


def test_breaks_resolved_by_the_upgrade_in_the_closure() -> None:
    index = [ix("app", Depends="tool (>= 2)", Breaks="tool (<< 2)"), ix("tool", "2.0")]
    result = run(["app"], index, base=[st("tool", "1.0")])
    assert versions(result) == {"app": "1.0", "tool": "2.0"}


def test_installed_package_that_breaks_the_new_one() -> None:
    err = failure(["lib"], [ix("lib", "2")], base=[st("old-tool", Breaks="lib (>= 2)")])
    assert err.failure_reason == "conflict"
    assert err.details["other"] == "old-tool"


def test_self_conflict_through_provides_is_fine() -> None:
    result = run(["mawk"], [ix("mawk", Provides="awk", Conflicts="awk")])
    assert names(result) == ["mawk"]


def test_conflict_on_a_virtual_provided_by_the_base() -> None:
    err = failure(["postfix"], [ix("postfix", Provides="mta", Conflicts="mta")], base=[st("exim", Provides="mta")])
    assert err.failure_reason == "conflict"
    assert err.details["other"] == "exim"
