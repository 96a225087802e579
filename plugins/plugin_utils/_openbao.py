# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The OpenBao option group for controller-side plugins (the ``openbao_kv`` lookup).

Plugins get the very options, constraints, environment fallbacks and client the modules get:
the values are validated with ansible-core's ``ArgumentSpecValidator`` against the OPENBAO
argspec of ``module_utils/_options.py`` (so ``BAO_ADDR``/``VAULT_ADDR`` and the other fallbacks
apply), then the group's own ``validate`` and ``factory`` build the :class:`OpenBaoClient`.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import OpenBaoClient
from ansible_collections.cellar.garage.plugins.module_utils._options import OPENBAO, ClientHooks

#: The connection options a plugin documents (``cellar.garage._openbao.plugins``).
OPTION_NAMES = OPENBAO.option_names


def connection_params(get_option: t.Callable[[str], t.Any]) -> dict[str, t.Any]:
    """The validated OPENBAO options of a plugin (defaults and environment fallbacks applied)."""
    raw = {name: get_option(name) for name in OPTION_NAMES}
    raw = {name: value for name, value in raw.items() if value is not None}
    result = ArgumentSpecValidator(**OPENBAO.argspec.to_kwargs()).validate(raw)
    problems = [str(error) for error in result.errors]
    if not problems:
        problems = OPENBAO.validate(result.validated_parameters)
    if problems:
        raise InputError("Invalid OpenBao connection options: " + "; ".join(problems))
    return dict(result.validated_parameters)


def openbao_client(
    get_option: t.Callable[[str], t.Any], *, warn: t.Callable[[str], None] = lambda message: None
) -> OpenBaoClient:
    """A logged-in client (token, token file, environment or AppRole) for a plugin's options.

    Raises :class:`OperationError` (``invalid_input``, ``credentials_missing``, ...)."""
    params = connection_params(get_option)
    return t.cast(OpenBaoClient, OPENBAO.factory(params, ClientHooks(warn=warn, add_secret=lambda secret: None)))
