# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Converge the whole cluster layout in one staged, previewed change applied exactly once.

No Ansible here. :func:`converge` reads the layout, plans it (``layout.py``, pure) and, unless
``dry_run``, runs a saga per attempt:

``stage`` (UpdateClusterLayout, undone by clearing OUR staged entries) -> ``verify_staged`` ->
``preview`` -> ``apply`` (version read + 1, never repeated)

A concurrent change detected by a step (:class:`LayoutConflict`) rolls the attempt back (our
staged entries are cleared) and the run re-reads and re-plans, up to ``conflict_retries`` times,
only when nothing but this run's own changes happened underneath. After the saga the applied
version is confirmed by a re-read. The outcome's before/after are the layout (version, zone
redundancy, roles) plus the staged changes this run found or leaves.
"""

from __future__ import annotations

import dataclasses
import random
import time
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    INVALID_INPUT,
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import cluster
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageError, GarageServerError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.layout import (
    DEFAULT_REPLICATION_FACTOR,
    ChangeMap,
    KnownNode,
    LayoutPlanError,
    Plan,
    RoleMap,
    UnknownNodeError,
    changes_to_api,
    current_roles,
    derive_replication_factor,
    describe_changes,
    foreign_staged,
    format_change,
    known_nodes,
    layout_parameters,
    needs_status,
    node_label,
    parse_layout_message,
    parse_node_specs,
    parse_zone_redundancy,
    plan_layout,
    replication_problem,
    resolve_node,
    role_diff,
    roles_view,
    staged_role_changes,
    undo_entries,
    zone_redundancy_to_api,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaFailed, Step, StepContext

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

#: How long a re-plan waits for changes staged by a concurrent operator to be applied or cleared.
CONFLICT_WAIT = 5.0
#: How long staged changes found at the start (stale_staged_changes=fail) may take to be applied by their owner.
STALE_GRACE = 3.0
POLL = 0.2
#: how often the cluster status is read again while waiting for a node to appear (node_wait_timeout)
NODE_POLL = 1.0

LAYOUT_CONFLICT = "layout_conflict"
STALE_CHANGES = "layout_stale_changes"
REPLICATION_PROBLEM = "layout_replication_problem"
UNCOMPUTABLE = "layout_uncomputable"


class LayoutConflict(OperationError):
    """A concurrent layout change was detected (our staged entries are cleared by the saga)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, failure_reason=LAYOUT_CONFLICT)


@dataclasses.dataclass(frozen=True)
class LayoutSpec:
    """``garage_layout``'s options, validated."""

    specs: tuple[t.Any, ...]
    replace: tuple[tuple[str, str], ...]
    purge: bool
    zone_redundancy: str | int | None
    replication_factor: int | None
    stale_mode: str
    conflict_retries: int
    #: seconds to wait for nodes named by hostname/address/id prefix that the cluster does not report yet
    node_wait_timeout: float = 0.0


def spec_from_params(params: t.Mapping[str, t.Any]) -> LayoutSpec:
    """Validate the options before any call. Raises :class:`InputError`."""
    try:
        specs = parse_node_specs(params.get("nodes") or [])
        raw_zr = params.get("zone_redundancy")
        zr = parse_zone_redundancy(raw_zr) if raw_zr not in (None, "") else None
    except LayoutPlanError as exc:
        raise InputError(str(exc)) from None
    replace: list[tuple[str, str]] = []
    for index, item in enumerate(params.get("replace") or []):
        old, new = (item.get("old") or "").strip(), (item.get("new") or "").strip()
        if not old or not new:
            raise InputError(f"replace[{index}]: both 'old' and 'new' are required")
        if old.lower() == new.lower():
            raise InputError(f"replace[{index}]: old and new are the same node ({old})")
        replace.append((old, new))
    rf = params.get("replication_factor")
    if rf is not None and rf < 1:
        raise InputError(f"replication_factor must be at least 1, got {rf}")
    if zr is not None and zr != "maximum" and rf is not None and int(zr) > rf:
        raise InputError(f"zone_redundancy {zr} is larger than replication_factor {rf}")
    retries = params.get("conflict_retries", 2)
    if retries < 0:
        raise InputError("conflict_retries must not be negative")
    node_wait = params.get("node_wait_timeout") or 0
    if node_wait < 0:
        raise InputError("node_wait_timeout must not be negative")
    return LayoutSpec(
        specs=tuple(specs),
        replace=tuple(replace),
        purge=bool(params.get("purge")),
        zone_redundancy=zr,
        replication_factor=rf,
        stale_mode=params.get("stale_staged_changes") or "fail",
        conflict_retries=retries,
        node_wait_timeout=float(node_wait),
    )


