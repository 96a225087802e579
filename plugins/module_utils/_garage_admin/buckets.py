# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Bucket operations: read, plan and apply a bucket's global aliases, website and quotas.

No Ansible here. ``ensure(client, spec, dry_run=...)`` returns an :class:`Outcome` whose
before/after are :func:`views.bucket_managed` and whose result is ``{"bucket": bucket_view}``.
Creating a bucket is a two-step saga (create, then configure): when the configuration fails the
bucket created by the run is deleted again, or reported in ``manual_cleanup_required``.
"""

from __future__ import annotations

import copy
import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    OUTCOME_UNKNOWN,
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageConflict
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import find_bucket, read_all_buckets
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.validation import (
    bucket_name_problem,
    reference_problem,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import (
    bucket_managed,
    bucket_view,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, Undo
from ansible_collections.cellar.garage.plugins.module_utils._saga import Saga, Step, StepContext
from ansible_collections.cellar.garage.plugins.module_utils._sizes import parse_size

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

Info = dict[str, t.Any]


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


#: "Leave this quota as it is" (``None`` clears a quota).
UNSET: t.Any = _Unset()
DEFAULT_INDEX_DOCUMENT = "index.html"
#: Garage stores quotas as unsigned 64-bit integers.
MAX_QUOTA = 2**64 - 1

BUCKET_NOT_FOUND = "bucket_not_found"
BUCKET_NOT_EMPTY = "bucket_not_empty"
ALIAS_TAKEN = "alias_taken"
LAST_ALIAS = "last_alias"


# --------------------------------------------------------------------------- the request


@dataclasses.dataclass(frozen=True)
class BucketSpec:
    """What the user asked for; ``None`` (or :data:`UNSET` for quotas) leaves a setting untouched."""

    name: str | None = None
    bucket_id: str | None = None
    state: str = "present"
    global_aliases: tuple[str, ...] | None = None
    purge_global_aliases: bool = False
    #: ``{"enabled": bool, "index_document": str|None, "error_document": str|None}``
    website: t.Mapping[str, t.Any] | None = None
    #: :data:`UNSET` keeps the current value, ``None`` removes the limit, an int sets it.
    max_size: t.Any = UNSET
    max_objects: t.Any = UNSET

    @property
    def label(self) -> str:
        return self.name if self.name is not None else t.cast(str, self.bucket_id)

    @property
    def sets_quotas(self) -> bool:
        return self.max_size is not UNSET or self.max_objects is not UNSET


def _is_none_word(value: t.Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("none", "unlimited")


def _quota_value(value: t.Any, explicit: bool, parse: t.Callable[[t.Any], int]) -> t.Any:
    if value is None:
        return None if explicit else UNSET
    if _is_none_word(value):
        return None
    number = parse(value)
    if number > MAX_QUOTA:
        raise ValueError(f"{value!r} is larger than Garage's limit of {MAX_QUOTA} (2^64 - 1)")
    return number


def parse_max_objects(value: t.Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"Invalid number of objects {value!r}: expected a whole number or 'none'")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value == int(value):
        number = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError(f"Invalid number of objects {value!r}: expected a whole number or 'none'")
    if number < 0:
        raise ValueError(f"Invalid number of objects {value!r}: must not be negative")
    return number


def spec_from_params(params: t.Mapping[str, t.Any], explicit_quota_keys: t.Collection[str] = ()) -> BucketSpec:
    """Validate and normalise ``garage_bucket``'s options (also used by ``garage_estate``).

    ``explicit_quota_keys`` names the ``quotas`` suboptions the user actually wrote, so that an
    explicit ``null`` (remove the limit) can be told from an unset suboption (keep it).
    Raises :class:`InputError`.
    """
    name = params.get("name")
    bucket_id = params.get("id")
    problem = reference_problem(bucket=name, bucket_id=bucket_id)
    if problem:
        raise InputError(problem)

    aliases = params.get("global_aliases")
    cleaned: tuple[str, ...] | None = None
    if aliases is not None:
        seen: list[str] = []
        for alias in aliases:
            problem = bucket_name_problem(alias)
            if problem:
                raise InputError(f"Invalid global alias '{alias}' in global_aliases: a bucket name {problem}")
            if alias not in seen:
                seen.append(alias)
        cleaned = tuple(seen)

    website = params.get("website")
    if website is not None:
        website = dict(website)
        website.setdefault("enabled", True)
        if not website["enabled"]:
            given = [k for k in ("index_document", "error_document") if website.get(k) is not None]
            if given:
                raise InputError(
                    f"website.enabled is false but website.{given[0]} is set: Garage refuses documents "
                    "when disabling website access; remove " + " and ".join(f"website.{g}" for g in given)
                )
        elif website.get("index_document") is not None and not website["index_document"].strip():
            raise InputError("website.index_document must not be empty")

    max_size: t.Any = UNSET
    max_objects: t.Any = UNSET
    quotas = params.get("quotas")
    if quotas is not None:
        try:
            max_size = _quota_value(quotas.get("max_size"), "max_size" in explicit_quota_keys, parse_size)
        except ValueError as exc:
            raise InputError(f"quotas.max_size: {exc}") from None
        try:
            explicit = "max_objects" in explicit_quota_keys
            max_objects = _quota_value(quotas.get("max_objects"), explicit, parse_max_objects)
        except ValueError as exc:
            raise InputError(f"quotas.max_objects: {exc}") from None
        if max_size is UNSET and max_objects is UNSET:
            raise InputError(
                "quotas is set but neither quotas.max_size nor quotas.max_objects is: "
                "set a value, or 'none' to remove a limit"
            )
    return BucketSpec(
        name=name,
        bucket_id=bucket_id,
        state=params.get("state") or "present",
        global_aliases=cleaned,
        purge_global_aliases=bool(params.get("purge_global_aliases")),
        website=website,
        max_size=max_size,
        max_objects=max_objects,
    )


def spec_warnings(spec: BucketSpec) -> list[str]:
    """Settings that are valid but probably not meant."""
    warnings = []
    if spec.max_size == 0:
        warnings.append(f"Bucket '{spec.label}': quotas.max_size is 0, so Garage refuses every upload to it")
    if spec.max_objects == 0:
        warnings.append(f"Bucket '{spec.label}': quotas.max_objects is 0, so Garage refuses every upload to it")
    return warnings


# --------------------------------------------------------------------------- planning (pure)


@dataclasses.dataclass
class Plan:
    add_aliases: list[str] = dataclasses.field(default_factory=list)
    remove_aliases: list[str] = dataclasses.field(default_factory=list)
    update_body: dict[str, t.Any] = dataclasses.field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.add_aliases or self.remove_aliases or self.update_body)


def new_bucket_info(name: str) -> Info:
    """What Garage's CreateBucket answers for ``{globalAlias: name}`` (id unknown before the call)."""
    return {
        "id": None,
        "created": None,
        "globalAliases": [name],
        "websiteAccess": False,
        "websiteConfig": None,
        "keys": [],
        "objects": 0,
        "bytes": 0,
        "unfinishedUploads": 0,
        "unfinishedMultipartUploads": 0,
        "unfinishedMultipartUploadParts": 0,
        "unfinishedMultipartUploadBytes": 0,
        "quotas": {"maxSize": None, "maxObjects": None},
    }


