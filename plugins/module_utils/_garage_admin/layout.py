# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: this module_util is for the cellar.garage collection's own use and may
# change or disappear in any release.
"""Pure planning for Garage cluster layouts (no Ansible, no HTTP), and Garage's layout messages.

The read views of layouts, roles and zone redundancy live in ``views.py`` (one shape everywhere);
the staged, previewed, applied-once convergence is in ``layout_converge.py``.

Vocabulary used throughout:

- a *role* is ``{"zone": str, "capacity": int | None, "tags": [str]}``; ``capacity``
  ``None`` means a gateway node. "No role" is ``None``.
- a *role map* is ``{node_id: role}`` for the nodes that have a role.
- ``current`` is the applied layout's role map, ``pending`` is what the next apply
  would produce (current + staged changes), ``desired`` is what the user asked for.

Garage's staging is a last-writer-wins map keyed by node id: staging a node's
*current* role (or a removal for a node without a role) makes its staged change
disappear. Everything here relies on that to compute what to stage, what the staged
set must look like afterwards, and how to undo our own staged entries.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import views
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import (
    layout_parameters,
    role_from_api,
    role_view,
    zone_redundancy_from_api,
    zone_redundancy_to_api,
)
from ansible_collections.cellar.garage.plugins.module_utils._sizes import parse_size

__all__ = [
    "layout_parameters",
    "role_view",
    "zone_redundancy_from_api",
    "zone_redundancy_to_api",
]

NODE_ID_RE = re.compile(r"^[0-9a-f]{64}$")
HEX_RE = re.compile(r"^[0-9a-f]+$")
PARTITIONS = 256
MIN_CAPACITY = 1024
DEFAULT_REPLICATION_FACTOR = 3
STALE_MODES = ("fail", "discard", "merge")

Role = dict[str, t.Any]
RoleMap = dict[str, Role]
#: node id -> role, or None for "no role / removal"
ChangeMap = dict[str, t.Optional[Role]]


class LayoutPlanError(ValueError):
    """The requested layout is invalid or cannot be planned; nothing has been changed."""


class UnknownNodeError(LayoutPlanError):
    """No node reported by the cluster matches a hostname, address or id prefix (yet: a node that has
    just started is reported with its hostname after its first status broadcast)."""


# --------------------------------------------------------------------------- roles


def make_role(zone: str, capacity: int | None, tags: t.Sequence[str] | None = None) -> Role:
    return {"zone": zone, "capacity": capacity, "tags": list(tags or [])}


#: Kept under its planning name.
normalize_role = role_from_api


def current_roles(layout: t.Mapping[str, t.Any]) -> RoleMap:
    """Role map of the applied layout (GetClusterLayout ``roles``)."""
    roles: RoleMap = {}
    for raw in layout.get("roles") or []:
        role = normalize_role(raw)
        if role is not None:
            roles[raw["id"]] = role
    return roles


def staged_role_changes(layout: t.Mapping[str, t.Any]) -> ChangeMap:
    """GetClusterLayout ``stagedRoleChanges`` as ``{id: role or None (removal)}``."""
    return {raw["id"]: normalize_role(raw) for raw in layout.get("stagedRoleChanges") or []}


def apply_changes(roles: RoleMap, changes: ChangeMap) -> RoleMap:
    result = {node: dict(role, tags=list(role["tags"])) for node, role in roles.items()}
    for node, role in changes.items():
        if role is None:
            result.pop(node, None)
        else:
            result[node] = dict(role, tags=list(role["tags"]))
    return result


def role_diff(before: t.Mapping[str, Role], after: t.Mapping[str, Role]) -> ChangeMap:
    """The changes that turn role map ``before`` into ``after``."""
    changes: ChangeMap = {}
    for node in sorted(set(before) | set(after)):
        if before.get(node) != after.get(node):
            changes[node] = after.get(node)
    return changes


def changes_to_api(changes: ChangeMap) -> list[dict[str, t.Any]]:
    """ChangeMap -> UpdateClusterLayout ``roles`` (``tags`` always present: v2 requires it)."""
    out: list[dict[str, t.Any]] = []
    for node in sorted(changes):
        role = changes[node]
        if role is None:
            out.append({"id": node, "remove": True})
        else:
            out.append({"id": node, "zone": role["zone"], "capacity": role["capacity"], "tags": list(role["tags"])})
    return out


def roles_view(roles: t.Mapping[str, Role]) -> dict[str, dict[str, t.Any]]:
    return {node: t.cast(dict[str, t.Any], role_view(roles[node])) for node in sorted(roles)}


def describe_changes(
    before: t.Mapping[str, Role], changes: ChangeMap, names: t.Mapping[str, str] | None = None
) -> list[dict[str, t.Any]]:
    """Human- and machine-readable list of role changes relative to ``before``."""
    names = names or {}
    out: list[dict[str, t.Any]] = []
    for node in sorted(changes):
        old, new = before.get(node), changes[node]
        if old == new:
            continue
        if new is None:
            action = "remove"
        elif old is None:
            action = "add"
        else:
            action = "update"
        out.append(
            {
                "id": node,
                "node": names.get(node) or node[:16],
                "action": action,
                "before": role_view(old),
                "after": role_view(new),
            }
        )
    return out


def format_change(change: t.Mapping[str, t.Any]) -> str:
    """One line for messages: ``node2 (a1b2c3d4e5f60718): update zone=dc2 capacity=2T``."""
    label = change["node"]
    if change["id"][:16] not in label:
        label = f"{label} ({change['id'][:16]})"
    after = change["after"]
    if after is None:
        return f"{label}: remove"
    what = "gateway" if after["gateway"] else f"capacity={after['capacity_human']}"
    tags = f" tags={','.join(after['tags'])}" if after["tags"] else ""
    return f"{label}: {change['action']} zone={after['zone']} {what}{tags}"


# --------------------------------------------------------------------------- zone redundancy


def parse_zone_redundancy(value: t.Any) -> str | int:
    """User value (``maximum`` or an integer >= 1) -> ``"maximum"`` or int."""
    if isinstance(value, bool):
        raise LayoutPlanError(f"zone_redundancy must be 'maximum' or an integer >= 1, got {value!r}")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().lower()
        if text in ("maximum", "max"):
            return "maximum"
        try:
            number = int(text)
        except ValueError:
            raise LayoutPlanError(f"zone_redundancy must be 'maximum' or an integer >= 1, got {value!r}") from None
    if number < 1:
        raise LayoutPlanError(f"zone_redundancy must be 'maximum' or an integer >= 1, got {value!r}")
    return number


# --------------------------------------------------------------------------- node specs


class NodeSpec(t.NamedTuple):
    node: str
    state: str
    zone: str | None
    capacity: int | None
    tags: list[str] | None
    gateway: bool | None


def parse_node_specs(nodes: t.Sequence[t.Mapping[str, t.Any]]) -> list[NodeSpec]:
    """Validate the ``nodes`` option (sizes, contradictions, duplicates) before any API call."""
    specs: list[NodeSpec] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(nodes or []):
        ident = str(raw.get("node") or "").strip()
        where = f"nodes[{index}]"
        if not ident:
            raise LayoutPlanError(
                f"{where}: 'node' is required (a node id, a unique id prefix, a hostname or an address)"
            )
        where = f"nodes[{index}] ({ident})"
        if ident.lower() in seen:
            raise LayoutPlanError(f"{where}: node listed twice (also nodes[{seen[ident.lower()]}])")
        seen[ident.lower()] = index
        state = raw.get("state") or "present"
        if state not in ("present", "absent"):
            raise LayoutPlanError(f"{where}: state must be 'present' or 'absent', got {state!r}")
        zone = raw.get("zone")
        if zone is not None:
            zone = str(zone).strip()
            if not zone:
                raise LayoutPlanError(f"{where}: zone must not be empty")
        gateway = raw.get("gateway")
        capacity_raw = raw.get("capacity")
        capacity: int | None = None
        if capacity_raw is not None and str(capacity_raw).strip() != "":
            try:
                capacity = parse_size(capacity_raw)
            except ValueError as exc:
                raise LayoutPlanError(f"{where}: {exc}") from None
            if capacity < MIN_CAPACITY:
                raise LayoutPlanError(
                    f"{where}: capacity {capacity_raw!r} is {capacity} bytes; Garage needs at least 1K (1024) bytes"
                )
        tags = raw.get("tags")
        if tags is not None:
            if isinstance(tags, str):
                tags = [tags]
            tags = [str(tag) for tag in tags]
        if state == "absent":
            if zone is not None or capacity is not None or tags is not None or gateway:
                raise LayoutPlanError(f"{where}: state=absent takes no zone, capacity, tags or gateway")
        elif gateway and capacity is not None:
            raise LayoutPlanError(f"{where}: a gateway node stores nothing; give either capacity or gateway=true")
        specs.append(NodeSpec(ident, state, zone, capacity, tags, gateway))
    return specs


# --------------------------------------------------------------------------- node resolution


class KnownNode(t.NamedTuple):
    id: str
    hostname: str | None
    addr: str | None
    is_up: bool | None


def known_nodes(status: t.Mapping[str, t.Any] | None, layout: t.Mapping[str, t.Any] | None) -> list[KnownNode]:
    """Nodes from GetClusterStatus, plus node ids only known from the layout (roles / staged)."""
    found: dict[str, KnownNode] = {}
    for raw in (status or {}).get("nodes") or []:
        found[raw["id"]] = KnownNode(raw["id"], raw.get("hostname"), raw.get("addr"), raw.get("isUp"))
    for key in ("roles", "stagedRoleChanges"):
        for raw in (layout or {}).get(key) or []:
            found.setdefault(raw["id"], KnownNode(raw["id"], None, None, None))
    return [found[k] for k in sorted(found)]


def node_label(node_id: str, nodes: t.Sequence[KnownNode] = ()) -> str:
    """``hostname (id-prefix)`` when the hostname is known, else the 16-hex id prefix."""
    return views.node_label(node_id, {n.id: n.hostname for n in nodes})


def needs_status(identifiers: t.Iterable[str]) -> bool:
    """True unless every identifier is a full node id (then GetClusterStatus is not needed)."""
    return any(not NODE_ID_RE.match(ident.strip().lower()) for ident in identifiers)


def _addr_host(addr: str) -> str:
    if addr.startswith("["):
        return addr[1:].split("]", 1)[0]
    return addr.rsplit(":", 1)[0] if addr.count(":") == 1 else addr


def resolve_node(ident: str, nodes: t.Sequence[KnownNode]) -> str:
    """Resolve a full id, a hostname, an RPC address (``host:port`` or host) or a unique id prefix."""
    raw = ident.strip()
    lowered = raw.lower()
    if NODE_ID_RE.match(lowered):
        return lowered
    by_host = [n.id for n in nodes if n.hostname and n.hostname == raw]
    if len(by_host) == 1:
        return by_host[0]
    if len(by_host) > 1:
        raise LayoutPlanError(
            f"Node '{raw}' is ambiguous: hostname shared by {', '.join(i[:16] for i in by_host)}; use the node id"
        )
    by_addr = sorted({n.id for n in nodes if n.addr and (n.addr == raw or _addr_host(n.addr) == raw.strip("[]"))})
    if len(by_addr) == 1:
        return by_addr[0]
    if len(by_addr) > 1:
        raise LayoutPlanError(
            f"Node '{raw}' is ambiguous: address used by {', '.join(i[:16] for i in by_addr)}; use the node id"
        )
    if HEX_RE.match(lowered):
        by_prefix = [n.id for n in nodes if n.id.startswith(lowered)]
        if len(by_prefix) == 1:
            return by_prefix[0]
        if len(by_prefix) > 1:
            raise LayoutPlanError(
                f"Node id prefix '{raw}' is ambiguous: it matches {', '.join(i[:16] for i in by_prefix)}"
            )
    known = ", ".join(f"{n.hostname or '?'} ({n.id[:16]})" for n in nodes) or "none"
    raise UnknownNodeError(
        f"Node '{raw}' is unknown: it is not a full 64-hex node id, and no node reported by the cluster "
        f"has it as hostname, address or id prefix (known nodes: {known})"
    )


# --------------------------------------------------------------------------- replication


def derive_replication_factor(layout: t.Mapping[str, t.Any]) -> int | None:
    """sum(storedPartitions) / 256 for an applied layout (the API does not expose the factor)."""
    if not layout.get("version"):
        return None
    total = sum(int(r.get("storedPartitions") or 0) for r in layout.get("roles") or [])
    if total <= 0 or total % PARTITIONS:
        return None
    return total // PARTITIONS


def replication_problem(roles: t.Mapping[str, Role], replication_factor: int, zone_redundancy: str | int) -> str | None:
    """Why ``roles`` cannot be computed by Garage, or None when it can."""
    storage = {node: role for node, role in roles.items() if role["capacity"] is not None}
    zones = sorted({role["zone"] for role in storage.values()})
    if len(storage) < replication_factor:
        return (
            f"the layout would have {len(storage)} storage node(s) but replication factor {replication_factor} "
            f"needs at least {replication_factor}"
        )
    if zone_redundancy != "maximum":
        if int(zone_redundancy) > replication_factor:
            return f"zone_redundancy {zone_redundancy} is larger than the replication factor {replication_factor}"
        if len(zones) < int(zone_redundancy):
            return (
                f"zone_redundancy {zone_redundancy} needs storage nodes in at least {zone_redundancy} zones, "
                f"the layout would have {len(zones)} ({', '.join(zones) or 'none'})"
            )
    return None


# --------------------------------------------------------------------------- planning


class ReplaceSpec(t.NamedTuple):
    old: str
    new: str


class Plan(t.NamedTuple):
    current: RoleMap
    pending: RoleMap
    desired: RoleMap
    #: entries to send with UpdateClusterLayout (relative to what is staged now)
    to_stage: ChangeMap
    #: what GetClusterLayout.stagedRoleChanges must show after our UpdateClusterLayout
    expected_staged: ChangeMap
    #: stale staged role changes found (relative to current)
    stale: ChangeMap
    stale_parameters: str | int | None
    current_zone_redundancy: str | int
    desired_zone_redundancy: str | int
    stage_parameters: bool

    @property
    def apply_needed(self) -> bool:
        return bool(self.expected_staged) or self.desired_zone_redundancy != self.current_zone_redundancy

    @property
    def changed(self) -> bool:
        return bool(self.to_stage) or self.stage_parameters or self.apply_needed


def plan_layout(
    *,
    layout: t.Mapping[str, t.Any],
    specs: t.Sequence[tuple[str, NodeSpec]],
    replace: t.Sequence[tuple[str | None, str]] = (),
    purge: bool = False,
    zone_redundancy: str | int | None = None,
    stale_mode: str = "fail",
) -> Plan:
    """Compute the layout plan. ``specs`` pairs each resolved node id with its spec;
    ``replace`` pairs (old id or None when unresolvable, new id)."""
    if stale_mode not in STALE_MODES:
        raise LayoutPlanError(f"stale_staged_changes must be one of {', '.join(STALE_MODES)}")
    current = current_roles(layout)
    stale = {node: role for node, role in staged_role_changes(layout).items() if current.get(node) != role}
    pending = apply_changes(current, stale)
    current_zr, staged_zr = layout_parameters(layout)
    stale_params = staged_zr if staged_zr is not None and staged_zr != current_zr else None
    pending_zr = stale_params if stale_params is not None else current_zr

    base = pending if stale_mode == "merge" else current
    desired = apply_changes(base, {})

    listed: set[str] = set()
    spec_ids = {node for node, _spec in specs}
    for old, new in replace:
        if old is not None and old == new:
            raise LayoutPlanError(f"replace: old and new are the same node ({new[:16]})")
        if old is not None and old in spec_ids:
            raise LayoutPlanError(f"replace: node {old[:16]} is being replaced; it must not also be listed in nodes")
        listed.add(new)
        if old is not None and old in desired:
            desired[new] = dict(desired.pop(old))
        elif new in desired and (old is None or old not in base):
            continue  # already replaced
        else:
            what = old[:16] if old is not None else "the old node"
            raise LayoutPlanError(
                f"replace: {what} has no role in the layout, there is nothing to carry over to {new[:16]}"
            )

    for node, spec in specs:
        if spec.state == "absent":
            desired.pop(node, None)
            continue
        listed.add(node)
        existing = desired.get(node)
        zone = spec.zone if spec.zone is not None else (existing or {}).get("zone")
        if zone is None:
            raise LayoutPlanError(f"Node '{spec.node}' ({node[:16]}) has no role yet: give it a zone")
        if spec.gateway:
            capacity: int | None = None
        elif spec.capacity is not None:
            capacity = spec.capacity
        elif existing is not None and not (spec.gateway is False and existing["capacity"] is None):
            capacity = existing["capacity"]
        else:
            raise LayoutPlanError(
                f"Node '{spec.node}' ({node[:16]}) needs a capacity (or gateway=true)"
                + (" to stop being a gateway" if existing is not None else "")
            )
        tags = spec.tags if spec.tags is not None else list((existing or {}).get("tags") or [])
        desired[node] = make_role(zone, capacity, tags)

    if purge:
        for node in list(desired):
            if node not in listed:
                desired.pop(node)

    desired_zr = (
        zone_redundancy if zone_redundancy is not None else (pending_zr if stale_mode == "merge" else current_zr)
    )
    to_stage = role_diff(pending, desired)
    expected = role_diff(current, desired)
    return Plan(
        current=current,
        pending=pending,
        desired=desired,
        to_stage=to_stage,
        expected_staged=expected,
        stale=stale,
        stale_parameters=stale_params,
        current_zone_redundancy=current_zr,
        desired_zone_redundancy=desired_zr,
        stage_parameters=desired_zr != pending_zr,
    )


def foreign_staged(staged_now: ChangeMap, current_now: RoleMap, expected: ChangeMap) -> ChangeMap:
    """Staged changes (relative to ``current_now``) that are not part of ``expected``."""
    foreign: ChangeMap = {}
    for node, role in staged_now.items():
        if current_now.get(node) == role:
            continue
        if node not in expected or expected[node] != role:
            foreign[node] = role
    for node, role in expected.items():
        if node not in staged_now and current_now.get(node) != role:
            # one of our entries is missing: someone overwrote it
            foreign[node] = current_now.get(node)
    return foreign


def undo_entries(layout_now: t.Mapping[str, t.Any], ours: ChangeMap) -> ChangeMap:
    """Entries that clear OUR staged changes still visible in ``layout_now`` (staging a node's
    current role back clears its staged change; a node without a role gets a removal)."""
    current = current_roles(layout_now)
    staged = staged_role_changes(layout_now)
    undo: ChangeMap = {}
    for node, role in ours.items():
        if node in staged and staged[node] == role and current.get(node) != role:
            undo[node] = current.get(node)
    return undo


# --------------------------------------------------------------------------- messages

_REPLICATED_RE = re.compile(r"replicated (\d+) times on at least (\d+) distinct zones")
_MOVE_RE = re.compile(r"^\s*(\d+) partitions will move")
_TRANSFER_RE = re.compile(r"A total of (\d+) new copies of partitions need to be transferred")
_PARTITION_SIZE_RE = re.compile(r"Optimal partition size:\s*(.+?)\s*(?:\((.+?) in previous layout\))?\s*$")
_USABLE_RE = re.compile(r"Usable capacity / total cluster capacity:\s*(.+?)\s*/\s*(.+?)\s*\(([\d.]+)\s*%\)")
_EFFECTIVE_RE = re.compile(r"Effective capacity \(replication factor (\d+)\):\s*(.+?)\s*$")
_NODE_ROW_RE = re.compile(r"^\s+([0-9a-f]{8,64})\s+.*?\b(\d+) \((\d+) new\)")


def parse_layout_message(lines: t.Sequence[str] | None) -> dict[str, t.Any]:
    """Summarise Garage's layout computation text (preview/apply ``message``).

    Garage says not to parse it; we only extract a best-effort summary and always
    return the raw lines too. Unknown formats give ``None`` values, never an error.
    """
    summary: dict[str, t.Any] = {
        "partitions_to_transfer": None,
        "partitions_moved": None,
        "replication_factor": None,
        "zone_redundancy": None,
        "optimal_partition_size": None,
        "previous_partition_size": None,
        "usable_capacity": None,
        "total_capacity": None,
        "usable_percent": None,
        "effective_capacity": None,
        "nodes": {},
    }
    for chunk in lines or []:
        for line in str(chunk).splitlines():
            if m := _REPLICATED_RE.search(line):
                summary["replication_factor"] = int(m.group(1))
                summary["zone_redundancy"] = int(m.group(2))
            elif m := _TRANSFER_RE.search(line):
                summary["partitions_to_transfer"] = int(m.group(1))
            elif m := _MOVE_RE.search(line):
                summary["partitions_moved"] = int(m.group(1))
            elif m := _PARTITION_SIZE_RE.search(line):
                summary["optimal_partition_size"] = m.group(1)
                summary["previous_partition_size"] = m.group(2)
            elif m := _USABLE_RE.search(line):
                summary["usable_capacity"] = m.group(1)
                summary["total_capacity"] = m.group(2)
                summary["usable_percent"] = float(m.group(3))
            elif m := _EFFECTIVE_RE.search(line):
                summary["replication_factor"] = summary["replication_factor"] or int(m.group(1))
                summary["effective_capacity"] = m.group(2)
            elif m := _NODE_ROW_RE.search(line):
                summary["nodes"][m.group(1)] = {"partitions": int(m.group(2)), "new_partitions": int(m.group(3))}
    return summary
