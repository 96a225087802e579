# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""One lookup per resource (bucket, key, admin token), and the list-then-read-each loop.

No Ansible here. Every function takes the client and returns Garage's raw answer (camelCase) or
``None`` when the resource does not exist; the views (``views.py``) turn answers into the
shapes the modules return. API errors propagate as :class:`GarageError` s.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageBadRequest,
    GarageNotFound,
)

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

AMBIGUOUS_NAME = "ambiguous_name"
_MATCHING_RE = re.compile(r"(\d+) matching")

Info = dict[str, t.Any]


class AmbiguousName(OperationError):
    """Several keys (or admin tokens) carry the same name; Garage does not keep names unique.

    ``ids`` are the sorted ids; the failure result carries them as ``key_ids`` / ``token_ids``.
    """

    def __init__(self, kind: str, name: str, ids: t.Sequence[str]) -> None:
        noun = {"key": ("Key", "keys", "key_ids"), "admin token": ("Admin token", "tokens", "token_ids")}[kind]
        self.name = name
        self.ids = sorted(ids)
        super().__init__(
            f"{noun[0]} name '{name}' is ambiguous: {len(self.ids)} {noun[1]} carry it ({', '.join(self.ids)}). "
            f"Address the {kind.split()[-1]} by id instead.",
            failure_reason=AMBIGUOUS_NAME,
            details={noun[2]: self.ids},
        )


#: Former names, kept for readability at call sites.
AmbiguousKeyName = AmbiguousName


def find_bucket(client: GarageAdminClient, *, name: str | None = None, bucket_id: str | None = None) -> Info | None:
    """One read: the GetBucketInfo answer for a global alias or a full id, or None."""
    if bucket_id is None and name is None:
        raise ValueError("find_bucket needs name or bucket_id")
    try:
        if bucket_id is not None:
            return t.cast(Info, client.get_bucket_info(id=bucket_id))
        return t.cast(Info, client.get_bucket_info(global_alias=name))
    except GarageNotFound:
        return None


def _search_by_name(
    search: t.Callable[[], t.Any],
    list_all: t.Callable[[], t.Any],
    name: str,
    *,
    kind: str,
    id_of: t.Callable[[Info], str | None],
) -> tuple[Info | None, bool]:
    """Garage's ``search`` then, only when needed, the list.

    ``search`` matches an id prefix or a case-insensitive exact name and answers 400
    ``<n> matching ...`` unless exactly one matches (404 for no match since Garage 2.3). Returns
    ``(info, from_list)``: the searched answer when it is exactly ``name``, else the one list entry
    carrying ``name``, else None. Raises :class:`AmbiguousName`.
    """
    try:
        info = search()
    except GarageNotFound:
        return None, False
    except GarageBadRequest as exc:
        match = _MATCHING_RE.search(exc.message or "")
        if not match:
            raise
        if match.group(1) == "0":
            return None, False
    else:
        if isinstance(info, dict) and info.get("name") == name and id_of(info):
            return t.cast(Info, info), False
    # Ambiguous or inexact search result: decide on the full list (exact name only).
    matches = [item for item in list_all() or [] if item.get("name") == name and id_of(item)]
    if len(matches) > 1:
        raise AmbiguousName(kind, name, [t.cast(str, id_of(item)) for item in matches])
    return (t.cast(Info, matches[0]), True) if matches else (None, False)


def find_key(
    client: GarageAdminClient,
    *,
    key_id: str | None = None,
    name: str | None = None,
    show_secret: bool = False,
) -> Info | None:
    """The GetKeyInfo answer for a key id or an exact (case-sensitive) name, or None.

    By name this costs one read in the common case. Raises :class:`AmbiguousName`.
    """
    if key_id is not None:
        try:
            return t.cast(Info, client.get_key_info(id=key_id, show_secret=show_secret))
        except GarageNotFound:
            return None
    if name is None:
        raise ValueError("find_key needs key_id or name")
    found, listed = _search_by_name(
        lambda: client.get_key_info(search=name, show_secret=show_secret),
        client.list_keys,
        name,
        kind="key",
        id_of=lambda item: item.get("accessKeyId") or item.get("id"),
    )
    if found is not None and listed:  # ListKeys entries carry only id and name
        return t.cast(Info, client.get_key_info(id=found["id"], show_secret=show_secret))
    return found


def find_token(client: GarageAdminClient, *, token_id: str | None = None, name: str | None = None) -> Info | None:
    """The admin token info for an id or an exact name, or None (one read in the common case).

    Tokens from Garage's configuration file have no id; a name lookup never returns them.
    Raises :class:`AmbiguousName`.
    """
    if token_id is not None:
        try:
            return t.cast(Info, client.get_admin_token_info(id=token_id))
        except GarageNotFound:
            return None
    if name is None:
        raise ValueError("find_token needs token_id or name")
    found, _listed = _search_by_name(  # ListAdminTokens entries are full token infos
        lambda: client.get_admin_token_info(search=name),
        client.list_admin_tokens,
        name,
        kind="admin token",
        id_of=lambda item: item.get("id"),
    )
    return found


def list_then_read_each(
    kind: str, list_all: t.Callable[[], t.Any], read: t.Callable[[str], t.Any], *, plural: str | None = None
) -> list[Info]:
    """The one list-then-read-each loop: list, then ``read(id)`` for each id in sorted order,
    skipping those deleted between the list and the read (404). Errors read ``Failed to list
    <kinds>`` / ``Failed to read <kind> '<id>'`` with ``failure_reason`` ``<kind>_read_failed``."""
    reason = f"{kind.replace(' ', '_')}_read_failed"
    with api_context("list", plural or f"{kind}s", failure_reason=reason):
        ids = sorted(item["id"] for item in list_all() or [] if item.get("id"))
    infos: list[Info] = []
    for item_id in ids:
        with api_context("read", kind, item_id, failure_reason=reason):
            try:
                infos.append(t.cast(Info, read(item_id)))
            except GarageNotFound:
                continue
    return infos


def read_all_buckets(client: GarageAdminClient) -> list[Info]:
    """ListBuckets, then GetBucketInfo for each (sorted by id; deleted meanwhile: skipped)."""
    return list_then_read_each("bucket", client.list_buckets, lambda i: client.get_bucket_info(id=i))


def read_all_keys(client: GarageAdminClient, *, show_secret: bool = False) -> list[Info]:
    """ListKeys, then GetKeyInfo for each (sorted by id; deleted meanwhile: skipped)."""
    return list_then_read_each("key", client.list_keys, lambda i: client.get_key_info(id=i, show_secret=show_secret))


def read_all_tokens(client: GarageAdminClient) -> list[Info]:
    """ListAdminTokens (full infos already), dynamic tokens only, sorted by id."""
    with api_context("list", "admin tokens", failure_reason="admin_token_read_failed"):
        tokens = client.list_admin_tokens() or []
    # Id-less entries are the daemon configuration's tokens, not cluster state.
    return sorted((tok for tok in tokens if tok.get("id")), key=lambda tok: tok["id"])