def alias_count(info: Info) -> int:
    """Active aliases of a bucket, global and local together (what Garage's last-alias rule counts)."""
    local = sum(len(k.get("bucketLocalAliases") or []) for k in info.get("keys") or [])
    return len(info.get("globalAliases") or []) + local


def last_alias_error(alias: str, bucket: str) -> OperationError:
    return OperationError(
        f"Cannot remove alias '{alias}': it is the last alias of bucket {bucket} (global and local aliases "
        "count together) and Garage refuses to leave a bucket without any alias. Delete the bucket instead "
        "(cellar.garage.garage_bucket with state=absent), or add another alias first",
        failure_reason=LAST_ALIAS,
    )


def plan_aliases(info: Info, spec: BucketSpec) -> tuple[list[str], list[str]]:
    if spec.global_aliases is None:
        return [], []
    current = list(info.get("globalAliases") or [])
    wanted = list(spec.global_aliases)
    if spec.name is not None and spec.name not in wanted:
        wanted.insert(0, spec.name)
    add = [a for a in wanted if a not in current]
    remove = sorted(a for a in current if a not in wanted) if spec.purge_global_aliases else []
    remaining = alias_count(info) - len(remove) + len(add)
    if remove and remaining == 0:
        raise InputError(
            f"Cannot remove global alias(es) {', '.join(remove)} of bucket '{spec.label}': the bucket would "
            "be left without any alias, which Garage refuses. Keep at least one alias, or delete the bucket "
            "instead (state=absent)",
            failure_reason=LAST_ALIAS,
        )
    return add, remove


