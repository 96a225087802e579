# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fault at every step of every tenant orchestration, on real Garage through the fault proxy.

For each path (provision, remove, extra key, rotation at once, retirement after the overlap),
one test drives the saga's own step list, so a new step is covered without a new test:

1. a recording run (no fault) learns which calls each step makes, through the three proxies
   (Garage Admin API, Garage S3, OpenBao), and picks each step's write;
2. for every step, a fresh copy of the scenario is run with exactly that call failing
   (``500 InternalError`` from the proxy, not forwarded): the run fails with the step's
   ``failure_reason`` and Garage and OpenBao are exactly as before (facts dumped out of band);
3. for every undo that rollback ran, the same again with that undo's call failing too: the run
   fails with ``rollback_failed`` and ``manual_cleanup_required`` names exactly what differs
   from before.

Steps past the point of no return (deleting the keys a removed bucket leaves behind) do not
fail the run: their fault must show up in ``manual_cleanup_required`` and be all that is left.
The orchestrations are driven through their operations with the modules' real clients (the
playbook-level behaviour is in test_tenants.py): a playbook per fault would cost minutes.
"""

from __future__ import annotations

import dataclasses
import secrets
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, SagaFailed, Step, StepContext
from ansible_collections.cellar.garage.plugins.module_utils._tenants import (
    common,
    customer_bucket,
    customer_key,
    rotation,
)
from tests.fixtures.faultproxy import FaultProxy
from tests.fixtures.openbao import OpenBaoServer
from tests.integration._tenant_state import garage_facts, ids_in, left_over, manual_facts, secret_fact

PATHS = ("bucket_create", "bucket_absent", "customer_key", "rotation_now", "rotation_retire")


# --------------------------------------------------------------------------- the environment


@dataclasses.dataclass
class Env:
    garage: t.Any
    openbao: OpenBaoServer
    bao_proxy: FaultProxy
    mount: str
    keep: set[str] = dataclasses.field(default_factory=set)

    @property
    def proxies(self) -> dict[str, FaultProxy]:
        return {"admin": self.garage.proxy, "s3": self.garage.s3_proxy(), "bao": self.bao_proxy}

    def services(self) -> common.Services:
        return common.Services(
            admin=GarageAdminClient(self.garage.admin_url, self.garage.admin_token, retries=0),
            s3=common.s3_factory(s3_url=self.garage.s3_proxy().url, region=self.garage.region, validate_certs=True,
                                 ca_path=None, user_agent="cellar.garage-test"),
            openbao=lambda: OpenBaoClient(self.bao_proxy.url, self.openbao.token, retries=0),
            openbao_mount=self.mount,
            openbao_path=None,
            sleep=lambda seconds: None,
        )  # fmt: skip

    def calls(self) -> dict[tuple[str, str], int]:
        return {(name, ep): n for name, proxy in self.proxies.items() for ep, n in proxy.calls().items()}

    def reset(self) -> None:
        for proxy in self.proxies.values():
            proxy.reset_calls()
            proxy.clear_faults()

    def clean(self) -> None:
        """Delete what the last run made, out of band (the session cluster stays small)."""
        self.reset()
        _remove_everything_but(self.garage, self.keep)

    def facts(self, secret_path: str) -> set[tuple[t.Any, ...]]:
        stored = self.openbao.kv_read(self.mount, secret_path)
        return garage_facts(self.garage.state()) | secret_fact(self.mount, secret_path, stored)


@pytest.fixture
def env(garage: t.Any, openbao: OpenBaoServer, kv_mount: str) -> t.Iterator[Env]:
    proxy = FaultProxy(f"127.0.0.1:{openbao.port}", kind="admin")
    environment = Env(garage, openbao, proxy, kv_mount, ids_in(garage_facts(garage.state())))
    try:
        yield environment
    finally:
        environment.clean()
        proxy.stop()


def _remove_everything_but(garage: t.Any, keep: set[str]) -> None:
    """Delete the buckets and keys the test made (out of band), so the session cluster stays small."""
    for bucket in garage.ok("ListBuckets"):
        if bucket["id"] not in keep:
            garage.admin("DeleteBucket", query={"id": bucket["id"]})
    for key in garage.ok("ListKeys"):
        if key["id"] not in keep:
            garage.admin("DeleteKey", query={"id": key["id"]})


# --------------------------------------------------------------------------- scenarios


@dataclasses.dataclass
class Scenario:
    """One fresh copy of a path: what to build, and the OpenBao secret it writes."""

    build: t.Callable[[common.Services], common.Plan]
    services: common.Services
    secret_path: str


def scenario(env: Env, path: str, suffix: str) -> Scenario:
    """Set up (without faults) what ``path`` starts from, with names made unique by ``suffix``."""
    secret_path = f"tenants/{suffix}"
    services = dataclasses.replace(env.services(), openbao_path=secret_path)
    setup = dataclasses.replace(services, s3=None)  # the set-up needs no proof (it costs a boto3 client)
    alias, admin_name = f"cust-{suffix}", f"cust-{suffix}-admin"
    provision = customer_bucket.Request(state="present", display_name=alias, key_name=admin_name)
    if path == "bucket_create":
        return Scenario(lambda s: customer_bucket.build(s, provision), services, secret_path)
    provisioned = customer_bucket.run(setup, provision, dry_run=False).result
    bucket_id, old_key = provisioned["bucket_id"], provisioned["access_key_id"]
    if path == "bucket_absent":
        extra = customer_key.Request(bucket_id, f"cust-{suffix}-ro", alias, "ro", dict(common.TIERS["ro"]))
        customer_key.run(dataclasses.replace(setup, openbao_path=None), extra, dry_run=False)
        request = customer_bucket.Request(state="absent", bucket_id=bucket_id)
        return Scenario(lambda s: customer_bucket.build(s, request), services, secret_path)
    if path == "customer_key":
        extra = customer_key.Request(bucket_id, f"cust-{suffix}-rw", alias, "rw", dict(common.TIERS["rw"]))
        key_services = dataclasses.replace(services, openbao_path=f"{secret_path}-rw")
        return Scenario(lambda s: customer_key.build(s, extra), key_services, f"{secret_path}-rw")
    rotate = rotation.Request(old_key, f"cust-{suffix}-admin2", bucket_id, alias, "all", None, retire_old=True)
    if path == "rotation_now":
        return Scenario(lambda s: rotation.build(s, rotate), services, secret_path)
    assert path == "rotation_retire"
    rotation.run(setup, dataclasses.replace(rotate, retire_old=False), dry_run=False)
    return Scenario(lambda s: rotation.build(s, rotate), services, secret_path)


# --------------------------------------------------------------------------- recording


@dataclasses.dataclass
class Call:
    """The ``nth`` call (counted from the start of the run) of ``endpoint`` through ``proxy``."""

    proxy: str
    endpoint: str  # with the scenario's suffix replaced by "{suffix}"
    nth: int


@dataclasses.dataclass
class Trace:
    """Per step (in order): the call to fault; per undo that ran: the call to fault."""

    steps: list[tuple[Step, Call | None]] = dataclasses.field(default_factory=list)
    undos: list[tuple[str, Call | None]] = dataclasses.field(default_factory=list)


def _write_of(before: dict[tuple[str, str], int], after: dict[tuple[str, str], int], suffix: str) -> Call | None:
    """The call to fault among those made between two snapshots: the last call of a write endpoint
    (Garage: not Get*/List*; OpenBao: a data/delete path; S3: any), else the last call made."""
    made = [(key, n) for key, n in after.items() if n > before.get(key, 0)]
    if not made:
        return None

    def is_write(key: tuple[str, str]) -> bool:
        proxy, endpoint = key
        if proxy == "admin":
            return not endpoint.startswith(("Get", "List"))
        if proxy == "bao":
            return "/metadata/" not in endpoint
        return True

    writes = [item for item in made if is_write(item[0])] or made
    (proxy, endpoint), nth = writes[-1]
    return Call(proxy, endpoint.replace(suffix, "{suffix}"), nth)


def traced_run(env: Env, sc: Scenario, suffix: str, trace: Trace | None) -> Outcome:
    """Build and run the scenario's saga, recording per step and per undo the call to fault."""
    plan = sc.build(sc.services)

    def wrap(step: Step) -> Step:
        def do(ctx: StepContext) -> Outcome:
            before = env.calls()
            try:
                outcome = step.do(ctx)
            finally:
                if trace is not None:
                    trace.steps.append((step, _write_of(before, env.calls(), suffix)))
            undo = outcome.undo
            if undo is None:
                return outcome

            def run_undo(undo: Undo = undo, name: str = step.name) -> object:
                start = env.calls()
                try:
                    return undo.run()
                finally:
                    if trace is not None:
                        trace.undos.append((name, _write_of(start, env.calls(), suffix)))

            return outcome.with_undo(dataclasses.replace(undo, run=run_undo))

        return Step(step.name, step.failure_reason, do)

    saga = Saga([wrap(s) for s in plan.saga.steps])
    return plan.report(saga.run(dry_run=False), False)


