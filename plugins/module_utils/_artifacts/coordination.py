# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Intents and collector locks: how pushes, retention changes and the collector stay out of
each other's way without a database. No Ansible here.

- A writer (push, retention change) writes an **intent** (``<prefix>/inflight/<token>.json``,
  the blob digests and package ids it is about to rely on) *first*, then lists the collectors'
  locks and waits until every collector it saw has finished (or its lock went stale). Only then
  does it check which blobs exist. It refreshes the intent while it works and deletes it last.
- A collector writes its **lock** (``<prefix>/gc/<token>.json``) *first*, then lists the
  locks (another live collector: it stands down) and the intents (what they name is kept).

Write-then-list on both sides, on listings that see every completed write (Garage's quorum
reads and writes), means a writer and a collector cannot both miss each other. See
docs/artifacts.md and :mod:`.gc`.
"""

from __future__ import annotations

import json
import time
import typing as t
import uuid

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import gc, paths
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.manifest import encode
from ansible_collections.cellar.garage.plugins.module_utils._artifacts.store import Store, parse_time
from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError

GC_IN_PROGRESS = "gc_in_progress"
POLL = 0.5


def _token() -> str:
    return uuid.uuid4().hex


class Intent:
    """A writer's intent (see the module docstring). Use as a context manager."""

    def __init__(self, store: Store, *, kind: str, blobs: t.Iterable[str] = (), packages: t.Iterable[str] = ()) -> None:
        self.store = store
        self.token = _token()
        self.key = paths.inflight_key(store.prefix, self.token)
        self.document = {
            "kind": kind,
            "blobs": sorted(set(blobs)),
            "packages": sorted(set(packages)),
        }
        self.written = 0.0

    def write(self) -> None:
        self.store.put(self.key, encode(self.document))
        self.written = time.monotonic()

    def refresh_if_due(self) -> None:
        """Re-write the intent when it is older than INTENT_REFRESH; give up when it is so old
        that a collector may already have ignored it."""
        age = time.monotonic() - self.written
        if age > gc.INTENT_TTL / 2:
            raise OperationError(
                f"This run went {int(age)} s without refreshing its intent ({self.key}): a collector may have "
                "ignored it, so the blobs it relies on are not safe. Run it again.",
                failure_reason="intent_expired",
            )
        if age > gc.INTENT_REFRESH:
            self.write()

    def release(self) -> None:
        self.store.delete(self.key)

    def __enter__(self) -> Intent:
        self.write()
        return self

    def __exit__(self, *exc: t.Any) -> None:
        try:
            self.release()
        except OperationError:
            if exc[0] is None:
                raise
            # The run failed already; a leftover intent only protects blobs until INTENT_TTL.


def locks(store: Store, now: float, *, exclude: str | None = None) -> tuple[dict[str, float], list[str]]:
    """``({key: modified} of live locks, [keys of stale locks])`` (stale: older than LOCK_TTL)."""
    live: dict[str, float] = {}
    stale: list[str] = []
    for entry in store.list_area(paths.GC):
        if entry.key == exclude:
            continue
        modified = parse_time(entry.last_modified)
        if now - modified < gc.LOCK_TTL:
            live[entry.key] = modified
        else:
            stale.append(entry.key)
    return live, stale


def live_locks(store: Store, now: float, *, exclude: str | None = None) -> dict[str, float]:
    """``{key: modified}`` of the collectors' locks younger than LOCK_TTL."""
    return locks(store, now, exclude=exclude)[0]


def wait_for_collectors(store: Store, intent: Intent, *, timeout: float) -> float:
    """Wait until every collector running now has finished; returns the seconds waited.

    Only the locks seen by the first listing matter: a collector that starts later lists the
    intents after writing its lock, and so sees ``intent``.
    """
    started = time.monotonic()
    waiting = live_locks(store, store.server_now())
    while waiting:
        if time.monotonic() - started > timeout:
            raise OperationError(
                f"A garbage collection of bucket '{store.bucket}' (prefix '{store.prefix}') is still running after "
                f"{int(timeout)} s ({', '.join(sorted(waiting))}); run again later, or raise gc_wait",
                failure_reason=GC_IN_PROGRESS,
                details={"locks": sorted(waiting)},
            )
        time.sleep(POLL)
        intent.refresh_if_due()
        now = store.server_now()
        current = live_locks(store, now)
        waiting = {k: v for k, v in waiting.items() if k in current}
    return time.monotonic() - started


class Lock:
    """A collector's lock (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.token = _token()
        self.key = paths.gc_lock_key(store.prefix, self.token)
        self.written = 0.0

    def write(self) -> None:
        self.store.put(self.key, encode({"kind": "gc"}))
        self.written = time.monotonic()

    def acquire(self) -> dict[str, float]:
        """Write the lock, then list the others: returns the other live locks (empty: go ahead).
        Locks left by collectors that died (stale) are deleted."""
        self.write()
        live, stale = locks(self.store, self.store.server_now(), exclude=self.key)
        for key in stale:
            self.store.delete(key)
        return live

    def keep_alive(self) -> None:
        """Between two steps: refresh the lock, or stop when it may have been taken for stale."""
        age = time.monotonic() - self.written
        if age > gc.LOCK_TTL / 2:
            raise OperationError(
                f"The collector's lock ({self.key}) was not refreshed for {int(age)} s: writers may have taken it "
                "for stale, so nothing more is deleted. Run the collector again.",
                failure_reason="gc_lock_expired",
                changed=True,
            )
        if age > gc.LOCK_REFRESH:
            self.write()

    def release(self) -> None:
        self.store.delete(self.key)


def read_intents(store: Store) -> tuple[list[gc.Intent], list[str]]:
    """The intents in the bucket, and the keys of those that could not be parsed."""
    entries = {e.key: parse_time(e.last_modified) for e in store.list_area(paths.INFLIGHT)}
    bodies = store.get_many(entries)
    intents: list[gc.Intent] = []
    unreadable: list[str] = []
    for key, modified in entries.items():
        data = bodies.get(key)
        if data is None:
            continue  # finished in between
        token = paths.token_of(store.prefix, key, paths.INFLIGHT) or key
        try:
            document = json.loads(data.decode("utf-8"))
            blobs = frozenset(str(b) for b in document.get("blobs") or [])
            packages = frozenset(str(p) for p in document.get("packages") or [])
        except (ValueError, AttributeError, UnicodeDecodeError):
            unreadable.append(key)
            intents.append(gc.Intent(token, modified))
            continue
        intents.append(gc.Intent(token, modified, blobs, packages))
    return intents, unreadable
