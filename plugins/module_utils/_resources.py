# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: this module_util is for the cellar.garage collection's own use and may
# change or disappear in any release.
"""Lookups, validation and views of Garage resources shared by the modules.

No Ansible here. Views turn Garage's camelCase Admin API answers into the
snake_case shapes that the modules return (the same shape in the state module
and its info module), with deterministic ordering so two runs diff cleanly.
Views never carry secrets.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageNotFound,
)

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

BUCKET_ID_RE = re.compile(r"^[0-9a-f]{64}$")
KEY_ID_RE = re.compile(r"^GK[0-9a-f]{24}$")
_MATCHING_KEYS_RE = re.compile(r"(\d+) matching keys")


class AmbiguousKeyName(ValueError):
    """Several Garage keys carry the same name (Garage does not keep names unique)."""

    def __init__(self, name: str, ids: list[str]) -> None:
        self.name = name
        self.ids = sorted(ids)
        super().__init__(
            f"Key name '{name}' is ambiguous: {len(ids)} keys carry it ({', '.join(self.ids)}). "
            "Address the key by id instead."
        )


# --------------------------------------------------------------------------- validation


def bucket_name_problem(name: str) -> str | None:
    """Return why ``name`` is not a valid Garage bucket alias, or None when it is.

    Garage's rule (src/model/helper/bucket.rs ``is_valid_bucket_name``): 3 to 63
    characters of ``[a-z0-9.-]``, not starting or ending with ``-`` or ``.``, not an
    IP address, no ``xn--`` prefix or ``.xn--`` part, no ``-s3alias`` suffix.
    """
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return "may only contain lowercase letters, digits, '.' and '-'"
    if name[0] in ".-" or name[-1] in ".-":
        return "must not start or end with '.' or '-'"
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return "must not be an IP address"
    if name.startswith("xn--") or ".xn--" in name:
        return "must not use punycode ('xn--')"
    if name.endswith("-s3alias"):
        return "must not end with '-s3alias'"
    return None


def is_bucket_id(value: str) -> bool:
    return bool(BUCKET_ID_RE.match(value))


def is_key_id(value: str) -> bool:
    return bool(KEY_ID_RE.match(value))


def reference_problem(
    *,
    bucket: str | None = None,
    bucket_id: str | None = None,
    access_key_id: str | None = None,
    access_key_name: str | None = None,
) -> str | None:
    """Why one of these references to a bucket or a key is malformed, or None.

    The one validation of the ``bucket``/``name``, ``bucket_id``/``id``, ``access_key_id`` and
    ``access_key_name`` options shared by the modules, so that they all refuse bad input
    before any call with the same words.
    """
    if bucket is not None:
        problem = bucket_name_problem(bucket)
        if problem:
            return f"Invalid bucket name '{bucket}': a bucket name {problem}"
    if bucket_id is not None and not is_bucket_id(bucket_id):
        return f"Invalid bucket id '{bucket_id}': expected 64 lowercase hexadecimal characters"
    if access_key_id is not None and not is_key_id(access_key_id):
        return (
            f"Invalid access key id '{access_key_id}': expected 'GK' followed by 24 lowercase "
            "hexadecimal characters"
        )
    if access_key_name is not None and not access_key_name.strip():
        return "access_key_name must not be empty"
    return None


# --------------------------------------------------------------------------- lookups


def find_bucket(
    client: GarageAdminClient, *, name: str | None = None, bucket_id: str | None = None
) -> dict[str, t.Any] | None:
    """One read: the raw GetBucketInfo answer for a global alias or a full id, or None."""
    try:
        if bucket_id is not None:
            return client.get_bucket_info(id=bucket_id)
        if name is not None:
            return client.get_bucket_info(global_alias=name)
    except GarageNotFound:
        return None
    raise ValueError("find_bucket needs name or bucket_id")


def find_key(
    client: GarageAdminClient,
    *,
    key_id: str | None = None,
    name: str | None = None,
    show_secret: bool = False,
) -> dict[str, t.Any] | None:
    """The raw GetKeyInfo answer for a key id or an exact (case-sensitive) name, or None.

    By name this costs one read in the common case: Garage's ``search`` matches an
    id prefix or a case-insensitive exact name and answers 400 ``<n> matching keys``
    unless exactly one key matches (no match: 400 ``0 matching keys`` before 2.3, 404
    ``NoSuchAccessKey`` since). Only when that answer is ambiguous, or matched
    something other than the exact name, do we list the keys to decide.
    Raises AmbiguousKeyName when several keys carry exactly ``name``.
    """
    if key_id is not None:
        try:
            return client.get_key_info(id=key_id, show_secret=show_secret)
        except GarageNotFound:
            return None
    if name is None:
        raise ValueError("find_key needs key_id or name")
    try:
        info = client.get_key_info(search=name, show_secret=show_secret)
    except GarageNotFound:
        return None  # Garage >= 2.3: no match is 404 NoSuchAccessKey
    except GarageBadRequest as exc:  # Garage < 2.3: "0 matching keys"; any version: "<n> matching keys"
        match = _MATCHING_KEYS_RE.search(exc.message or "")
        if not match:
            raise
        if match.group(1) == "0":
            return None
    else:
        if info.get("name") == name:
            return info
    # Ambiguous or inexact search result: decide on the full list (exact name only).
    ids = [k["id"] for k in client.list_keys() if k.get("name") == name]
    if not ids:
        return None
    if len(ids) > 1:
        raise AmbiguousKeyName(name, ids)
    return client.get_key_info(id=ids[0], show_secret=show_secret)


# --------------------------------------------------------------------------- views


def permissions_view(perms: dict[str, t.Any] | None) -> dict[str, bool]:
    perms = perms or {}
    return {flag: bool(perms.get(flag, False)) for flag in ("read", "write", "owner")}


def bucket_view(info: dict[str, t.Any]) -> dict[str, t.Any]:
    """Snake_case view of a GetBucketInfo answer (no secrets; sorted for stable diffs)."""
    website = info.get("websiteConfig") or {}
    quotas = info.get("quotas") or {}
    keys: list[dict[str, t.Any]] = []
    local_aliases: list[dict[str, str]] = []
    for k in info.get("keys") or []:
        aliases = sorted(k.get("bucketLocalAliases") or [])
        keys.append(
            {
                "access_key_id": k["accessKeyId"],
                "name": k.get("name"),
                "permissions": permissions_view(k.get("permissions")),
                "local_aliases": aliases,
            }
        )
        local_aliases.extend({"access_key_id": k["accessKeyId"], "alias": a} for a in aliases)
    keys.sort(key=lambda k: k["access_key_id"])
    local_aliases.sort(key=lambda a: (a["access_key_id"], a["alias"]))
    return {
        "id": info["id"],
        "created": info.get("created"),
        "global_aliases": sorted(info.get("globalAliases") or []),
        "local_aliases": local_aliases,
        "website": {
            "enabled": bool(info.get("websiteAccess")),
            "index_document": website.get("indexDocument"),
            "error_document": website.get("errorDocument"),
        },
        "quotas": {"max_size": quotas.get("maxSize"), "max_objects": quotas.get("maxObjects")},
        "objects": info.get("objects", 0),
        "bytes": info.get("bytes", 0),
        "unfinished_uploads": info.get("unfinishedUploads", 0),
        "unfinished_multipart_uploads": info.get("unfinishedMultipartUploads", 0),
        "unfinished_multipart_upload_parts": info.get("unfinishedMultipartUploadParts", 0),
        "unfinished_multipart_upload_bytes": info.get("unfinishedMultipartUploadBytes", 0),
        "keys": keys,
    }


def key_view(info: dict[str, t.Any]) -> dict[str, t.Any]:
    """Snake_case view of a GetKeyInfo answer. Never includes the secret."""
    buckets = [
        {
            "id": b["id"],
            "global_aliases": sorted(b.get("globalAliases") or []),
            "local_aliases": sorted(b.get("localAliases") or []),
            "permissions": permissions_view(b.get("permissions")),
        }
        for b in info.get("buckets") or []
    ]
    buckets.sort(key=lambda b: b["id"])
    return {
        "id": info.get("accessKeyId") or info.get("id"),
        "name": info.get("name"),
        "created": info.get("created"),
        "expiration": info.get("expiration"),
        "expired": bool(info.get("expired", False)),
        "permissions": {"create_bucket": bool((info.get("permissions") or {}).get("createBucket", False))},
        "buckets": buckets,
    }
