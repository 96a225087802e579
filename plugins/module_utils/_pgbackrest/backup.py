# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Take a backup of a type only when none recent enough exists. No Ansible here.

:func:`ensure` reads the repository (:func:`.info.read`: fast probe, status codes), looks for
the newest good backup whose type covers the one asked (a full covers a diff and an incr, a
diff covers an incr) and stopped less than ``max_age`` ago. If there is one, nothing changes.
Otherwise -- unless ``dry_run`` -- it runs ``pgbackrest backup --type=<type>`` and reads the
repository again to report the new backup. pgBackRest may take a full backup when an
incremental one has no full to build on; the view reports the type actually taken.
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, present
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import cli, info, views
from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest.stanza import STANZA_RE
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import TimestampError, parse_duration

BACKUP_IN_PROGRESS = "backup_in_progress"


@dataclasses.dataclass(frozen=True)
class BackupSpec:
    stanza: str
    backup_type: str
    max_age: int  # seconds
    max_age_text: str
    repo: int = 1
    start_fast: bool | None = None


def spec_from_params(params: t.Mapping[str, t.Any]) -> BackupSpec:
    stanza = str(params.get("stanza") or "").strip()
    if not STANZA_RE.match(stanza):
        raise InputError(f"stanza '{stanza}' must be 1 to 64 letters, digits, '.', '_' or '-'")
    backup_type = str(params.get("type") or "full")
    if backup_type not in views.BACKUP_TYPES:
        raise InputError(f"type must be one of {', '.join(views.BACKUP_TYPES)}, got {backup_type}")
    raw_age = params.get("max_age")
    try:
        max_age = parse_duration(raw_age if raw_age is not None else "")
    except TimestampError as exc:
        raise InputError(f"max_age: {exc}") from None
    repo = 1 if params.get("repo") is None else int(params["repo"])
    if not 1 <= repo <= 256:
        raise InputError(f"repo must be from 1 to 256, got {repo}")
    return BackupSpec(stanza, backup_type, max_age, str(raw_age), repo, params.get("start_fast"))


def _managed(backup: t.Mapping[str, t.Any] | None) -> t.Mapping[str, t.Any]:
    if backup is None:
        return ABSENT
    return present({"label": backup["label"], "type": backup["type"]})


def ensure(client: cli.PgBackRest, spec: BackupSpec, *, dry_run: bool, now: float | None = None) -> Outcome:
    raw = info.read(client, stanza=spec.stanza, repo=spec.repo)
    status = cli.repo_status(raw, spec.stanza, spec.repo)
    if status.stanza_missing:
        raise OperationError(
            f"Failed to back up stanza '{spec.stanza}': it does not exist in repository repo{spec.repo} "
            f"({status.message}); create it with cellar.garage.pgbackrest_stanza",
            failure_reason=info.STANZA_MISSING,
            details={"status": status.view()},
        )
    current = time.time() if now is None else now
    recent = views.newest_covering(raw, spec.stanza, spec.backup_type, repo=spec.repo)
    if recent is not None and current - float(recent["timestamp_stop"] or 0) > spec.max_age:
        recent = None
    label = f"{spec.backup_type} backup of stanza '{spec.stanza}' newer than {spec.max_age_text}"
    if recent is not None:
        age = max(0, int(current - float(recent["timestamp_stop"] or 0)))
        result = {"backup": recent, "taken": False, "age_seconds": age, "status": status.view()}
        return Outcome(before=_managed(recent), after=_managed(recent), label=label, result=result)
    if cli.backup_running(raw, spec.stanza):
        raise OperationError(
            f"Failed to back up stanza '{spec.stanza}': another backup or expire is running on this host; "
            "run again when it has finished",
            failure_reason=BACKUP_IN_PROGRESS,
        )
    if dry_run:
        after: t.Mapping[str, t.Any] = present({"label": None, "type": spec.backup_type})
        return Outcome(before=ABSENT, after=after, label=label,
                       result={"backup": None, "taken": True, "status": status.view()})  # fmt: skip
    known = set(views.labels(raw, spec.stanza))
    ran = client.backup(spec.stanza, spec.backup_type, start_fast=spec.start_fast, repo=spec.repo)
    try:
        raw_after = info.read(client, stanza=spec.stanza, repo=spec.repo)
    except OperationError as exc:
        exc.changed = True
        raise
    entry = cli.find_stanza(raw_after, spec.stanza) or {}
    new = [views.backup_view(b) for b in entry.get("backup") or [] if str(b.get("label")) not in known]
    backup = new[-1] if new else views.newest_covering(raw_after, spec.stanza, spec.backup_type, repo=spec.repo)
    return Outcome(
        before=ABSENT,
        after=_managed(backup) if backup else present({"label": None, "type": spec.backup_type}),
        label=label,
        warnings=tuple(ran.warnings),
        result={
            "backup": backup,
            "taken": True,
            "age_seconds": 0,
            "seconds": ran.seconds,
            "status": cli.repo_status(raw_after, spec.stanza, spec.repo).view(),
        },
    )
