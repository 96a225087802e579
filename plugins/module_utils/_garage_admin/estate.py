# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A whole estate -- keys, buckets, local aliases, permissions, admin tokens -- converged in one pass.

No Ansible here. :func:`converge`:

1. **reads** the estate once (manifest-level reads: ListKeys + GetKeyInfo per declared key,
   ListBuckets + GetBucketInfo per bucket it needs, ListAdminTokens when tokens are involved);
2. **plans** every resource with the same operations as the per-resource modules, in dry-run,
   so that check mode returns the full plan and a bad entry fails before anything changes;
3. **applies** the planned changes in dependency order (keys, buckets, local aliases,
   permissions, then removals, then admin tokens), each with the per-resource operation.

The outcome's ``parts`` give one diff per changed resource, named as the user wrote it. New key
secrets and admin tokens are returned once in ``secrets`` (never in the diff). A failure half-way
stops, and the error carries ``applied`` / ``not_applied`` and the ``secrets`` of what was
created before it, so no created secret is ever lost.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import (
    aliases,
    buckets,
    keys,
    permissions,
    tokens,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    bucket_name_problem,
    name_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import (
    FLAGS,
    bucket_label,
    bucket_view,
    permissions_view,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

Info = dict[str, t.Any]
KINDS = ("keys", "buckets", "local_aliases", "permissions", "admin_tokens")
NONE = {flag: False for flag in FLAGS}


# --------------------------------------------------------------------------- the request


@dataclasses.dataclass(frozen=True)
class LocalAlias:
    alias: str
    bucket: str
    key: str
    state: str = "present"

    @property
    def label(self) -> str:
        return f"local alias '{self.alias}' of key '{self.key}' on bucket '{self.bucket}'"


@dataclasses.dataclass(frozen=True)
class Permission:
    bucket: str
    key: str
    #: flag -> wanted value; a flag not present is left as it is
    flags: t.Mapping[str, bool]
    state: str = "present"

    @property
    def label(self) -> str:
        return f"permissions of key '{self.key}' on bucket '{self.bucket}'"


@dataclasses.dataclass(frozen=True)
class EstateSpec:
    keys: tuple[keys.KeySpec, ...] = ()
    buckets: tuple[buckets.BucketSpec, ...] = ()
    local_aliases: tuple[LocalAlias, ...] = ()
    permissions: tuple[Permission, ...] = ()
    admin_tokens: tuple[tokens.TokenSpec, ...] = ()
    #: kinds whose undeclared resources are removed
    purge: frozenset[str] = frozenset()


def spec_from_params(params: t.Mapping[str, t.Any]) -> EstateSpec:
    """Validate every entry (all problems at once) before anything is read. Raises :class:`InputError`."""
    problems: list[str] = []

    def collect(kind: str, entries: t.Sequence[t.Mapping[str, t.Any]], build: t.Callable[..., t.Any]) -> list[t.Any]:
        built: list[t.Any] = []
        seen: dict[t.Any, int] = {}
        for index, entry in enumerate(entries or []):
            where = f"{kind}[{index}]"
            try:
                item = build(dict(entry))
            except OperationError as exc:
                problems.append(f"{where}: {exc.message.removeprefix('Invalid options: ')}")
                continue
            identity = _identity(item)
            if identity in seen:
                problems.append(f"{where}: declares {_describe(item)} again (also {kind}[{seen[identity]}])")
                continue
            seen[identity] = index
            built.append(item)
        return built

    key_specs = collect("keys", params.get("keys") or [], _key_spec)
    bucket_specs = collect("buckets", params.get("buckets") or [], _bucket_spec)
    alias_specs = collect("local_aliases", params.get("local_aliases") or [], _alias_spec)
    permission_specs = collect("permissions", params.get("permissions") or [], _permission_spec)
    token_specs = collect("admin_tokens", params.get("admin_tokens") or [], _token_spec)
    purge = params.get("purge") or {}
    if problems:
        raise InputError("Invalid estate: " + "; ".join(problems))
    return EstateSpec(
        keys=tuple(key_specs),
        buckets=tuple(bucket_specs),
        local_aliases=tuple(alias_specs),
        permissions=tuple(permission_specs),
        admin_tokens=tuple(token_specs),
        purge=frozenset(kind for kind in KINDS if purge.get(kind)),
    )


def _describe(item: t.Any) -> str:
    if isinstance(item, (LocalAlias, Permission)):
        return item.label
    noun = {"KeySpec": "key", "BucketSpec": "bucket", "TokenSpec": "admin token"}[type(item).__name__]
    return f"{noun} '{item.name}'"


def _identity(item: t.Any) -> t.Any:
    if isinstance(item, LocalAlias):
        return ("alias", item.alias, item.key)
    if isinstance(item, Permission):
        return ("permission", item.bucket, item.key)
    return (type(item).__name__, item.name)


def _key_spec(entry: dict[str, t.Any]) -> keys.KeySpec:
    if not entry.get("name"):
        raise InputError("a key needs a name")
    if entry.get("expiration") is not None and entry.get("never_expires"):
        raise InputError("expiration and never_expires are mutually exclusive")
    spec = keys.spec_from_params(entry)
    return dataclasses.replace(spec, state=entry.get("state") or "present")


def _bucket_spec(entry: dict[str, t.Any]) -> buckets.BucketSpec:
    if not entry.get("name"):
        raise InputError("a bucket needs a name")
    return buckets.spec_from_params({**entry, "id": None})


def _alias_spec(entry: dict[str, t.Any]) -> LocalAlias:
    for field in ("alias", "bucket", "key"):
        if not entry.get(field):
            raise InputError(f"a local alias needs '{field}'")
    for field in ("alias", "bucket"):
        problem = bucket_name_problem(entry[field])
        if problem:
            raise InputError(f"invalid {field} '{entry[field]}': a bucket name {problem}")
    return LocalAlias(entry["alias"], entry["bucket"], entry["key"], entry.get("state") or "present")


def _permission_spec(entry: dict[str, t.Any]) -> Permission:
    for field in ("bucket", "key"):
        if not entry.get(field):
            raise InputError(f"a permission needs '{field}'")
    problem = bucket_name_problem(entry["bucket"]) or name_problem(entry["key"], "key")
    if problem:
        raise InputError(f"invalid bucket '{entry['bucket']}': a bucket name {problem}")
    state = entry.get("state") or "present"
    if state == "absent":
        if any(entry.get(f) for f in FLAGS):
            raise InputError("state=absent denies every permission; remove read/write/owner: true")
        return Permission(entry["bucket"], entry["key"], dict(NONE), state)
    flags = {f: bool(entry[f]) for f in FLAGS if entry.get(f) is not None}
    if not flags:
        raise InputError("state=present needs at least one of read, write and owner")
    return Permission(entry["bucket"], entry["key"], flags, state)


def _token_spec(entry: dict[str, t.Any]) -> tokens.TokenSpec:
    if not entry.get("name"):
        raise InputError("an admin token needs a name")
    if entry.get("expiration") is not None and entry.get("never_expires"):
        raise InputError("expiration and never_expires are mutually exclusive")
    return tokens.spec_from_params(entry)


# --------------------------------------------------------------------------- one read of the estate


@dataclasses.dataclass
class Snapshot:
    """What the estate is now, from manifest-level reads."""

    #: key name -> ids (from ListKeys); key id -> GetKeyInfo
    key_ids: dict[str, list[str]]
    key_infos: dict[str, Info]
    key_names: dict[str, str]
    #: global alias -> bucket id (from ListBuckets); bucket id -> GetBucketInfo
    bucket_ids: dict[str, str]
    bucket_infos: dict[str, Info]
    all_bucket_ids: list[str]
    tokens: list[Info] | None = None


def read_snapshot(client: GarageAdminClient, spec: EstateSpec) -> Snapshot:
    with api_context("list", "keys", failure_reason="key_read_failed"):
        listed_keys = client.list_keys() or []
    key_ids: dict[str, list[str]] = {}
    key_names: dict[str, str] = {}
    for item in listed_keys:
        key_ids.setdefault(item.get("name") or "", []).append(item["id"])
        key_names[item["id"]] = item.get("name") or ""
    key_infos: dict[str, Info] = {}
    declared_ids = [ids[0] for k in spec.keys if len(ids := key_ids.get(t.cast(str, k.name)) or []) == 1]
    purged_ids = list(key_names) if "keys" in spec.purge else []
    for key_id in sorted(set(declared_ids) | set(purged_ids)):
        with api_context("read", "key", key_names.get(key_id) or key_id, failure_reason="key_read_failed"):
            key_infos[key_id] = t.cast(Info, client.get_key_info(id=key_id))

    with api_context("list", "buckets", failure_reason="bucket_read_failed"):
        listed_buckets = client.list_buckets() or []
    bucket_ids = {alias: b["id"] for b in listed_buckets for alias in b.get("globalAliases") or []}
    all_ids = sorted(b["id"] for b in listed_buckets)
    if spec.purge & {"buckets", "permissions", "local_aliases"}:
        wanted = set(all_ids)
    else:
        names = {b.name for b in spec.buckets} | {a.bucket for a in spec.local_aliases}
        names |= {p.bucket for p in spec.permissions}
        wanted = {bucket_ids[n] for n in names if n in bucket_ids}
    bucket_infos: dict[str, Info] = {}
    for bucket_id in sorted(wanted):
        with api_context("read", "bucket", bucket_id, failure_reason="bucket_read_failed"):
            bucket_infos[bucket_id] = t.cast(Info, client.get_bucket_info(id=bucket_id))

    snapshot = Snapshot(key_ids, key_infos, key_names, bucket_ids, bucket_infos, all_ids)
    if spec.admin_tokens or "admin_tokens" in spec.purge:
        with api_context("list", "admin tokens", failure_reason="admin_token_read_failed"):
            snapshot.tokens = [tok for tok in client.list_admin_tokens() or [] if tok.get("id")]
    return snapshot


# --------------------------------------------------------------------------- plan and apply


@dataclasses.dataclass
class _Item:
    """One resource of the estate: ``run(dry_run)`` plans or applies it."""

    kind: str
    label: str
    run: t.Callable[[bool], Outcome]
    planned: Outcome | None = None


class _Estate:
    def __init__(self, client: GarageAdminClient, spec: EstateSpec, snapshot: Snapshot) -> None:
        self.client = client
        self.spec = spec
        self.snap = snapshot
        #: names created (or to be created) by this run -> id (None in check mode)
        self.new_key_ids: dict[str, str | None] = {}
        self.new_bucket_ids: dict[str, str | None] = {}
        self.secrets: dict[str, dict[str, t.Any]] = {"keys": {}, "admin_tokens": {}}
        self.warnings: list[str] = []
        self.not_purged: list[dict[str, t.Any]] = []

    # ------------------------------------------------------------------ lookups in the snapshot

    def key_id(self, name: str) -> str | None:
        if name in self.new_key_ids:
            return self.new_key_ids[name]
        ids = self.snap.key_ids.get(name) or []
        if len(ids) > 1:
            raise OperationError(
                f"Key name '{name}' is ambiguous: {len(ids)} keys carry it ({', '.join(sorted(ids))}). "
                "Rename or delete the extra keys (cellar.garage.garage_key with id=...)",
                failure_reason="ambiguous_name",
                details={"key_ids": sorted(ids)},
            )
        return ids[0] if ids else None

    def bucket_id(self, name: str) -> str | None:
        if name in self.new_bucket_ids:
            return self.new_bucket_ids[name]
        return self.snap.bucket_ids.get(name)

    def known_key(self, name: str) -> bool:
        return name in self.new_key_ids or bool(self.snap.key_ids.get(name))

    def known_bucket(self, name: str) -> bool:
        return name in self.new_bucket_ids or name in self.snap.bucket_ids

    # ------------------------------------------------------------------ items

    def items(self) -> list[_Item]:
        spec = self.spec
        present_keys = [k for k in spec.keys if k.state == "present"]
        present_buckets = [b for b in spec.buckets if b.state == "present"]
        items = [_Item("keys", f"key '{k.name}'", self._key(k)) for k in present_keys]
        items += [_Item("buckets", f"bucket '{b.name}'", self._bucket(b)) for b in present_buckets]
        items += [_Item("local_aliases", a.label, self._alias(a)) for a in spec.local_aliases if a.state == "present"]
        items += [_Item("permissions", p.label, self._permission(p)) for p in spec.permissions]
        items += [_Item("local_aliases", a.label, self._alias(a)) for a in spec.local_aliases if a.state == "absent"]
        items += self._purge_aliases_and_permissions()
        items += [_Item("buckets", f"bucket '{b.name}'", self._bucket(b)) for b in spec.buckets if b.state == "absent"]
        items += self._purge_buckets()
        items += [_Item("keys", f"key '{k.name}'", self._key(k)) for k in spec.keys if k.state == "absent"]
        items += self._purge_keys()
        items += [_Item("admin_tokens", f"admin token '{tk.name}'", self._token(tk)) for tk in spec.admin_tokens]
        items += self._purge_tokens()
        return items

    def _key(self, spec: keys.KeySpec) -> t.Callable[[bool], Outcome]:
        def run(dry_run: bool) -> Outcome:
            key_id = self.key_id(t.cast(str, spec.name))
            info = self.snap.key_infos.get(key_id) if key_id else None
            if spec.state == "absent":
                return keys.ensure_absent(self.client, spec, info, dry_run=dry_run)
            outcome = keys.ensure_present(self.client, spec, info, dry_run=dry_run)
            if info is None:
                view = outcome.result.get("key") or {}
                self.new_key_ids[t.cast(str, spec.name)] = view.get("id")
                secret = outcome.result.get("secret_access_key")
                if secret:
                    self.secrets["keys"][t.cast(str, spec.name)] = {
                        "access_key_id": view.get("id"),
                        "secret_access_key": secret,
                    }
            return outcome

        return run

    def _bucket(self, spec: buckets.BucketSpec) -> t.Callable[[bool], Outcome]:
        def run(dry_run: bool) -> Outcome:
            name = t.cast(str, spec.name)
            bucket_id = self.bucket_id(name)
            info = self.snap.bucket_infos.get(bucket_id) if bucket_id else None
            if spec.state == "absent":
                return buckets.ensure_absent(self.client, spec, info, dry_run=dry_run)
            outcome = buckets.ensure_present(self.client, spec, info, dry_run=dry_run)
            if info is None:
                self.new_bucket_ids[name] = (outcome.result.get("bucket") or {}).get("id")
            return outcome

        return run

    def _alias(self, entry: LocalAlias) -> t.Callable[[bool], Outcome]:
        spec = aliases.AliasSpec(entry.alias, aliases.BucketRef(name=entry.bucket), aliases.KeyRef(name=entry.key))
        spec = dataclasses.replace(spec, state=entry.state)

        def run(dry_run: bool) -> Outcome:
            key_id, bucket_id = self.key_id(entry.key), self.bucket_id(entry.bucket)
            wanted = entry.state == "present"
            if not self.known_key(entry.key) or not self.known_bucket(entry.bucket):
                if wanted:
                    missing = "key" if not self.known_key(entry.key) else "bucket"
                    raise OperationError(
                        f"{entry.label}: the {missing} '{entry.key if missing == 'key' else entry.bucket}' is not "
                        "in the cluster nor in this estate",
                        failure_reason=f"{missing}_not_found",
                    )
                return aliases.finish(spec, bucket_id, key_id, False, False)
            info = self.snap.bucket_infos.get(bucket_id or "")
            has = info is not None and any(
                k.get("accessKeyId") == key_id and entry.alias in (k.get("bucketLocalAliases") or [])
                for k in info.get("keys") or []
            )
            if wanted == has:
                return aliases.finish(spec, bucket_id, key_id, has, has)
            if wanted:
                key_info = self.snap.key_infos.get(key_id or "") or {}
                for other in key_info.get("buckets") or []:
                    if other.get("id") != bucket_id and entry.alias in (other.get("localAliases") or []):
                        raise OperationError(
                            f"Local alias '{entry.alias}' of key '{entry.key}' already points to another bucket "
                            f"({other.get('id')}); remove it from that bucket first",
                            failure_reason=buckets.ALIAS_TAKEN,
                        )
                if not dry_run:
                    with api_context("add local alias to", "bucket", entry.bucket, failure_reason="alias_add_failed"):
                        self.client.add_bucket_alias(
                            {"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": entry.alias}
                        )
                return aliases.finish(spec, bucket_id, key_id, False, True)
            if info is not None and buckets.alias_count(info) <= 1:
                raise buckets.last_alias_error(entry.alias, entry.bucket)
            if not dry_run:
                with api_context(
                    "remove local alias from", "bucket", entry.bucket, failure_reason="alias_remove_failed"
                ):
                    self.client.remove_bucket_alias(
                        {"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": entry.alias}
                    )
            return aliases.finish(spec, bucket_id, key_id, True, False)

        return run

    def _permission(self, entry: Permission) -> t.Callable[[bool], Outcome]:
        spec = permissions.PermissionSpec(
            aliases.BucketRef(name=entry.bucket), aliases.KeyRef(name=entry.key), entry.flags, entry.state
        )

        def run(dry_run: bool) -> Outcome:
            key_id, bucket_id = self.key_id(entry.key), self.bucket_id(entry.bucket)
            if not self.known_key(entry.key) or not self.known_bucket(entry.bucket):
                if entry.state == "present":
                    missing = "key" if not self.known_key(entry.key) else "bucket"
                    raise OperationError(
                        f"{entry.label}: the {missing} '{entry.key if missing == 'key' else entry.bucket}' is not "
                        "in the cluster nor in this estate",
                        failure_reason=f"{missing}_not_found",
                    )
                return permissions.finish(spec, bucket_id, key_id, NONE, NONE)
            current = self._flags(bucket_id, key_id)
            if key_id is None or bucket_id is None:  # created by this run, in check mode: nothing to read
                desired = {f: spec.flags.get(f, current[f]) for f in FLAGS}
                return permissions.finish(spec, bucket_id, key_id, current, desired)
            return permissions.apply(self.client, spec, bucket_id, key_id, current, dry_run=dry_run)

        return run

    def _flags(self, bucket_id: str | None, key_id: str | None) -> dict[str, bool]:
        info = self.snap.bucket_infos.get(bucket_id or "")
        for entry in (info or {}).get("keys") or []:
            if entry.get("accessKeyId") == key_id:
                return permissions_view(entry.get("permissions"))
        return dict(NONE)

    def _token(self, spec: tokens.TokenSpec) -> t.Callable[[bool], Outcome]:
        def run(dry_run: bool) -> Outcome:
            matches = [tok for tok in self.snap.tokens or [] if tok.get("name") == spec.name]
            if len(matches) > 1:
                ids = sorted(tok["id"] for tok in matches)
                raise OperationError(
                    f"Admin token name '{spec.name}' is ambiguous: {len(ids)} tokens carry it ({', '.join(ids)})",
                    failure_reason="ambiguous_name",
                    details={"token_ids": ids},
                )
            info = matches[0] if matches else None
            if spec.state == "absent":
                return tokens.ensure_absent(self.client, spec, info, dry_run=dry_run)
            if info is not None:
                return tokens.update(self.client, spec, info, dry_run=dry_run)
            outcome = tokens.create(self.client, spec, dry_run=dry_run)
            if outcome.result.get("secret_token"):
                self.secrets["admin_tokens"][t.cast(str, spec.name)] = {
                    "id": (outcome.result.get("token") or {}).get("id"),
                    "secret_token": outcome.result["secret_token"],
                }
            return outcome

        return run

    # ------------------------------------------------------------------ purge

    def _purge_aliases_and_permissions(self) -> list[_Item]:
        items: list[_Item] = []
        declared_perms = {(p.bucket, p.key) for p in self.spec.permissions}
        declared_aliases = {(a.alias, a.key) for a in self.spec.local_aliases}
        for bucket_id in self.snap.all_bucket_ids:
            info = self.snap.bucket_infos.get(bucket_id)
            if info is None:
                continue
            names = list(info.get("globalAliases") or [])
            label = bucket_label(bucket_view(info))
            for entry in info.get("keys") or []:
                key_name = entry.get("name") or self.snap.key_names.get(entry.get("accessKeyId") or "", "")
                if "local_aliases" in self.spec.purge:
                    for alias in entry.get("bucketLocalAliases") or []:
                        if (alias, key_name) not in declared_aliases:
                            items.append(self._purge_alias(alias, label, bucket_id, entry["accessKeyId"], key_name))
                flags = permissions_view(entry.get("permissions"))
                declared = any((n, key_name) in declared_perms for n in names)
                if "permissions" in self.spec.purge and any(flags.values()) and not declared:
                    entry_spec = Permission(label, key_name or entry["accessKeyId"], dict(NONE), "absent")
                    items.append(
                        _Item("permissions", entry_spec.label, self._purge_permission(entry_spec, bucket_id, entry))
                    )
        return items

    def _purge_alias(self, alias: str, bucket: str, bucket_id: str, key_id: str, key_name: str) -> _Item:
        entry = LocalAlias(alias, bucket, key_name or key_id, "absent")
        spec = aliases.AliasSpec(alias, aliases.BucketRef(name=bucket), aliases.KeyRef(name=entry.key), "absent")

        def run(dry_run: bool) -> Outcome:
            info = self.snap.bucket_infos[bucket_id]
            if buckets.alias_count(info) <= 1:
                self.not_purged.append(
                    {
                        "resource": "local_alias",
                        "alias": alias,
                        "bucket_id": bucket_id,
                        "reason": "it is the bucket's last alias",
                    }
                )
                return aliases.finish(spec, bucket_id, key_id, True, True)
            if not dry_run:
                with api_context("remove local alias from", "bucket", bucket, failure_reason="alias_remove_failed"):
                    self.client.remove_bucket_alias({"bucketId": bucket_id, "accessKeyId": key_id, "localAlias": alias})
            return aliases.finish(spec, bucket_id, key_id, True, False)

        return _Item("local_aliases", entry.label, run)

    def _purge_permission(self, entry: Permission, bucket_id: str, key_entry: Info) -> t.Callable[[bool], Outcome]:
        spec = permissions.PermissionSpec(
            aliases.BucketRef(name=entry.bucket), aliases.KeyRef(name=entry.key), entry.flags, "absent"
        )
        current = permissions_view(key_entry.get("permissions"))
        return lambda dry_run: permissions.apply(
            self.client, spec, bucket_id, key_entry["accessKeyId"], current, dry_run=dry_run
        )

    def _purge_buckets(self) -> list[_Item]:
        if "buckets" not in self.spec.purge:
            return []
        declared = {b.name for b in self.spec.buckets}
        items = []
        for bucket_id in self.snap.all_bucket_ids:
            info = self.snap.bucket_infos.get(bucket_id)
            if info is None or declared & set(info.get("globalAliases") or []):
                continue
            label = bucket_label(bucket_view(info))
            items.append(_Item("buckets", f"bucket '{label}'", self._purge_bucket(label, info)))
        return items

    def _purge_bucket(self, label: str, info: Info) -> t.Callable[[bool], Outcome]:
        spec = buckets.BucketSpec(bucket_id=info["id"], state="absent")

        def keep(objects: int | str) -> Outcome:
            self.not_purged.append(
                {
                    "resource": "bucket",
                    "bucket_id": info["id"],
                    "name": label,
                    "reason": f"it is not empty ({objects} objects)",
                }
            )
            self.warnings.append(f"Bucket '{label}' is not declared but not empty ({objects} objects): kept")
            view = bucket_view(info)
            return Outcome.unchanged(buckets.bucket_managed(view), bucket=view)

        def run(dry_run: bool) -> Outcome:
            objects = int(info.get("objects") or 0)
            if objects > 0:
                return keep(objects)
            try:
                return buckets.ensure_absent(self.client, spec, info, dry_run=dry_run)
            except OperationError as exc:
                # Garage's object counters lag behind: it may still refuse a bucket that looked empty.
                if exc.failure_reason != buckets.BUCKET_NOT_EMPTY:
                    raise
                return keep("some")

        return run

    def _purge_keys(self) -> list[_Item]:
        if "keys" not in self.spec.purge:
            return []
        declared = {k.name for k in self.spec.keys}
        items = []
        for name, ids in sorted(self.snap.key_ids.items()):
            if name in declared:
                continue
            for key_id in ids:
                spec = keys.KeySpec(key_id=key_id, name=name, state="absent")
                info = self.snap.key_infos.get(key_id) or {"accessKeyId": key_id, "name": name}
                items.append(_Item("keys", f"key '{name}' ({key_id})", self._purge_key(spec, info)))
        return items

    def _purge_key(self, spec: keys.KeySpec, info: Info) -> t.Callable[[bool], Outcome]:
        return lambda dry_run: keys.ensure_absent(self.client, spec, info, dry_run=dry_run)

    def _purge_tokens(self) -> list[_Item]:
        if "admin_tokens" not in self.spec.purge:
            return []
        declared = {tk.name for tk in self.spec.admin_tokens}
        own = self.client.token_id()
        items = []
        for info in self.snap.tokens or []:
            if info.get("name") in declared:
                continue
            if info.get("id") == own:
                self.warnings.append(f"Admin token '{info.get('name')}' is not declared, but this run uses it: kept")
                continue
            spec = tokens.TokenSpec(token_id=info["id"], name=info.get("name"), state="absent")
            items.append(
                _Item("admin_tokens", f"admin token '{info.get('name')}' ({info['id']})", self._purge_token(spec, info))
            )
        return items

    def _purge_token(self, spec: tokens.TokenSpec, info: Info) -> t.Callable[[bool], Outcome]:
        return lambda dry_run: tokens.ensure_absent(self.client, spec, info, dry_run=dry_run)


# --------------------------------------------------------------------------- converge


def converge(client: GarageAdminClient, spec: EstateSpec, *, dry_run: bool) -> Outcome:
    """Read, plan (all of it, in dry-run), then -- unless ``dry_run`` -- apply what changes, in order."""
    estate = _Estate(client, spec, read_snapshot(client, spec))
    items = estate.items()
    # Plan: every item in dry-run. Planning a key or bucket that does not exist yet records its
    # (future) name with id None, so the items that depend on it plan against "new".
    for item in items:
        item.planned = item.run(True)
    changes = [item for item in items if t.cast(Outcome, item.planned).changed]
    if not dry_run and changes:
        # What planning learnt about kept resources (not_purged, warnings) stays: those items are
        # unchanged, so they do not run again.
        estate.new_key_ids.clear()
        estate.new_bucket_ids.clear()
        done: list[_Item] = []
        for item in items:
            if not t.cast(Outcome, item.planned).changed:
                continue
            try:
                item.planned = item.run(False)
            except OperationError as exc:
                rest = [c for c in changes if c is not item and c not in done]
                raise _incomplete(exc, item, done, rest, estate) from exc
            done.append(item)
    return _result(items, estate, dry_run)


def _incomplete(
    exc: OperationError, failed: _Item, done: list[_Item], rest: list[_Item], estate: _Estate
) -> OperationError:
    applied = [item.label for item in done]
    error = OperationError(
        f"The estate was applied only in part: {failed.label} failed: {exc.message}. "
        f"Applied before the failure: {len(applied)} change(s); not applied: {len(rest)} change(s) "
        "(see applied / not_applied). Fix the cause and run again: what is done stays done.",
        failure_reason=exc.failure_reason,
        changed=bool(applied) or exc.changed,
        manual_cleanup_required=exc.manual_cleanup_required,
        details={
            **exc.details,
            "failed_resource": failed.label,
            "applied": applied,
            "not_applied": [item.label for item in rest],
            "secrets": estate.secrets,
        },
    )
    return error


def _result(items: list[_Item], estate: _Estate, dry_run: bool) -> Outcome:
    outcomes = [t.cast(Outcome, item.planned) for item in items]
    before: dict[str, dict[str, t.Any]] = {kind: {} for kind in KINDS}
    after: dict[str, dict[str, t.Any]] = {kind: {} for kind in KINDS}
    plan: dict[str, list[dict[str, t.Any]]] = {kind: [] for kind in KINDS}
    for item, outcome in zip(items, outcomes):
        before[item.kind][item.label] = dict(outcome.before or ABSENT)
        after[item.kind][item.label] = dict(outcome.after or ABSENT)
        if outcome.changed:
            plan[item.kind].append({"resource": item.label, "action": _action(outcome)})
    warnings = [w for o in outcomes for w in o.warnings] + estate.warnings
    result: dict[str, t.Any] = {
        "changes": plan,
        "counts": {kind: len(plan[kind]) for kind in KINDS},
        "not_purged": estate.not_purged,
    }
    if not dry_run:
        result["secrets"] = estate.secrets
    return Outcome(
        before=before,
        after=after,
        result=result,
        warnings=tuple(warnings),
        parts=tuple(outcomes),
        label="estate",
    )


def _action(outcome: Outcome) -> str:
    if dict(outcome.before or ABSENT) == ABSENT:
        return "create"
    if dict(outcome.after or ABSENT) == ABSENT:
        return "delete"
    return "update"


__all__ = ["EstateSpec", "converge", "read_snapshot", "spec_from_params"]
