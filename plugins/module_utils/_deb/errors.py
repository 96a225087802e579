# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The one error type of the .deb closure code, with a stable snake_case ``failure_reason``."""

from __future__ import annotations

import typing as t


class DebClosureError(Exception):
    """A closure could not be resolved, a lock or an index is malformed, a download does not match.

    ``failure_reason`` is stable and machine-readable (``unresolvable_dependency``, ``unknown_package``,
    ``ambiguous_virtual_package``, ``conflict``, ``malformed_version``, ``malformed_relation``,
    ``malformed_index``, ``malformed_lock``, ``hash_mismatch``, ``signature_invalid``, ``download_failed``,
    ``architecture_mismatch``); ``details`` carries the facts behind the message.
    """

    def __init__(self, message: str, *, failure_reason: str, details: t.Mapping[str, t.Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.failure_reason = failure_reason
        self.details = dict(details or {})
