# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``pgbackrest info --output=json`` as the collection shows it: snake_case, one view per thing.

No Ansible here. ``pgbackrest_info`` returns these views and ``pgbackrest_backup`` returns the
same backup view, so both show a backup the same way.
"""

from __future__ import annotations

import datetime as _dt
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli

BACKUP_TYPES = ("full", "diff", "incr")
#: A backup of a type covers the needs of the types after it: full >= diff >= incr.
COVERS = {"full": {"full", "diff", "incr"}, "diff": {"diff", "incr"}, "incr": {"incr"}}


def _iso(epoch: t.Any) -> str | None:
    if not isinstance(epoch, (int, float)):
        return None
    return _dt.datetime.fromtimestamp(epoch, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def backup_view(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One backup: label, type, prior, start/stop (epoch and RFC 3339), sizes, WAL and LSN range."""
    timestamp = raw.get("timestamp") or {}
    info = raw.get("info") or {}
    repository = info.get("repository") or {}
    archive = raw.get("archive") or {}
    lsn = raw.get("lsn") or {}
    return {
        "label": raw.get("label"),
        "type": raw.get("type"),
        "prior": raw.get("prior"),
        "error": bool(raw.get("error")),
        "timestamp_start": timestamp.get("start"),
        "timestamp_stop": timestamp.get("stop"),
        "started_at": _iso(timestamp.get("start")),
        "stopped_at": _iso(timestamp.get("stop")),
        "size": info.get("size"),
        "delta": info.get("delta"),
        "repository_size": repository.get("size"),
        "repository_delta": repository.get("delta"),
        "wal_start": archive.get("start"),
        "wal_stop": archive.get("stop"),
        "lsn_start": lsn.get("start"),
        "lsn_stop": lsn.get("stop"),
        "repo": (raw.get("database") or {}).get("repo-key"),
    }


def stanza_view(raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """One stanza: status (code, message), backup lock, repositories, backups (oldest first), WAL
    archive ranges and databases."""
    status = raw.get("status") or {}
    lock = (status.get("lock") or {}).get("backup") or {}
    return {
        "name": raw.get("name"),
        "status": {"code": status.get("code"), "message": status.get("message")},
        "backup_running": bool(lock.get("held")),
        "cipher": raw.get("cipher"),
        "repos": [
            {"key": r.get("key"), "cipher": r.get("cipher"), "status": dict(r.get("status") or {})}
            for r in raw.get("repo") or []
        ],
        "backups": [backup_view(b) for b in raw.get("backup") or []],
        "archive": [
            {
                "id": a.get("id"),
                "wal_min": a.get("min"),
                "wal_max": a.get("max"),
                "repo": (a.get("database") or {}).get("repo-key"),
            }
            for a in raw.get("archive") or []
        ],
        "db": [
            {"id": d.get("id"), "version": d.get("version"), "system_id": d.get("system-id"), "repo": d.get("repo-key")}
            for d in raw.get("db") or []
        ],
    }


def newest_covering(
    info: t.Sequence[t.Mapping[str, t.Any]], stanza: str, backup_type: str, *, repo: int | None = None
) -> dict[str, t.Any] | None:
    """The newest good backup of ``stanza`` whose type covers ``backup_type`` (full covers diff and
    incr; diff covers incr), as a :func:`backup_view`; None when there is none."""
    entry = cli.find_stanza(info, stanza) or {}
    found = None
    for raw in entry.get("backup") or []:
        view = backup_view(raw)
        if view["error"] or backup_type not in COVERS.get(str(view["type"]), set()):
            continue
        if repo is not None and view["repo"] not in (None, repo):
            continue
        if found is None or (view["timestamp_stop"] or 0) >= (found["timestamp_stop"] or 0):
            found = view
    return found


def labels(info: t.Sequence[t.Mapping[str, t.Any]], stanza: str) -> list[str]:
    entry = cli.find_stanza(info, stanza) or {}
    return [str(b.get("label")) for b in entry.get("backup") or []]
