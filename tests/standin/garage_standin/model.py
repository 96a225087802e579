"""Helpers shared by the admin and S3 front ends of the stand-in.

Everything here operates on a :class:`~garage_standin.state.Store`. The caller
must hold ``store.lock`` (an RLock, so nesting is fine). Semantics follow
``garage-facts.md`` §3 (Garage v2.0.0 ``src/model/helper/{bucket,locked}.rs``).
Standard library only.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
import secrets
import time

from .state import Bucket, Key, Permission, Store

HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
KEY_ID_RE = re.compile(r"^GK[0-9a-f]{24}$")
_BUCKET_CHARS_RE = re.compile(r"^[a-z0-9.-]+$")


# --------------------------------------------------------------------------- ids


def new_bucket_id() -> str:
    """32 random bytes as 64 lowercase hex (Garage ``gen_uuid``)."""
    return secrets.token_hex(32)


def new_key_id() -> str:
    """``GK`` + 12 random bytes in lowercase hex (26 chars)."""
    return "GK" + secrets.token_hex(12)


def new_secret_key() -> str:
    """64 lowercase hex (32 random bytes)."""
    return secrets.token_hex(32)


def new_upload_id() -> str:
    return secrets.token_hex(32)


def short_id(hex_id: str) -> str:
    """Garage's Debug format of a Uuid: the first 16 hex characters."""
    return hex_id[:16]


def is_hex64(value: object) -> bool:
    return isinstance(value, str) and bool(HEX64_RE.match(value))


# ------------------------------------------------------------------ time format


