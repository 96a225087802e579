"""Cluster layout of the stand-in: staging, apply, partition assignment, health.

Follows garage-facts.md §4 (Garage v2.0.0 ``src/rpc/layout/{history,version}.rs``
and ``src/api/admin/layout.rs``). The assignment algorithm is not Garage's
flow-based optimiser; it is a deterministic greedy one that keeps Garage's
constraints (256 partitions, ``replication_factor`` distinct storage nodes per
partition, spread over at least the required number of zones, gateways store
nothing, roughly proportional to capacity, and few moves between versions).
Standard library only.
"""

from __future__ import annotations

import dataclasses
import typing as t

from .state import LayoutVersion, Role, Store

N_PARTITIONS = 256


class LayoutError(Exception):
    """The layout cannot be computed (Garage: 500 on apply, ``{error}`` on preview)."""


def write_quorum(rf: int) -> int:
    return rf + 1 - (rf + 1) // 2


def zone_redundancy_json(zr: t.Any) -> t.Any:
    if zr == "maximum":
        return "maximum"
    return {"atLeast": int(zr)}


@dataclasses.dataclass
class Assignment:
    partitions: list[list[str]]  # partition index -> node ids (rf of them)
    partition_size: int
    stored: dict[str, int]
    zone_redundancy: int  # effective


def _storage_roles(roles: dict[str, Role]) -> dict[str, Role]:
    return {nid: r for nid, r in roles.items() if r.capacity is not None}


def effective_zone_redundancy(roles: dict[str, Role], rf: int, zr: t.Any) -> int:
    storage = _storage_roles(roles)
    n_zones = len({r.zone for r in storage.values()})
    if len(storage) < rf:
        raise LayoutError(
            f"The number of nodes with positive capacity ({len(storage)}) is smaller than "
            f"the replication factor ({rf})."
        )
    if zr == "maximum":
        return min(rf, n_zones)
    need = int(zr)
    if n_zones < need:
        raise LayoutError(
            f"The number of zones with non-zero capacity ({n_zones}) is smaller than the redundancy parameter ({need})."
        )
    return need


def _pick(
    chosen: list[str],
    candidates: t.Iterable[str],
    zone_of: dict[str, str],
    rf: int,
    zr: int,
    score: t.Callable[[str], tuple[t.Any, ...]],
) -> str | None:
    """Best candidate for the next slot of a partition, respecting zone spread."""
    zones_used = {zone_of[n] for n in chosen}
    slots_left = rf - len(chosen)  # including this one
    need_new_zone = len(zones_used) + slots_left <= zr and len(zones_used) < zr
    best: str | None = None
    best_score: tuple[t.Any, ...] | None = None
    for n in candidates:
        if n in chosen:
            continue
        if need_new_zone and zone_of[n] in zones_used:
            continue
        s = score(n)
        if best_score is None or s < best_score:
            best, best_score = n, s
    return best


