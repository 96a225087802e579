# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Grep what Ansible printed for secrets (and prove the grep can find one)."""

from __future__ import annotations

import typing as t


def assert_no_secrets(output: str, secrets: t.Iterable[str | None], *, marker: str | None = None) -> int:
    """Fail when any of ``secrets`` occurs in ``output``; returns how many were searched.

    ``marker``: a value the playbook printed on purpose, which must be found (the control that
    the output searched is the real one)."""
    if marker is not None:
        assert marker in output, "the control marker is missing: the search looks at the wrong output"
    searched = 0
    for secret in secrets:
        if not secret:
            continue
        assert len(secret) >= 8, f"too short to search for safely: {len(secret)} characters"
        searched += 1
        if secret in output:
            at = output.index(secret)
            context = output[max(0, at - 400) : at + 100].replace(secret, "<THE SECRET>")
            raise AssertionError(f"a secret appears in the output, here:\n{context}")
    assert searched, "no secret was searched for"
    return searched
