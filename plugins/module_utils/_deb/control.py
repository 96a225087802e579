# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Debian control data (``Packages`` indexes, the dpkg ``status`` file, ``Release``) as plain values.

No Ansible, no I/O: every function takes text and returns values, so the resolver can be tested on small
synthetic data.
"""

from __future__ import annotations

import functools
import re
import typing as t
from dataclasses import dataclass, field

from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._deb.version import OPERATORS, split

# One alternative of a relationship field: name[:archqual] [(op version)] [arch restrictions] [<profiles>]
_RELATION_RE = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9+.-]*)(?::(?P<arch>[a-z0-9-]+))?"
    r"\s*(?:\(\s*(?P<op><<|<=|>=|>>|=|<|>)\s*(?P<version>[^)\s]+)\s*\))?"
    r"\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$"
)


@dataclass(frozen=True)
class Relation:
    """One alternative: ``name``, optional ``arch`` qualifier (``any``, ``native``, an architecture)."""

    name: str
    op: str | None = None
    version: str | None = None
    arch: str | None = None

    def __str__(self) -> str:
        qual = f":{self.arch}" if self.arch else ""
        ver = f" ({self.op} {self.version})" if self.op else ""
        return f"{self.name}{qual}{ver}"


# A relationship field: a conjunction (all must hold) of disjunctions (one alternative must hold).
Relations = tuple[tuple[Relation, ...], ...]


@dataclass(frozen=True)
class Package:
    """One binary package of an index (or of the dpkg status file)."""

    name: str
    version: str
    architecture: str
    multi_arch: str = "no"
    depends: Relations = ()
    pre_depends: Relations = ()
    recommends: Relations = ()
    conflicts: Relations = ()
    breaks: Relations = ()
    provides: tuple[Relation, ...] = ()
    filename: str = ""
    sha256: str = ""
    size: int = 0
    essential: bool = False
    source_url: str = ""  # base URL of the archive that carries this package ("" for installed ones)
    extra: t.Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.name, self.version, self.architecture)

    def __str__(self) -> str:
        return f"{self.name} {self.version} ({self.architecture})"


def parse_paragraphs(text: str) -> list[dict[str, str]]:
    """deb822 paragraphs: fields separated by blank lines, continuation lines start with a blank."""
    paragraphs: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if current:
                paragraphs.append(current)
            current, last = {}, None
            continue
        if line.startswith("#") and not current:
            continue
        if line[0] in " \t":
            if last is None:
                raise DebClosureError(
                    f"line {lineno}: continuation line outside a field", failure_reason="malformed_index"
                )
            current[last] += "\n" + line.strip()
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or " " in name:
            raise DebClosureError(f"line {lineno}: expected 'Field: value', got {line[:60]!r}",
                                  failure_reason="malformed_index")
        last = name.strip()
        current[last] = value.strip()
    if current:
        paragraphs.append(current)
    return paragraphs


@functools.lru_cache(maxsize=65536)
def _parse_alternative(alt: str) -> Relation:
    match = _RELATION_RE.match(alt)
    if not match:
        raise DebClosureError(f"malformed relation {alt!r}", failure_reason="malformed_relation")
    op = match.group("op")
    if op is not None and op not in (*OPERATORS, "<", ">"):
        raise DebClosureError(f"unknown operator in {alt!r}", failure_reason="malformed_relation")
    version = match.group("version")
    if version is not None:
        split(version)  # validate
    return Relation(match.group("name"), op, version, match.group("arch"))


def parse_relations(value: str | None) -> Relations:
    """``a (>= 1), b | c:any`` -> ((a>=1,), (b, c:any)); an empty field gives ()."""
    if not value or not value.strip():
        return ()
    groups: list[tuple[Relation, ...]] = []
    for group in value.replace("\n", " ").split(","):
        if not group.strip():
            continue
        groups.append(tuple(_parse_alternative(alt.strip()) for alt in group.split("|")))
    return tuple(groups)


def _flat(value: str | None) -> tuple[Relation, ...]:
    relations = parse_relations(value)
    if any(len(group) != 1 for group in relations):
        raise DebClosureError(f"alternatives are not allowed in Provides: {value!r}",
                              failure_reason="malformed_relation")
    return tuple(group[0] for group in relations)


def package_from_paragraph(paragraph: t.Mapping[str, str], source_url: str = "") -> Package:
    try:
        name, version, arch = paragraph["Package"], paragraph["Version"], paragraph["Architecture"]
    except KeyError as exc:
        raise DebClosureError(f"package paragraph without {exc.args[0]}: {dict(paragraph)!r:.200}",
                              failure_reason="malformed_index") from None
    split(version)
    size = paragraph.get("Size", "0")
    if not size.isdigit():
        raise DebClosureError(f"{name} {version}: Size {size!r} is not a number", failure_reason="malformed_index")
    return Package(
        name=name,
        version=version,
        architecture=arch,
        multi_arch=paragraph.get("Multi-Arch", "no"),
        depends=parse_relations(paragraph.get("Depends")),
        pre_depends=parse_relations(paragraph.get("Pre-Depends")),
        recommends=parse_relations(paragraph.get("Recommends")),
        conflicts=parse_relations(paragraph.get("Conflicts")),
        breaks=parse_relations(paragraph.get("Breaks")),
        provides=_flat(paragraph.get("Provides")),
        filename=paragraph.get("Filename", ""),
        sha256=paragraph.get("SHA256", "").lower(),
        size=int(size),
        essential=paragraph.get("Essential", "no") == "yes",
        source_url=source_url,
    )


def parse_packages(text: str, source_url: str = "") -> list[Package]:
    """A ``Packages`` index -> packages (each must carry Filename and SHA256)."""
    packages = []
    for paragraph in parse_paragraphs(text):
        package = package_from_paragraph(paragraph, source_url)
        if not package.filename or not re.fullmatch(r"[0-9a-f]{64}", package.sha256):
            raise DebClosureError(f"{package}: the index gives no Filename or no SHA256",
                                  failure_reason="malformed_index")
        packages.append(package)
    return packages


def parse_status(text: str) -> list[Package]:
    """The dpkg ``status`` file -> the packages that are fully installed (``install ok installed``)."""
    installed = []
    for paragraph in parse_paragraphs(text):
        status = paragraph.get("Status", "").split()
        if len(status) == 3 and status[2] == "installed":
            installed.append(package_from_paragraph(paragraph))
    return installed


def parse_release(text: str) -> dict[str, t.Any]:
    """A ``Release`` or ``InRelease`` file -> {"date", "suite", "codename", "sha256": {path: (hash, size)}}.

    The signature of an ``InRelease`` file is not checked here (see ``archive.verify_inrelease``); the
    clear-signed armour is stripped.
    """
    body = text
    if body.lstrip().startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        lines = body.splitlines()
        start = next(i for i, line in enumerate(lines) if not line.strip()) + 1
        end = next((i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP SIGNATURE")), len(lines))
        body = "\n".join(line[2:] if line.startswith("- ") else line for line in lines[start:end])
    paragraphs = parse_paragraphs(body)
    if not paragraphs:
        raise DebClosureError("empty Release file", failure_reason="malformed_index")
    fields = paragraphs[0]
    hashes: dict[str, tuple[str, int]] = {}
    for line in fields.get("SHA256", "").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        digest, size, path = parts
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not size.isdigit():
            raise DebClosureError(f"malformed SHA256 line in Release: {line!r}", failure_reason="malformed_index")
        hashes[path] = (digest, int(size))
    if not hashes:
        raise DebClosureError("the Release file lists no SHA256 hashes", failure_reason="malformed_index")
    return {
        "date": fields.get("Date", ""),
        "suite": fields.get("Suite", ""),
        "codename": fields.get("Codename", ""),
        "architectures": fields.get("Architectures", "").split(),
        "sha256": hashes,
    }
