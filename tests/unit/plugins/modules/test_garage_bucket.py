# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-level unit tests of garage_bucket: MagicMock client, real main(), every branch."""

from __future__ import annotations

import json
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import buckets
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageBadRequest,
    GarageConflict,
    GarageConnectionError,
)
from ansible_collections.cellar.garage.plugins.modules import garage_bucket
from tests.unit.plugins.modules._bucket_harness import (
    BUCKET_ID,
    OTHER_ID,
    bucket_info,
    buckets_by,
    key_entry,
    not_found,
    run_module,
    write_calls,
)


@pytest.fixture
def client() -> mock.MagicMock:
    c = mock.MagicMock()
    c.get_bucket_info.side_effect = not_found()
    return c


def run(client, capsys, check_mode=False, diff=True, **args):
    return run_module(garage_bucket, args, client, capsys, check_mode=check_mode, diff=diff)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"name": "Bad_Name"}, "Invalid bucket name 'Bad_Name'"),
        ({"name": "ab"}, "3 to 63 characters"),
        ({"name": "-x-"}, "must not start or end"),
        ({"name": "192.168.1.1"}, "IP address"),
        ({"id": "abc"}, "Invalid bucket id 'abc'"),
        ({"name": "photos", "id": BUCKET_ID}, "mutually exclusive"),
        ({}, "one of the following is required: name, id"),
        ({"name": "photos", "global_aliases": ["ok-alias", "No_Good"]}, "Invalid global alias 'No_Good'"),
        ({"name": "photos", "website": {"enabled": False, "index_document": "i.html"}}, "website.index_document"),
        ({"name": "photos", "website": {"enabled": False, "error_document": "e.html"}}, "website.error_document"),
        ({"name": "photos", "website": {"index_document": " "}}, "must not be empty"),
        ({"name": "photos", "quotas": {"max_size": "10X"}}, "quotas.max_size: Invalid size '10X'"),
        ({"name": "photos", "quotas": {"max_size": "-1"}}, "quotas.max_size"),
        ({"name": "photos", "quotas": {"max_objects": "many"}}, "quotas.max_objects: Invalid number of objects"),
        ({"name": "photos", "quotas": {"max_objects": -3}}, "must not be negative"),
        ({"name": "photos", "quotas": {}}, "neither quotas.max_size nor quotas.max_objects"),
        ({"name": "photos", "admin_token": "a-long-token", "admin_token_file": "/tmp/x"}, "mutually exclusive"),
    ],
)
def test_bad_input_fails_before_any_call(client, capsys, args, fragment):
    result = run(client, capsys, **args)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert client.method_calls == []


# --------------------------------------------------------------------------- create


def test_create_check_mode_predicts_and_writes_nothing(client, capsys):
    result = run(
        client,
        capsys,
        check_mode=True,
        name="photos",
        global_aliases=["pics"],
        website={"enabled": True},
        quotas={"max_size": "10G", "max_objects": 100},
    )
    assert result["changed"] is True
    bucket = result["bucket"]
    assert bucket["id"] is None
    assert bucket["global_aliases"] == ["photos", "pics"]
    assert bucket["website"] == {"enabled": True, "index_document": "index.html", "error_document": None}
    assert bucket["quotas"] == {"max_size": 10_000_000_000, "max_objects": 100}
    assert result["diff"]["before"] == {"state": "absent"}
    assert result["diff"]["after"]["state"] == "present"
    assert result["diff"]["after"]["global_aliases"] == ["photos", "pics"]
    assert write_calls(client) == []
    # one read for the bucket, one for the extra alias' availability
    assert client.get_bucket_info.call_count == 2


def test_create_applies_alias_website_quotas(client, capsys):
    created = bucket_info(aliases=["photos"])
    final = bucket_info(
        aliases=["photos", "pics"],
        website={"indexDocument": "home.html", "errorDocument": "404.html"},
        quotas={"maxSize": 512 * 1024**2, "maxObjects": None},
    )
    client.create_bucket.return_value = created
    client.add_bucket_alias.return_value = bucket_info(aliases=["photos", "pics"])
    client.update_bucket.return_value = final
    result = run(
        client,
        capsys,
        name="photos",
        global_aliases=["pics"],
        website={"index_document": "home.html", "error_document": "404.html"},
        quotas={"max_size": "512MiB"},
    )
    assert result["changed"] is True and not result["failed"]
    client.create_bucket.assert_called_once_with({"globalAlias": "photos"})
    client.add_bucket_alias.assert_called_once_with({"bucketId": BUCKET_ID, "globalAlias": "pics"})
    client.update_bucket.assert_called_once_with(
        BUCKET_ID,
        {
            "websiteAccess": {"enabled": True, "indexDocument": "home.html", "errorDocument": "404.html"},
            "quotas": {"maxSize": 512 * 1024**2, "maxObjects": None},
        },
    )
    assert result["bucket"]["id"] == BUCKET_ID
    assert result["bucket"]["global_aliases"] == ["photos", "pics"]
    assert result["diff"]["after"]["website"]["index_document"] == "home.html"


