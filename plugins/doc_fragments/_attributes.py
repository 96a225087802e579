# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._attributes`,
# `cellar.garage._attributes.actiongroup_garage`, `cellar.garage._attributes.info_module`, ...

from __future__ import annotations


class ModuleDocFragment:
    # Standard documentation fragment: state modules (full check and diff mode support).
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description:
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
"""

    # Should be used together with the standard fragment.
    ACTIONGROUP_GARAGE = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cellar.garage.garage) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cellar.garage.garage
"""

    ACTIONGROUP_GARAGE_S3 = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cellar.garage.garage_s3) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cellar.garage.garage_s3
"""

    ACTIONGROUP_OPENBAO = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/cellar.garage.openbao) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cellar.garage.openbao
"""

    # Use instead of the standard fragment for read-only modules (*_info, garage_manifest).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    description:
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: full
    details:
      - This action does not modify state.
"""

    # Modules that perform an action with no persistent state of its own (e.g. connecting nodes).
    ACTION_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description:
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: none
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
    support: partial
"""
