# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import shutil
import subprocess

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from ansible_collections.cellar.garage.plugins.module_utils._deb.version import compare, satisfies, split

# (older, newer) pairs, each checked in both directions; several from dpkg's own test suite.
ORDERED = [
    ("1.0", "1.1"),
    ("1.0", "1.0-1"),
    ("1.0-1", "1.0-2"),
    ("1.0-9", "1.0-10"),
    ("1.9", "1.10"),
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0~", "1.0"),
    ("1.0", "1.0a"),
    ("1.0a", "1.0b"),
    ("1.0a", "1.0+"),
    ("1.0", "1:0.1"),  # any epoch beats no epoch
    ("1:9.9", "2:0.1"),
    ("2.36-9+deb12u4", "2.36-9+deb12u14"),
    ("3.0.22-1~deb12u1", "3.0.22-1~deb12u2"),
    ("3.0.22-1~deb12u2", "3.0.22-1"),
    ("4.3.1+ds1-8+deb12u1", "4.3.1+ds1-8+deb12u1+b3"),
    ("0.9", "0.10~alpha"),
    ("1.2.3-1", "1.2.3-1.1"),
    ("7.88.1-10+deb12u8", "7.88.1-10+deb12u12"),
    ("1.0-1", "1.0.1-1"),
    ("2:1.02.185-2", "2:1.02.185-3"),
]

EQUAL = [
    ("1.0", "1.0"),
    ("0:1.0", "1.0"),
    ("1.00", "1.0"),  # digit runs compare as numbers
    ("1.0-01", "1.0-1"),
    ("1.0-0", "1.0"),  # an empty revision equals "0"
]


@pytest.mark.parametrize(("older", "newer"), ORDERED)
def test_order(older: str, newer: str) -> None:
    assert compare(older, newer) == -1
    assert compare(newer, older) == 1


@pytest.mark.parametrize("pair", EQUAL)
def test_equal(pair: tuple[str, str]) -> None:
    assert compare(*pair) == 0
    assert compare(*reversed(pair)) == 0


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is the reference")
def test_agrees_with_dpkg() -> None:
    """Every pair above, checked against the real dpkg --compare-versions."""
    for left, right in ORDERED + EQUAL:
        for op, expected in (("lt", compare(left, right) < 0), ("eq", compare(left, right) == 0)):
            proc = subprocess.run(["dpkg", "--compare-versions", left, op, right], check=False)
            assert (proc.returncode == 0) == expected, (left, op, right)


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.0", (0, "1.0", "")),
        ("1:2.3-4", (1, "2.3", "4")),
        ("2.3-4-5", (0, "2.3-4", "5")),
        ("1:2:3-4", (1, "2:3", "4")),
        ("4.3.1+ds1-8+deb12u1+b3", (0, "4.3.1+ds1", "8+deb12u1+b3")),
    ],
)
def test_split(version: str, expected: tuple[int, str, str]) -> None:
    assert split(version) == expected


@pytest.mark.parametrize("bad", ["", "abc", "1.0 beta", "-1", "1:", ":1.0", "1.0_1", "a:1.0", "1.0-"])
def test_split_rejects(bad: str) -> None:
    with pytest.raises(DebClosureError) as info:
        split(bad)
    assert info.value.failure_reason == "malformed_version"


@pytest.mark.parametrize(
    ("version", "op", "wanted", "expected"),
    [
        ("1.0", None, None, True),
        ("1.0", ">=", "1.0", True),
        ("1.0", ">=", "1.1", False),
        ("1.0", ">", "1.0", True),  # obsolete ">" means ">="
        ("1.0", "<", "1.0", True),  # obsolete "<" means "<="
        ("1.0", ">>", "1.0", False),
        ("1.1", ">>", "1.0", True),
        ("1.0", "<<", "1.0", False),
        ("0.9", "<<", "1.0", True),
        ("1.0", "<=", "1.0", True),
        ("1.1", "<=", "1.0", False),
        ("1.0", "=", "1.0", True),
        ("1.0-1", "=", "1.0", False),
        ("2.0", "=", "0:2.0", True),
    ],
)
def test_satisfies(version: str, op: str | None, wanted: str | None, expected: bool) -> None:
    assert satisfies(version, op, wanted) is expected


def test_satisfies_rejects_bad_operator() -> None:
    with pytest.raises(DebClosureError) as info:
        satisfies("1.0", "~=", "1.0")
    assert info.value.failure_reason == "malformed_relation"
    with pytest.raises(DebClosureError):
        satisfies("1.0", ">=", None)
