# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Input checks of the tenant orchestrations (the sagas themselves run on real Garage in
tests/integration/test_tenants.py and test_tenant_faults.py)."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import bucket_name_problem
from ansible_collections.cellar.garage.plugins.module_utils._tenants import (
    common,
    customer_bucket,
    customer_key,
    rotation,
)

BUCKET_ID = "0f" * 32
KEY_ID = "GK" + "a1" * 12


@pytest.mark.parametrize(
    ("module", "params", "reason"),
    [
        (customer_key, {"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "shop", "key_tier": "rwx"},
         "invalid_key_tier"),
        (customer_key, {"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "shop", "key_tier": "all"},
         "invalid_key_tier"),
        (customer_key, {"bucket_id": "shop", "new_key_name": "k", "local_alias": "shop"}, "invalid_input"),
        (customer_key, {"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "Shop_Data"}, "invalid_input"),
        (rotation, {"old_key_id": KEY_ID, "new_key_name": "k", "bucket_id": BUCKET_ID, "local_alias": "shop",
                    "key_tier": "owner"}, "invalid_key_tier"),
        (rotation, {"old_key_id": "GKshort", "new_key_name": "k", "bucket_id": BUCKET_ID, "local_alias": "shop"},
         "invalid_input"),
        (rotation, {"old_key_id": KEY_ID, "new_key_name": " ", "bucket_id": BUCKET_ID, "local_alias": "shop"},
         "invalid_input"),
        (customer_bucket, {"state": "present", "display_name": "shop"}, "invalid_input"),
        (customer_bucket, {"state": "absent", "bucket_id": "shop"}, "invalid_input"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused(module: t.Any, params: dict[str, t.Any], reason: str) -> None:
    with pytest.raises(InputError) as refused:
        module.request_from_params(params)
    assert refused.value.failure_reason == reason


def test_requests() -> None:
    key = customer_key.request_from_params({"bucket_id": BUCKET_ID, "new_key_name": "k", "local_alias": "shop",
                                            "key_tier": "ro"})  # fmt: skip
    assert key.flags == {"read": True, "write": False, "owner": False}
    rotate = rotation.request_from_params({"old_key_id": KEY_ID, "new_key_name": "k", "bucket_id": BUCKET_ID,
                                           "local_alias": "shop"})  # fmt: skip
    assert rotate.flags is None and rotate.retire_old and rotate.key_tier == "all"
    assert common.check_openbao_path("/tenants/acme/") == "tenants/acme" and common.check_openbao_path("") is None
    with pytest.raises(InputError):
        common.check_openbao_path("tenants/../x")


def test_the_throwaway_alias_is_stable_valid_and_recognised() -> None:
    one = customer_bucket.throwaway_alias("shop", "shop-admin")
    assert one == customer_bucket.throwaway_alias("shop", "shop-admin") != customer_bucket.throwaway_alias("shop", "x")
    assert bucket_name_problem(one) is None and customer_bucket.THROWAWAY_RE.match(one)
