#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pgbackrest_stanza
short_description: Converge a pgBackRest stanza whose repository is a Garage bucket
version_added: 0.2.0
description:
  - Writes the repository options (C([global]) section, C(repo<N>-*)) and the stanza's options (C([<stanza>])
    section, C(pg1-*)) into the pgBackRest configuration file O(config_file), keeping every other line of the file
    as it is (comments, other stanzas, other options).
  - Before anything is written, reads the repository with the new configuration (a private copy of it) under a
    short C(io-timeout) (O(probe_timeout)). A certificate the CA file does not trust, a host name missing from the
    certificate, a secret Garage refuses, a missing bucket or an endpoint that does not answer fails within
    seconds, with nothing changed and a RV(ignore:failure_reason) naming the cause.
  - Runs C(pgbackrest stanza-create) only when C(pgbackrest info --output=json) reports the stanza missing in the
    repository (status codes 1 and 3; the exit code of C(info) is 0 whatever happened). C(stanza-create) is not
    idempotent in pgBackRest 2.45.
  - Then runs C(pgbackrest check) (O(run_check)), which forces a WAL switch and waits until PostgreSQL has archived
    it through C(archive_command) into the repository.
  - The file gets the owner, group and mode O(owner), O(group), O(mode) (by default the database user, its group and
    C(0640)), as it holds the S3 secret and must not be readable by others. It is replaced atomically and is never
    world-readable, even for a moment.
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
      - The repository is read with the configuration the run would write, so check mode predicts whether the stanza
        would be created. C(check) is not run.
  diff_mode:
    description:
      Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
    details:
      - The diff shows the managed options, the file's owner, group and mode, and whether the stanza exists. Secret
        values are masked; a secret this run writes shows as C(******** (changed)).
