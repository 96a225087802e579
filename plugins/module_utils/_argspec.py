# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""An argument spec that carries its own constraints and can be merged.

Modelled on community.crypto's ``_argspec.ArgumentSpec``: shared option sets
(the Garage connection options) travel together with their
``mutually_exclusive`` / ``required_*`` lists, so a module cannot take the
options and forget the constraints.
"""

from __future__ import annotations

import copy
import typing as t


class ArgumentSpec:
    def __init__(
        self,
        argument_spec: dict[str, t.Any] | None = None,
        *,
        mutually_exclusive: t.Sequence[t.Sequence[str]] | None = None,
        required_together: t.Sequence[t.Sequence[str]] | None = None,
        required_one_of: t.Sequence[t.Sequence[str]] | None = None,
        required_if: t.Sequence[t.Sequence[t.Any]] | None = None,
        required_by: t.Mapping[str, t.Sequence[str]] | None = None,
    ) -> None:
        self.argument_spec: dict[str, t.Any] = copy.deepcopy(argument_spec or {})
        self.mutually_exclusive: list[list[str]] = [list(x) for x in mutually_exclusive or []]
        self.required_together: list[list[str]] = [list(x) for x in required_together or []]
        self.required_one_of: list[list[str]] = [list(x) for x in required_one_of or []]
        self.required_if: list[list[t.Any]] = [list(x) for x in required_if or []]
        self.required_by: dict[str, list[str]] = {k: list(v) for k, v in (required_by or {}).items()}

    def copy(self) -> ArgumentSpec:
        return ArgumentSpec(
            self.argument_spec,
            mutually_exclusive=self.mutually_exclusive,
            required_together=self.required_together,
            required_one_of=self.required_one_of,
            required_if=self.required_if,
            required_by=self.required_by,
        )

    def update_argspec(self, **kwargs: t.Any) -> ArgumentSpec:
        self.argument_spec.update(copy.deepcopy(kwargs))
        return self

    def update(
        self,
        *,
        mutually_exclusive: t.Sequence[t.Sequence[str]] | None = None,
        required_together: t.Sequence[t.Sequence[str]] | None = None,
        required_one_of: t.Sequence[t.Sequence[str]] | None = None,
        required_if: t.Sequence[t.Sequence[t.Any]] | None = None,
        required_by: t.Mapping[str, t.Sequence[str]] | None = None,
    ) -> ArgumentSpec:
        self.mutually_exclusive.extend(list(x) for x in mutually_exclusive or [])
        self.required_together.extend(list(x) for x in required_together or [])
        self.required_one_of.extend(list(x) for x in required_one_of or [])
        self.required_if.extend(list(x) for x in required_if or [])
        for key, value in (required_by or {}).items():
            self.required_by.setdefault(key, []).extend(value)
        return self

    def merge(self, other: ArgumentSpec) -> ArgumentSpec:
        """Add ``other``'s options and constraints to this spec (``other`` wins on option clashes)."""
        self.update_argspec(**other.argument_spec)
        self.update(
            mutually_exclusive=other.mutually_exclusive,
            required_together=other.required_together,
            required_one_of=other.required_one_of,
            required_if=other.required_if,
            required_by=other.required_by,
        )
        return self

    def to_kwargs(self) -> dict[str, t.Any]:
        """Keyword arguments for ``AnsibleModule(**spec.to_kwargs(), supports_check_mode=True)``."""
        kwargs: dict[str, t.Any] = {"argument_spec": copy.deepcopy(self.argument_spec)}
        for name in ("mutually_exclusive", "required_together", "required_one_of", "required_if"):
            value = getattr(self, name)
            if value:
                kwargs[name] = copy.deepcopy(value)
        if self.required_by:
            kwargs["required_by"] = copy.deepcopy(self.required_by)
        return kwargs
