# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``GarageModule``: the one base class of the collection's Admin API modules.

It merges the shared connection options (with their constraints), builds the
client lazily, turns Garage errors into a single ``fail_json`` with verb-phrase
context (``api_errors``), and reports resources with a diff (``exit_resource``).
Modules contain only resource logic: read -> diff -> apply -> report.
"""

from __future__ import annotations

import contextlib
import traceback
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._client import (
    GarageAdminClient,
    GarageError,
    GarageTokenError,
    resolve_admin_token,
)
from ansible_collections.cellar.garage.plugins.module_utils._connection import connection_argspec

MISSING_TOKEN_MSG = (
    "No Garage admin token: set admin_token or admin_token_file (or the environment variables "
    "GARAGE_ADMIN_TOKEN / GARAGE_ADMIN_TOKEN_FILE), e.g. with "
    "module_defaults: {group/cellar.garage.garage: {admin_token: ...}}"
)


class GarageModule(AnsibleModule):
    """``AnsibleModule`` + the Garage connection options, a lazy client and error conversion.

    ``argument_spec`` may be a dict or an :class:`ArgumentSpec`; the constraint keyword
    arguments (``mutually_exclusive``, ``required_if``, ...) are merged with the connection
    options' own constraints. All other ``AnsibleModule`` keyword arguments pass through.
    """

    def __init__(
        self,
        argument_spec: dict[str, t.Any] | ArgumentSpec | None = None,
        *,
        mutually_exclusive: t.Sequence[t.Sequence[str]] | None = None,
        required_together: t.Sequence[t.Sequence[str]] | None = None,
        required_one_of: t.Sequence[t.Sequence[str]] | None = None,
        required_if: t.Sequence[t.Sequence[t.Any]] | None = None,
        required_by: t.Mapping[str, t.Sequence[str]] | None = None,
        supports_check_mode: bool = True,
        **kwargs: t.Any,
    ) -> None:
        spec = connection_argspec()
        if isinstance(argument_spec, ArgumentSpec):
            spec.merge(argument_spec)
        elif argument_spec:
            spec.update_argspec(**argument_spec)
        spec.update(
            mutually_exclusive=mutually_exclusive,
            required_together=required_together,
            required_one_of=required_one_of,
            required_if=required_if,
            required_by=required_by,
        )
        super().__init__(**spec.to_kwargs(), supports_check_mode=supports_check_mode, **kwargs)
        self._client: GarageAdminClient | None = None

    # ------------------------------------------------------------------ client

    def _admin_token(self) -> str:
        try:
            token = resolve_admin_token(self.params.get("admin_token"), self.params.get("admin_token_file"))
        except GarageTokenError as exc:
            self.fail_json(msg=exc.message)
        if not token:
            self.fail_json(msg=MISSING_TOKEN_MSG)
        # A token read from a file or the environment is a secret too: mask it everywhere.
        self.no_log_values.add(token)
        return t.cast(str, token)

    @property
    def client(self) -> GarageAdminClient:
        """The Admin API client, built on first use (fails the module cleanly without a token)."""
        if self._client is None:
            token = self._admin_token()
            self._client = GarageAdminClient(
                self.params["admin_url"],
                token,
                timeout=self.params["timeout"],
                retries=self.params["retries"],
                validate_certs=self.params["validate_certs"],
                ca_path=self.params.get("ca_path"),
                on_retry=self.warn,
                user_agent="ansible-cellar.garage",
            )
        return self._client

    @client.setter
    def client(self, value: GarageAdminClient) -> None:
        """Tests may inject a client (e.g. a MagicMock)."""
        self._client = value

    # ------------------------------------------------------------------ errors

    def fail_api(self, exc: GarageError, verb: str, thing: str, name: str | None = None, **result: t.Any) -> t.NoReturn:
        """``Failed to <verb> <thing> '<name>': <Code>: <message>``, plus ``status`` and ``garage_code``."""
        what = f"{thing} '{name}'" if name is not None else thing
        detail = f"{exc.code}: {exc.message}" if exc.code else exc.message
        result.setdefault("changed", False)
        result.setdefault("status", exc.status)
        result.setdefault("garage_code", exc.code)
        self.fail_json(msg=f"Failed to {verb} {what}: {detail}", **result)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    @contextlib.contextmanager
    def api_errors(self, verb: str, thing: str, name: str | None = None, **result: t.Any) -> t.Iterator[None]:
        """Turn an exception raised inside the block into ONE clean ``fail_json``.

        A ``GarageError`` (an expected API answer) fails with ``Failed to <verb> <thing> '<name>':
        <Code>: <message>`` and no traceback. Anything else that escapes the block (a bug, an
        unexpected answer shape) fails with the same prefix, the exception type and text, and its
        traceback (shown by Ansible when tracebacks are enabled). ``result`` entries (e.g.
        ``changed=True`` after a partial apply) are added to the failure.
        """
        api_error: GarageError | None = None
        unexpected: Exception | None = None
        formatted = ""
        try:
            yield
        except GarageError as exc:
            api_error = exc
        except Exception as exc:  # noqa: BLE001 - converted once, here, with context
            unexpected = exc
            formatted = traceback.format_exc()
        # Fail outside the except blocks: no pending exception, so no traceback noise.
        if api_error is not None:
            self.fail_api(api_error, verb, thing, name, **result)
        if unexpected is not None:
            what = f"{thing} '{name}'" if name is not None else thing
            result.setdefault("changed", False)
            self.fail_json(
                msg=f"Failed to {verb} {what}: unexpected {type(unexpected).__name__}: {unexpected}",
                exception=formatted,
                **result,
            )

    # ------------------------------------------------------------------ results

    def exit_resource(
        self,
        changed: bool,
        before: t.Any = None,
        after: t.Any = None,
        **result: t.Any,
    ) -> t.NoReturn:
        """``exit_json(changed=..., **result)`` plus ``diff={'before','after'}`` in diff mode.

        ``before``/``after`` must hold managed attributes only, never secrets.
        """
        if self._diff:
            result["diff"] = {
                "before": before if before is not None else {},
                "after": after if after is not None else {},
            }
        self.exit_json(changed=changed, **result)
        raise AssertionError("unreachable")  # pragma: no cover - exit_json exits
