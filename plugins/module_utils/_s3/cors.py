# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A bucket's CORS rules: read, compare, write. The operation behind ``garage_bucket_cors``.

No Ansible here. The managed view is ``{"state": "present", "rules": [...]}`` (or absent), each
rule in the module's snake_case (``allowed_origins``, ``allowed_methods``, ``allowed_headers``,
``expose_headers``, ``max_age_seconds``, ``id``). Rules keep their order (a browser request
gets the first rule that matches), the lists inside a rule are compared as sets (sorted,
without duplicates), methods in upper case.

Origins and methods are validated before anything is sent: a method is one of GET, PUT, POST,
DELETE, HEAD; an origin is ``*`` or ``scheme://host[:port]`` with at most one ``*``.

Garage answers "no CORS configuration" with 404 ``NoSuchCORSConfiguration`` (2.3+), a bodyless
404 (2.1, 2.2) or 204 (2.0): all read as absent. Reading and writing CORS needs the key's
**owner** permission on the bucket.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import rulesets

METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
MAX_RULES = 100
_ORIGIN_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s]+$")
_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ABSENT_CODES = frozenset(("NoSuchCORSConfiguration", "404"))
READ_FAILED = "bucket_cors_read_failed"
WRITE_FAILED = "bucket_cors_update_failed"


@dataclasses.dataclass(frozen=True)
class CorsSpec:
    bucket: str
    state: str = "present"
    rules: tuple[dict[str, t.Any], ...] = ()


def _sorted_unique(values: t.Iterable[t.Any]) -> list[str]:
    return sorted({str(v) for v in values})


def normalize_rule(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A rule in its managed shape (snake_case keys, sorted lists, methods upper case)."""
    view: dict[str, t.Any] = {
        "allowed_origins": _sorted_unique(rule.get("allowed_origins") or []),
        "allowed_methods": _sorted_unique(str(m).upper() for m in rule.get("allowed_methods") or []),
        "allowed_headers": _sorted_unique(rule.get("allowed_headers") or []),
        "expose_headers": _sorted_unique(rule.get("expose_headers") or []),
        "max_age_seconds": None if rule.get("max_age_seconds") is None else int(rule["max_age_seconds"]),
    }
    if rule.get("id"):
        view["id"] = str(rule["id"])
    return view


def rule_problems(index: int, rule: t.Mapping[str, t.Any]) -> list[str]:
    """What is wrong with one rule (as given by the user), before anything is sent."""
    where = f"rules[{index}]"
    problems: list[str] = []
    origins = list(rule.get("allowed_origins") or [])
    methods = list(rule.get("allowed_methods") or [])
    if not origins:
        problems.append(f"{where}.allowed_origins must list at least one origin")
    for origin in origins:
        text = str(origin)
        if text == "*":
            continue
        if text.count("*") > 1 or not _ORIGIN_RE.match(text):
            problems.append(
                f"{where}.allowed_origins: '{text}' is not an origin: use '*' or scheme://host[:port] "
                "(no path), with at most one '*' (e.g. https://*.example.com)"
            )
    if not methods:
        problems.append(f"{where}.allowed_methods must list at least one of {', '.join(METHODS)}")
    for method in methods:
        if str(method).upper() not in METHODS:
            problems.append(f"{where}.allowed_methods: '{method}' is not one of {', '.join(METHODS)}")
    for option in ("allowed_headers", "expose_headers"):
        for header in rule.get(option) or []:
            text = str(header)
            if not _TOKEN_RE.match(text) or (option == "allowed_headers" and text.count("*") > 1):
                problems.append(f"{where}.{option}: '{text}' is not a header name")
            elif option == "expose_headers" and "*" in text:
                problems.append(f"{where}.expose_headers: '{text}': wildcards are not allowed here")
    age = rule.get("max_age_seconds")
    if age is not None and int(age) < 0:
        problems.append(f"{where}.max_age_seconds must not be negative, got {age}")
    if rule.get("id") is not None and len(str(rule["id"])) > 255:
        problems.append(f"{where}.id is longer than 255 characters")
    return problems


def spec_from_params(params: t.Mapping[str, t.Any]) -> CorsSpec:
    state = params.get("state") or "present"
    rules = tuple(dict(r) for r in params.get("rules") or [])
    problems = [p for i, rule in enumerate(rules) for p in rule_problems(i, rule)]
    if state == "present" and not rules:
        problems.append("state=present needs at least one rule (use state=absent to remove the CORS configuration)")
    if len(rules) > MAX_RULES:
        problems.append(f"at most {MAX_RULES} rules are allowed, got {len(rules)}")
    ids = [str(r["id"]) for r in rules if r.get("id")]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"rule ids must be unique: {', '.join(duplicates)}")
    if problems:
        raise InputError("; ".join(problems))
    return CorsSpec(bucket=params["bucket"], state=state, rules=rules)


def _from_wire(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return normalize_rule(
        {
            "id": rule.get("ID"),
            "allowed_origins": rule.get("AllowedOrigins"),
            "allowed_methods": rule.get("AllowedMethods"),
            "allowed_headers": rule.get("AllowedHeaders"),
            "expose_headers": rule.get("ExposeHeaders"),
            "max_age_seconds": rule.get("MaxAgeSeconds"),
        }
    )


def _to_wire(rule: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    wire: dict[str, t.Any] = {
        "AllowedOrigins": rule["allowed_origins"],
        "AllowedMethods": rule["allowed_methods"],
    }
    if rule.get("allowed_headers"):
        wire["AllowedHeaders"] = rule["allowed_headers"]
    if rule.get("expose_headers"):
        wire["ExposeHeaders"] = rule["expose_headers"]
    if rule.get("max_age_seconds") is not None:
        wire["MaxAgeSeconds"] = rule["max_age_seconds"]
    if rule.get("id"):
        wire["ID"] = rule["id"]
    return wire


RULES = rulesets.RuleSet(
    what="CORS",
    get="get_bucket_cors",
    put="put_bucket_cors",
    delete="delete_bucket_cors",
    config_param="CORSConfiguration",
    rules_key="CORSRules",
    absent_codes=_ABSENT_CODES,
    read_failed=READ_FAILED,
    write_failed=WRITE_FAILED,
    from_wire=_from_wire,
    to_wire=_to_wire,
    normalize=normalize_rule,
)


def read(client: t.Any, bucket: str) -> list[dict[str, t.Any]] | None:
    """The bucket's rules in their managed shape, or None when it has no CORS configuration."""
    return rulesets.read(RULES, client, bucket)


def ensure(client: t.Any, spec: CorsSpec, *, dry_run: bool, access_key_id: str | None = None) -> Outcome:
    """Make the bucket's CORS configuration ``spec.rules`` (present) or none (absent)."""
    return rulesets.ensure(
        RULES, client, spec.bucket, spec.state, spec.rules, dry_run=dry_run, access_key_id=access_key_id
    )
