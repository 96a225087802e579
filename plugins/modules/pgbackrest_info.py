#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pgbackrest_info
short_description: Read the stanzas, backups and WAL archive of a pgBackRest repository
version_added: 0.2.0
description:
  - Runs C(pgbackrest info --output=json) and returns it parsed, in snake_case - each stanza's status, its
    repositories, its backups (label, type, start and stop time, sizes, WAL range, LSN range) and the range of WAL
    segments archived.
  - C(pgbackrest info) exits 0 even when the repository refused the request or could not be reached. This module reads
    the status codes in its JSON and fails when a repository answered with an error, with a RV(ignore:failure_reason)
    naming the cause (see O(probe_timeout)). A stanza missing from the repository is not an error; RV(exists) is
    then V(false).
  - Reads the repository with a short C(io-timeout) (O(probe_timeout)) after a TCP connect to the configured
    endpoint, so a broken repository fails within seconds.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._pgbackrest
  - cellar.garage._attributes.info_module
  - cellar.garage._attributes.actiongroup_pgbackrest
options:
  stanza:
    description:
      - Read only this stanza. Without it, every stanza of the configuration is read.
    type: str
  repo:
    description:
      - Read only this repository (C(repo<N>)). Without it, every repository of the configuration is read.
    type: int
seealso:
  - module: cellar.garage.pgbackrest_stanza
  - module: cellar.garage.pgbackrest_backup
"""

EXAMPLES = r"""
---
- name: Read the backups of stanza main
  cellar.garage.pgbackrest_info:
    stanza: main
  become: true
  register: pgbr

- name: Fail when no full backup is younger than a week
  ansible.builtin.assert:
    that:
      - pgbr.stanzas[0].backups | selectattr('type', 'equalto', 'full')
        | selectattr('timestamp_stop', 'gt', now().timestamp() - 7 * 86400) | list | length > 0
"""

RETURN = r"""
---
exists:
  description: Whether the stanza exists in the repository (not reported as missing).
  returned: when O(stanza) is set
  type: bool
  sample: true
stanzas:
  description: One entry per stanza, in pgBackRest's order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The stanza.
      type: str
      sample: main
    status:
      description: C(code) and C(message) (0 ok, 1 missing stanza path, 2 no valid backups, 3 missing stanza data,
        4 different across repos, 5 database mismatch across repos, 99 other).
      type: dict
      sample: {code: 0, message: ok}
    backup_running:
      description: Whether a backup or expire holds the stanza's lock on this host.
      type: bool
    cipher:
      description: The repository cipher (C(none) or C(aes-256-cbc)).
      type: str
    repos:
      description: Each repository's C(key) (its index), C(cipher) and C(status).
      type: list
      elements: dict
    backups:
      description: The backups, oldest first.
      type: list
      elements: dict
      contains:
        label:
          description:
            - The backup's label, for example C(20261201-233123F) (a full backup) or
              C(20261201-233123F_20261202-010000I) (an incremental one).
          type: str
        type:
          description: C(full), C(diff) or C(incr).
          type: str
        prior:
          description: The label of the backup this one depends on (V(null) for a full backup).
          type: str
        error:
          description: Whether pgBackRest found page checksum errors during the backup.
          type: bool
        timestamp_start:
          description: Start, in seconds since the epoch.
          type: int
        timestamp_stop:
          description: End, in seconds since the epoch.
          type: int
        started_at:
          description: Start, RFC 3339 UTC.
          type: str
        stopped_at:
          description: End, RFC 3339 UTC.
          type: str
        size:
          description: Size of the database at backup time, in bytes.
          type: int
        delta:
          description: Bytes of the database this backup copied.
          type: int
        repository_size:
          description: Bytes the backup takes in the repository (compressed).
          type: int
        repository_delta:
          description: Bytes this backup added to the repository.
          type: int
        wal_start:
          description: The first WAL segment the backup needs.
          type: str
        wal_stop:
          description: The last WAL segment the backup needs.
          type: str
        lsn_start:
          description: LSN at the start of the backup.
          type: str
        lsn_stop:
          description: LSN at the end of the backup.
          type: str
        repo:
          description: The repository holding the backup.
          type: int
    archive:
      description: The WAL archived per database id - C(id), C(wal_min), C(wal_max), C(repo).
      type: list
      elements: dict
      sample: [{id: 15-1, wal_min: "000000010000000000000001", wal_max: "000000010000000000000007", repo: 1}]
    db:
      description: The PostgreSQL clusters the stanza has held - C(id), C(version), C(system_id), C(repo).
      type: list
      elements: dict
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import PGBACKREST
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import info

ARGUMENT_SPEC: dict[str, t.Any] = {
    "stanza": {"type": "str"},
    "repo": {"type": "int"},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(PGBACKREST,))

    def body() -> dict[str, t.Any]:
        return info.stanzas(module.pgbackrest, stanza=module.params["stanza"], repo=module.params["repo"])

    module.run(body, what="read the pgBackRest repository")


if __name__ == "__main__":
    main()