def converge(
    client: GarageAdminClient, spec: LayoutSpec, *, dry_run: bool, sleep: t.Callable[[float], None] | None = None
) -> Outcome:
    return _Converger(client, spec, dry_run=dry_run, sleep=sleep).run()


class _Converger:
    def __init__(
        self, client: GarageAdminClient, spec: LayoutSpec, *, dry_run: bool, sleep: t.Callable[[float], None] | None
    ) -> None:
        self.client = client
        self.spec = spec
        self.dry_run = dry_run
        self._sleep = sleep
        self.warnings: list[str] = []
        self.nodes: list[KnownNode] = []
        #: layout versions applied by this run (more than one only after a concurrent overwrite)
        self.applied_versions: list[int] = []
        #: seconds spent waiting for changes staged by someone else to be applied or cleared
        self.waited = 0.0
        #: seconds spent waiting for nodes named by hostname/address to be reported by the cluster
        self.waited_for_nodes = 0.0
        #: the plan of the last attempt (what a retry compares the re-read layout with)
        self.last_plan: Plan | None = None

    # ------------------------------------------------------------------ helpers

    def sleep(self, seconds: float) -> None:
        (self._sleep or time.sleep)(seconds)

    def fail(self, msg: str, *, failure_reason: str, changed: bool = False, **details: t.Any) -> OperationError:
        """The error to raise; a failure after an earlier attempt applied a version still says so."""
        details["applied_versions"] = self.applied_versions
        return OperationError(
            msg, failure_reason=failure_reason, changed=bool(self.applied_versions) or changed, details=details
        )

    def read_layout(self) -> dict[str, t.Any]:
        with api_context("read", "cluster layout", failure_reason="layout_read_failed"):
            return t.cast(dict[str, t.Any], self.client.get_cluster_layout())

    def read_status(self) -> dict[str, t.Any]:
        return cluster.read_status(self.client)

    def labels(self) -> dict[str, str]:
        return {n.id: f"{n.hostname} ({n.id[:16]})" for n in self.nodes if n.hostname}

    def describe(self, before: RoleMap, changes: ChangeMap) -> list[dict[str, t.Any]]:
        return describe_changes(before, changes, self.labels())

    @staticmethod
    def view(layout: t.Mapping[str, t.Any], roles: RoleMap | None = None, zr: t.Any = None) -> dict[str, t.Any]:
        current_zr, _staged = layout_parameters(layout)
        return {
            "version": int(layout.get("version") or 0),
            "zone_redundancy": current_zr if zr is None else zr,
            "roles": roles_view(current_roles(layout) if roles is None else roles),
        }

    def outcome(
        self,
        before: dict[str, t.Any],
        after: dict[str, t.Any],
        *,
        staged_before: t.Sequence[str] = (),
        **result: t.Any,
    ) -> Outcome:
        """``previous_layout``/``layout`` in the result; the diff adds the staged changes found, and
        names the nodes as the cluster reports them (``hostname (id prefix)``, the same on both sides)."""
        nodes = sorted(set(before.get("roles") or {}) | set(after.get("roles") or {}))
        names = {node: node_label(node, self.nodes) for node in nodes}
        return Outcome(
            before={**before, "staged_role_changes": list(staged_before), "node_names": names},
            after={**after, "staged_role_changes": [], "node_names": names},
            result={"previous_layout": before, "layout": after, **result},
            warnings=tuple(self.warnings),
            label="cluster layout",
        )

    # ------------------------------------------------------------------ resolution

    def resolve(self, layout: dict[str, t.Any]) -> tuple[list[tuple[str, t.Any]], list[tuple[str | None, str]]]:
        idents = [s.node for s in self.spec.specs] + [x for pair in self.spec.replace for x in pair]
        with_status = needs_status(idents)
        started = time.monotonic()
        polls = 0
        while True:
            self.nodes = known_nodes(self.read_status() if with_status else None, layout)
            try:
                resolved_specs = [(resolve_node(s.node, self.nodes), s) for s in self.spec.specs]
                resolved_replace: list[tuple[str | None, str]] = []
                for old, new in self.spec.replace:
                    new_id = resolve_node(new, self.nodes)
                    try:
                        old_id: str | None = resolve_node(old, self.nodes)
                    except LayoutPlanError as exc:
                        # A replaced node eventually disappears from the cluster: fine once the new one has a role.
                        if new_id not in current_roles(layout):
                            raise LayoutPlanError(f"replace: {exc}") from None
                        old_id = None
                    resolved_replace.append((old_id, new_id))
                break
            except UnknownNodeError as exc:
                # A node that has just started is reported with its hostname after its first status
                # broadcast (every 10 s): with node_wait_timeout, read the status again until then.
                waited = time.monotonic() - started
                if polls * NODE_POLL >= self.spec.node_wait_timeout or waited >= self.spec.node_wait_timeout:
                    self.waited_for_nodes += waited if polls else 0.0
                    note = f" (waited {waited:.0f} s for it to appear)" if self.spec.node_wait_timeout else ""
                    raise self.fail(f"{exc}{note}", failure_reason=INVALID_INPUT) from None
                polls += 1
                self.sleep(NODE_POLL)
            except LayoutPlanError as exc:
                raise self.fail(str(exc), failure_reason=INVALID_INPUT) from None
        if polls:
            self.waited_for_nodes += time.monotonic() - started
        ids = [node for node, _s in resolved_specs]
        dupes = sorted({node for node in ids if ids.count(node) > 1})
        if dupes:
            raise self.fail(
                f"nodes: the same node is listed more than once ({', '.join(d[:16] for d in dupes)})",
                failure_reason=INVALID_INPUT,
            )
        return resolved_specs, resolved_replace

    def replication_factor(self, layout: dict[str, t.Any]) -> int:
        derived = derive_replication_factor(layout)
        wanted = self.spec.replication_factor
        if wanted is not None and derived is not None and wanted != derived:
            raise self.fail(
                f"replication_factor is {wanted} but the applied layout (version {layout.get('version')}) stores "
                f"each partition {derived} times; set replication_factor to the value of garage.toml",
                failure_reason=INVALID_INPUT,
            )
        return wanted or derived or DEFAULT_REPLICATION_FACTOR

    # ------------------------------------------------------------------ compensation

    def undo(self, ours: ChangeMap, params_ours: t.Any) -> list[dict[str, t.Any]]:
        """Clear OUR staged entries that are still staged (never someone else's)."""
        layout_now = self.read_layout()
        entries = undo_entries(layout_now, ours)
        parameters = None
        if params_ours is not None:
            current_zr, staged_zr = layout_parameters(layout_now)
            if staged_zr == params_ours and current_zr != params_ours:
                parameters = {"zoneRedundancy": zone_redundancy_to_api(current_zr)}
        if entries or parameters:
            with api_context("clear our staged changes from", "cluster layout", failure_reason="layout_unstage_failed"):
                self.client.update_cluster_layout(roles=changes_to_api(entries) or None, parameters=parameters)
        return self.describe(current_roles(layout_now), entries)

    def wait_for_foreign_staging(
        self, layout: dict[str, t.Any] | None = None, wait: float | None = None
    ) -> dict[str, t.Any]:
        """Give a concurrent operator a moment to apply (or clear) the changes it has staged."""
        started = time.monotonic()
        deadline = started + (CONFLICT_WAIT if wait is None else wait)
        while True:
            layout = layout or self.read_layout()
            current = current_roles(layout)
            staged = {n: r for n, r in staged_role_changes(layout).items() if current.get(n) != r}
            if not staged or time.monotonic() >= deadline:
                self.waited += time.monotonic() - started
                return layout
            self.sleep(POLL)
            layout = None

    # ------------------------------------------------------------------ main flow

    def run(self) -> Outcome:
        first_layout: dict[str, t.Any] | None = None
        conflicts: list[str] = []
        attempt = 0
        while True:
            if attempt == 0:
                layout = self.read_layout()
                if self.spec.stale_mode == "fail" and layout.get("stagedRoleChanges"):
                    # Staged changes may be another operator's change in flight: let it land before
                    # calling them stale (costs nothing when nothing is staged).
                    layout = self.wait_for_foreign_staging(layout, STALE_GRACE)
            else:
                layout = self.wait_for_foreign_staging()
                self.check_drift(layout, conflicts)
            if first_layout is None:
                first_layout = layout
            try:
                return self.attempt(layout, first_layout, conflicts)
            except LayoutConflict as exc:
                conflicts.append(exc.message)
                if attempt >= self.spec.conflict_retries:
                    applied = (
                        f" This run applied layout version(s) {', '.join(map(str, self.applied_versions))}."
                        if self.applied_versions
                        else ""
                    )
                    raise self.fail(
                        f"Concurrent layout change detected, giving up after {attempt + 1} attempt(s): "
                        + " | ".join(conflicts)
                        + f". Our own staged changes were cleared; nothing of this run is staged.{applied}",
                        failure_reason=LAYOUT_CONFLICT,
                        conflicts=conflicts,
                    ) from None
                attempt += 1
                self.sleep(random.uniform(0.05, 0.5) * attempt)

    def check_drift(self, layout: dict[str, t.Any], conflicts: list[str]) -> None:
        """Retry only when the re-read shows that nothing but OUR changes happened underneath.

        If another operator changed other roles (or our nodes to other values), re-planning on top
        of it could undo or contradict their change: stop and say precisely what changed.
        """
        plan = self.last_plan
        if plan is None:
            return
        now = current_roles(layout)
        moved = role_diff(plan.current, now)
        theirs = {node: role for node, role in moved.items() if plan.desired.get(node) != role}
        ours = sorted(node for node, role in moved.items() if plan.desired.get(node) == role)
        current_zr, _staged = layout_parameters(layout)
        zr_moved = current_zr not in (plan.current_zone_redundancy, plan.desired_zone_redundancy)
        if not theirs and not zr_moved:
            return
        what = [format_change(c) for c in self.describe(plan.current, theirs)]
        if zr_moved:
            what.append(f"zone_redundancy={current_zr}")
        note = (
            f" (their apply also took our staged changes for {', '.join(node_label(n, self.nodes) for n in ours)})"
            if ours
            else ""
        )
        raise self.fail(
            "Concurrent layout change detected: "
            + " | ".join(conflicts)
            + f". Another operator changed the layout underneath this run (version {layout.get('version')}): "
            + "; ".join(what)
            + f"{note}. Not re-planning on top of a change this run did not plan: nothing of this run is staged; "
            "review the layout and run again.",
            failure_reason=LAYOUT_CONFLICT,
            conflicts=conflicts,
            layout_changes_underneath=self.describe(plan.current, theirs),
        )

    def attempt(self, layout: dict[str, t.Any], first_layout: dict[str, t.Any], conflicts: list[str]) -> Outcome:
        resolved_specs, resolved_replace = self.resolve(layout)
        rf = self.replication_factor(layout)
        stale_mode = self.spec.stale_mode
        try:
            plan = plan_layout(
                layout=layout,
                specs=resolved_specs,
                replace=resolved_replace,
                purge=self.spec.purge,
                zone_redundancy=self.spec.zone_redundancy,
                stale_mode=stale_mode,
            )
        except LayoutPlanError as exc:
            raise self.fail(str(exc), failure_reason=INVALID_INPUT) from None
        version = int(layout.get("version") or 0)
        self.last_plan = plan
        stale = self.describe(plan.current, plan.stale)
        result: dict[str, t.Any] = {
            "previous_version": int(first_layout.get("version") or 0),
            "replication_factor": rf,
            "stale_staged_changes": stale,
            "stale_staged_action": "none",
            "partition_moves": None,
            "applied": bool(self.applied_versions),
            "applied_versions": self.applied_versions,
            "foreign_changes": [],
            "waited_for_staged_changes": round(self.waited, 2),
            "waited_for_nodes": round(self.waited_for_nodes, 2),
        }
        if conflicts:
            result["conflicts"] = list(conflicts)
        stale_lines = [format_change(c) for c in stale]
        if plan.stale_parameters is not None:
            stale_lines.append(f"zone_redundancy={plan.stale_parameters}")
        if (plan.stale or plan.stale_parameters is not None) and stale_mode == "fail":
            if not self.nodes or all(n.hostname is None for n in self.nodes):
                self.nodes = known_nodes(self.read_status(), layout)
                stale = self.describe(plan.current, plan.stale)
                stale_lines = [format_change(c) for c in stale] + stale_lines[len(plan.stale) :]
            raise self.fail(
                f"The cluster layout has staged changes that this task did not make: {'; '.join(stale_lines)}. "
                "Apply or revert them first, or set stale_staged_changes=discard or merge.",
                failure_reason=STALE_CHANGES,
                stale_staged_changes=stale,
            )
        if plan.stale or plan.stale_parameters is not None:
            result["stale_staged_action"] = "discarded" if stale_mode == "discard" else "merged"

        before = self.view(first_layout)
        planned = self.describe(plan.current, plan.expected_staged)
        if not plan.changed:
            after = self.view(layout)
            if conflicts and after != before:
                self.warnings.append(
                    f"The layout was changed concurrently (version {before['version']} -> {after['version']}); "
                    "it now matches the declared layout, this run applied nothing"
                )
            # What this run changed: only the versions it applied in earlier attempts.
            shown_before = before if self.applied_versions else after
            return self.outcome(shown_before, after, version=version, staged_changes=[], **result).with_result(
                previous_layout=before
            )

        if plan.apply_needed:
            problem = replication_problem(plan.desired, rf, plan.desired_zone_redundancy)
            if problem:
                raise self.fail(
                    f"Refusing to change the layout: {problem} (nothing was staged)",
                    failure_reason=REPLICATION_PROBLEM,
                    staged_changes=planned,
                    replication_factor=rf,
                )

        predicted = {
            "version": version + 1 if plan.apply_needed else version,
            "zone_redundancy": plan.desired_zone_redundancy if plan.apply_needed else plan.current_zone_redundancy,
            "roles": roles_view(plan.desired if plan.apply_needed else plan.current),
        }
        if self.dry_run:
            return self.outcome(
                before,
                predicted,
                staged_before=stale_lines,
                version=predicted["version"],
                staged_changes=planned,
                **result,
            )

        state = _AttemptState(plan=plan, version=version, planned=planned, result=result, before=before)
        try:
            done = Saga(self.steps(state)).run(dry_run=False)
        except SagaFailed as exc:
            cause = exc.__cause__
            if isinstance(cause, LayoutConflict):
                raise cause from None  # pylint: disable=raising-non-exception
            exc.details.setdefault("staged_changes", planned)
            exc.details["applied_versions"] = self.applied_versions
            exc.changed = exc.changed or bool(self.applied_versions)
            raise
        if not plan.apply_needed:
            # Only stale staged changes were cleared (stale_staged_changes=discard).
            return self.outcome(
                before, self.view(layout), staged_before=stale_lines, version=version, staged_changes=[], **result
            )
        return self.confirm(state, done.outcomes["apply"], stale_lines)

    # ------------------------------------------------------------------ the saga of one attempt

    def steps(self, state: _AttemptState) -> list[Step]:
        plan = state.plan
        steps: list[Step] = []
        if plan.to_stage or state.parameters is not None:
            steps += [
                Step("stage", "layout_stage_failed", lambda ctx: self.stage(state)),
                Step("verify_staged", LAYOUT_CONFLICT, lambda ctx: self.verify_staged(state, ctx)),
            ]
        if plan.apply_needed:
            steps += [
                Step("preview", "layout_preview_failed", lambda ctx: self.preview(state)),
                Step("apply", "layout_apply_failed", lambda ctx: self.apply(state)),
            ]
        return steps

    def stage(self, state: _AttemptState) -> Outcome:
        """Stage every change in ONE UpdateClusterLayout; undo = clear our staged entries."""
        plan = state.plan
        with api_context("stage changes to", "cluster layout", failure_reason="layout_stage_failed"):
            response = self.client.update_cluster_layout(
                roles=changes_to_api(plan.to_stage) or None, parameters=state.parameters
            )
        return Outcome(
            before={"staged": []},
            after={"staged": sorted(plan.to_stage)},
            result={"response": response},
            undo=Undo(
                "clear this run's staged changes from the cluster layout (stage each node's current role again)",
                lambda: self.undo(plan.to_stage, state.params_ours),
                {"resource": "cluster_layout", "staged_nodes": sorted(plan.to_stage)},
                done="our staged changes were cleared; nothing of this run is staged",
            ),
        )

    def verify_staged(self, state: _AttemptState, ctx: StepContext) -> Outcome:
        """After our UpdateClusterLayout the staged set must be exactly ours (+ merged stale ones)."""
        resp = ctx.outcomes["stage"].result.get("response")
        resp = resp if isinstance(resp, dict) else {}
        resp_version = int(resp.get("version") or 0)
        if resp_version != state.version:
            raise LayoutConflict(
                f"the layout version moved from {state.version} to {resp_version} while planning (concurrent apply)"
            )
        foreign = foreign_staged(staged_role_changes(resp), current_roles(resp), state.plan.expected_staged)
        if foreign:
            raise LayoutConflict(
                "foreign staged changes appeared next to ours: "
                + "; ".join(format_change(c) for c in self.describe(current_roles(resp), foreign))
            )
        return Outcome()

    def preview(self, state: _AttemptState) -> Outcome:
        plan = state.plan
        with api_context("preview", "cluster layout", failure_reason="layout_preview_failed"):
            preview = self.client.preview_cluster_layout_changes()
        if isinstance(preview, dict) and preview.get("error"):
            raise OperationError(
                f"Garage cannot compute this layout: {preview['error']}",
                failure_reason=UNCOMPUTABLE,
                details={"staged_changes": state.planned},
            )
        new_layout = (preview or {}).get("newLayout") if isinstance(preview, dict) else None
        if isinstance(new_layout, dict) and "roles" in new_layout:
            extra = role_diff(plan.desired, current_roles(new_layout))
            if extra:
                raise LayoutConflict(
                    "the preview contains changes staged concurrently by another operator: "
                    + "; ".join(format_change(c) for c in self.describe(plan.desired, extra))
                )
        state.preview_summary = parse_layout_message(
            (preview or {}).get("message") if isinstance(preview, dict) else None
        )
        return Outcome()

    def apply(self, state: _AttemptState) -> Outcome:
        """Apply exactly once, with the version read at the start of this attempt + 1."""
        version = state.version
        try:
            applied = self.client.apply_cluster_layout(version + 1)
        except GarageError as exc:
            now = self.read_layout()
            now_version = int(now.get("version") or 0)
            plan = state.plan
            if (
                now_version == version + 1
                and current_roles(now) == plan.desired
                and not undo_entries(now, plan.to_stage)
            ):
                # Our apply landed although its answer was lost (e.g. a retried request), or a concurrent
                # apply took exactly our staged changes: version+1 holds exactly the declared layout.
                self.warnings.append(
                    f"ApplyClusterLayout answered '{exc.message}', but the re-read shows version {now_version} "
                    "with exactly the declared roles"
                )
                state.landed = now
                return Outcome(before={"version": version}, after={"version": now_version})
            invalid_version = isinstance(exc, GarageServerError) and "version" in (exc.message or "").lower()
            if invalid_version or now_version != version:
                raise LayoutConflict(
                    f"applying version {version + 1} failed ({exc.code or 'error'}: {exc.message}); the layout is "
                    f"now at version {now_version} (another operator applied concurrently)"
                ) from None
            raise OperationError(
                f"Failed to apply cluster layout version {version + 1}: {exc.detail}; the layout is still at "
                f"version {now_version}",
                failure_reason="layout_apply_failed",
                details={"status": exc.status, "garage_code": exc.code, "staged_changes": state.planned},
            ) from None
        state.applied = applied if isinstance(applied, dict) else {}
        return Outcome(before={"version": version}, after={"version": version + 1})

    def confirm(self, state: _AttemptState, _applied: Outcome, stale_lines: t.Sequence[str]) -> Outcome:
        """Re-read after the apply; report foreign changes, or a conflict if ours were overwritten."""
        plan, version, result = state.plan, state.version, state.result
        if state.landed is not None:
            self.applied_versions.append(int(state.landed.get("version") or 0))
            result.update(applied=True)
            return self.outcome(
                state.before,
                self.view(state.landed),
                staged_before=stale_lines,
                version=int(state.landed.get("version") or 0),
                staged_changes=state.planned,
                **result,
            )
        applied_layout = (state.applied or {}).get("layout") or {}
        messages = list((state.applied or {}).get("message") or [])
        summary = parse_layout_message(messages) if messages else state.preview_summary
        confirmed = self.read_layout()
        if int(confirmed.get("version") or 0) < version + 1:
            raise self.fail(
                f"ApplyClusterLayout answered but the re-read shows layout version {confirmed.get('version')} "
                f"(expected {version + 1} or later)",
                failure_reason="layout_confirm_failed",
                changed=True,
                staged_changes=state.planned,
            )
        final_roles = (
            current_roles(applied_layout) if applied_layout.get("roles") is not None else current_roles(confirmed)
        )
        foreign = role_diff(plan.desired, final_roles)
        self.applied_versions.append(version + 1)
        lost = sorted(node for node in plan.expected_staged if final_roles.get(node) != plan.desired.get(node))
        if lost:
            # A concurrent operator's staged entries for the same nodes replaced ours before our apply.
            raise LayoutConflict(
                f"version {version + 1} was applied, but it holds another operator's roles for "
                + ", ".join(node_label(node, self.nodes) for node in lost)
                + " instead of ours"
            )
        result["foreign_changes"] = self.describe(plan.desired, foreign)
        if foreign:
            self.warnings.append(
                f"Layout version {version + 1} also contains changes staged concurrently by another operator: "
                + "; ".join(format_change(c) for c in result["foreign_changes"])
            )
        result.update(applied=True, partition_moves=summary, message=messages)
        after = self.view(applied_layout if applied_layout.get("roles") is not None else confirmed)
        after["version"] = version + 1
        return self.outcome(
            state.before, after, staged_before=stale_lines, version=version + 1, staged_changes=state.planned, **result
        )


@dataclasses.dataclass
class _AttemptState:
    """What the steps of one attempt share."""

    plan: Plan
    version: int
    planned: list[dict[str, t.Any]]
    result: dict[str, t.Any]
    before: dict[str, t.Any]
    preview_summary: dict[str, t.Any] | None = None
    applied: dict[str, t.Any] | None = None
    landed: dict[str, t.Any] | None = None

    @property
    def params_ours(self) -> t.Any:
        return self.plan.desired_zone_redundancy if self.plan.stage_parameters else None

    @property
    def parameters(self) -> dict[str, t.Any] | None:
        ours = self.params_ours
        return {"zoneRedundancy": zone_redundancy_to_api(ours)} if ours is not None else None
