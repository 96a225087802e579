"""What the unit tests need from ansible-core, on every version of the matrix (2.17 and later).

``ansible.module_utils.testing.patch_module_args`` exists since ansible-core 2.19; before, the
module arguments are read from ``ansible.module_utils.basic._ANSIBLE_ARGS``.
"""

from __future__ import annotations

import contextlib
import json
import typing as t

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19

    @contextlib.contextmanager  # type: ignore[no-redef]
    def patch_module_args(args: dict[str, t.Any] | None = None) -> t.Iterator[None]:
        from ansible.module_utils import basic
        from ansible.module_utils.common.text.converters import to_bytes

        previous = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args or {}}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = previous


__all__ = ["patch_module_args"]
