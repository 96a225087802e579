# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Read the repository: ``info --output=json`` behind a fast probe, errors typed. No Ansible here.

:func:`read` is what ``pgbackrest_info`` and ``pgbackrest_backup`` call: a TCP connect to the
S3 endpoint of the configuration (when the file is readable), then ``info`` with the short
probe ``io-timeout``, then the status codes of the JSON -- pgBackRest's exit code says nothing
about the repository.
"""

from __future__ import annotations

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli, config, files, views

STANZA_MISSING = "stanza_missing"


def configured_endpoint(client: cli.PgBackRest, repo: int, stanza: str | None) -> tuple[str, int] | None:
    """The S3 endpoint of repository ``repo`` in the configuration file, if it can be read."""
    try:
        state = files.read_state(client.config_file)
    except OperationError:
        return None  # e.g. not readable by this user: pgBackRest will say so
    if state.text is None:
        return None
    return config.repo_endpoint(state.text, repo, stanza)


def read(client: cli.PgBackRest, *, stanza: str | None, repo: int | None) -> list[dict[str, t.Any]]:
    """The parsed info JSON, after a fast probe; raises a typed error when a repository failed.

    A stanza that does not exist is not an error here (status 1): callers decide."""
    endpoint = configured_endpoint(client, repo or 1, stanza)
    if endpoint is not None:
        client.reachable(endpoint[0], endpoint[1])
    raw = client.info(stanza, repo=repo, io_timeout=client.probe_timeout)
    label = f"https://{endpoint[0]}:{endpoint[1]}" if endpoint else None
    for entry in raw:
        name = str(entry.get("name"))
        keys = [r.get("key") for r in entry.get("repo") or [] if isinstance(r, t.Mapping)] or [repo or 1]
        for key in keys:
            status = cli.repo_status([entry], name, int(key or 1))
            cli.raise_for_status(status, stanza=name, repo=int(key or 1), endpoint=label)
    return raw


def stanzas(client: cli.PgBackRest, *, stanza: str | None, repo: int | None) -> dict[str, t.Any]:
    """What ``pgbackrest_info`` returns: ``stanzas`` (views) and ``exists`` for a named stanza."""
    if stanza is not None and not stanza.strip():
        raise InputError("stanza must not be empty")
    raw = read(client, stanza=stanza, repo=repo)
    found = [views.stanza_view(entry) for entry in raw]
    result: dict[str, t.Any] = {"stanzas": found}
    if stanza:
        mine = next((s for s in found if s["name"] == stanza), None)
        result["exists"] = mine is not None and mine["status"]["code"] not in cli.STANZA_MISSING_CODES
    return result
