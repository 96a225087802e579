# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The key layout of an artifact store inside a bucket. Pure: no I/O, no Ansible.

Everything lives under one ``prefix`` (``artifacts`` by default; ``""`` is the bucket root)::

    <prefix>/blobs/<algorithm>/<hex[0:2]>/<hex[2:4]>/<hex>   file contents, by digest, shared
    <prefix>/packages/<package_id>.json                      one canonical manifest per package
    <prefix>/retention/<package_id>.json                     expiry, holds, history of a package
    <prefix>/inflight/<uuid>.json                            intents of pushes / retention changes
    <prefix>/gc/<uuid>.json                                  the lock of a running collector

See docs/artifacts.md for the protocol between push, retention and the collector.
"""

from __future__ import annotations

import re
import typing as t

DEFAULT_PREFIX = "artifacts"
ALGORITHMS = ("sha256", "blake3")
HEX_LENGTH = {"sha256": 64, "blake3": 64}
#: A package id is the sha256 (hex) of the package's identity (see manifest.py).
PACKAGE_ID_RE = re.compile(r"^[0-9a-f]{64}$")
_HEX_RE = re.compile(r"^[0-9a-f]+$")
_UUID_RE = re.compile(r"^[0-9a-f]{32}$")

BLOBS = "blobs"
PACKAGES = "packages"
RETENTION = "retention"
INFLIGHT = "inflight"
GC = "gc"


def normalize_prefix(prefix: str | None) -> str:
    """``prefix`` without leading/trailing slashes; raises ValueError on ``..`` or empty parts."""
    value = (prefix if prefix is not None else DEFAULT_PREFIX).strip("/")
    if value and any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError(f"prefix '{prefix}' has an empty, '.' or '..' part")
    return value


def _root(prefix: str) -> str:
    return f"{prefix}/" if prefix else ""


def area(prefix: str, name: str) -> str:
    """The listing prefix of one area (``artifacts/packages/``)."""
    return f"{_root(prefix)}{name}/"


def blob_key(prefix: str, algorithm: str, hexdigest: str) -> str:
    if algorithm not in ALGORITHMS or len(hexdigest) != HEX_LENGTH[algorithm] or not _HEX_RE.match(hexdigest):
        raise ValueError(f"not a {algorithm} digest: {hexdigest!r}")
    return f"{area(prefix, BLOBS)}{algorithm}/{hexdigest[0:2]}/{hexdigest[2:4]}/{hexdigest}"


def blob_key_for(prefix: str, digest: str) -> str:
    """The key of a blob given as ``<algorithm>:<hex>``."""
    algorithm, hexdigest = split_digest(digest)
    return blob_key(prefix, algorithm, hexdigest)


def split_digest(digest: str) -> tuple[str, str]:
    algorithm, sep, hexdigest = str(digest).partition(":")
    if not sep or algorithm not in ALGORITHMS:
        raise ValueError(f"not a digest of the form <algorithm>:<hex>: {digest!r}")
    return algorithm, hexdigest


def digest_of_blob_key(prefix: str, key: str) -> str | None:
    """``<algorithm>:<hex>`` of a blob key, or None when the key is not a well-formed blob key."""
    root = area(prefix, BLOBS)
    if not key.startswith(root):
        return None
    parts = key[len(root) :].split("/")
    if len(parts) != 4 or parts[0] not in ALGORITHMS:
        return None
    algorithm, a, b, hexdigest = parts
    if (
        len(hexdigest) != HEX_LENGTH[algorithm]
        or not _HEX_RE.match(hexdigest)
        or (a, b) != (hexdigest[0:2], hexdigest[2:4])
    ):
        return None
    return f"{algorithm}:{hexdigest}"


def manifest_key(prefix: str, package_id: str) -> str:
    check_package_id(package_id)
    return f"{area(prefix, PACKAGES)}{package_id}.json"


def retention_key(prefix: str, package_id: str) -> str:
    check_package_id(package_id)
    return f"{area(prefix, RETENTION)}{package_id}.json"


def _id_of(prefix: str, key: str, name: str, pattern: t.Pattern[str]) -> str | None:
    root = area(prefix, name)
    if not key.startswith(root) or not key.endswith(".json"):
        return None
    value = key[len(root) : -len(".json")]
    return value if pattern.match(value) else None


def package_id_of_manifest_key(prefix: str, key: str) -> str | None:
    return _id_of(prefix, key, PACKAGES, PACKAGE_ID_RE)


def package_id_of_retention_key(prefix: str, key: str) -> str | None:
    return _id_of(prefix, key, RETENTION, PACKAGE_ID_RE)


def inflight_key(prefix: str, token: str) -> str:
    if not _UUID_RE.match(token):
        raise ValueError(f"not an intent token: {token!r}")
    return f"{area(prefix, INFLIGHT)}{token}.json"


def gc_lock_key(prefix: str, token: str) -> str:
    if not _UUID_RE.match(token):
        raise ValueError(f"not a lock token: {token!r}")
    return f"{area(prefix, GC)}{token}.json"


def token_of(prefix: str, key: str, name: str) -> str | None:
    return _id_of(prefix, key, name, _UUID_RE)


def check_package_id(package_id: str) -> str:
    if not isinstance(package_id, str) or not PACKAGE_ID_RE.match(package_id):
        raise ValueError(f"not a package id (64 lowercase hex digits): {package_id!r}")
    return package_id


def check_relative_path(path: str) -> str:
    """A file path inside a package: relative, '/'-separated, no empty, '.' or '..' part."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or "\x00" in path:
        raise ValueError(f"not a relative path: {path!r}")
    if any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"path {path!r} has an empty, '.' or '..' part")
    return path