def test_create_plain_costs_one_write(client, capsys):
    client.create_bucket.return_value = bucket_info(aliases=["photos"])
    result = run(client, capsys, name="photos")
    assert result["changed"] is True
    assert write_calls(client) == ["create_bucket"]
    assert result["bucket"]["global_aliases"] == ["photos"]


def test_create_refuses_alias_of_other_bucket_before_creating(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(OTHER_ID, aliases=["pics"]))
    result = run(client, capsys, name="photos", global_aliases=["pics"])
    assert result["failed"] is True
    assert "Global alias 'pics' already belongs to another bucket" in result["msg"]
    assert OTHER_ID in result["msg"]
    assert write_calls(client) == []


def test_create_rolls_back_when_configuration_fails(client, capsys):
    client.create_bucket.return_value = bucket_info(aliases=["photos"])
    client.update_bucket.side_effect = GarageBadRequest("Bad request: nope", status=400, code="InvalidRequest")
    result = run(client, capsys, name="photos", quotas={"max_objects": 5})
    assert result["failed"] is True
    assert result["changed"] is False
    assert "Failed to configure new bucket 'photos': InvalidRequest: Bad request: nope" in result["msg"]
    assert "deleted again" in result["msg"]
    client.delete_bucket.assert_called_once_with(BUCKET_ID)


def test_create_rollback_failure_reports_manual_cleanup(client, capsys):
    client.create_bucket.return_value = bucket_info(aliases=["photos"])
    client.update_bucket.side_effect = GarageBadRequest("Bad request: nope", status=400, code="InvalidRequest")
    client.delete_bucket.side_effect = GarageConnectionError("Cannot reach Garage admin API")
    result = run(client, capsys, name="photos", quotas={"max_objects": 5})
    assert result["failed"] is True and result["changed"] is True
    assert result["failure_reason"] == "rollback_failed"
    assert result["step_failure_reason"] == "bucket_configure_failed" and result["failed_step"] == "configure_bucket"
    assert result["manual_cleanup_required"] == [
        {
            "step": "create_bucket",
            "resource": "bucket",
            "bucket_id": BUCKET_ID,
            "name": "photos",
            "action": f"delete bucket 'photos' ({BUCKET_ID})",
            "error": "Cannot reach Garage admin API",
        }
    ]
    assert "clean up by hand" in result["msg"]


def test_create_conflict_is_reported(client, capsys):
    client.create_bucket.side_effect = GarageConflict("Bucket already exists", status=409, code="BucketAlreadyExists")
    result = run(client, capsys, name="photos")
    assert result["failed"] is True
    assert result["msg"] == "Failed to create bucket 'photos': BucketAlreadyExists: Bucket already exists"


# --------------------------------------------------------------------------- present, existing


def test_noop_costs_one_read(client, capsys):
    info = bucket_info(
        aliases=["photos", "pics"],
        website={"indexDocument": "index.html", "errorDocument": None},
        quotas={"maxSize": 10**10, "maxObjects": 100},
    )
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = info
    result = run(
        client,
        capsys,
        name="photos",
        global_aliases=["pics"],
        website={"enabled": True},
        quotas={"max_size": "10G", "max_objects": "100"},
    )
    assert result["changed"] is False and not result["failed"]
    assert client.method_calls == [mock.call.get_bucket_info(global_alias="photos")]
    assert result["diff"]["before"] == result["diff"]["after"]
    assert result["bucket"]["quotas"] == {"max_size": 10**10, "max_objects": 100}