def rfc3339(epoch: float | None) -> str | None:
    """RFC 3339 UTC with milliseconds, like chrono: ``2025-06-14T12:00:00.123Z``."""
    if epoch is None:
        return None
    d = _dt.datetime.fromtimestamp(epoch, tz=_dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def parse_rfc3339(value: str) -> float:
    """Parse an RFC 3339 timestamp into epoch seconds; ValueError if invalid."""
    if not isinstance(value, str) or "T" not in value.upper():
        raise ValueError("invalid RFC 3339 timestamp")
    v = value.strip()
    if v.endswith(("Z", "z")):
        v = v[:-1] + "+00:00"
    d = _dt.datetime.fromisoformat(v)
    if d.tzinfo is None:
        raise ValueError("timestamp without timezone")
    return d.timestamp()


# ----------------------------------------------------------------- bucket names


def is_valid_bucket_name(name: object, allow_punycode: bool = False) -> bool:
    """Garage ``is_valid_bucket_name`` (src/model/helper/bucket.rs)."""
    if not isinstance(name, str):
        return False
    if not (3 <= len(name) <= 63):
        return False
    if not _BUCKET_CHARS_RE.match(name):
        return False
    if name[0] in "-." or name[-1] in "-.":
        return False
    try:
        ipaddress.ip_address(name)
        return False
    except ValueError:
        pass
    if not allow_punycode and (name.startswith("xn--") or ".xn--" in name):
        return False
    return not name.endswith("-s3alias")


# ------------------------------------------------------------------ resolution


def live_bucket(store: Store, bucket_id: str | None) -> Bucket | None:
    if bucket_id is None:
        return None
    b = store.buckets.get(bucket_id)
    if b is None or b.deleted:
        return None
    return b


def live_key(store: Store, key_id: str | None) -> Key | None:
    if key_id is None:
        return None
    k = store.keys.get(key_id)
    if k is None or k.deleted:
        return None
    return k


def resolve_global_bucket(store: Store, name: str) -> Bucket | None:
    """Global alias, or full 64-hex id of a live bucket (``resolve_global_bucket_fast``)."""
    bid = store.global_aliases.get(name)
    if bid is not None:
        return live_bucket(store, bid)
    if is_hex64(name):
        return live_bucket(store, name)
    return None


def resolve_bucket_for_key(store: Store, name: str, key_id: str | None) -> Bucket | None:
    """Bucket name as seen by an S3 request signed by ``key_id``.

    A local alias of that key shadows a global alias of the same name; a full
    64-hex bucket id also resolves.
    """
    if key_id is not None:
        k = live_key(store, key_id)
        if k is not None and name in k.local_aliases:
            bid = k.local_aliases[name]
            if bid is not None:
                return live_bucket(store, bid)
    return resolve_global_bucket(store, name)


def key_permission(bucket: Bucket, key_id: str) -> Permission:
    """The key's permission on the bucket (all false when absent). Returns a copy."""
    p = bucket.authorized_keys.get(key_id)
    if p is None:
        return Permission()
    return Permission(p.read, p.write, p.owner)


# -------------------------------------------------------------------- counters


def bucket_counters(bucket: Bucket) -> dict[str, int]:
    objects = len(bucket.objects)
    size = sum(o.size for o in bucket.objects.values())
    parts = 0
    part_bytes = 0
    for up in bucket.uploads.values():
        parts += len(up.parts)
        part_bytes += sum(p[0] for p in up.parts.values())
    return {
        "objects": objects,
        "bytes": size,
        "unfinished_uploads": len(bucket.uploads),
        "unfinished_multipart_uploads": len(bucket.uploads),
        "unfinished_multipart_upload_parts": parts,
        "unfinished_multipart_upload_bytes": part_bytes,
    }


def bucket_is_empty(bucket: Bucket) -> bool:
    """Garage's emptiness test for deletion: no live object. Uploads don't count."""
    return not bucket.objects


# --------------------------------------------------------------------- aliases


def active_alias_count(store: Store, bucket: Bucket) -> int:
    """Global aliases + local aliases of live keys that currently point to the bucket."""
    n = sum(1 for a in bucket.global_aliases if store.global_aliases.get(a) == bucket.id)
    for key_id, alias in bucket.local_aliases:
        k = live_key(store, key_id)
        if k is not None and k.local_aliases.get(alias) == bucket.id:
            n += 1
    return n


def set_global_alias(store: Store, bucket: Bucket, alias: str) -> None:
    """No checks: the caller validated name and conflicts."""
    store.global_aliases[alias] = bucket.id
    if alias not in bucket.global_aliases:
        bucket.global_aliases.append(alias)
    mark_changed(store)


def unset_global_alias(store: Store, bucket: Bucket, alias: str) -> None:
    if store.global_aliases.get(alias) == bucket.id:
        del store.global_aliases[alias]
    if alias in bucket.global_aliases:
        bucket.global_aliases.remove(alias)
    mark_changed(store)


def set_local_alias(store: Store, bucket: Bucket, key: Key, alias: str) -> None:
    key.local_aliases[alias] = bucket.id
    if (key.id, alias) not in bucket.local_aliases:
        bucket.local_aliases.append((key.id, alias))
    mark_changed(store)


def unset_local_alias(store: Store, bucket: Bucket, key: Key, alias: str) -> None:
    """Leaves a tombstone (None) in the key's map, like Garage (see §3.2 quirk)."""
    if alias in key.local_aliases:
        key.local_aliases[alias] = None
    if (key.id, alias) in bucket.local_aliases:
        bucket.local_aliases.remove((key.id, alias))
    mark_changed(store)


# ------------------------------------------------------------ create / delete


def create_bucket(
    store: Store,
    *,
    global_alias: str | None = None,
    local_key: Key | None = None,
    local_alias: str | None = None,
    permission: Permission | None = None,
) -> Bucket:
    """Create a live bucket, optionally with a global alias and/or a local alias.

    No validation here (the caller checks names and conflicts and returns the
    right error). ``permission`` is granted to ``local_key`` when given and
    at least one flag is true.
    """
    bid = new_bucket_id()
    while bid in store.buckets:  # pragma: no cover - 256-bit collision
        bid = new_bucket_id()
    b = Bucket(id=bid, created=time.time())
    store.buckets[bid] = b
    if global_alias is not None:
        set_global_alias(store, b, global_alias)
    if local_key is not None and local_alias is not None:
        set_local_alias(store, b, local_key, local_alias)
    if local_key is not None and permission is not None and (
        permission.read or permission.write or permission.owner
    ):
        b.authorized_keys[local_key.id] = Permission(permission.read, permission.write, permission.owner)
    mark_changed(store)
    return b


def delete_bucket(store: Store, bucket: Bucket) -> None:
    """Purge permissions and every alias, then mark deleted (admin DeleteBucket step 3).

    The caller checks emptiness first. Object/upload metadata is dropped.
    """
    bucket.authorized_keys.clear()
    for key_id, alias in list(bucket.local_aliases):
        k = store.keys.get(key_id)
        if k is not None and k.local_aliases.get(alias) == bucket.id:
            k.local_aliases[alias] = None
    bucket.local_aliases.clear()
    for alias in list(bucket.global_aliases):
        if store.global_aliases.get(alias) == bucket.id:
            del store.global_aliases[alias]
    bucket.global_aliases.clear()
    bucket.uploads.clear()
    bucket.objects.clear()
    bucket.website_enabled = False
    bucket.deleted = True
    mark_changed(store)


def delete_key(store: Store, key: Key) -> None:
    """Admin DeleteKey: drop permissions and purge local aliases, no last-alias check."""
    for b in store.buckets.values():
        b.authorized_keys.pop(key.id, None)
        b.local_aliases = [(kid, a) for (kid, a) in b.local_aliases if kid != key.id]
    for alias in list(key.local_aliases):
        key.local_aliases[alias] = None
    key.deleted = True
    key.allow_create_bucket = False
    mark_changed(store)


# ----------------------------------------------------------------- persistence


def mark_changed(store: Store) -> None:
    """Tell the persistence layer (if any) that the store changed.

    Front ends call this after mutating metadata (objects, uploads, CORS...).
    Cheap: it only bumps a counter; the server flushes asynchronously.
    """
    store.generation += 1
    hook = store.on_change
    if hook is not None:
        hook()