options:
  stanza:
    description:
      - Name of the stanza (usually one per PostgreSQL cluster), for example V(main).
    type: str
    required: true
  repo:
    description:
      - Index of the repository in the configuration (C(repo1), C(repo2), ...).
    type: int
    default: 1
  s3_url:
    description:
      - HTTPS URL of the S3 endpoint, host and port only, for example V(https://s3.example.com) or
        V(https://garage1.example.com:3443).
      - pgBackRest talks to S3 only over HTTPS, and Garage serves no TLS. Put a TLS front before Garage's S3 port
        (the role C(cellar.garage.garage_tls_front)) and use its URL; an C(http://) URL is refused.
      - The host must be a name the certificate lists; pgBackRest 2.45 does not match IP addresses in certificates,
        so an IP address is refused when O(verify_tls=true).
    type: str
    required: true
  s3_bucket:
    description:
      - The bucket of the repository. A local alias of O(s3_key) works (the name a customer sees with
        C(cellar.garage.garage_customer_bucket)).
    type: str
    required: true
  s3_region:
    description:
      - The region requests are signed for; Garage's C([s3_api] s3_region).
    type: str
    default: garage
  s3_key:
    description:
      - The access key id (C(GK...)) of a key with read and write permission on the bucket.
    type: str
    required: true
  s3_key_secret:
    description:
      - The secret of O(s3_key). Written only to the configuration file; never logged, returned or shown in the
        diff.
    type: str
    required: true
  s3_uri_style:
    description:
      - V(path) addresses the bucket in the path (C(https://host/bucket/...)), which Garage always serves.
        V(host) needs Garage's C(root_domain) and a wildcard certificate.
    type: str
    choices: [path, host]
    default: path
  ca_file:
    description:
      - PEM file of the CA that signed the endpoint's certificate, on the host (C(repo<N>-storage-ca-file)).
      - Not set leaves the option as it is in the file (the system's CA store is used when it is absent).
    type: path
  verify_tls:
    description:
      - Whether pgBackRest verifies the endpoint's certificate (C(repo<N>-storage-verify-tls)). Keep V(true).
    type: bool
    default: true
  repo_path:
    description:
      - Path of the repository inside the bucket (C(repo<N>-path)). Several stanzas share one repository path, each
        in its own directory.
    type: str
    default: /pgbackrest
  retention_full:
    description:
      - Number of full backups to keep (C(repo<N>-retention-full)), or days with O(retention_full_type=time).
      - Not set leaves the option as it is in the file. Without any, pgBackRest warns at every backup.
    type: int
  retention_full_type:
    description:
      - Whether O(retention_full) counts backups or days.
    type: str
    choices: [count, time]
  retention_diff:
    description:
      - Number of differential backups to keep (C(repo<N>-retention-diff)).
    type: int
  retention_archive:
    description:
      - Number of backups whose WAL is kept for point-in-time recovery (C(repo<N>-retention-archive)).
    type: int
  retention_archive_type:
    description:
      - The type of backup O(retention_archive) counts.
    type: str
    choices: [full, diff, incr]
  cipher_type:
    description:
      - Encrypt the repository on the client side (C(repo<N>-cipher-type)). Set it before the stanza is created;
        pgBackRest cannot change the cipher of an existing repository.
    type: str
    choices: [none, aes-256-cbc]
  cipher_pass:
    description:
      - The repository's encryption passphrase (C(repo<N>-cipher-pass)). Never logged, returned or shown in the diff.
    type: str
  pg_path:
    description:
      - The PostgreSQL data directory of the stanza (C(pg1-path)), for example V(/var/lib/postgresql/15/main).
    type: path
    required: true
  pg_port:
    description:
      - PostgreSQL's port (C(pg1-port)). Not set leaves the option as it is (pgBackRest's default is 5432).
    type: int
  pg_socket_path:
    description:
      - Directory of PostgreSQL's Unix socket (C(pg1-socket-path)).
    type: path
  pg_user:
    description:
      - The database user pgBackRest connects as (C(pg1-user)).
    type: str
  global_options:
    description:
      - "Other options of the C([global]) section, for example C({start-fast: true, process-max: 2,
        compress-type: lz4, log-level-file: detail}). V(true)/V(false) are written as C(y)/C(n), a list as one line per
        item, and V(null) removes the option."
      - The options this module manages (C(repo<N>-*) above) are refused here, and so are options that hold secrets.
      - Options not listed are left as they are.
    type: dict
    default: {}
  stanza_options:
    description:
      - Other options of the stanza's section, like O(global_options).
    type: dict
    default: {}
  owner:
    description:
      - Owner of the configuration file. Defaults to O(run_as).
    type: str
  group:
    description:
      - Group of the configuration file. Defaults to the primary group of O(owner).
    type: str
  mode:
    description:
      - Mode of the configuration file, as an octal string.
    type: str
    default: "0640"
  run_check:
    description:
      - Run C(pgbackrest check) after the configuration and the stanza are in place (not in check mode).
      - It needs PostgreSQL running with C(archive_mode) on and an C(archive_command) that pushes to this stanza
        (the role C(cellar.garage.pgbackrest) sets both). It waits up to C(archive-timeout) (pgBackRest's default
        60 s; set it in O(global_options)) for the WAL segment.
    type: bool
    default: true
notes:
  - "Failure reasons besides the repository ones listed under O(probe_timeout): C(invalid_input) (refused before any
    change), C(config_unreadable), C(config_write_failed), C(stanza_create_failed), C(stanza_check_failed),
    C(pgbackrest_failed), C(run_as_unavailable), C(missing_dependency). When C(stanza-create) or C(check) fails after
    the file was written, the task reports RV(ignore:changed=true) and RV(ignore:config_file_written=true): the
    configuration is in place and a later run goes on from there."
  - Options left unset (O(ca_file), the retention options, O(pg_port)...) are not removed from the file. Remove one
    with O(global_options) or O(stanza_options) and V(null).
seealso:
  - module: cellar.garage.pgbackrest_info
  - module: cellar.garage.pgbackrest_backup
  - module: cellar.garage.garage_customer_bucket
  - name: pgBackRest S3 repository configuration
    description: The options this module writes.
    link: https://pgbackrest.org/configuration.html#section-repository
"""

EXAMPLES = r"""
---
- name: Point stanza main at a Garage bucket behind a TLS front
  cellar.garage.pgbackrest_stanza:
    stanza: main
    pg_path: /var/lib/postgresql/15/main
    s3_url: https://s3.garage.example.net
    s3_bucket: pgbackrest
    s3_key: GK31c2f218a2e44f485b94239e
    s3_key_secret: "{{ lookup('cellar.garage.openbao_kv', 'garage/customers/db-backup', field='secret_access_key') }}"
    ca_file: /etc/ssl/certs/garage-ca.pem
    retention_full: 2
    global_options:
      start-fast: true
      compress-type: lz4
      process-max: 2
  become: true

- name: Write the configuration and create the stanza, but do not run check yet (PostgreSQL not archiving yet)
  cellar.garage.pgbackrest_stanza:
    stanza: main
    pg_path: /var/lib/postgresql/15/main
    s3_url: https://s3.garage.example.net:3443
    s3_bucket: pgbackrest
    s3_key: "{{ backup_key_id }}"
    s3_key_secret: "{{ backup_key_secret }}"
    run_check: false
  become: true
"""

RETURN = r"""
---
stanza:
  description: The stanza.
  returned: always
  type: str
  sample: main
repo:
  description: The repository index.
  returned: always
  type: int
  sample: 1
config_file:
  description: The configuration file.
  returned: always
  type: str
  sample: /etc/pgbackrest/pgbackrest.conf
stanza_created:
  description: Whether the stanza was missing in the repository and C(stanza-create) ran (in check mode, would run).
  returned: always
  type: bool
  sample: false
checked:
  description: Whether C(pgbackrest check) ran and passed.
  returned: always
  type: bool
  sample: true
status:
  description:
    - The repository's status of the stanza from C(pgbackrest info) (C(code) 0 ok, 1 missing stanza path, 2 no valid
      backups, 3 missing stanza data), read last.
  returned: always
  type: dict
  sample: {code: 2, message: no valid backups}
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import PGBACKREST
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import stanza

ARGUMENT_SPEC: dict[str, t.Any] = {
    "stanza": {"type": "str", "required": True},
    "repo": {"type": "int", "default": 1},
    "s3_url": {"type": "str", "required": True},
    "s3_bucket": {"type": "str", "required": True},
    "s3_region": {"type": "str", "default": "garage"},
    "s3_key": {"type": "str", "required": True, "no_log": False},
    "s3_key_secret": {"type": "str", "required": True, "no_log": True},
    "s3_uri_style": {"type": "str", "choices": ["path", "host"], "default": "path"},
    "ca_file": {"type": "path"},
    "verify_tls": {"type": "bool", "default": True},
    "repo_path": {"type": "str", "default": "/pgbackrest"},
    "retention_full": {"type": "int"},
    "retention_full_type": {"type": "str", "choices": ["count", "time"]},
    "retention_diff": {"type": "int"},
    "retention_archive": {"type": "int"},
    "retention_archive_type": {"type": "str", "choices": ["full", "diff", "incr"]},
    "cipher_type": {"type": "str", "choices": ["none", "aes-256-cbc"]},
    "cipher_pass": {"type": "str", "no_log": True},
    "pg_path": {"type": "path", "required": True},
    "pg_port": {"type": "int"},
    "pg_socket_path": {"type": "path"},
    "pg_user": {"type": "str"},
    "global_options": {"type": "dict", "default": {}},
    "stanza_options": {"type": "dict", "default": {}},
    "owner": {"type": "str"},
    "group": {"type": "str"},
    "mode": {"type": "str", "default": "0640"},
    "run_check": {"type": "bool", "default": True},
}


def main() -> None:
    module = GarageModule(ARGUMENT_SPEC, option_groups=(PGBACKREST,))

    def body() -> Outcome:
        spec = stanza.spec_from_params(module.params, run_as=module.params["run_as"])
        return stanza.ensure(module.pgbackrest, spec, dry_run=module.check_mode)

    module.run(body, what=f"converge pgBackRest stanza '{module.params['stanza']}'")


if __name__ == "__main__":
    main()