def test_noop_by_id(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info()
    result = run(client, capsys, id=BUCKET_ID)
    assert result["changed"] is False
    assert client.method_calls == [mock.call.get_bucket_info(id=BUCKET_ID)]


def test_present_unknown_id_fails(client, capsys):
    result = run(client, capsys, id=OTHER_ID)
    assert result["failed"] is True
    assert f"Bucket with id '{OTHER_ID}' does not exist" in result["msg"]
    assert write_calls(client) == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_one_quota_keeps_the_other(client, capsys, check_mode):
    info = bucket_info(quotas={"maxSize": 10**9, "maxObjects": 100})
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = info
    client.update_bucket.return_value = bucket_info(quotas={"maxSize": 10**9, "maxObjects": 200})
    result = run(client, capsys, check_mode=check_mode, name="photos", quotas={"max_objects": 200})
    assert result["changed"] is True
    assert result["bucket"]["quotas"] == {"max_size": 10**9, "max_objects": 200}
    assert result["diff"]["before"]["quotas"] == {"max_size": 10**9, "max_objects": 100}
    assert result["diff"]["after"]["quotas"] == {"max_size": 10**9, "max_objects": 200}
    if check_mode:
        assert write_calls(client) == []
    else:
        client.update_bucket.assert_called_once_with(BUCKET_ID, {"quotas": {"maxSize": 10**9, "maxObjects": 200}})


@pytest.mark.parametrize("value", [None, "none", "None", "unlimited"])
def test_quota_can_be_cleared(client, capsys, value):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info(quotas={"maxSize": 10**9, "maxObjects": 100})
    client.update_bucket.return_value = bucket_info(quotas={"maxSize": None, "maxObjects": 100})
    result = run(client, capsys, name="photos", quotas={"max_size": value})
    assert result["changed"] is True
    client.update_bucket.assert_called_once_with(BUCKET_ID, {"quotas": {"maxSize": None, "maxObjects": 100}})


def test_quota_clear_when_already_unlimited_is_noop(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info(quotas={"maxSize": None, "maxObjects": 7})
    result = run(client, capsys, name="photos", quotas={"max_size": "none", "max_objects": 7})
    assert result["changed"] is False
    assert write_calls(client) == []


def test_website_disable_sends_bare_body(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info(website={"indexDocument": "index.html", "errorDocument": "e"})
    client.update_bucket.return_value = bucket_info()
    result = run(client, capsys, name="photos", website={"enabled": False})
    assert result["changed"] is True
    client.update_bucket.assert_called_once_with(BUCKET_ID, {"websiteAccess": {"enabled": False}})
    assert result["diff"]["after"]["website"] == {"enabled": False, "index_document": None, "error_document": None}


def test_website_disable_when_disabled_is_noop(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info()
    result = run(client, capsys, name="photos", website={"enabled": False})
    assert result["changed"] is False


def test_website_keeps_current_documents_when_unset(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info(website={"indexDocument": "home.html", "errorDocument": "e.html"})
    result = run(client, capsys, name="photos", website={"enabled": True})
    assert result["changed"] is False
    client.update_bucket.return_value = bucket_info(website={"indexDocument": "home.html", "errorDocument": None})
    result = run(client, capsys, name="photos", website={"error_document": ""})
    assert result["changed"] is True
    client.update_bucket.assert_called_once_with(
        BUCKET_ID, {"websiteAccess": {"enabled": True, "indexDocument": "home.html"}}
    )


def test_website_change_index_keeps_error_document(client, capsys):
    client.get_bucket_info.side_effect = None
    client.get_bucket_info.return_value = bucket_info(website={"indexDocument": "home.html", "errorDocument": "e.html"})
    client.update_bucket.return_value = bucket_info(website={"indexDocument": "i.html", "errorDocument": "e.html"})
    result = run(client, capsys, name="photos", website={"index_document": "i.html"})
    assert result["changed"] is True
    client.update_bucket.assert_called_once_with(
        BUCKET_ID, {"websiteAccess": {"enabled": True, "indexDocument": "i.html", "errorDocument": "e.html"}}
    )


def test_aliases_added_without_purge_keeps_others(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos", "old"]))
    client.add_bucket_alias.return_value = bucket_info(aliases=["photos", "old", "new"])
    result = run(client, capsys, name="photos", global_aliases=["new"])
    assert result["changed"] is True
    assert client.add_bucket_alias.call_args_list == [mock.call({"bucketId": BUCKET_ID, "globalAlias": "new"})]
    assert not client.remove_bucket_alias.called
    assert result["bucket"]["global_aliases"] == ["new", "old", "photos"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_purge_aliases_keeps_name(client, capsys, check_mode):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos", "old", "older"]))
    client.add_bucket_alias.return_value = bucket_info(aliases=["photos", "old", "older", "new"])
    client.remove_bucket_alias.return_value = bucket_info(aliases=["photos", "new"])
    result = run(
        client, capsys, check_mode=check_mode, name="photos", global_aliases=["new"], purge_global_aliases=True
    )
    assert result["changed"] is True
    assert result["bucket"]["global_aliases"] == ["new", "photos"]
    assert result["diff"]["before"]["global_aliases"] == ["old", "older", "photos"]
    assert result["diff"]["after"]["global_aliases"] == ["new", "photos"]
    if check_mode:
        assert write_calls(client) == []
    else:
        # additions first, then removals: the bucket never drops to zero aliases
        assert [c[0] for c in client.method_calls if c[0] != "get_bucket_info"] == [
            "add_bucket_alias",
            "remove_bucket_alias",
            "remove_bucket_alias",
        ]
        assert client.remove_bucket_alias.call_args_list == [
            mock.call({"bucketId": BUCKET_ID, "globalAlias": "old"}),
            mock.call({"bucketId": BUCKET_ID, "globalAlias": "older"}),
        ]


def test_purge_to_no_alias_is_refused_before_any_change(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"]))
    result = run(client, capsys, id=BUCKET_ID, global_aliases=[], purge_global_aliases=True)
    assert result["failed"] is True
    assert "without any alias" in result["msg"] and "state=absent" in result["msg"]
    assert write_calls(client) == []


def test_purge_all_global_aliases_allowed_when_a_local_alias_remains(client, capsys):
    info = bucket_info(aliases=["photos"], keys=[key_entry(local_aliases=["mine"])])
    client.get_bucket_info.side_effect = buckets_by(info)
    client.remove_bucket_alias.return_value = bucket_info(aliases=[], keys=[key_entry(local_aliases=["mine"])])
    result = run(client, capsys, id=BUCKET_ID, global_aliases=[], purge_global_aliases=True)
    assert result["changed"] is True and not result["failed"]
    assert result["bucket"]["global_aliases"] == []


def test_purge_without_global_aliases_does_nothing(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos", "old"]))
    result = run(client, capsys, name="photos", purge_global_aliases=True)
    assert result["changed"] is False


def test_partial_failure_reports_changed(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"]))
    client.add_bucket_alias.return_value = bucket_info(aliases=["photos", "new"])
    client.update_bucket.side_effect = GarageBadRequest("Bad request: x", status=400, code="InvalidRequest")
    result = run(client, capsys, name="photos", global_aliases=["new"], quotas={"max_objects": 1})
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"] == "Failed to update bucket 'photos': InvalidRequest: Bad request: x"


def test_read_errors_are_reported_once(client, capsys):
    client.get_bucket_info.side_effect = GarageAccessDenied(
        "Forbidden: Invalid bearer token", status=403, code="AccessDenied"
    )
    result = run(client, capsys, name="photos")
    assert result["failed"] is True
    assert result["msg"] == "Failed to read bucket 'photos': AccessDenied: Forbidden: Invalid bearer token"
    assert result["status"] == 403
    assert "unit-test-token" not in str(result)


def test_connection_error(client, capsys):
    client.get_bucket_info.side_effect = GarageConnectionError("Cannot reach Garage admin API at http://x: refused")
    result = run(client, capsys, name="photos")
    assert result["failed"] is True
    assert "Failed to read bucket 'photos': Cannot reach Garage admin API" in result["msg"]


# --------------------------------------------------------------------------- absent


def test_absent_missing_is_noop(client, capsys):
    result = run(client, capsys, name="photos", state="absent")
    assert result["changed"] is False and result["bucket"] is None
    assert write_calls(client) == []


@pytest.mark.parametrize("check_mode", [True, False])
def test_absent_deletes_empty_bucket(client, capsys, check_mode):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"]))
    result = run(client, capsys, check_mode=check_mode, name="photos", state="absent")
    assert result["changed"] is True and result["bucket"] is None
    assert result["diff"]["before"]["state"] == "present"
    assert result["diff"]["after"] == {"state": "absent"}
    assert client.delete_bucket.called is (not check_mode)
    if not check_mode:
        client.delete_bucket.assert_called_once_with(BUCKET_ID)


@pytest.mark.parametrize("check_mode", [True, False])
def test_absent_non_empty_fails_with_count(client, capsys, check_mode):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"], objects=3, bytes_=42))
    result = run(client, capsys, check_mode=check_mode, name="photos", state="absent")
    assert result["failed"] is True
    assert "3 object(s)" in result["msg"]
    assert "empty it first" in result["msg"] and "aws s3 rm s3://photos --recursive" in result["msg"]
    # Advice names only things that exist (issue 9: there is no bucket-clear module yet).
    assert "garage_bucket_clear" not in result["msg"]
    assert result["failure_reason"] == "bucket_not_empty" and result["objects"] == 3
    assert write_calls(client) == []


def test_absent_maps_409_bucket_not_empty(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"], objects=0))
    client.delete_bucket.side_effect = GarageConflict(
        "Tried to delete a non-empty bucket", status=409, code="BucketNotEmpty"
    )
    result = run(client, capsys, name="photos", state="absent")
    assert result["failed"] is True
    assert "Cannot delete bucket 'photos'" in result["msg"] and "empty it first" in result["msg"]
    assert "BucketNotEmpty" in result["msg"]


def test_absent_other_delete_error(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"]))
    client.delete_bucket.side_effect = not_found("Bucket not found: x")
    result = run(client, capsys, name="photos", state="absent")
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to delete bucket 'photos': NoSuchBucket")


# --------------------------------------------------------------------------- pure helpers


def test_build_request_explicit_null_clears_only_given_keys():
    params = {
        "name": "photos",
        "id": None,
        "state": "present",
        "global_aliases": None,
        "purge_global_aliases": False,
        "website": None,
        "quotas": {"max_size": None, "max_objects": None},
    }
    with pytest.raises(InputError):
        buckets.spec_from_params(params, set())
    req = buckets.spec_from_params(params, {"max_size"})
    assert req.max_size is None and req.max_objects is buckets.UNSET


def test_predict_matches_plan():
    info = bucket_info(aliases=["a-1", "b-2"])
    plan = buckets.Plan(
        add_aliases=["c-3"], remove_aliases=["b-2"], update_body={"quotas": {"maxSize": 1, "maxObjects": None}}
    )
    after = buckets.predict(info, plan)
    assert after["globalAliases"] == ["a-1", "c-3"]
    assert after["quotas"] == {"maxSize": 1, "maxObjects": None}
    assert info["globalAliases"] == ["a-1", "b-2"]  # input untouched


# --------------------------------------------------------------------------- issue 9 defects


@pytest.mark.parametrize(
    ("quotas", "fragment"),
    [
        ({"max_size": 2**64}, "quotas.max_size: 18446744073709551616 is larger than Garage's limit"),
        ({"max_size": "17EiB"}, "quotas.max_size"),
        ({"max_objects": 2**64}, "quotas.max_objects: 18446744073709551616 is larger than Garage's limit"),
    ],
)
def test_quotas_beyond_64_bits_are_refused_before_any_call(client, capsys, quotas, fragment):
    result = run(client, capsys, name="photos", quotas=quotas)
    assert result["failed"] is True and fragment in result["msg"]
    assert result["failure_reason"] == "invalid_input"
    assert client.method_calls == []


def test_zero_quota_warns(client, capsys):
    client.get_bucket_info.side_effect = buckets_by(bucket_info(aliases=["photos"]))
    client.update_bucket.return_value = bucket_info(aliases=["photos"], quotas={"maxSize": 0, "maxObjects": None})
    result = run(client, capsys, name="photos", quotas={"max_size": 0})
    assert result["failed"] is False and result["changed"] is True
    assert "max_size is 0, so Garage refuses every upload" in json.dumps(result["warnings"])


def test_create_that_timed_out_but_landed_is_reported_as_created(client, capsys):
    """CreateBucket got no answer but Garage created the bucket: re-read, report it, configure it."""
    created = bucket_info(aliases=["photos"])
    client.get_bucket_info.side_effect = [not_found(), created]
    client.create_bucket.side_effect = GarageConnectionError("No answer", endpoint="CreateBucket", may_have_landed=True)
    client.update_bucket.return_value = bucket_info(aliases=["photos"], quotas={"maxSize": None, "maxObjects": 5})
    result = run(client, capsys, name="photos", quotas={"max_objects": 5})
    assert result["failed"] is False and result["changed"] is True
    assert result["bucket"]["id"] == BUCKET_ID and result["bucket"]["quotas"]["max_objects"] == 5
    client.create_bucket.assert_called_once()


def test_create_that_timed_out_and_did_not_land_says_so(client, capsys):
    client.get_bucket_info.side_effect = not_found()
    client.create_bucket.side_effect = GarageConnectionError("No answer", endpoint="CreateBucket", may_have_landed=True)
    result = run(client, capsys, name="photos")
    assert result["failed"] is True and result["changed"] is False
    assert "it was not created; running again is safe" in result["msg"]
    assert result["failure_reason"] == "bucket_create_failed"


def test_create_that_timed_out_and_cannot_be_read_is_outcome_unknown(client, capsys):
    client.get_bucket_info.side_effect = [not_found(), GarageConnectionError("Cannot reach Garage admin API")]
    client.create_bucket.side_effect = GarageConnectionError("No answer", endpoint="CreateBucket", may_have_landed=True)
    result = run(client, capsys, name="photos")
    assert result["failed"] is True
    assert result["failure_reason"] == "outcome_unknown"
    assert "cannot be known" in result["msg"]
