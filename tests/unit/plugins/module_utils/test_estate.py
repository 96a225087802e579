# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""garage_estate's operation: validation of the whole estate, the one-pass read, the plan of
resources that depend on ones the run creates, and the report of a failure half-way."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import estate
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageServerError

KEY = "GK" + "a" * 24
BUCKET = "b" * 64
SECRET = "5e" * 32


def params(**kinds: t.Any) -> dict[str, t.Any]:
    return {kind: kinds.get(kind, []) for kind in estate.KINDS} | {"purge": kinds.get("purge", {})}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InputError) as info:
        estate.spec_from_params(
            params(
                keys=[{"name": "a"}, {"name": "a"}, {"name": "b", "expiration": "soon"}],
                buckets=[{"name": "Bad_Name"}],
                local_aliases=[{"alias": "x", "bucket": "ok-bucket"}],
                permissions=[{"bucket": "ok-bucket", "key": "a"}],
                admin_tokens=[{"name": "t", "scope": ["not a scope"]}],
            )
        )
    msg = info.value.message
    for fragment in (
        "keys[1]: declares key 'a' again (also keys[0])",
        "keys[2]: expiration",
        "buckets[0]: Invalid bucket name",
        "local_aliases[0]: a local alias needs 'key'",
        "permissions[0]: state=present needs at least one of read, write and owner",
        "admin_tokens[0]: scope entry 'not a scope'",
    ):
        assert fragment in msg, (fragment, msg)
    assert info.value.failure_reason == "invalid_input"


def empty_cluster() -> mock.MagicMock:
    client = mock.MagicMock(name="GarageAdminClient")
    client.list_keys.return_value = []
    client.list_buckets.return_value = []
    client.list_admin_tokens.return_value = []
    client.token_id.return_value = None
    return client


def small_estate() -> estate.EstateSpec:
    return estate.spec_from_params(
        params(
            keys=[{"name": "app"}],
            buckets=[{"name": "photos"}],
            local_aliases=[{"alias": "media", "bucket": "photos", "key": "app"}],
            permissions=[{"bucket": "photos", "key": "app", "read": True}],
        )
    )


def test_check_mode_plans_what_depends_on_resources_the_run_creates() -> None:
    client = empty_cluster()
    outcome = estate.converge(client, small_estate(), dry_run=True)
    assert outcome.changed
    assert outcome.result["counts"] == {
        "keys": 1,
        "buckets": 1,
        "local_aliases": 1,
        "permissions": 1,
        "admin_tokens": 0,
    }
    assert "secrets" not in outcome.result
    writes = [c for c in client.method_calls if not c[0].startswith(("list_", "get_", "token_id"))]
    assert writes == []
    assert [d["before_header"] for d in outcome.diff()] == [
        "key 'app'",
        "bucket 'photos'",
        "local alias 'media' of key 'app' on bucket 'photos'",
        "permissions of key 'app' on bucket 'photos'",
    ]


def test_apply_in_dependency_order_with_the_new_ids() -> None:
    client = empty_cluster()
    client.create_key.return_value = {"accessKeyId": KEY, "name": "app", "secretAccessKey": SECRET}
    client.create_bucket.return_value = {"id": BUCKET, "globalAliases": ["photos"], "keys": []}
    outcome = estate.converge(client, small_estate(), dry_run=False)
    names = [
        c[0]
        for c in client.method_calls
        if c[0] in ("create_key", "create_bucket", "add_bucket_alias", "allow_bucket_key")
    ]
    assert names == ["create_key", "create_bucket", "add_bucket_alias", "allow_bucket_key"]
    client.allow_bucket_key.assert_called_once_with(BUCKET, KEY, {"read": True})
    assert outcome.result["secrets"] == {
        "keys": {"app": {"access_key_id": KEY, "secret_access_key": SECRET}},
        "admin_tokens": {},
    }
    assert SECRET not in repr(outcome.diff())


def test_failure_half_way_says_what_is_left_and_keeps_the_secrets() -> None:
    client = empty_cluster()
    client.create_key.return_value = {"accessKeyId": KEY, "name": "app", "secretAccessKey": SECRET}
    client.create_bucket.side_effect = GarageServerError("boom", status=500, code="InternalError")
    with pytest.raises(OperationError) as info:
        estate.converge(client, small_estate(), dry_run=False)
    exc = info.value
    assert exc.changed is True and exc.failure_reason == "bucket_create_failed"
    assert exc.details["failed_resource"] == "bucket 'photos'"
    assert exc.details["applied"] == ["key 'app'"]
    assert exc.details["not_applied"] == [
        "local alias 'media' of key 'app' on bucket 'photos'",
        "permissions of key 'app' on bucket 'photos'",
    ]
    assert exc.details["secrets"]["keys"]["app"]["secret_access_key"] == SECRET


def test_unknown_references_fail_while_planning() -> None:
    client = empty_cluster()
    spec = estate.spec_from_params(
        params(keys=[{"name": "app"}], permissions=[{"bucket": "nope", "key": "app", "read": True}])
    )
    with pytest.raises(OperationError) as info:
        estate.converge(client, spec, dry_run=False)
    assert info.value.failure_reason == "bucket_not_found"
    client.create_key.assert_not_called()
