# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Glue of the tenant modules: their shared options and the :class:`Services` built from a
:class:`GarageModule` (the only file of ``_tenants`` that sees the module).

The tenant modules use the ADMIN and OPENBAO option groups; OPENBAO is in use only when
``openbao_path`` is set (``GarageModule(groups_used_when={"openbao": "openbao_path"})``). The S3
endpoint that proves a new key works is an option of their own (``s3_url``, ``region``): the S3
group's credentials make no sense here, the new key is the credential.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._options import USER_AGENT, url_problem
from ansible_collections.cellar.garage.plugins.module_utils._s3 import client as s3_client_module
from ansible_collections.cellar.garage.plugins.module_utils._tenants import common

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule

#: Options every tenant module has (documented by the ``cellar.garage._tenant`` fragment).
TENANT_OPTIONS: dict[str, t.Any] = {
    "s3_url": {
        "type": "str",
        "default": s3_client_module.DEFAULT_S3_URL,
        "fallback": (env_fallback, ["GARAGE_S3_URL"]),
    },
    "region": {
        "type": "str",
        "default": s3_client_module.DEFAULT_REGION,
        "fallback": (env_fallback, ["GARAGE_S3_REGION"]),
    },
    "verify_new_key": {"type": "bool", "default": True},
    "openbao_mount": {"type": "str", "default": "secret"},
    "openbao_path": {"type": "str"},
}

#: ``GarageModule(groups_used_when=...)`` of the tenant modules.
OPENBAO_WHEN = {"openbao": "openbao_path"}


def services_for(module: GarageModule) -> common.Services:
    """The clients an orchestration uses, all built (and checked) before anything changes."""
    params = module.params
    path = common.check_openbao_path(params.get("openbao_path"))
    s3 = None
    if params["verify_new_key"]:
        problem = url_problem("s3_url", params.get("s3_url"), required=True)
        if problem:
            raise InputError(problem)
        s3 = common.s3_factory(
            s3_url=params["s3_url"],
            region=params["region"],
            validate_certs=params["validate_certs"],
            ca_path=params.get("ca_path"),
            user_agent=USER_AGENT,
        )
    openbao = None
    if path is not None:
        client = module.openbao  # logs in now (AppRole): a refusal fails before anything changes

        def openbao() -> t.Any:
            return client
    return common.Services(
        admin=module.admin,
        s3=s3,
        openbao=openbao,
        openbao_mount=str(params.get("openbao_mount") or "secret").strip("/"),
        openbao_path=path,
        on_secret=module.no_log_values.add,
    )
