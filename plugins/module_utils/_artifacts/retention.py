# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Retention classes, expiry, holds and their history. Pure: no I/O, no Ansible.

A package's retention state is one JSON document next to its manifest
(``<prefix>/retention/<package_id>.json``)::

    {"schema": "cellar.garage.artifact-retention/1", "package_id": "<hex>",
     "created_at": "2026-01-01T00:00:00Z", "retention_class": "raw-evidence",
     "expires_at": "2026-04-01T00:00:00Z",            # null: never
     "holds": [{"name": "legal-2026-17", "reason": "...", "actor": "alice", "since": "..."}],
     "history": [{"at": "...", "actor": "...", "action": "create", ...}, ...]}

Classes and their default durations (configurable per call, a year is 365 days):
transient 1 day, raw-evidence 90 days, summary-evidence 365 days, release-evidence 7 years,
permanent-record never.

A package is **eligible** for collection when it has expired (``expires_at <= now``) and has no
hold. ``extend_by`` is relative to the class's expiry (``created_at`` + the class duration), so
applying it twice changes nothing.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._timestamps import format_timestamp, parse_timestamp

SCHEMA = "cellar.garage.artifact-retention/1"
DAY = 86400
YEAR = 365 * DAY
DEFAULT_DURATIONS: dict[str, int | None] = {
    "transient": DAY,
    "raw-evidence": 90 * DAY,
    "summary-evidence": 365 * DAY,
    "release-evidence": 7 * YEAR,
    "permanent-record": None,
}
CLASSES = tuple(DEFAULT_DURATIONS)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY, "y": YEAR}
_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhdwy]?)\s*$")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$")


class RetentionError(ValueError):
    """A bad duration, class or hold name."""


def parse_duration(value: t.Any) -> int | None:
    """Seconds of ``value``: an int (seconds) or ``<n><unit>`` (s, m, h, d, w, y); ``never`` -> None."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("never", "forever")):
        return None
    if isinstance(value, bool):
        raise RetentionError(f"not a duration: {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise RetentionError(f"a duration cannot be negative: {value}")
        return value
    match = _DURATION_RE.match(str(value).lower())
    if not match:
        raise RetentionError(f"not a duration: {value!r} (use seconds or <n>s/m/h/d/w/y, e.g. 90d)")
    return int(match.group(1)) * _UNITS[match.group(2) or "s"]


def durations(overrides: t.Mapping[str, t.Any] | None = None) -> dict[str, int | None]:
    """The class durations: the defaults with ``overrides`` (class -> duration or ``never``)."""
    result = dict(DEFAULT_DURATIONS)
    for name, value in (overrides or {}).items():
        if name not in result:
            raise RetentionError(f"unknown retention class {name!r} (known: {', '.join(CLASSES)})")
        result[name] = parse_duration(value)
    return result


def check_class(name: str) -> str:
    if name not in DEFAULT_DURATIONS:
        raise RetentionError(f"unknown retention class {name!r} (known: {', '.join(CLASSES)})")
    return name


def check_name(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise RetentionError(f"{kind} {value!r}: 1 to 128 letters, digits or . _ : @ / - (starting alphanumeric)")
    return value


def timestamp(when: _dt.datetime) -> str:
    return format_timestamp(when.replace(microsecond=0))


@functools.lru_cache(maxsize=4096)
def epoch(value: str) -> float:
    return parse_timestamp(value).timestamp()


def from_epoch(seconds: float) -> str:
    return timestamp(_dt.datetime.fromtimestamp(int(seconds), _dt.timezone.utc))


def class_expiry(
    created_at: str, retention_class: str, table: t.Mapping[str, int | None], extra: int = 0
) -> str | None:
    """``created_at`` + the class duration (+ ``extra`` seconds), None for a class that never expires."""
    duration = table[retention_class]
    if duration is None:
        return None
    return from_epoch(epoch(created_at) + duration + extra)


def initial_state(
    package_id: str, created_at: str, retention_class: str, table: t.Mapping[str, int | None], actor: str
) -> dict[str, t.Any]:
    expires_at = class_expiry(created_at, retention_class, table)
    return {
        "schema": SCHEMA,
        "package_id": package_id,
        "created_at": created_at,
        "retention_class": retention_class,
        "expires_at": expires_at,
        "holds": [],
        "history": [
            {
                "at": created_at,
                "actor": actor,
                "action": "create",
                "retention_class": retention_class,
                "expires_at": expires_at,
            }
        ],
    }


def state_for_manifest(manifest: t.Mapping[str, t.Any], table: t.Mapping[str, int | None]) -> dict[str, t.Any]:
    """The state of a package whose retention document is missing: its class's default."""
    return initial_state(
        manifest["package_id"], manifest["created_at"], manifest["retention_class"], table, manifest["producer"]
    )


