# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The collector's decision, as a pure function over listings. No I/O, no Ansible.

:func:`plan` takes what the collector read -- blobs (digest, size, age), packages (their
references and retention state), unreadable manifests, orphan retention documents and the
intents of pushes / retention changes in flight -- plus the server's ``now`` and the grace
window, and returns what to delete. Its rules:

1. **Sweep**: a package is *eligible* when it has expired and has no hold, and no fresh intent
   names it (a retention change in flight).
2. **Collect**: delete the manifests (and retention documents) of eligible packages; then delete
   every blob that (a) no remaining package references, (b) no fresh intent names, and (c) was
   last written more than ``grace`` seconds before ``now``. A blob whose digest is unknown to
   the layout is never touched. If any manifest could not be read, no blob is deleted at all
   (its references are unknown); the same when an intent could not be read.
3. Retention documents without a manifest (a push that died between the two writes) go once
   they are older than the grace window and no fresh intent names their package.
4. Intents older than :data:`INTENT_TTL` belong to pushes that died (a live push refreshes its
   intent every :data:`INTENT_REFRESH` and gives up before :data:`INTENT_TTL` / 2): they protect
   nothing any more and are deleted.

Why a push in flight is never robbed (docs/artifacts.md has the whole argument): a push writes
its intent (every blob digest it will reference) *before* it looks at any blob, then lists the
collectors' locks; a collector writes its lock *before* it lists intents. With read-after-write
consistent listings one of them sees the other: either the collector sees the intent and keeps
those blobs, or the push sees the lock and waits until that collector is done before it checks
which blobs exist. The grace window is the second line: blobs written recently are kept even
without any intent (a client that does not follow the protocol, clock skew of a few minutes).
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import retention

DEFAULT_GRACE = 3600
#: An intent not refreshed for this long belongs to a push that died.
INTENT_TTL = 3600
INTENT_REFRESH = 300
#: A collector's lock not refreshed for this long belongs to a collector that died; a live
#: collector refreshes it every LOCK_REFRESH and stops deleting past LOCK_TTL / 2.
LOCK_TTL = 300
LOCK_REFRESH = 30


@dataclasses.dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    modified: float  # epoch seconds, server clock


@dataclasses.dataclass(frozen=True)
class Package:
    package_id: str
    references: t.Mapping[str, int]  # digest -> size
    state: t.Mapping[str, t.Any]  # retention state (read, or derived from the manifest)
    state_readable: bool = True


@dataclasses.dataclass(frozen=True)
class Intent:
    token: str
    modified: float
    blobs: frozenset[str] = frozenset()
    packages: frozenset[str] = frozenset()

    def fresh(self, now: float) -> bool:
        return now - self.modified < INTENT_TTL


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to delete. Lists are sorted; ``bytes_freed`` counts the blobs only."""

    packages: tuple[str, ...]
    retention: tuple[str, ...]
    blobs: tuple[str, ...]
    bytes_freed: int
    stale_intents: tuple[str, ...]
    expired_held: tuple[str, ...]
    protected_by_intent: tuple[str, ...]
    young_unreferenced: int
    blobs_blocked_by: str | None

    @property
    def empty(self) -> bool:
        return not (self.packages or self.retention or self.blobs or self.stale_intents)


def plan(
    *,
    now: float,
    grace: float,
    blobs: t.Iterable[Blob],
    packages: t.Iterable[Package],
    unreadable_manifests: t.Iterable[str] = (),
    unreadable_intents: t.Iterable[str] = (),
    orphan_retention: t.Mapping[str, float] | None = None,
    intents: t.Iterable[Intent] = (),
) -> Plan:
    """The collector's decision (see the module docstring)."""
    intents = list(intents)
    fresh = [i for i in intents if i.fresh(now)]
    stale = sorted(i.token for i in intents if not i.fresh(now))
    protected_blobs = frozenset().union(*(i.blobs for i in fresh)) if fresh else frozenset()
    protected_packages = frozenset().union(*(i.packages for i in fresh)) if fresh else frozenset()
    unreadable = sorted(set(unreadable_manifests))

    eligible: list[str] = []
    held: list[str] = []
    protected: list[str] = []
    remaining: list[Package] = []
    for package in packages:
        state = package.state
        if not package.state_readable:
            remaining.append(package)
            continue
        if retention.is_expired(state, now) and retention.is_held(state):
            held.append(package.package_id)
        if retention.is_eligible(state, now):
            if package.package_id in protected_packages:
                protected.append(package.package_id)
            else:
                eligible.append(package.package_id)
                continue
        remaining.append(package)

    referenced: set[str] = set()
    for package in remaining:
        referenced.update(package.references)

    doomed: list[Blob] = []
    young = 0
    blocked: str | None = None
    if unreadable:
        blocked = f"{len(unreadable)} manifest(s) could not be read: {', '.join(unreadable[:5])}"
    elif any(True for _unused in unreadable_intents):
        blocked = "an intent of a push in flight could not be read"
    for blob in blobs:
        if blob.digest in referenced or blob.digest in protected_blobs:
            continue
        if now - blob.modified <= grace:
            young += 1
            continue
        if blocked is None:
            doomed.append(blob)

    orphans = sorted(
        pid
        for pid, modified in (orphan_retention or {}).items()
        if now - modified > grace and pid not in protected_packages
    )
    return Plan(
        packages=tuple(sorted(eligible)),
        retention=tuple(sorted(set(eligible) | set(orphans))),
        blobs=tuple(sorted(b.digest for b in doomed)),
        bytes_freed=sum(b.size for b in doomed),
        stale_intents=tuple(stale),
        expired_held=tuple(sorted(held)),
        protected_by_intent=tuple(sorted(protected)),
        young_unreferenced=young,
        blobs_blocked_by=blocked,
    )
