# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: append every task result as one JSON line to $CELLAR_RESULTS_FILE.

Used by tests/integration/ansible_run.py; never shipped as part of the collection.
Results are recorded after Ansible's own no_log censoring, exactly as a user would see them.
"""

from __future__ import annotations

import json
import os
import typing as t

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: cellar_results
type: aggregate
short_description: Record task results as JSON lines (cellar.garage tests only)
description:
  - Appends one JSON object per task result to the file named by E(CELLAR_RESULTS_FILE).
requirements:
  - enable in callbacks_enabled
"""

_INTERNAL_PREFIX = "_ansible_"


def _payload(result: t.Any) -> dict[str, t.Any]:
    data = getattr(result, "result", None)
    if data is None:  # ansible-core < 2.19
        data = result._result
    return {k: v for k, v in dict(data).items() if not k.startswith(_INTERNAL_PREFIX)}


def _is_changed(result: t.Any, payload: dict[str, t.Any]) -> bool:
    try:
        return bool(result.is_changed())
    except Exception:  # noqa: BLE001 - fall back to the raw flag on any API difference
        return bool(payload.get("changed", False))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cellar_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._path = os.environ.get("CELLAR_RESULTS_FILE")
        self._play = None

    def _record(
        self,
        result: t.Any,
        *,
        failed: bool = False,
        skipped: bool = False,
        unreachable: bool = False,
        ignore_errors: bool = False,
    ) -> None:
        if not self._path:
            return
        task = result._task
        payload = _payload(result)
        record = {
            "task": result.task_name or task.get_name(),
            "action": getattr(task, "action", None),
            "host": result._host.get_name(),
            "play": self._play,
            "changed": _is_changed(result, payload) if not skipped else False,
            "failed": failed,
            "skipped": skipped,
            "unreachable": unreachable,
            "ignore_errors": ignore_errors,
            "result": payload,
        }
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=str, sort_keys=True) + "\n")

    def v2_playbook_on_play_start(self, play: t.Any) -> None:
        self._play = play.get_name()

    def v2_runner_on_ok(self, result: t.Any) -> None:
        self._record(result)

    def v2_runner_on_failed(self, result: t.Any, ignore_errors: bool = False) -> None:
        self._record(result, failed=True, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result: t.Any) -> None:
        self._record(result, skipped=True)

    def v2_runner_on_unreachable(self, result: t.Any) -> None:
        self._record(result, failed=True, unreachable=True)

    def v2_runner_on_async_ok(self, result: t.Any) -> None:
        self._record(result)

    def v2_runner_on_async_failed(self, result: t.Any) -> None:
        self._record(result, failed=True)
