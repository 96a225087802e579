# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Small helpers to turn module parameters into the operations' specs. No Ansible here."""

from __future__ import annotations

import typing as t


def int_param(params: t.Mapping[str, t.Any], name: str, default: int) -> int:
    """``params[name]`` as an int, ``default`` only when unset (``0`` stays ``0`` and gets validated)."""
    value = params.get(name)
    return default if value is None else int(value)
