# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: at the end of each playbook, print its wall time and its slowest tasks.

Enabled by extensions/molecule/config.yml so that every Molecule step says where its time went;
never shipped as part of the collection.
"""

from __future__ import annotations

import time
import typing as t

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: Print the slowest tasks of a playbook (cellar.garage Molecule runs only)
description:
  - At the end of a playbook, prints its wall time and its ten slowest tasks.
requirements:
  - enable in callbacks_enabled
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self.started = time.monotonic()
        self.current: tuple[str, float] | None = None
        self.times: dict[str, float] = {}

    def _close(self) -> None:
        if self.current is not None:
            name, start = self.current
            self.times[name] = self.times.get(name, 0.0) + time.monotonic() - start
            self.current = None

    def v2_playbook_on_task_start(self, task: t.Any, is_conditional: bool) -> None:
        self._close()
        self.current = (task.get_name(), time.monotonic())

    def v2_playbook_on_handler_task_start(self, task: t.Any) -> None:
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats: t.Any) -> None:
        self._close()
        total = time.monotonic() - self.started
        slowest = sorted(self.times.items(), key=lambda kv: kv[1], reverse=True)[:10]
        self._display.display(f"TASK TIMER: playbook {total:.1f} s, {len(self.times)} tasks; slowest:")
        for name, seconds in slowest:
            self._display.display(f"  {seconds:6.1f} s  {name}")
