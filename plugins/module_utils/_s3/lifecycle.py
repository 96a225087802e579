# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A bucket's lifecycle rules: read, compare, write. The operation behind ``garage_bucket_lifecycle``.

No Ansible here. Garage supports two actions and three filters, nothing else:

- ``Expiration`` after ``expiration_days`` or at ``expiration_date`` (a date, midnight UTC);
- ``AbortIncompleteMultipartUpload`` after ``abort_incomplete_multipart_upload_days``;
- filters ``prefix``, ``object_size_greater_than``, ``object_size_less_than`` (all must match).

Garage's XML parser ignores elements it does not know: a transition or a tag filter sent to it
would be dropped silently, and the bucket would not do what the playbook says. Such rules are
therefore refused here, before anything is sent, with ``failure_reason:
lifecycle_rule_unsupported`` and the reason (:data:`UNSUPPORTED`).

The managed view is ``{"state": "present", "rules": [...]}`` (or absent); every rule has all
keys of :data:`RULE_KEYS` (None when unset), rules keep their order.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import rulesets

RULE_KEYS = (
    "id",
    "status",
    "prefix",
    "object_size_greater_than",
    "object_size_less_than",
    "expiration_days",
    "expiration_date",
    "abort_incomplete_multipart_upload_days",
)
#: Lifecycle features of S3 that Garage does not implement, and why they are refused.
UNSUPPORTED = {
    "transitions": "Garage has a single storage class: objects cannot transition to another one",
    "noncurrent_version_expiration_days": "Garage has no object versioning, so there are no noncurrent versions",
    "noncurrent_version_transitions": "Garage has no object versioning, so there are no noncurrent versions",
    "expired_object_delete_marker": "Garage has no object versioning, so there are no delete markers",
    "tags": "Garage has no object tagging, so rules cannot filter on tags",
}
UNSUPPORTED_RULE = "lifecycle_rule_unsupported"
READ_FAILED = "bucket_lifecycle_read_failed"
WRITE_FAILED = "bucket_lifecycle_update_failed"
MAX_RULES = 1000
_ABSENT_CODES = frozenset(("NoSuchLifecycleConfiguration", "404"))


@dataclasses.dataclass(frozen=True)
class LifecycleSpec:
    bucket: str
    state: str = "present"
    rules: tuple[dict[str, t.Any], ...] = ()


def parse_date(value: t.Any) -> str:
    """``YYYY-MM-DD`` from ``YYYY-MM-DD`` or ``YYYY-MM-DDT00:00:00Z`` (a date object too); ValueError else."""
    if isinstance(value, _dt.datetime):
        if value.time() != _dt.time(0, 0):
            raise ValueError("must be at midnight")
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    text = str(value).strip()
    date_part, sep, time_part = text.partition("T")
    if sep and time_part not in ("00:00:00Z", "00:00:00.000Z", "00:00:00+00:00"):
        raise ValueError("must be a date (YYYY-MM-DD) or midnight UTC (YYYY-MM-DDT00:00:00Z)")
    return _dt.date.fromisoformat(date_part).isoformat()