def compute_assignment(
    roles: dict[str, Role],
    rf: int,
    zr: t.Any,
    previous: list[list[str]] | None = None,
) -> Assignment:
    """Assign 256 partitions to ``rf`` storage nodes each.

    Phase 1 computes target counts with a capacity-proportional greedy fill
    (ties broken by node id, so it is deterministic). Phase 2 builds the real
    assignment keeping each partition's previous nodes whenever they are still
    storage nodes, still have room under their target and keep the zone rule;
    the remaining slots go to the nodes furthest below target.
    """
    storage = _storage_roles(roles)
    eff_zr = effective_zone_redundancy(roles, rf, zr)
    if len(storage) > N_PARTITIONS:
        raise LayoutError(f"Too many storage nodes ({len(storage)}), maximum is {N_PARTITIONS}.")
    zone_of = {nid: r.zone for nid, r in storage.items()}
    cap = {nid: int(r.capacity or 0) for nid, r in storage.items()}
    ids = sorted(storage)

    # Phase 1: targets.
    load = dict.fromkeys(ids, 0)
    fresh: list[list[str]] = []
    for _p in range(N_PARTITIONS):
        chosen: list[str] = []
        for _slot in range(rf):
            n = _pick(chosen, ids, zone_of, rf, eff_zr, lambda x: ((load[x] + 1) / cap[x], x))
            if n is None:
                raise LayoutError("Could not find a valid assignment for all partitions.")
            chosen.append(n)
            load[n] += 1
        fresh.append(chosen)
    target = load

    if not previous or len(previous) != N_PARTITIONS:
        parts = fresh
    else:
        # Phase 2: stable assignment.
        count = dict.fromkeys(ids, 0)
        parts = []
        for p in range(N_PARTITIONS):
            chosen = []
            for n in previous[p]:
                if n in storage and count[n] < target[n] and n not in chosen:
                    trial = [*chosen, n]
                    # keeping n must still allow the zone rule to be met
                    zones = {zone_of[x] for x in trial}
                    if len(zones) + (rf - len(trial)) >= eff_zr:
                        chosen.append(n)
            while len(chosen) < rf:
                n = _pick(
                    chosen,
                    ids,
                    zone_of,
                    rf,
                    eff_zr,
                    lambda x: (count[x] >= target[x], (count[x] + 1) / max(target[x], 1), x),
                )
                if n is None:
                    raise LayoutError("Could not find a valid assignment for all partitions.")
                chosen.append(n)
            for n in chosen:
                count[n] += 1
            parts.append(chosen)

    stored = dict.fromkeys(ids, 0)
    for chosen in parts:
        for n in chosen:
            stored[n] += 1
    psize = min((cap[n] // stored[n] for n in ids if stored[n] > 0), default=0)
    return Assignment(parts, psize, stored, eff_zr)


def count_moves(old: list[list[str]] | None, new: list[list[str]]) -> tuple[int, int]:
    """(partitions whose node set changed, new partition copies to transfer)."""
    if not old:
        return (0, 0) if not new else (len(new), sum(len(x) for x in new))
    moved = 0
    copies = 0
    for a, b in zip(old, new, strict=False):
        sa, sb = set(a), set(b)
        if sa != sb:
            moved += 1
        copies += len(sb - sa)
    return moved, copies


def _fmt_size(n: float) -> str:
    units = ["B", "KB", "MB", "GB", "TB", "PB", "EB"]
    i = 0
    while n >= 1000 and i < len(units) - 1:
        n /= 1000.0
        i += 1
    return f"{n:.1f} {units[i]}"


def summary_messages(
    roles: dict[str, Role],
    rf: int,
    a: Assignment,
    old: LayoutVersion,
) -> list[str]:
    moved, copies = count_moves(old.assignment if old.assignment else None, a.partitions)
    total_cap = sum(int(r.capacity or 0) for r in roles.values())
    usable = sum(a.stored.values()) * a.partition_size
    msgs = [
        "==== COMPUTATION OF A NEW PARTITION ASSIGNATION ====",
        "",
        f"Partitions are replicated {rf} times on at least {a.zone_redundancy} distinct zones.",
        "",
        f"Optimal partition size:                     {_fmt_size(a.partition_size)}"
        f" ({_fmt_size(old.partition_size)} in previous layout)",
        f"Usable capacity / total cluster capacity:   {_fmt_size(usable)} / {_fmt_size(total_cap)}"
        f" ({(100.0 * usable / total_cap) if total_cap else 0.0:.1f} %)",
        f"Effective capacity (replication factor {rf}):  {_fmt_size(usable / rf if rf else 0)}",
        "",
        f"A total of {copies} new copies of partitions need to be transferred.",
        f"{moved} partitions will move.",
        "",
    ]
    zones: dict[str, list[str]] = {}
    for nid, r in roles.items():
        zones.setdefault(r.zone, []).append(nid)
    for z in sorted(zones):
        msgs.append(f"{z:<20}Tags  Partitions        Capacity  Usable capacity")
        for nid in sorted(zones[z]):
            r = roles[nid]
            if r.capacity is None:
                msgs.append(f"  {nid[:16]}  {','.join(r.tags)}  gateway")
                continue
            sp = a.stored.get(nid, 0)
            msgs.append(
                f"  {nid[:16]}  [{','.join(r.tags)}]  {sp}  {_fmt_size(r.capacity)}  {_fmt_size(sp * a.partition_size)}"
            )
    return msgs


# ------------------------------------------------------------------ staging


def staged_changes(store: Store) -> dict[str, Role | None]:
    """Staged role changes that differ from the current version (sorted by id)."""
    cur = store.layout_versions[-1].roles
    out: dict[str, Role | None] = {}
    for nid in sorted(store.staged_roles):
        new = store.staged_roles[nid]
        if new is None:
            # Garage lists a staged entry when it differs from the current version's
            # entry. A removed node keeps a "no role" entry there, so re-staging its
            # removal shows nothing; a node that never had a role has no entry at
            # all, so staging its removal is shown.
            if nid not in cur and any(nid in v.roles for v in store.layout_versions[:-1]):
                continue
            out[nid] = None
            continue
        old = cur.get(nid)
        if old is not None and old.zone == new.zone and old.capacity == new.capacity and old.tags == new.tags:
            continue
        out[nid] = new
    return out


def staged_parameters(store: Store) -> t.Any | None:
    zr = store.staged_zone_redundancy
    if zr is None or zr == store.layout_versions[-1].zone_redundancy:
        return None
    return zr


def next_version(store: Store) -> tuple[LayoutVersion, list[str]]:
    """Compute the next layout version from current + staged changes (no mutation)."""
    cur = store.layout_versions[-1]
    roles = dict(cur.roles)
    for nid, r in store.staged_roles.items():
        if r is None:
            roles.pop(nid, None)
        else:
            roles[nid] = Role(r.zone, r.capacity, list(r.tags))
    zr = store.staged_zone_redundancy if store.staged_zone_redundancy is not None else cur.zone_redundancy
    a = compute_assignment(roles, store.replication_factor, zr, cur.assignment or None)
    nv = LayoutVersion(
        version=cur.version + 1,
        roles=roles,
        zone_redundancy=zr,
        partition_size=a.partition_size,
        stored_partitions=a.stored,
        assignment=a.partitions,
    )
    return nv, summary_messages(roles, store.replication_factor, a, cur)


def apply(store: Store, version: int) -> list[str]:
    cur = store.layout_versions[-1]
    if version != cur.version + 1:
        raise ValueError("Invalid new layout version")
    nv, msgs = next_version(store)
    store.layout_versions.append(nv)
    store.staged_roles.clear()
    # staged parameters are kept (they now equal the current ones)
    sync_trackers(store)
    return msgs


# ------------------------------------------------- live versions and trackers


def live_versions(store: Store) -> list[LayoutVersion]:
    """Versions still live: the current one plus older ones being drained."""
    return [v for v in store.layout_versions if v.version >= store.min_live_version] or [store.layout_versions[-1]]


def _live_nodes(store: Store, storage_only: bool) -> set[str]:
    out: set[str] = set()
    for v in live_versions(store):
        out |= {n for n, r in v.roles.items() if not storage_only or r.capacity is not None}
    return out


def _tracker(store: Store, nid: str) -> dict[str, int]:
    default = live_versions(store)[0].version
    return store.update_trackers.setdefault(nid, {"ack": default, "sync": default, "sync_ack": default})


def sync_trackers(store: Store) -> None:
    """Nodes that are up catch up instantly; old versions go once every storage node synced.

    Garage keeps an old layout version live (``Draining``) until the sync-ack
    tracker of every storage node of the live versions has passed it; a node
    that is down cannot advance its trackers, so its old version stays live
    until it comes back or ClusterLayoutSkipDeadNodes moves its trackers.
    """
    cur = store.layout_versions[-1].version
    for nid in _live_nodes(store, storage_only=False):
        node = store.nodes.get(nid)
        tr = _tracker(store, nid)
        if node is not None and node.is_up:
            for k in ("ack", "sync", "sync_ack"):
                tr[k] = max(tr[k], cur)
    _cleanup(store)


def _cleanup(store: Store) -> None:
    for _version in range(len(store.layout_versions)):
        live = live_versions(store)
        if len(live) <= 1:
            break
        oldest = live[0]
        storage = _live_nodes(store, storage_only=True)
        if not any(r.capacity is not None for r in oldest.roles.values()):
            store.min_live_version = live[1].version  # an empty version blocks nothing
            continue
        min_sync_ack = min((_tracker(store, n)["sync_ack"] for n in storage), default=oldest.version)
        if oldest.version < min_sync_ack:
            store.min_live_version = live[1].version
        else:
            break
    live_ids = _live_nodes(store, storage_only=False)
    for nid in list(store.update_trackers):
        if nid not in live_ids:
            del store.update_trackers[nid]


def min_ack(store: Store) -> int:
    nodes = _live_nodes(store, storage_only=False)
    return min((_tracker(store, n)["ack"] for n in nodes), default=store.layout_versions[-1].version)


def draining_nodes(store: Store) -> set[str]:
    """Storage nodes of older live versions that have no role in the current one."""
    cur = store.layout_versions[-1]
    out: set[str] = set()
    for v in live_versions(store)[:-1]:
        out |= {n for n, r in v.roles.items() if r.capacity is not None and n not in cur.roles}
    return out


class SkipError(Exception):
    pass


def skip_dead_nodes(store: Store, version: int, allow_missing_data: bool) -> tuple[list[str], list[str]]:
    live = live_versions(store)
    if len(live) <= 1:
        raise SkipError("This command cannot be called when there is only one live cluster layout version")
    min_v = live[0].version
    cur = store.layout_versions[-1].version
    if version <= min_v or version > cur:
        allowed = " ".join(str(v) for v in range(min_v + 1, cur + 1))
        raise SkipError(f"Invalid version, you may use the following version numbers: {allowed}")
    ack_updated: list[str] = []
    sync_updated: list[str] = []
    for nid in sorted(_live_nodes(store, storage_only=False)):
        node = store.nodes.get(nid)
        if node is not None and node.is_up:
            continue
        tr = _tracker(store, nid)
        if tr["ack"] < version:
            tr["ack"] = version
            ack_updated.append(nid)
        if allow_missing_data and tr["sync"] < version:
            tr["sync"] = version
            # a dead node never acknowledges the sync itself; the stand-in does it
            # for it so that the old version can be dropped, as it is in Garage
            tr["sync_ack"] = max(tr["sync_ack"], version)
            sync_updated.append(nid)
    _cleanup(store)
    return ack_updated, sync_updated


def revert(store: Store) -> None:
    store.staged_roles.clear()
    store.staged_zone_redundancy = None


# ------------------------------------------------------------------- health


def health(store: Store) -> dict[str, t.Any]:
    cur = store.layout_versions[-1]
    rf = store.replication_factor
    quorum = write_quorum(rf)
    up = {nid for nid, n in store.nodes.items() if n.is_up}
    storage = [nid for nid, r in cur.roles.items() if r.capacity is not None]
    storage_ok = sum(1 for nid in storage if nid in up)
    p_quorum = 0
    p_all = 0
    for nodes in cur.assignment:
        n_up = sum(1 for x in nodes if x in up)
        if n_up >= quorum:
            p_quorum += 1
        if n_up == len(nodes):
            p_all += 1
    if cur.assignment and p_all == N_PARTITIONS and storage_ok == len(storage):
        status = "healthy"
    elif cur.assignment and p_quorum == N_PARTITIONS:
        status = "degraded"
    else:
        status = "unavailable"
    known = [n for n in store.nodes.values() if n.known]
    return {
        "status": status,
        "knownNodes": len(known),
        "connectedNodes": sum(1 for n in known if n.is_up),
        "storageNodes": len(storage),
        "storageNodesOk": storage_ok,
        "partitions": N_PARTITIONS,
        "partitionsQuorum": p_quorum,
        "partitionsAllOk": p_all,
    }
