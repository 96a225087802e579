# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Out-of-band state of Garage (and OpenBao secrets) as a set of facts, for exact before/after checks.

A fact is a tuple: ``("bucket", id)``, ``("key", id)``, ``("global_alias", bucket, alias)``,
``("local_alias", bucket, key, alias)``, ``("permission", bucket, key, flags)``,
``("openbao_secret", mount, path, fingerprint)``. :func:`left_over` reduces a difference to what a
human would clean up (a leftover key carries its own permissions and aliases), in the shape of the
``manual_cleanup_required`` entries of the orchestrations (:func:`manual_facts`).
"""

from __future__ import annotations

import hashlib
import json
import typing as t

Fact = tuple[t.Any, ...]


def garage_facts(state: t.Mapping[str, t.Any]) -> set[Fact]:
    """Facts of a ``garage.state()`` dump (buckets, aliases, permissions, keys)."""
    facts: set[Fact] = set()
    for bucket in state["buckets"]:
        bid = bucket["id"]
        facts.add(("bucket", bid))
        facts.update(("global_alias", bid, alias) for alias in bucket.get("globalAliases") or [])
        for key in bucket.get("keys") or []:
            kid = key["accessKeyId"]
            facts.update(("local_alias", bid, kid, alias) for alias in key.get("bucketLocalAliases") or [])
            flags = tuple(sorted(f for f, on in (key.get("permissions") or {}).items() if on))
            if flags:
                facts.add(("permission", bid, kid, flags))
    facts.update(("key", key["accessKeyId"]) for key in state["keys"])
    return facts


def secret_fact(mount: str, path: str, stored: t.Mapping[str, t.Any] | None) -> set[Fact]:
    """One fact for an OpenBao secret as read out of band (``{"data", "version"}``; none when absent).

    Only the data counts: KV versions only ever grow, so a rollback restores the data as a new version."""
    if stored is None:
        return set()
    digest = hashlib.sha256(json.dumps(stored["data"], sort_keys=True).encode()).hexdigest()[:16]
    return {("openbao_secret", mount, path, digest)}


def left_over(before: set[Fact], after: set[Fact]) -> set[Fact]:
    """What differs, as a human would clean it up: whole keys and buckets (their aliases and
    permissions are part of them), aliases, and OpenBao secrets by path."""
    diff = before ^ after
    whole = {f[1] for f in diff if f[0] in ("bucket", "key")}
    out: set[Fact] = set()
    for fact in diff:
        kind = fact[0]
        if kind in ("bucket", "key"):
            out.add(fact)
        elif kind == "openbao_secret":
            out.add(fact[:3])
        elif not (set(fact[1:3]) & whole):
            out.add(fact)
    return out


def manual_facts(entries: t.Iterable[t.Mapping[str, t.Any]]) -> set[Fact]:
    """The facts named by ``manual_cleanup_required`` entries."""
    out: set[Fact] = set()
    for entry in entries:
        kind = entry["resource"]
        if kind == "key":
            out.add(("key", entry["access_key_id"]))
        elif kind == "bucket":
            out.add(("bucket", entry["bucket_id"]))
        elif kind == "global_alias":
            out.add(("global_alias", entry["bucket_id"], entry["alias"]))
        elif kind == "local_alias":
            out.add(("local_alias", entry["bucket_id"], entry["access_key_id"], entry["alias"]))
        elif kind == "openbao_secret":
            out.add(("openbao_secret", entry["mount"], entry["path"]))
        else:
            raise AssertionError(f"unknown resource in manual_cleanup_required: {entry}")
    return out


def ids_in(facts: t.Iterable[Fact]) -> set[str]:
    """Every bucket and key id the facts mention."""
    return {x for f in facts if f[0] != "openbao_secret" for x in f[1:3] if isinstance(x, str)}
