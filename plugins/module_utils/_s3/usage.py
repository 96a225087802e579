# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Objects and bytes under a prefix: the operation behind ``garage_bucket_usage``. No Ansible.

One streaming listing (:func:`.listing.scan`: the folders of the prefix are listed side by side
when it has a few of them): memory holds a few pages plus one counter per group.
Counting stops at ``max_objects`` (``truncated: true`` then). With ``group_by_prefix: N`` every
object is also counted in the group of its first ``N`` path segments after the prefix
(``logs/2024/`` for ``logs/2024/06/app.log`` with ``N=2``); objects in shallower folders count
in the folder they are in, like ``du --max-depth``. Unfinished multipart uploads are counted
apart (they are not objects yet, but their parts use space).
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._s3 import listing, preflight
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import s3_context
from ansible_collections.cellar.garage.plugins.module_utils._s3.params import int_param

DEFAULT_MAX_OBJECTS = 100000
#: Folders listed side by side (see :func:`.listing.scan`).
SCAN_WORKERS = 4
USAGE_FAILED = "bucket_usage_failed"


@dataclasses.dataclass(frozen=True)
class UsageSpec:
    bucket: str
    prefix: str = ""
    max_objects: int = DEFAULT_MAX_OBJECTS
    group_by_prefix: int = 0
    delimiter: str = "/"
    multipart_uploads: bool = True

    def validate(self) -> None:
        problems = []
        if not self.bucket:
            problems.append("bucket must not be empty")
        if self.max_objects < 1:
            problems.append(f"max_objects must be at least 1, got {self.max_objects}")
        if self.group_by_prefix < 0:
            problems.append(f"group_by_prefix must not be negative, got {self.group_by_prefix}")
        if not self.delimiter:
            problems.append("delimiter must not be empty")
        if problems:
            raise InputError("; ".join(problems))


def spec_from_params(params: t.Mapping[str, t.Any]) -> UsageSpec:
    spec = UsageSpec(
        bucket=params["bucket"],
        prefix=params.get("prefix") or "",
        max_objects=int_param(params, "max_objects", DEFAULT_MAX_OBJECTS),
        group_by_prefix=int_param(params, "group_by_prefix", 0),
        delimiter=params["delimiter"] if params.get("delimiter") is not None else "/",
        multipart_uploads=params.get("multipart_uploads", True) is not False,
    )
    spec.validate()
    return spec


def group_of(key: str, prefix: str, depth: int, delimiter: str = "/") -> str:
    """The group of ``key``: ``prefix`` + its first ``depth`` segments after it, with the delimiter."""
    rest = key[len(prefix) :] if key.startswith(prefix) else key
    segments = rest.split(delimiter)[:-1][:depth]  # the last segment is the object's own name
    return prefix + "".join(segment + delimiter for segment in segments)


def usage(client: t.Any, spec: UsageSpec, *, access_key_id: str | None = None) -> dict[str, t.Any]:
    """``{bucket, prefix, count, bytes, truncated, multipart_uploads, prefixes?}`` (see above)."""
    spec.validate()
    preflight.check_bucket(client, spec.bucket, access_key_id=access_key_id)
    count = size = 0
    truncated = False
    groups: dict[str, list[int]] = {}
    depth, prefix, delimiter = spec.group_by_prefix, spec.prefix, spec.delimiter
    with s3_context("list objects of", "bucket", spec.bucket, failure_reason=USAGE_FAILED):
        for page in listing.scan(client, spec.bucket, prefix, workers=SCAN_WORKERS, delimiter=delimiter):
            entries = page.objects
            if not entries:
                continue
            if count == spec.max_objects:  # full, and here is one more: the totals are lower bounds
                truncated = True
                break
            if count + len(entries) > spec.max_objects:
                entries = entries[: spec.max_objects - count]
                truncated = True
            count += len(entries)
            size += sum(entry.size for entry in entries)
            if depth:
                for entry in entries:
                    group = groups.setdefault(group_of(entry.key, prefix, depth, delimiter), [0, 0])
                    group[0] += 1
                    group[1] += entry.size
            if truncated:
                break
    result: dict[str, t.Any] = {
        "bucket": spec.bucket,
        "prefix": prefix,
        "count": count,
        "bytes": size,
        "truncated": truncated,
        "max_objects": spec.max_objects,
    }
    if depth:
        result["prefixes"] = [
            {"prefix": name, "count": counts[0], "bytes": counts[1]} for name, counts in sorted(groups.items())
        ]
    if spec.multipart_uploads:
        uploads = 0
        with s3_context("list the multipart uploads of", "bucket", spec.bucket, failure_reason=USAGE_FAILED):
            for _upload in listing.multipart_uploads(client, spec.bucket, prefix):
                uploads += 1
                if uploads >= spec.max_objects:
                    break
        result["multipart_uploads"] = uploads
    return result
