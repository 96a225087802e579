# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The error of the .deb closure code: an :class:`OperationError` with a stable ``failure_reason``."""

from __future__ import annotations

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError


class DebClosureError(OperationError):
    """A closure could not be resolved, a lock or an index is malformed, a download does not match.

    ``failure_reason`` is one of ``unresolvable_dependency``, ``unknown_package``,
    ``ambiguous_virtual_package``, ``conflict``, ``malformed_version``, ``malformed_relation``,
    ``malformed_index``, ``malformed_lock``, ``hash_mismatch``, ``signature_invalid``,
    ``download_failed``, ``architecture_mismatch``; ``details`` carries the facts behind the message.
    """
