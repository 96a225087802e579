# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The cluster's state manifest: one deterministic, secret-free document; and writing it to a file.

No Ansible here. The manifest uses the same views as the state and info modules (``views.py``),
so a bucket, key, token or node has one shape everywhere. ``garage_estate`` reads the estate with
:func:`read_estate` (the same reads, without the cluster part).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import stat
import tempfile
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import OperationError, api_context
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.lookup import (
    read_all_buckets,
    read_all_keys,
    read_all_tokens,
)
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.views import (
    bucket_view,
    cluster_view,
    key_view,
    token_view,
)
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import format_timestamp

if t.TYPE_CHECKING:
    from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import GarageAdminClient

MANIFEST_VERSION = 2
FILE_MODE = 0o600
MANIFEST_WRITE_FAILED = "manifest_write_failed"


def read_manifest(
    client: GarageAdminClient, *, include_admin_tokens: bool = True, include_timestamp: bool = False
) -> dict[str, t.Any]:
    """The manifest: cluster, buckets, keys and (optionally) dynamic admin tokens, all sorted."""
    manifest: dict[str, t.Any] = {"manifest_version": MANIFEST_VERSION}
    with api_context("read", "cluster status", failure_reason="cluster_read_failed"):
        status = client.get_cluster_status() or {}
    with api_context("read", "cluster layout", failure_reason="cluster_read_failed"):
        layout = client.get_cluster_layout() or {}
    manifest["cluster"] = cluster_view(status, layout)
    manifest["buckets"] = [bucket_view(info) for info in read_all_buckets(client)]
    manifest["keys"] = [key_view(info) for info in read_all_keys(client)]
    if include_admin_tokens:
        manifest["admin_tokens"] = [token_view(tok) for tok in read_all_tokens(client)]
    if include_timestamp:
        manifest["generated_at"] = format_timestamp(_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0))
    return manifest


def render(manifest: t.Mapping[str, t.Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def checksum(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- file


def dest_problem(dest: str | None) -> str | None:
    if dest is not None and not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
        return f"Invalid options: the directory of dest '{dest}' does not exist"
    return None


def current_file(path: str) -> tuple[str | None, int | None]:
    """``(content, mode)`` of the existing file, ``(None, None)`` when absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None, None
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path} exists and is not a regular file")
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read(), stat.S_IMODE(st.st_mode)


def write_atomically(path: str, content: str) -> None:
    """Write ``content`` to ``path`` with mode 0600 through a temporary file and a rename."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".garage_manifest.", dir=directory)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_file(dest: str, content: str, *, dry_run: bool, diff: bool) -> dict[str, t.Any]:
    """Converge ``dest`` to ``content`` with mode 0600: ``{"changed", "dest"[, "diff"]}``.

    The diff is a list: the mode change (``{path, mode}``) and the text change, each when present.
    """
    try:
        old_content, old_mode = current_file(dest)
    except OSError as exc:
        raise OperationError(
            f"Failed to read manifest file '{dest}': {exc}", failure_reason=MANIFEST_WRITE_FAILED
        ) from None
    content_changed = old_content != content
    mode_changed = old_mode is not None and old_mode != FILE_MODE
    diffs: list[dict[str, t.Any]] = []
    if mode_changed:
        diffs.append({"before": {"path": dest, "mode": f"{old_mode:04o}"}, "after": {"path": dest, "mode": "0600"}})
    if content_changed:
        diffs.append({"before": old_content or "", "after": content, "before_header": dest, "after_header": dest})
    if (content_changed or mode_changed) and not dry_run:
        try:
            if content_changed:
                write_atomically(dest, content)
            else:
                os.chmod(dest, FILE_MODE)
        except OSError as exc:
            raise OperationError(
                f"Failed to write manifest file '{dest}': {exc}", failure_reason=MANIFEST_WRITE_FAILED
            ) from None
    result: dict[str, t.Any] = {"changed": content_changed or mode_changed, "dest": dest}
    if diff and diffs:
        result["diff"] = diffs
    return result