def inject(env: Env, call: Call, suffix: str, what: str) -> None:
    """Make that call fail: once on the Admin API and OpenBao (whose clients never repeat a 500), as
    many times as botocore tries an S3 request (it retries a 500 within one call)."""
    times = 1
    if call.proxy == "s3":
        probe = t.cast(common.S3Factory, env.services().s3)("GKprobe", "probe")
        times = int(probe.meta.config.retries["total_max_attempts"])
    env.proxies[call.proxy].fault(call.endpoint.format(suffix=suffix), nth=call.nth, times=times, status=500,
                                  code="InternalError", message=f"injected fault: {what}")  # fmt: skip


# --------------------------------------------------------------------------- the test

#: Steps past the point of no return: a fault there is reported, not rolled back.
PAST_NO_RETURN = "delete_orphan_key_"


@pytest.mark.parametrize("path", PATHS)
def test_fault_at_every_step_rolls_back_or_reports_what_is_left(env: Env, path: str) -> None:
    # 1. Recording run: the steps of this path and the call each one makes.
    suffix = secrets.token_hex(4)
    sc = scenario(env, path, suffix)
    env.reset()
    trace = Trace()
    traced_run(env, sc, suffix, trace)
    env.clean()
    assert trace.steps, f"{path}: the saga has no step"
    missing = [step.name for step, call in trace.steps if call is None]
    assert not missing, f"{path}: steps that made no call cannot be faulted: {missing}"

    points = undo_points = 0
    for index, (step, call) in enumerate(trace.steps):
        assert call is not None
        # 2. Exactly this step fails.
        suffix = secrets.token_hex(4)
        sc = scenario(env, path, suffix)
        before = env.facts(sc.secret_path)
        env.reset()
        inject(env, call, suffix, f"step {step.name}")
        undo_trace = Trace()
        outcome, failure = _run(env, sc, suffix, undo_trace)
        after = env.facts(sc.secret_path)
        env.clean()
        points += 1
        label = f"{path} / {step.name} ({call.proxy} {call.endpoint} #{call.nth})"
        if step.name.startswith(PAST_NO_RETURN):
            assert failure is None and outcome is not None, f"{label}: must not fail the run: {failure}"
            left = outcome.result.get("manual_cleanup_required") or []
            deleted = {("key", k["access_key_id"]) for k in outcome.result["deleted_keys"]}
            bucket = ("bucket", outcome.result["bucket_id"])
            assert manual_facts(left) and manual_facts(left) <= after, f"{label}: {left}"
            assert left_over(before, after) == {bucket, *deleted}, f"{label}: {left_over(before, after)}"
            assert outcome.warnings, label
            continue
        assert failure is not None, f"{label}: the run did not fail"
        assert failure.failed_step == step.name, label
        assert failure.failure_reason == step.failure_reason, f"{label}: {failure.failure_reason}: {failure}"
        assert not failure.manual_cleanup_required and not failure.changed, f"{label}: {failure}"
        assert left_over(before, after) == set(), f"{label}: Garage/OpenBao differ: {left_over(before, after)}"
        assert failure.details["steps"][index] == {"name": step.name, "status": "failed"}, label

        # 3. Each undo that ran fails in turn, on top of the step.
        for undo_step, undo_call in undo_trace.undos:
            if undo_call is None:  # "covered": a later undo (the key's, the bucket's) removes it
                continue
            suffix = secrets.token_hex(4)
            sc = scenario(env, path, suffix)
            before = env.facts(sc.secret_path)
            env.reset()
            inject(env, call, suffix, f"step {step.name}")
            inject(env, undo_call, suffix, f"undo of {undo_step}")
            outcome, failure = _run(env, sc, suffix, None)
            after = env.facts(sc.secret_path)
            env.clean()
            undo_points += 1
            label = f"{path} / {step.name} + undo of {undo_step} ({undo_call.proxy} {undo_call.endpoint})"
            assert failure is not None and failure.failure_reason == "rollback_failed", f"{label}: {failure}"
            assert failure.details["step_failure_reason"] == step.failure_reason, label
            assert failure.changed, label
            manual = failure.manual_cleanup_required
            assert [m["step"] for m in manual] == [undo_step], f"{label}: {manual}"
            assert left_over(before, after) == manual_facts(manual), (
                f"{label}: left {left_over(before, after)} but reported {manual_facts(manual)}"
            )
            statuses = {s["name"]: s["status"] for s in failure.details["steps"]}
            assert statuses[undo_step] == "undo_failed", label
    print(f"\n{path}: {points} step fault points, {undo_points} undo fault points")
    assert points == len(trace.steps)


def _run(env: Env, sc: Scenario, suffix: str, trace: Trace | None) -> tuple[Outcome | None, SagaFailed | None]:
    try:
        return traced_run(env, sc, suffix, trace), None
    except SagaFailed as exc:
        return None, exc