def normalize_rule(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A rule in its managed shape (every key of :data:`RULE_KEYS`)."""

    def number(name: str) -> int | None:
        return None if rule.get(name) is None else int(rule[name])

    return {
        "id": str(rule["id"]) if rule.get("id") else None,
        "status": str(rule.get("status") or "enabled").lower(),
        "prefix": str(rule["prefix"]) if rule.get("prefix") else None,
        "object_size_greater_than": number("object_size_greater_than"),
        "object_size_less_than": number("object_size_less_than"),
        "expiration_days": number("expiration_days"),
        "expiration_date": parse_date(rule["expiration_date"]) if rule.get("expiration_date") else None,
        "abort_incomplete_multipart_upload_days": number("abort_incomplete_multipart_upload_days"),
    }


def rule_problems(index: int, rule: t.Mapping[str, t.Any]) -> tuple[list[str], list[str]]:
    """``(unsupported, invalid)``: what Garage cannot do, and what is malformed, for one rule."""
    where = f"rules[{index}]"
    unsupported = [
        f"{where}.{name}: {why}" for name, why in UNSUPPORTED.items() if rule.get(name) not in (None, [], {}, False)
    ]
    invalid: list[str] = []
    for name in ("expiration_days", "abort_incomplete_multipart_upload_days"):
        if rule.get(name) is not None and int(rule[name]) < 1:
            invalid.append(f"{where}.{name} must be at least 1, got {rule[name]}")
    for name in ("object_size_greater_than", "object_size_less_than"):
        if rule.get(name) is not None and int(rule[name]) < 0:
            invalid.append(f"{where}.{name} must not be negative, got {rule[name]}")
    low, high = rule.get("object_size_greater_than"), rule.get("object_size_less_than")
    if low is not None and high is not None and int(low) >= int(high):
        invalid.append(f"{where}: object_size_greater_than ({low}) must be less than object_size_less_than ({high})")
    if rule.get("expiration_days") is not None and rule.get("expiration_date"):
        invalid.append(f"{where}: set expiration_days or expiration_date, not both")
    if rule.get("expiration_date"):
        try:
            parse_date(rule["expiration_date"])
        except ValueError as exc:
            invalid.append(f"{where}.expiration_date '{rule['expiration_date']}': {exc}")
    actions = ("expiration_days", "expiration_date", "abort_incomplete_multipart_upload_days")
    if not unsupported and all(rule.get(name) in (None, "") for name in actions):
        invalid.append(
            f"{where} has no action: set expiration_days, expiration_date or abort_incomplete_multipart_upload_days"
        )
    if str(rule.get("status") or "enabled").lower() not in ("enabled", "disabled"):
        invalid.append(f"{where}.status must be enabled or disabled, got {rule.get('status')}")
    if rule.get("id") is not None and len(str(rule["id"])) > 255:
        invalid.append(f"{where}.id is longer than 255 characters")
    return unsupported, invalid


def spec_from_params(params: t.Mapping[str, t.Any]) -> LifecycleSpec:
    """The spec, or :class:`InputError` (``lifecycle_rule_unsupported`` first, then ``invalid_input``)."""
    state = params.get("state") or "present"
    rules = tuple(dict(r) for r in params.get("rules") or [])
    unsupported: list[str] = []
    invalid: list[str] = []
    for index, rule in enumerate(rules):
        rule_unsupported, rule_invalid = rule_problems(index, rule)
        unsupported += rule_unsupported
        invalid += rule_invalid
    if unsupported:
        raise InputError(
            "Garage supports only expiration and abort-incomplete-multipart-upload rules, filtered by prefix "
            "and object size; nothing was sent: " + "; ".join(unsupported),
            failure_reason=UNSUPPORTED_RULE,
            details={"unsupported": unsupported},
        )
    if state == "present" and not rules:
        invalid.append("state=present needs at least one rule (use state=absent to remove the lifecycle configuration)")
    if len(rules) > MAX_RULES:
        invalid.append(f"at most {MAX_RULES} rules are allowed, got {len(rules)}")
    ids = [str(r["id"]) for r in rules if r.get("id")]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        invalid.append(f"rule ids must be unique: {', '.join(duplicates)}")
    if invalid:
        raise InputError("; ".join(invalid))
    return LifecycleSpec(bucket=params["bucket"], state=state, rules=rules)


def _from_wire(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    conditions = dict(rule.get("Filter") or {})
    conditions.update(conditions.pop("And", None) or {})
    expiration = rule.get("Expiration") or {}
    abort = rule.get("AbortIncompleteMultipartUpload") or {}
    date = expiration.get("Date")
    return normalize_rule(
        {
            "id": rule.get("ID"),
            "status": rule.get("Status"),
            "prefix": conditions.get("Prefix", rule.get("Prefix")),
            "object_size_greater_than": conditions.get("ObjectSizeGreaterThan"),
            "object_size_less_than": conditions.get("ObjectSizeLessThan"),
            "expiration_days": expiration.get("Days"),
            "expiration_date": str(date)[:10] if date else None,
            "abort_incomplete_multipart_upload_days": abort.get("DaysAfterInitiation"),
        }
    )


def _to_wire(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    conditions: dict[str, t.Any] = {}
    if rule["prefix"]:
        conditions["Prefix"] = rule["prefix"]
    if rule["object_size_greater_than"] is not None:
        conditions["ObjectSizeGreaterThan"] = rule["object_size_greater_than"]
    if rule["object_size_less_than"] is not None:
        conditions["ObjectSizeLessThan"] = rule["object_size_less_than"]
    wire: dict[str, t.Any] = {
        "Status": "Enabled" if rule["status"] == "enabled" else "Disabled",
        "Filter": {"And": conditions} if len(conditions) > 1 else conditions,
    }
    if rule["id"]:
        wire["ID"] = rule["id"]
    if rule["expiration_days"] is not None:
        wire["Expiration"] = {"Days": rule["expiration_days"]}
    elif rule["expiration_date"]:
        wire["Expiration"] = {"Date": f"{rule['expiration_date']}T00:00:00Z"}
    if rule["abort_incomplete_multipart_upload_days"] is not None:
        wire["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": rule["abort_incomplete_multipart_upload_days"]}
    return wire


RULES = rulesets.RuleSet(
    what="lifecycle",
    get="get_bucket_lifecycle_configuration",
    put="put_bucket_lifecycle_configuration",
    delete="delete_bucket_lifecycle",
    config_param="LifecycleConfiguration",
    rules_key="Rules",
    absent_codes=_ABSENT_CODES,
    read_failed=READ_FAILED,
    write_failed=WRITE_FAILED,
    from_wire=_from_wire,
    to_wire=_to_wire,
    normalize=normalize_rule,
)


def read(client: t.Any, bucket: str) -> list[dict[str, t.Any]] | None:
    """The bucket's rules in their managed shape, or None when it has no lifecycle configuration."""
    return rulesets.read(RULES, client, bucket)


def ensure(client: t.Any, spec: LifecycleSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Make the bucket's lifecycle configuration ``spec.rules`` (present) or none (absent)."""
    return rulesets.ensure(
        RULES, client, spec.bucket, spec.state, spec.rules, dry_run=dry_run, access_key_id=access_key_id
    )
