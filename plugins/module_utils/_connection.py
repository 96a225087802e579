# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The shared Garage connection options: one of the set of three that travel together
(this argspec, the ``cellar.garage._connection`` doc fragment, and the ``garage``
action group in ``meta/runtime.yml``)."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._client import (
    DEFAULT_ADMIN_URL,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
)

CONNECTION_OPTION_NAMES = (
    "admin_url",
    "admin_token",
    "admin_token_file",
    "validate_certs",
    "ca_path",
    "timeout",
    "retries",
)


def connection_argspec() -> ArgumentSpec:
    """A fresh copy of the connection options with their constraints."""
    return ArgumentSpec(
        {
            "admin_url": {
                "type": "str",
                "default": DEFAULT_ADMIN_URL,
                "fallback": (env_fallback, ["GARAGE_ADMIN_URL"]),
            },
            # GARAGE_ADMIN_TOKEN / GARAGE_ADMIN_TOKEN_FILE are read by GarageModule, not by an
            # env_fallback here: a fallback would be applied before the mutually_exclusive check
            # and turn "token in the environment + admin_token_file" into a spurious error.
            "admin_token": {"type": "str", "no_log": True},
            "admin_token_file": {"type": "path", "no_log": False},
            "validate_certs": {"type": "bool", "default": True},
            "ca_path": {"type": "path"},
            "timeout": {"type": "int", "default": DEFAULT_TIMEOUT},
            "retries": {"type": "int", "default": DEFAULT_RETRIES},
        },
        mutually_exclusive=[["admin_token", "admin_token_file"]],
    )