def parse_state(document: t.Any, package_id: str) -> dict[str, t.Any]:
    if not isinstance(document, dict) or document.get("schema") != SCHEMA or document.get("package_id") != package_id:
        raise RetentionError(f"not the retention state of package {package_id}")
    for field in ("created_at", "retention_class", "expires_at", "holds", "history"):
        if field not in document:
            raise RetentionError(f"retention state of package {package_id} has no {field}")
    return document


def view(state: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The managed view (diff): class, expiry and holds (name -> reason, actor)."""
    return {
        "retention_class": state["retention_class"],
        "expires_at": state["expires_at"],
        "holds": {h["name"]: {"reason": h.get("reason") or "", "actor": h.get("actor") or ""} for h in state["holds"]},
    }


def is_expired(state: t.Mapping[str, t.Any], now: float) -> bool:
    return state.get("expires_at") is not None and epoch(state["expires_at"]) <= now


def is_held(state: t.Mapping[str, t.Any]) -> bool:
    return bool(state.get("holds"))


def is_eligible(state: t.Mapping[str, t.Any], now: float) -> bool:
    """Expired and not held: the collector may delete the package."""
    return is_expired(state, now) and not is_held(state)


def change(
    state: t.Mapping[str, t.Any],
    *,
    now: str,
    actor: str,
    table: t.Mapping[str, int | None],
    retention_class: str | None = None,
    expires_at: str | None = None,
    never_expires: bool = False,
    extend_by: int | None = None,
    hold: str | None = None,
    release_hold: str | None = None,
    reason: str | None = None,
) -> dict[str, t.Any]:
    """The new state after the requested changes (the same dict content when nothing changes).

    Order: class, then expiry (``expires_at`` / ``never_expires`` / ``extend_by``; a class change
    alone resets the expiry to the new class's), then holds.
    """
    new = copy.deepcopy(dict(state))
    events: list[dict[str, t.Any]] = []
    if retention_class is not None and retention_class != new["retention_class"]:
        events.append({"action": "class", "from": new["retention_class"], "to": retention_class})
        new["retention_class"] = retention_class
    target: str | object | None = _KEEP
    if never_expires:
        target = None
    elif expires_at is not None:
        target = timestamp(parse_timestamp(expires_at))
    elif extend_by is not None:
        target = class_expiry(new["created_at"], new["retention_class"], table, extend_by)
    elif retention_class is not None and events:
        target = class_expiry(new["created_at"], new["retention_class"], table)
    if target is not _KEEP and target != new["expires_at"]:
        events.append({"action": "expiry", "from": new["expires_at"], "to": target})
        new["expires_at"] = target
    holds = {h["name"]: h for h in new["holds"]}
    if hold is not None and hold not in holds:
        holds[hold] = {"name": hold, "reason": reason or "", "actor": actor, "since": now}
        events.append({"action": "hold", "hold": hold, "reason": reason or ""})
    if release_hold is not None and release_hold in holds:
        del holds[release_hold]
        events.append({"action": "release_hold", "hold": release_hold, "reason": reason or ""})
    new["holds"] = [holds[name] for name in sorted(holds)]
    for event in events:
        new["history"].append({"at": now, "actor": actor, **event})
    return new


_KEEP = object()
