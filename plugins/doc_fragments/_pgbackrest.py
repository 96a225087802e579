# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._pgbackrest`.

from __future__ import annotations


class ModuleDocFragment:
    # The pgBackRest command-line options shared by every module of the `pgbackrest` action
    # group (argspec: PGBACKREST in plugins/module_utils/_options.py).
    DOCUMENTATION = r"""
options:
  config_file:
    description:
      - The pgBackRest configuration file, passed to every pgBackRest command as C(--config).
      - Use the same path in PostgreSQL's C(archive_command) (the role C(cellar.garage.pgbackrest) does).
    type: path
    default: /etc/pgbackrest/pgbackrest.conf
  run_as:
    description:
      - The system user pgBackRest runs as, the owner of the PostgreSQL data directory.
      - When the task runs as root, commands run through C(runuser -u <run_as>); otherwise the task must run as
        this user already.
    type: str
    default: postgres
  executable:
    description:
      - Path of the C(pgbackrest) program. By default it is looked up in E(PATH).
    type: path
  probe_timeout:
    description:
      - Seconds pgBackRest may wait on the repository (its C(io-timeout)) while the module first reads it with
        C(info).
      - pgBackRest otherwise retries a TLS or certificate failure silently for 60 seconds; with a short probe the
        task fails within seconds with pgBackRest's reason, for example a certificate no configured CA signed.
      - A connection refused is detected before pgBackRest runs, with a plain TCP connect.
    type: int
    default: 3
requirements:
  - pgBackRest 2.45 or later on the host the module runs on
  - C(runuser) (util-linux) when the task runs as root
notes:
  - These options can be set once for all pgBackRest modules of the collection with C(module_defaults) and the
    action group C(group/cellar.garage.pgbackrest).
  - The exit code of C(pgbackrest info) is 0 even when the repository refused the request. The modules read the
    status codes in its JSON output and fail with a RV(ignore:failure_reason) naming the cause -
    C(repository_tls_failed), C(repository_credentials_refused), C(repository_access_denied),
    C(repository_bucket_missing), C(repository_unreachable), C(repository_timeout) or C(repository_error).
"""
