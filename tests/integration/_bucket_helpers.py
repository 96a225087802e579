# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers shared by the bucket-side integration tests (test_bucket*.py, test_bad_input.py).

``quartet`` runs one module task through the shared check / apply / idempotence helper
(``tests/integration/quartet.py``), with an out-of-band read (Garage's Admin API straight to
the node through ``garage.admin``, never the module under test) before, after the check run,
and at the end. It costs one ansible-playbook run.
"""

from __future__ import annotations

import secrets
import time
import typing as t
from urllib.parse import urlencode

from tests.integration.ansible_run import TaskRecord, run_playbook
from tests.integration.quartet import Quartet, Scenario, run_quartets

__all__ = ["Quartet", "quartet"]


def uid(prefix: str = "it") -> str:
    """A unique, valid bucket/alias name."""
    return f"{prefix}-{secrets.token_hex(5)}"


def bucket_oob(garage: t.Any, *, name: str | None = None, bucket_id: str | None = None) -> dict[str, t.Any] | None:
    """GetBucketInfo out of band; None on 404."""
    query = {"globalAlias": name} if name is not None else {"id": bucket_id}
    status, body = garage.admin("GetBucketInfo", query=query)
    if status == 404:
        return None
    assert status == 200, body
    return t.cast(dict, body)


def settled(garage: t.Any, bucket: str, *, objects: int, timeout: float = 20.0) -> None:
    """Wait until Garage's (eventually consistent) object counter of ``bucket`` shows ``objects``,
    so that no later test sees the counter move under its out-of-band comparisons."""
    deadline = time.monotonic() + timeout
    while (bucket_oob(garage, name=bucket) or {}).get("objects") != objects:
        assert time.monotonic() < deadline, f"bucket {bucket} never showed {objects} object(s)"
        time.sleep(0.2)


def key_oob(garage: t.Any, key_id: str) -> dict[str, t.Any]:
    return t.cast(dict, garage.ok("GetKeyInfo", query={"id": key_id}))


def create_bucket_oob(garage: t.Any, name: str, **update: t.Any) -> dict[str, t.Any]:
    info = garage.ok("CreateBucket", body={"globalAlias": name})
    if update:
        info = garage.ok("UpdateBucket", query={"id": info["id"]}, body=update)
    return t.cast(dict, info)


def perms_of(info: dict[str, t.Any] | None, key_id: str) -> dict[str, bool]:
    """A key's flags in a GetBucketInfo answer.

    Garage 2.1 and later do not list a key that has no permission on the bucket (2.0 listed it
    with three false flags): a key that is not listed has all three flags false.
    """
    for k in (info or {}).get("keys") or []:
        if k["accessKeyId"] == key_id:
            return {f: bool(k["permissions"].get(f)) for f in ("read", "write", "owner")}
    return {"read": False, "write": False, "owner": False}


class Read(t.NamedTuple):
    """An out-of-band Admin API read: Python side (``garage.admin``) and playbook side (``uri``)."""

    endpoint: str
    query: dict[str, t.Any]

    def __call__(self, garage: t.Any) -> t.Any:
        status, body = garage.admin(self.endpoint, query=self.query)
        if status == 404:
            return None
        assert status == 200, body
        return body

    def uri_task(self, garage: t.Any, name: str) -> dict[str, t.Any]:
        """The same read as an ``ansible.builtin.uri`` task (not the module under test)."""
        return {
            "name": name,
            "ansible.builtin.uri": {
                "url": f"{garage.admin_url.rstrip('/')}/v2/{self.endpoint}?{urlencode(self.query)}",
                "headers": {"Authorization": f"Bearer {garage.admin_token}"},
                "status_code": [200, 404],
                "return_content": True,
            },
        }

    @staticmethod
    def from_uri(record: TaskRecord) -> t.Any:
        return None if record.result.get("status") == 404 else record.result.get("json")


def bucket_read(*, name: str | None = None, bucket_id: str | None = None) -> Read:
    return Read("GetBucketInfo", {"globalAlias": name} if name is not None else {"id": bucket_id})


def quartet(garage: t.Any, module: str, args: dict[str, t.Any], read: Read) -> Quartet:
    """Check -> apply -> idempotent check -> idempotent apply of ``module`` with ``args``, in ONE playbook
    (see tests/integration/quartet.py).

    An out-of-band ``uri`` read right after the check-mode task must equal the ``garage.admin`` read
    taken before the run (check mode wrote nothing); ``after`` is a ``garage.admin`` read after the run.
    Asserts that no task failed; the changed flags are checked by ``assert_converged()``.
    """
    before = read(garage)
    scenario = Scenario("", module, args, oob_tasks=[read.uri_task(garage, "read after check")])
    q = run_quartets(garage, [scenario], converge=False)[""]
    assert Read.from_uri(q.result.task("read after check")) == before, "check mode changed the cluster"
    q.before, q.after = before, read(garage)
    return q


def run_one(garage: t.Any, module: str, args: dict[str, t.Any], *, check: bool = False) -> TaskRecord:
    """One task in one playbook run (failures allowed: read ``.failed`` / ``.result['msg']``)."""
    r = run_playbook([{"name": "task", module: args}], garage=garage, check=check, diff=True)
    return r.task("task")
