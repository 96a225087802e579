# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._deb.control import (
    Relation,
    parse_packages,
    parse_paragraphs,
    parse_relations,
    parse_release,
    parse_status,
)
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError

SHA = "a" * 64

PACKAGES = f"""Package: podman
Version: 4.3.1+ds1-8+deb12u1+b3
Architecture: amd64
Multi-Arch: foreign
Depends: libc6 (>= 2.34), conmon (>= 2.0.18~), crun | runc (>= 1.0.0~rc92~),
 golang-github-containers-common
Recommends: buildah (>= 1.28), catatonit | tini | dumb-init
Description: engine to run OCI-based containers in Pods
 A second line of description.
 .
 A paragraph break.
Filename: pool/main/libp/libpod/podman_4.3.1+ds1-8+deb12u1+b3_amd64.deb
Size: 10485760
SHA256: {SHA}

Package: base-files
Essential: yes
Version: 12.4+deb12u5
Architecture: amd64
Provides: base, debian-base (= 12)
Filename: pool/main/b/base-files/base-files_12.4+deb12u5_amd64.deb
Size: 70000
SHA256: {"b" * 64}
"""


def test_parse_packages() -> None:
    podman, base = parse_packages(PACKAGES, "http://deb.debian.org/debian")
    assert podman.name == "podman" and podman.version == "4.3.1+ds1-8+deb12u1+b3"
    assert podman.multi_arch == "foreign"
    assert podman.depends == (
        (Relation("libc6", ">=", "2.34"),),
        (Relation("conmon", ">=", "2.0.18~"),),
        (Relation("crun"), Relation("runc", ">=", "1.0.0~rc92~")),
        (Relation("golang-github-containers-common"),),
    )
    assert podman.recommends[1] == (Relation("catatonit"), Relation("tini"), Relation("dumb-init"))
    assert podman.size == 10485760 and podman.sha256 == SHA
    assert podman.source_url == "http://deb.debian.org/debian"
    assert base.essential is True
    assert base.provides == (Relation("base"), Relation("debian-base", "=", "12"))


def test_paragraphs_handle_continuations_comments_and_crlf() -> None:
    text = "# a comment\nA: 1\nB: two\n words\r\n\n\n\nC: 3\n"
    assert parse_paragraphs(text) == [{"A": "1", "B": "two\nwords"}, {"C": "3"}]


@pytest.mark.parametrize("text", [" continuation first\n", "no colon here\n", ": empty name\n", "Two Words: x\n"])
def test_paragraphs_reject_garbage(text: str) -> None:
    with pytest.raises(DebClosureError) as info:
        parse_paragraphs(text)
    assert info.value.failure_reason == "malformed_index"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ()),
        ("  ", ()),
        ("a", ((Relation("a"),),)),
        ("a:any", ((Relation("a", arch="any"),),)),
        ("a:amd64 (>= 1:2.0-1)", ((Relation("a", ">=", "1:2.0-1", "amd64"),),)),
        ("a (<<2)", ((Relation("a", "<<", "2"),),)),
        ("a (= 1) [amd64 i386] <!nocheck>", ((Relation("a", "=", "1"),),)),
        ("a,, b", ((Relation("a"),), (Relation("b"),))),
        ("a |b| c", ((Relation("a"), Relation("b"), Relation("c")),)),
    ],
)
def test_relations(text: str, expected: tuple) -> None:
    assert parse_relations(text) == expected


@pytest.mark.parametrize("text", ["A", "a (>= )", "a (~ 1)", "a (>= 1", "a b", "a (>= x.1)", "a | "])
def test_relations_reject(text: str) -> None:
    with pytest.raises(DebClosureError) as info:
        parse_relations(text)
    assert info.value.failure_reason in ("malformed_relation", "malformed_version")


def test_relation_str() -> None:
    assert str(Relation("a", ">=", "1", "any")) == "a:any (>= 1)"
    assert str(Relation("b")) == "b"


def test_provides_may_not_have_alternatives() -> None:
    text = f"Package: x\nVersion: 1\nArchitecture: all\nProvides: a | b\nFilename: x_1_all.deb\nSHA256: {SHA}\n"
    with pytest.raises(DebClosureError) as info:
        parse_packages(text)
    assert info.value.failure_reason == "malformed_relation"


@pytest.mark.parametrize(
    "text",
    [
        "Package: x\nVersion: 1\nArchitecture: all\nFilename: x.deb\n",  # no SHA256
        f"Package: x\nVersion: 1\nArchitecture: all\nSHA256: {SHA}\n",  # no Filename
        f"Package: x\nVersion: 1\nArchitecture: all\nFilename: x.deb\nSHA256: {SHA[:-1]}\n",
        f"Package: x\nArchitecture: all\nFilename: x.deb\nSHA256: {SHA}\n",  # no Version
        f"Package: x\nVersion: 1\nArchitecture: all\nFilename: x.deb\nSHA256: {SHA}\nSize: big\n",
    ],
)
def test_index_entries_must_be_complete(text: str) -> None:
    with pytest.raises(DebClosureError) as info:
        parse_packages(text)
    assert info.value.failure_reason == "malformed_index"


def test_status_keeps_only_installed_packages() -> None:
    text = (
        "Package: a\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n\n"
        "Package: b\nStatus: deinstall ok config-files\nVersion: 1\nArchitecture: amd64\n\n"
        "Package: c\nStatus: install ok unpacked\nVersion: 1\nArchitecture: amd64\n\n"
        "Package: d\nStatus: hold ok installed\nVersion: 2\nArchitecture: all\nDepends: a\n"
    )
    installed = parse_status(text)
    assert [(p.name, p.version) for p in installed] == [("a", "1"), ("d", "2")]
    assert installed[1].depends == ((Relation("a"),),)


RELEASE = f"""Origin: Debian
Suite: stable
Codename: bookworm
Date: Sat, 10 May 2025 08:56:22 UTC
Architectures: all amd64 arm64
SHA256:
 {"1" * 64}   1234 main/binary-amd64/Packages
 {"2" * 64}    567 main/binary-amd64/Packages.xz
"""


def test_release() -> None:
    release = parse_release(RELEASE)
    assert release["date"] == "Sat, 10 May 2025 08:56:22 UTC"
    assert release["codename"] == "bookworm"
    assert release["architectures"] == ["all", "amd64", "arm64"]
    assert release["sha256"] == {
        "main/binary-amd64/Packages": ("1" * 64, 1234),
        "main/binary-amd64/Packages.xz": ("2" * 64, 567),
    }


def test_inrelease_armour_is_stripped() -> None:
    signed = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n"
        + RELEASE.replace("Origin: Debian", "Origin: Debian\nX-Dashed: - dash")
        + "-----BEGIN PGP SIGNATURE-----\n\nabcdef\n-----END PGP SIGNATURE-----\n"
    )
    release = parse_release(signed)
    assert release["suite"] == "stable"
    assert len(release["sha256"]) == 2


@pytest.mark.parametrize(
    "text",
    ["", "Origin: x\n", f"SHA256:\n {'z' * 64} 1 main/Packages\n", f"SHA256:\n {'1' * 64} big main/Packages\n"],
)
def test_release_rejects(text: str) -> None:
    with pytest.raises(DebClosureError) as info:
        parse_release(text)
    assert info.value.failure_reason == "malformed_index"
