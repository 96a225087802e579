#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pgbackrest_backup
short_description: Take a pgBackRest backup unless a recent enough one exists
version_added: 0.2.0
description:
  - Reads the repository (C(pgbackrest info --output=json), status codes checked) and looks for the newest good backup
    of the stanza whose type covers O(type) - a full backup covers a differential and an incremental one, a
    differential covers an incremental - and that finished less than O(max_age) ago.
  - When there is one, nothing is done (RV(ignore:changed=false)). Otherwise runs C(pgbackrest backup --type=<type>)
    and returns the new backup.
  - pgBackRest takes a full backup instead of a differential or incremental one when no full backup exists to build
    on; the C(type) of RV(backup) reports what was taken.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._pgbackrest
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_pgbackrest
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
    support: full
    details:
      - The repository is read; RV(taken) tells whether a backup would be taken. Its label is not known yet.
  diff_mode:
    description:
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
    details:
      - The diff shows the label and type of the backup that satisfies O(max_age), before and after.
options:
  stanza:
    description:
      - The stanza to back up (created by M(cellar.garage.pgbackrest_stanza)).
    type: str
    required: true
  type:
    description:
      - The type of backup to take when none recent enough exists.
    type: str
    choices: [full, diff, incr]
    default: full
  max_age:
    description:
      - How old the newest backup covering O(type) may be before a new one is taken, as a duration - V(36h),
        V(7d), V(1w), V(90m) (minutes), V(3600) (seconds), or combined like V(1d12h).
      - V(0) takes a backup on every run.
      - The age is measured from the end of the backup, with this host's clock.
    type: str
    required: true
  repo:
    description:
      - The repository to back up into (C(repo<N>)).
    type: int
    default: 1
  start_fast:
    description:
      - Force a checkpoint at the start of the backup (C(--start-fast)) instead of waiting for the next one, which
        can take minutes (C(checkpoint_timeout)). Not set uses the configuration's C(start-fast).
    type: bool
notes:
  - "Failure reasons besides the repository ones listed under O(probe_timeout): C(invalid_input), C(stanza_missing),
    C(backup_in_progress) (another backup or expire holds the stanza's lock), C(backup_failed), C(run_as_unavailable),
    C(missing_dependency)."
  - The task lasts as long as the backup. Use C(async) for large databases.
seealso:
  - module: cellar.garage.pgbackrest_stanza
  - module: cellar.garage.pgbackrest_info
"""

EXAMPLES = r"""
---
- name: A full backup at least every week
  cellar.garage.pgbackrest_backup:
    stanza: main
    type: full
    max_age: 7d
    start_fast: true
  become: true

- name: An incremental backup unless one (or a full or diff) finished in the last 20 hours
  cellar.garage.pgbackrest_backup:
    stanza: main
    type: incr
    max_age: 20h
  become: true
"""

RETURN = r"""
---
taken:
  description: Whether a backup was taken (in check mode, would be taken).
  returned: always
  type: bool
  sample: true
backup:
  description:
    - The backup taken, or the recent one that made a new backup unnecessary, in the shape of
      RV(cellar.garage.pgbackrest_info#module:stanzas[].backups[]).
    - V(null) in check mode when a backup would be taken.
  returned: always
  type: dict
  sample: {label: 20261201-233123F, type: full, prior: null, timestamp_stop: 1796167902, repository_size: 3043463}
age_seconds:
  description: Age of RV(backup) at the time of the run (V(0) for a backup this run took).
  returned: when a backup was found or taken
  type: int
  sample: 5400
seconds:
  description: How long the C(pgbackrest backup) command ran.
  returned: when a backup was taken
  type: float
  sample: 4.2
status:
  description: The stanza's status in the repository (C(code), C(message)) from C(pgbackrest info).
  returned: always
  type: dict
  sample: {code: 0, message: ok}
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import PGBACKREST
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import backup

ARGUMENT_SPEC: dict[str, t.Any] = {
    "stanza": {"type": "str", "required": True},
    "type": {"type": "str", "choices": ["full", "diff", "incr"], "default": "full"},
    "max_age": {"type": "str", "required": True},
    "repo": {"type": "int", "default": 1},
    "start_fast": {"type": "bool"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(PGBACKREST,))

    def body() -> Outcome:
        spec = backup.spec_from_params(module.params)
        return backup.ensure(module.pgbackrest, spec, dry_run=module.check_mode)

    module.run(body, what=f"back up pgBackRest stanza '{module.params['stanza']}'")


if __name__ == "__main__":
    main()
