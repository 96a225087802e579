# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A bucket's rule-set sub-resource (CORS, lifecycle): read, compare, write — one copy.

No Ansible here. Each sub-resource is described once (:class:`RuleSet`: the botocore method
names, the wire keys, the error codes meaning "none set", its ``failure_reason`` values and
the rule converters); :func:`read` and :func:`ensure` do the rest the same way for all: the
managed view is ``{"state": "present", "rules": [...]}`` or absent, written only on difference,
deleted when the desired rules are none.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, absent, present
from ansible_collections.cellar.garage.plugins.module_utils._s3 import preflight
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import BOTOCORE_ERRORS, error_code, s3_context


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """How one sub-resource is read and written (``what``: "CORS", "lifecycle")."""

    what: str
    get: str
    put: str
    delete: str
    config_param: str
    rules_key: str
    absent_codes: frozenset[str]
    read_failed: str
    write_failed: str
    from_wire: t.Callable[[t.Mapping[str, t.Any]], dict[str, t.Any]]
    to_wire: t.Callable[[t.Mapping[str, t.Any]], dict[str, t.Any]]
    normalize: t.Callable[[t.Mapping[str, t.Any]], dict[str, t.Any]]


def read(kind: RuleSet, client: t.Any, bucket: str) -> list[dict[str, t.Any]] | None:
    """The bucket's rules in their managed shape, or None when none are set."""
    with s3_context(f"read the {kind.what} configuration of", "bucket", bucket, failure_reason=kind.read_failed):
        try:
            response = getattr(client, kind.get)(Bucket=bucket)
        except BOTOCORE_ERRORS as exc:  # pylint: disable=catching-non-exception
            if error_code(exc) in kind.absent_codes:
                return None
            raise
    return [kind.from_wire(rule) for rule in response.get(kind.rules_key) or []] or None


def view(rules: list[dict[str, t.Any]] | None) -> dict[str, t.Any]:
    return present({"rules": rules}) if rules else absent()


def ensure(
    kind: RuleSet,
    client: t.Any,
    bucket: str,
    state: str,
    rules: t.Iterable[t.Mapping[str, t.Any]],
    *,
    dry_run: bool,
    access_key_id: str | None = None,
) -> Outcome:
    """Make the bucket's rules ``rules`` (``state`` present) or none (absent)."""
    preflight.check_bucket(client, bucket, access_key_id=access_key_id)
    before = view(read(kind, client, bucket))
    desired = [kind.normalize(rule) for rule in rules] if state == "present" else None
    after = view(desired)
    result = {"bucket": bucket, "rules": desired or []}
    if before == after:
        return Outcome.unchanged(before, **result)
    if not dry_run:
        verb = "set" if desired else "delete"
        with s3_context(f"{verb} the {kind.what} configuration of", "bucket", bucket, failure_reason=kind.write_failed):
            if desired:
                config = {kind.rules_key: [kind.to_wire(rule) for rule in desired]}
                getattr(client, kind.put)(Bucket=bucket, **{kind.config_param: config})
            else:
                getattr(client, kind.delete)(Bucket=bucket)
    return Outcome(before=before, after=after, result=result)
