# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.cors and _s3.lifecycle: validation before any call, normalisation, read/compare/write."""

from __future__ import annotations

import typing as t
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._s3 import cors, lifecycle
from tests.unit.plugins.module_utils.s3_fakes import client_error

RULE = {"allowed_origins": ["https://b.example.com", "https://a.example.com"], "allowed_methods": ["put", "GET"]}


# --------------------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({**RULE, "allowed_origins": ["example.com"]}, "'example.com' is not an origin"),
        ({**RULE, "allowed_origins": ["https://*.*.example.com"]}, "is not an origin"),
        ({**RULE, "allowed_origins": ["https://example.com/app"]}, "is not an origin"),
        ({**RULE, "allowed_origins": []}, "at least one origin"),
        ({**RULE, "allowed_methods": ["PATCH"]}, "'PATCH' is not one of GET, PUT, POST, DELETE, HEAD"),
        ({**RULE, "allowed_methods": []}, "at least one of"),
        ({**RULE, "allowed_headers": ["bad header"]}, "is not a header name"),
        ({**RULE, "expose_headers": ["x-*"]}, "wildcards are not allowed"),
        ({**RULE, "max_age_seconds": -1}, "must not be negative"),
    ],
)
def test_cors_bad_rules_are_refused(rule: dict[str, t.Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        cors.spec_from_params({"bucket": "b", "state": "present", "rules": [rule]})
    assert fragment in info.value.message
    assert info.value.failure_reason == "invalid_input"


@pytest.mark.parametrize("origin", ["*", "https://*.example.com", "http://localhost:8080", "https://app.example.com"])
def test_cors_good_origins(origin: str) -> None:
    cors.spec_from_params({"bucket": "b", "rules": [{**RULE, "allowed_origins": [origin]}]})


def test_cors_duplicate_ids_and_present_without_rules() -> None:
    with pytest.raises(InputError, match="unique: x"):
        cors.spec_from_params({"bucket": "b", "rules": [{**RULE, "id": "x"}, {**RULE, "id": "x"}]})
    with pytest.raises(InputError, match="at least one rule"):
        cors.spec_from_params({"bucket": "b", "state": "present", "rules": []})


def test_cors_normalisation_makes_order_and_case_irrelevant() -> None:
    a = cors.normalize_rule(RULE)
    b = cors.normalize_rule(
        {**RULE, "allowed_origins": list(reversed(RULE["allowed_origins"])), "allowed_methods": ["GET", "PUT", "get"]}
    )
    assert a == b
    assert a["allowed_methods"] == ["GET", "PUT"]
    assert "id" not in a and a["max_age_seconds"] is None


def _cors_client(rules: list[dict[str, t.Any]] | None) -> mock.MagicMock:
    client = mock.MagicMock()
    if rules is None:
        client.get_bucket_cors.side_effect = client_error("NoSuchCORSConfiguration", 404)
    else:
        client.get_bucket_cors.return_value = {"CORSRules": rules}
    return client


WIRE = {"AllowedOrigins": ["https://a.example.com", "https://b.example.com"], "AllowedMethods": ["GET", "PUT"]}


@pytest.mark.parametrize("absent", [client_error("NoSuchCORSConfiguration", 404), client_error("404", 404), None])
def test_cors_absent_in_every_garage_dialect(absent: Exception | None) -> None:
    client = mock.MagicMock()
    if absent is None:
        client.get_bucket_cors.return_value = {}  # Garage 2.0: 204, empty body
    else:
        client.get_bucket_cors.side_effect = absent
    assert cors.read(client, "b") is None


def test_cors_create_check_mode_writes_nothing_and_predicts() -> None:
    client = _cors_client(None)
    spec = cors.spec_from_params({"bucket": "b", "rules": [RULE]})
    outcome = cors.ensure(client, spec, dry_run=True)
    assert outcome.changed and outcome.before == {"state": "absent"}
    assert outcome.after == {"state": "present", "rules": [cors.normalize_rule(RULE)]}
    client.put_bucket_cors.assert_not_called()
    applied = cors.ensure(client, spec, dry_run=False)
    assert applied.diff() == outcome.diff()
    client.put_bucket_cors.assert_called_once_with(Bucket="b", CORSConfiguration={"CORSRules": [WIRE]})


def test_cors_unchanged_and_absent() -> None:
    client = _cors_client([WIRE])
    assert not cors.ensure(client, cors.spec_from_params({"bucket": "b", "rules": [RULE]}), dry_run=False).changed
    client.put_bucket_cors.assert_not_called()
    gone = cors.ensure(client, cors.spec_from_params({"bucket": "b", "state": "absent"}), dry_run=False)
    assert gone.changed and gone.after == {"state": "absent"}
    client.delete_bucket_cors.assert_called_once_with(Bucket="b")


def test_cors_write_failure_has_its_reason() -> None:
    client = _cors_client(None)
    client.put_bucket_cors.side_effect = client_error("AccessDenied", 403, "owner needed")
    with pytest.raises(Exception) as info:
        cors.ensure(client, cors.spec_from_params({"bucket": "b", "rules": [RULE]}), dry_run=False)
    assert info.value.failure_reason == "bucket_cors_update_failed"  # type: ignore[attr-defined]
    assert info.value.details["cause"] == "access_denied"  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    "rule",
    [
        {"transitions": [{"days": 30}], "expiration_days": 90},
        {"noncurrent_version_expiration_days": 3},
        {"noncurrent_version_transitions": [{"days": 3}]},
        {"expired_object_delete_marker": True},
        {"tags": {"a": "b"}, "expiration_days": 1},
    ],
)
def test_lifecycle_unsupported_rules_are_refused_with_the_reason(rule: dict[str, t.Any]) -> None:
    with pytest.raises(InputError) as info:
        lifecycle.spec_from_params({"bucket": "b", "rules": [rule]})
    assert info.value.failure_reason == "lifecycle_rule_unsupported"
    name = next(k for k in rule if k in lifecycle.UNSUPPORTED)
    assert info.value.details["unsupported"] == [f"rules[0].{name}: {lifecycle.UNSUPPORTED[name]}"]


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"prefix": "a/"}, "has no action"),
        ({"expiration_days": 0}, "at least 1"),
        ({"abort_incomplete_multipart_upload_days": 0}, "at least 1"),
        ({"expiration_days": 1, "expiration_date": "2030-01-01"}, "not both"),
        ({"expiration_date": "2030-13-01"}, "expiration_date"),
        ({"expiration_date": "2030-01-01T10:00:00Z"}, "midnight"),
        ({"expiration_days": 1, "object_size_greater_than": 10, "object_size_less_than": 10}, "must be less than"),
        ({"expiration_days": 1, "object_size_less_than": -1}, "must not be negative"),
        ({"expiration_days": 1, "status": "paused"}, "enabled or disabled"),
    ],
)
def test_lifecycle_invalid_rules(rule: dict[str, t.Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        lifecycle.spec_from_params({"bucket": "b", "rules": [rule]})
    assert info.value.failure_reason == "invalid_input"
    assert fragment in info.value.message


@pytest.mark.parametrize("value", ["2030-01-01", "2030-01-01T00:00:00Z", "2030-01-01T00:00:00.000Z"])
def test_lifecycle_dates(value: str) -> None:
    assert lifecycle.parse_date(value) == "2030-01-01"


RULES = [
    {"id": "tmp", "prefix": "tmp/", "expiration_days": 7},
    {"id": "big", "prefix": "logs/", "object_size_greater_than": 100, "expiration_date": "2030-01-01"},
    {"abort_incomplete_multipart_upload_days": 3},
]
WIRE_RULES = [
    {"Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "ID": "tmp", "Expiration": {"Days": 7}},
    {"Status": "Enabled", "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 100}}, "ID": "big",
     "Expiration": {"Date": "2030-01-01T00:00:00Z"}},
    {"Status": "Enabled", "Filter": {}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3}},
]  # fmt: skip


def test_lifecycle_write_then_read_back_is_unchanged() -> None:
    client = mock.MagicMock()
    client.get_bucket_lifecycle_configuration.side_effect = client_error("NoSuchLifecycleConfiguration", 404)
    spec = lifecycle.spec_from_params({"bucket": "b", "rules": RULES})
    predicted = lifecycle.ensure(client, spec, dry_run=True)
    client.put_bucket_lifecycle_configuration.assert_not_called()
    outcome = lifecycle.ensure(client, spec, dry_run=False)
    assert outcome.changed and outcome.diff() == predicted.diff()
    sent = client.put_bucket_lifecycle_configuration.call_args.kwargs["LifecycleConfiguration"]["Rules"]
    assert sent == WIRE_RULES

    client.get_bucket_lifecycle_configuration.side_effect = None
    client.get_bucket_lifecycle_configuration.return_value = {"Rules": WIRE_RULES}
    client.put_bucket_lifecycle_configuration.reset_mock()
    again = lifecycle.ensure(client, spec, dry_run=False)
    assert not again.changed
    client.put_bucket_lifecycle_configuration.assert_not_called()


def test_lifecycle_reads_garage_s_plain_dates_and_legacy_prefix() -> None:
    rule = lifecycle._from_wire({"Status": "Disabled", "Prefix": "old/", "Expiration": {"Date": "2030-01-01"}})
    assert rule == {
        **dict.fromkeys(lifecycle.RULE_KEYS),
        "status": "disabled",
        "prefix": "old/",
        "expiration_date": "2030-01-01",
    }


def test_lifecycle_absent_deletes_only_when_set() -> None:
    client = mock.MagicMock()
    client.get_bucket_lifecycle_configuration.side_effect = client_error("NoSuchLifecycleConfiguration", 404)
    outcome = lifecycle.ensure(client, lifecycle.spec_from_params({"bucket": "b", "state": "absent"}), dry_run=False)
    assert not outcome.changed
    client.delete_bucket_lifecycle.assert_not_called()