def plan_website(info: Info, website: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    """The ``websiteAccess`` body for UpdateBucket, or ``None`` when nothing changes."""
    if website is None:
        return None
    enabled = bool(info.get("websiteAccess"))
    config = info.get("websiteConfig") or {}
    cur_index = config.get("indexDocument") if enabled else None
    cur_error = config.get("errorDocument") if enabled else None
    if not website.get("enabled", True):
        return {"enabled": False} if enabled else None
    index = website.get("index_document") or cur_index or DEFAULT_INDEX_DOCUMENT
    error = website.get("error_document")
    if error is None:
        error = cur_error
    elif error == "":
        error = None
    if enabled and index == cur_index and error == cur_error:
        return None
    body: dict[str, t.Any] = {"enabled": True, "indexDocument": index}
    if error is not None:
        body["errorDocument"] = error
    return body


def plan_quotas(info: Info, spec: BucketSpec) -> dict[str, t.Any] | None:
    """The ``quotas`` body for UpdateBucket (always both values: Garage replaces them), or ``None``."""
    if not spec.sets_quotas:
        return None
    current = info.get("quotas") or {}
    cur_size, cur_objects = current.get("maxSize"), current.get("maxObjects")
    size = cur_size if spec.max_size is UNSET else spec.max_size
    objects = cur_objects if spec.max_objects is UNSET else spec.max_objects
    if size == cur_size and objects == cur_objects:
        return None
    return {"maxSize": size, "maxObjects": objects}


def plan_present(info: Info, spec: BucketSpec) -> Plan:
    plan = Plan()
    plan.add_aliases, plan.remove_aliases = plan_aliases(info, spec)
    website = plan_website(info, spec.website)
    if website is not None:
        plan.update_body["websiteAccess"] = website
    quotas = plan_quotas(info, spec)
    if quotas is not None:
        plan.update_body["quotas"] = quotas
    return plan


def predict(info: Info, plan: Plan) -> Info:
    """The GetBucketInfo answer Garage would give after ``plan`` (check mode, diff)."""
    after = copy.deepcopy(info)
    aliases = [a for a in after.get("globalAliases") or [] if a not in plan.remove_aliases]
    aliases.extend(a for a in plan.add_aliases if a not in aliases)
    after["globalAliases"] = aliases
    website = plan.update_body.get("websiteAccess")
    if website is not None:
        after["websiteAccess"] = website["enabled"]
        after["websiteConfig"] = (
            {"indexDocument": website["indexDocument"], "errorDocument": website.get("errorDocument")}
            if website["enabled"]
            else None
        )
    quotas = plan.update_body.get("quotas")
    if quotas is not None:
        after["quotas"] = dict(quotas)
    return after


# --------------------------------------------------------------------------- reads


def read(client: GarageAdminClient, spec: BucketSpec) -> Info | None:
    with api_context("read", "bucket", spec.label, failure_reason="bucket_read_failed"):
        return find_bucket(client, name=spec.name, bucket_id=spec.bucket_id)


def global_alias_owner(client: GarageAdminClient, alias: str) -> Info | None:
    with api_context("read", "bucket", alias, failure_reason="bucket_read_failed"):
        return find_bucket(client, name=alias)


def check_global_alias_free(
    client: GarageAdminClient, alias: str, bucket_id: str | None, *, verb: str = "belongs to", advice: str = ""
) -> None:
    """Refuse, before any change, a global alias that already names another bucket."""
    other = global_alias_owner(client, alias)
    if other is not None and other.get("id") != bucket_id:
        raise OperationError(
            f"Global alias '{alias}' already {verb} another bucket ({other.get('id')}); "
            f"remove it from that bucket first{advice}",
            failure_reason=ALIAS_TAKEN,
            details={"other_bucket_id": other.get("id")},
        )


# --------------------------------------------------------------------------- apply


def _apply(client: GarageAdminClient, bucket_id: str, plan: Plan, label: str, *, done: bool) -> Info | None:
    """Run ``plan``; returns the last bucket info Garage answered (None if no call was made)."""
    last: Info | None = None
    for alias in plan.add_aliases:
        with api_context("add global alias to", "bucket", label, failure_reason="bucket_update_failed", changed=done):
            last = client.add_bucket_alias({"bucketId": bucket_id, "globalAlias": alias})
        done = True
    for alias in plan.remove_aliases:
        with api_context(
            "remove global alias from", "bucket", label, failure_reason="bucket_update_failed", changed=done
        ):
            last = client.remove_bucket_alias({"bucketId": bucket_id, "globalAlias": alias})
        done = True
    if plan.update_body:
        with api_context("update", "bucket", label, failure_reason="bucket_update_failed", changed=done):
            last = client.update_bucket(bucket_id, plan.update_body)
    return last


def _outcome(before: Info | None, after: Info | None, label: str, warnings: t.Sequence[str] = ()) -> Outcome:
    before_view = bucket_view(before) if before is not None else None
    after_view = bucket_view(after) if after is not None else None
    return Outcome(
        before=bucket_managed(before_view),
        after=bucket_managed(after_view),
        result={"bucket": after_view},
        warnings=tuple(warnings),
        label=f"bucket '{label}'",
    )


def ensure(client: GarageAdminClient, spec: BucketSpec, *, dry_run: bool) -> Outcome:
    """Converge one bucket as ``spec`` says (present or absent)."""
    info = read(client, spec)
    if spec.state == "absent":
        return ensure_absent(client, spec, info, dry_run=dry_run)
    return ensure_present(client, spec, info, dry_run=dry_run)


def ensure_present(client: GarageAdminClient, spec: BucketSpec, info: Info | None, *, dry_run: bool) -> Outcome:
    warnings = spec_warnings(spec)
    if info is None:
        if spec.name is None:
            raise OperationError(
                f"Bucket with id '{spec.bucket_id}' does not exist. Garage chooses bucket ids itself: "
                "create buckets by name",
                failure_reason=BUCKET_NOT_FOUND,
            )
        return create(client, spec, dry_run=dry_run).with_warnings(*warnings)
    plan = plan_present(info, spec)
    for alias in plan.add_aliases:
        check_global_alias_free(
            client, alias, info["id"], advice=" (cellar.garage.garage_bucket_alias state=absent)"
        )
    after = predict(info, plan)
    if plan.changed and not dry_run:
        answered = _apply(client, info["id"], plan, spec.label, done=False)
        if isinstance(answered, dict):
            after = answered
    return _outcome(info, after, spec.label, warnings)


def create(client: GarageAdminClient, spec: BucketSpec, *, dry_run: bool) -> Outcome:
    """Create the bucket ``spec.name`` and configure it, as a two-step saga. The outcome's undo
    deletes the bucket again."""
    name = t.cast(str, spec.name)
    fresh = new_bucket_info(name)
    plan = plan_present(fresh, spec)
    for alias in plan.add_aliases:
        check_global_alias_free(client, alias, None, advice=" (cellar.garage.garage_bucket_alias state=absent)")
    if dry_run:
        return _outcome(None, predict(fresh, plan), name)
    saga = Saga(
        [
            Step("create_bucket", "bucket_create_failed", lambda ctx: _create_step(client, name)),
            Step("configure_bucket", "bucket_configure_failed", lambda ctx: _configure_step(client, name, plan, ctx)),
        ]
    )
    result = saga.run(dry_run=False)
    final = result.outcomes["configure_bucket"].result.get("info") or result.outcomes["create_bucket"].result["info"]
    # The undo (delete the bucket again) lets an orchestration roll the creation back.
    return _outcome(None, final, name).with_undo(result.outcomes["create_bucket"].undo)


def _create_step(client: GarageAdminClient, name: str) -> Outcome:
    try:
        with api_context("create", "bucket", name, failure_reason="bucket_create_failed"):
            created = t.cast(Info, client.create_bucket({"globalAlias": name}))
    except OperationError as exc:
        if exc.failure_reason != OUTCOME_UNKNOWN:
            raise
        created = _learn_create_outcome(client, name, exc)
    bucket_id = created["id"]
    undo = Undo(
        f"delete bucket '{name}' ({bucket_id})",
        lambda: client.delete_bucket(bucket_id),
        {"resource": "bucket", "bucket_id": bucket_id, "name": name},
        done=f"the bucket '{name}' ({bucket_id}) created by this run was deleted again",
    )
    return Outcome(before=None, after={"state": "present", "id": bucket_id}, result={"info": created}, undo=undo)


def _learn_create_outcome(client: GarageAdminClient, name: str, exc: OperationError) -> Info:
    """CreateBucket got no answer: read again to learn whether the bucket exists now."""
    try:
        info = find_bucket(client, name=name)
    except OperationError as read_exc:
        raise OperationError(
            f"{exc.message}. Reading the bucket again failed too ({read_exc.message}): whether bucket '{name}' "
            "was created cannot be known; check with cellar.garage.garage_bucket_info before running again",
            failure_reason=OUTCOME_UNKNOWN,
            details=exc.details,
        ) from None
    if info is None:
        raise OperationError(
            f"{exc.message}. A re-read shows no bucket '{name}': it was not created; running again is safe",
            failure_reason="bucket_create_failed",
            details=exc.details,
        )
    return info


def _configure_step(client: GarageAdminClient, name: str, plan: Plan, ctx: StepContext) -> Outcome:
    created = t.cast(Info, ctx.outcomes["create_bucket"].result["info"])
    if not plan.changed:
        return Outcome.unchanged({"state": "present"}, info=created)
    with api_context("configure new", "bucket", name, failure_reason="bucket_configure_failed"):
        last: Info | None = None
        for alias in plan.add_aliases:
            last = client.add_bucket_alias({"bucketId": created["id"], "globalAlias": alias})
        if plan.update_body:
            last = client.update_bucket(created["id"], plan.update_body)
    return Outcome(
        before=bucket_managed(bucket_view(created)),
        after=bucket_managed(bucket_view(last or predict(created, plan))),
        result={"info": last or predict(created, plan)},
    )


def ensure_absent(client: GarageAdminClient, spec: BucketSpec, info: Info | None, *, dry_run: bool) -> Outcome:
    if info is None:
        return _outcome(None, None, spec.label)
    view = bucket_view(info)
    objects = int(info.get("objects") or 0)
    if objects > 0:
        raise not_empty_error(spec.label, view, objects)
    if not dry_run:
        try:
            with api_context("delete", "bucket", spec.label, failure_reason="bucket_delete_failed"):
                client.delete_bucket(info["id"])
        except OperationError as exc:
            if isinstance(exc.__cause__, GarageConflict) and exc.details.get("garage_code") in (None, "BucketNotEmpty"):
                raise not_empty_error(spec.label, view, objects) from None
            raise
    return _outcome(info, None, spec.label)


def not_empty_error(label: str, view: t.Mapping[str, t.Any], objects: int) -> OperationError:
    alias = (view["global_aliases"] or [label])[0]
    count = (
        f"it still contains {objects} object(s) ({view['bytes']} bytes)"
        if objects
        else "Garage reports that it still contains objects (BucketNotEmpty)"
    )
    return OperationError(
        f"Cannot delete bucket '{label}' ({view['id']}): {count}. Garage only deletes empty buckets: empty it "
        f"first, for example with an S3 client (aws s3 rm s3://{alias} --recursive, or s3cmd del --recursive "
        f"--force s3://{alias}), then run this task again",
        failure_reason=BUCKET_NOT_EMPTY,
        details={"objects": objects},
    )


# --------------------------------------------------------------------------- info


def info(
    client: GarageAdminClient, *, name: str | None = None, bucket_id: str | None = None, search: str | None = None
) -> dict[str, t.Any]:
    """``{"exists": bool, "bucket": view | None}`` for one bucket (``garage_bucket_info``)."""
    if name is not None:
        query, label = {"global_alias": name}, name
    elif bucket_id is not None:
        query, label = {"id": bucket_id}, bucket_id
    else:
        query, label = {"search": t.cast(str, search).strip()}, t.cast(str, search).strip()
    try:
        with api_context("read", "bucket", label, failure_reason="bucket_read_failed"):
            found = client.get_bucket_info(**query)
    except OperationError as exc:
        if exc.details.get("cause") == "not_found":
            return {"exists": False, "bucket": None}
        inner = exc.__cause__.message if isinstance(exc.__cause__, OperationError) else ""
        if "search" in query and "several" in inner.lower():
            raise OperationError(
                f"Search '{label}' matches several buckets ({inner}); use a longer id prefix or an alias",
                failure_reason="ambiguous_search",
                details=exc.details,
            ) from None
        raise
    return {"exists": True, "bucket": bucket_view(found)}


def info_all(client: GarageAdminClient) -> dict[str, t.Any]:
    """``{"buckets": [view, ...]}`` sorted by id (``garage_bucket_info`` without a selector)."""
    return {"buckets": [bucket_view(i) for i in read_all_buckets(client)]}
