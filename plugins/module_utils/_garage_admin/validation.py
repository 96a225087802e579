# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: this module_util is for the cellar.garage collection's own use and may
# change or disappear in any release.
"""Validation of the names and ids users give for Garage resources (before any call).

No Ansible here. One rule per thing, so every module refuses bad input with the same words.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t

BUCKET_ID_RE = re.compile(r"^[0-9a-f]{64}$")
KEY_ID_RE = re.compile(r"^GK[0-9a-f]{24}$")
TOKEN_ID_RE = re.compile(r"^[0-9a-f]{24}$")
KEY_SECRET_RE = re.compile(r"^[0-9a-fA-F]{64}$")
SCOPE_ITEM_RE = re.compile(r"^(\*|[A-Za-z][A-Za-z0-9]*)$")


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


def is_token_id(value: str) -> bool:
    return bool(TOKEN_ID_RE.match(value))


def key_id_problem(key_id: str | None, option: str = "id") -> str | None:
    if key_id is not None and not is_key_id(key_id):
        return f"{option} '{key_id}' is not a Garage key id (GK followed by 24 lowercase hexadecimal characters)"
    return None


def token_id_problem(token_id: str | None, option: str = "id") -> str | None:
    if token_id is not None and not is_token_id(token_id):
        return f"{option} '{token_id}' is not an admin token id (24 lowercase hexadecimal characters)"
    return None


def name_problem(name: str | None, option: str = "name") -> str | None:
    if name is not None and not name.strip():
        return f"{option} must not be empty"
    return None


def key_secret_problem(secret: str | None, option: str = "secret_access_key") -> str | None:
    """Never echoes the secret."""
    if secret is not None and not KEY_SECRET_RE.match(secret):
        return f"{option} must be exactly 64 hexadecimal characters"
    return None


def scope_problems(scope: t.Iterable[str] | None, option: str = "scope") -> list[str]:
    return [
        f"{option} entry '{item}' is neither '*' nor an Admin API endpoint name"
        for item in scope or []
        if not SCOPE_ITEM_RE.match(item or "")
    ]
