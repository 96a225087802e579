# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The options every artifact module shares (``prefix``, ``retention_durations``, ``actor``). No Ansible."""

from __future__ import annotations

import getpass
import socket
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import paths, retention
from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def actor(params: t.Mapping[str, t.Any]) -> str:
    return str(params.get("actor") or default_actor())


def common(params: t.Mapping[str, t.Any]) -> tuple[str, dict[str, int | None]]:
    """``(prefix, class durations)``; raises :class:`InputError` before anything is called."""
    problems: list[str] = []
    prefix = ""
    try:
        prefix = paths.normalize_prefix(params.get("prefix"))
    except ValueError as exc:
        problems.append(str(exc))
    table = dict(retention.DEFAULT_DURATIONS)
    try:
        table = retention.durations(params.get("retention_durations"))
    except retention.RetentionError as exc:
        problems.append(f"retention_durations: {exc}")
    if problems:
        raise InputError("; ".join(problems))
    return prefix, table
