# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``GarageModule``: the one base class of the collection's modules (the only glue layer).

- merges the option groups a module uses (:mod:`._options`: ``ADMIN``, ``S3``, ``OPENBAO``)
  with the module's own options and constraints, and validates the groups' values first;
- builds each service's client lazily: ``module.admin``, ``module.s3``, ``module.openbao``
  (``module.client`` is ``module.admin``), masking every secret a group resolves;
- ``module.run(body)`` calls ``body()`` and converts errors ONCE: an :class:`OperationError`
  becomes ``fail_json(msg, failure_reason, changed, manual_cleanup_required, **details)``; any
  other exception becomes ``failure_reason='unexpected_error'`` with its traceback. ``body``
  returns an :class:`Outcome` (state modules, reported with a diff) or a dict (info modules);
- ``module.exit_outcome(outcome)``: ``exit_json(changed=outcome.changed, diff=..., **result)``.

A module's ``main()`` is then::

    module = GarageModule(ARGUMENT_SPEC, option_groups=(ADMIN,), required_one_of=[["name", "id"]])
    module.run(lambda: buckets.ensure(module.admin, request_from(module.params), dry_run=module.check_mode))

Only ``main()`` may call ``run``/``exit_*``/``fail_*`` (tests/unit/test_module_shape.py).
"""

from __future__ import annotations

import traceback
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.cellar.garage.plugins.module_utils._argspec import ArgumentSpec
from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    INVALID_INPUT,
    UNEXPECTED_ERROR,
    OperationError,
)
from ansible_collections.cellar.garage.plugins.module_utils._options import (
    ADMIN,
    MISSING_TOKEN_MSG,
    ClientHooks,
    OptionGroup,
    merge_groups,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

__all__ = ["MISSING_TOKEN_MSG", "GarageModule"]


class GarageModule(AnsibleModule):
    """``AnsibleModule`` + option groups, lazy clients and one error conversion.

    ``argument_spec`` may be a dict or an :class:`ArgumentSpec`; the constraint keyword
    arguments (``mutually_exclusive``, ``required_if``, ...) are merged with the option groups'
    own constraints. All other ``AnsibleModule`` keyword arguments pass through.
    """

    def __init__(
        self,
        argument_spec: dict[str, t.Any] | ArgumentSpec | None = None,
        *,
        option_groups: t.Sequence[OptionGroup] = (ADMIN,),
        mutually_exclusive: t.Sequence[t.Sequence[str]] | None = None,
        required_together: t.Sequence[t.Sequence[str]] | None = None,
        required_one_of: t.Sequence[t.Sequence[str]] | None = None,
        required_if: t.Sequence[t.Sequence[t.Any]] | None = None,
        required_by: t.Mapping[str, t.Sequence[str]] | None = None,
        supports_check_mode: bool = True,
        groups_used_when: t.Mapping[str, str] | None = None,
        **kwargs: t.Any,
    ) -> None:
        spec = merge_groups(option_groups)
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
        self.option_groups: tuple[OptionGroup, ...] = tuple(option_groups)
        #: group name -> the module option that switches the group on (e.g. ``openbao`` ->
        #: ``openbao_path``): an optional group is validated and usable only when it is set.
        self.groups_used_when: dict[str, str] = dict(groups_used_when or {})
        self._clients: dict[str, t.Any] = {}
        in_use = [group for group in self.option_groups if self.uses_group(group.name)]
        problems = [problem for group in in_use for problem in group.validate(self.params)]
        if problems:
            self.fail_json(msg="; ".join(problems), failure_reason=INVALID_INPUT, changed=False)

    # ------------------------------------------------------------------ clients

    def _hooks(self) -> ClientHooks:
        return ClientHooks(warn=self.warn, add_secret=self.no_log_values.add)

    def uses_group(self, name: str) -> bool:
        """Whether option group ``name`` is in use (always, unless ``groups_used_when`` names it)."""
        option = self.groups_used_when.get(name)
        return option is None or self.params.get(option) not in (None, "")

    def client_for(self, name: str) -> t.Any:
        """The client of option group ``name``, built on first use (fails cleanly on bad credentials)."""
        if name not in self._clients:
            group = next((g for g in self.option_groups if g.name == name), None)
            if group is None:
                raise ValueError(f"this module does not use the {name!r} option group")
            try:
                self._clients[name] = group.factory(self.params, self._hooks())
            except OperationError as exc:
                self.fail_error(exc)
        return self._clients[name]

    def set_client(self, name: str, client: t.Any) -> None:
        """Inject a client (tests)."""
        self._clients[name] = client

    @property
    def admin(self) -> t.Any:
        """The Garage Admin API client (:class:`GarageAdminClient`)."""
        return self.client_for("admin")

    @property
    def s3(self) -> t.Any:
        """The boto3 S3 client of the ``S3`` group."""
        return self.client_for("s3")

    @property
    def openbao(self) -> t.Any:
        """The :class:`OpenBaoClient` of the ``OPENBAO`` group (logged in when AppRole is used)."""
        return self.client_for("openbao")

    @property
    def client(self) -> t.Any:
        """Same as :attr:`admin`."""
        return self.admin

    # ------------------------------------------------------------------ parameters

    def explicit_suboptions(self, option: str) -> set[str]:
        """The suboption names the user actually passed for dict option ``option``.

        Ansible fills unset suboptions with ``None``, which cannot be told from an explicit
        ``null``; the raw arguments can. ``_load_params`` is documented by ansible-core for "very
        dynamic custom modules"; when it is unavailable only the ``none`` words are honoured.
        """
        try:
            from ansible.module_utils import basic

            raw = basic._load_params()
        except Exception:  # noqa: BLE001 - any failure just means "unknown"
            return set()
        value = raw.get(option) if isinstance(raw, dict) else None
        return set(value) if isinstance(value, dict) else set()

    # ------------------------------------------------------------------ the one conversion

    def fail_json(self, msg: str, **kwargs: t.Any) -> t.NoReturn:
        """Every failure carries a ``failure_reason``; AnsibleModule's own argument checks (unknown
        or conflicting options, wrong types) fail with ``invalid_input``."""
        kwargs.setdefault("failure_reason", INVALID_INPUT)
        super().fail_json(msg=msg, **kwargs)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    def fail_error(self, exc: OperationError) -> t.NoReturn:
        """``fail_json`` for an :class:`OperationError` (msg, failure_reason, changed, ...)."""
        result = exc.result()
        msg = result.pop("msg")
        self.fail_json(msg=msg, **result)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    def run(self, body: t.Callable[[], Outcome | t.Mapping[str, t.Any]], *, what: str | None = None) -> t.NoReturn:
        """Run ``body()`` and exit: an :class:`Outcome` with :meth:`exit_outcome`, a mapping with
        ``exit_json(changed=False, **mapping)``. Errors are converted here, once.

        :param what: verb phrase for unexpected errors (``"manage bucket 'photos'"``).
        """
        failure: OperationError | None = None
        formatted = ""
        unexpected: Exception | None = None
        try:
            value = body()
        except OperationError as exc:
            failure = exc
        except Exception as exc:  # noqa: BLE001 - converted once, here, with its traceback
            unexpected = exc
            formatted = traceback.format_exc()
        # Fail outside the except blocks: no pending exception, so no traceback noise.
        if failure is not None:
            self.fail_error(failure)
        if unexpected is not None:
            prefix = f"Failed to {what}: " if what else ""
            self.fail_json(
                msg=f"{prefix}unexpected {type(unexpected).__name__}: {unexpected}",
                failure_reason=UNEXPECTED_ERROR,
                changed=False,
                exception=formatted,
            )
        if isinstance(value, Outcome):
            self.exit_outcome(value)
        result = dict(value)
        result.setdefault("changed", False)
        for warning in result.pop("warnings", None) or []:
            self.warn(warning)
        self.exit_json(**result)
        raise AssertionError("unreachable")  # pragma: no cover - exit_json exits

    def exit_outcome(self, outcome: Outcome, **extra: t.Any) -> t.NoReturn:
        """``exit_json(changed=outcome.changed, **outcome.result, **extra)``, with the diff in diff
        mode and the outcome's warnings."""
        for warning in outcome.warnings:
            self.warn(warning)
        result = {**outcome.result, **extra}
        if self._diff:
            result["diff"] = outcome.diff()
        self.exit_json(changed=outcome.changed, **result)
        raise AssertionError("unreachable")  # pragma: no cover - exit_json exits
