# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._artifacts` and
# `cellar.garage._artifacts.retention`.

from __future__ import annotations


class ModuleDocFragment:
    # Where an artifact store lives: every garage_artifact_* module.
    DOCUMENTATION = r"""
options:
  bucket:
    description:
      - The bucket that holds the artifact store (global alias, local alias of the access key, or bucket id).
    type: str
    required: true
  prefix:
    description:
      - The key prefix under which the store lives in O(bucket) (C(<prefix>/blobs/), C(<prefix>/packages/), ...).
      - V("") puts the store at the root of the bucket.
      - Every controller and host that uses the same store must use the same prefix.
    type: str
    default: artifacts
notes:
  - The layout of a store in its bucket, the format of manifests and retention documents and the protocol
    that keeps the garbage collector away from pushes in flight are described in the collection's
    C(docs/artifacts.md).
"""

    # Modules that compute expiries from retention classes.
    RETENTION = r"""
options:
  retention_durations:
    description:
      - Durations of the retention classes, overriding the defaults for this task; keys are class names.
      - Values are seconds or C(<n><unit>) with unit C(s), C(m), C(h), C(d), C(w) or C(y) (365 days), or V(never).
      - "Defaults: V(transient) 1d, V(raw-evidence) 90d, V(summary-evidence) 365d, V(release-evidence) 7y,
        V(permanent-record) never."
      - Only matters where an expiry is computed from a class (a push, a class change, an C(extend_by)-style
        changes, packages whose retention document is missing); stored expiries are not recomputed.
    type: dict
"""
