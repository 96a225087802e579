# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Debian version comparison, exactly as dpkg does it (``lib/dpkg/version.c``), with no Ansible in it.

A version is ``[epoch:]upstream[-revision]``. Epochs compare as integers; upstream and revision compare
with dpkg's ``verrevcmp``: alternating runs of non-digits (compared character by character, where ``~``
sorts before everything, even the end of the string, and letters sort before other characters) and runs
of digits (compared as integers).
"""

from __future__ import annotations

import re

from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError

OPERATORS = ("<<", "<=", "=", ">=", ">>")
_VERSION_RE = re.compile(r"^(?:(?P<epoch>[0-9]+):)?(?P<rest>[0-9][A-Za-z0-9.+~:-]*)$")


def split(version: str) -> tuple[int, str, str]:
    """``[epoch:]upstream[-revision]`` -> (epoch, upstream, revision); raise on a malformed version."""
    text = version.strip()
    match = _VERSION_RE.match(text)
    if not match or (":" in text and match.group("epoch") is None) or text.endswith("-"):
        raise DebClosureError(f"malformed Debian version {version!r}", failure_reason="malformed_version")
    rest = match.group("rest")
    upstream, _sep, revision = rest.rpartition("-") if "-" in rest else (rest, "", "")
    return int(match.group("epoch") or 0), upstream, revision


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isdigit():
        return 0
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _verrevcmp(left: str, right: str) -> int:
    i = j = 0
    while i < len(left) or j < len(right):
        first_diff = 0
        while (i < len(left) and not left[i].isdigit()) or (j < len(right) and not right[j].isdigit()):
            lc = _order(left[i]) if i < len(left) else 0
            rc = _order(right[j]) if j < len(right) else 0
            if lc != rc:
                return lc - rc
            i += 1
            j += 1
        while i < len(left) and left[i] == "0":
            i += 1
        while j < len(right) and right[j] == "0":
            j += 1
        while i < len(left) and left[i].isdigit() and j < len(right) and right[j].isdigit():
            if not first_diff:
                first_diff = ord(left[i]) - ord(right[j])
            i += 1
            j += 1
        if i < len(left) and left[i].isdigit():
            return 1
        if j < len(right) and right[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def compare(left: str, right: str) -> int:
    """Negative, zero or positive as ``left`` is older than, equal to or newer than ``right``."""
    le, lu, lr = split(left)
    re_, ru, rr = split(right)
    if le != re_:
        return -1 if le < re_ else 1
    result = _verrevcmp(lu, ru)
    if result:
        return -1 if result < 0 else 1
    result = _verrevcmp(lr, rr)
    return (result > 0) - (result < 0)


def satisfies(version: str, operator: str | None, wanted: str | None) -> bool:
    """Whether ``version`` satisfies the relation ``(operator wanted)``; no operator means any version."""
    if operator is None:
        return True
    if wanted is None:
        raise DebClosureError(f"relation {operator!r} without a version", failure_reason="malformed_relation")
    result = compare(version, wanted)
    if operator == "<<":
        return result < 0
    if operator in ("<=", "<"):  # "<" is the obsolete spelling of "<="
        return result <= 0
    if operator == "=":
        return result == 0
    if operator in (">=", ">"):  # ">" is the obsolete spelling of ">="
        return result >= 0
    if operator == ">>":
        return result > 0
    raise DebClosureError(f"unknown relation operator {operator!r}", failure_reason="malformed_relation")
