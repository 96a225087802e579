# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Package manifests: canonical, byte-stable encoding, identity and digests. Pure (plus local
file hashing): no S3, no Ansible.

A manifest is one JSON object::

    {"algorithm": "sha256", "created_at": "2026-01-01T00:00:00Z",
     "files": [{"digest": "sha256:<hex>", "media_type": "text/plain", "path": "bin/run", "size": 12}],
     "metadata": {"commit": "3f9c2e1"}, "name": "app", "package_id": "<hex>", "producer": "ci",
     "retention_class": "raw-evidence", "schema": "cellar.garage.artifact/1", "subject": "app@1.4.2"}

- **Canonical encoding** (:func:`encode`): UTF-8 JSON, keys sorted, no whitespace between tokens,
  non-ASCII characters written as themselves, no floats; ``files`` sorted by path. The same
  manifest always has the same bytes, whoever wrote it.
- **Package identity** (``package_id``): the sha256 (hex) of the canonical encoding of the
  manifest *without* ``package_id`` and ``created_at`` -- files, name, producer, subject,
  metadata, retention class, algorithm. Pushing the same content with the same identity gives
  the same id, so a second push finds the package and changes nothing.
- **Manifest digest** (``manifest_digest``): ``sha256:<hex>`` of the stored bytes (creation
  time included): what a consumer pins to be sure it reads exactly the manifest it was given.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import mimetypes
import os
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._artifacts import paths

SCHEMA = "cellar.garage.artifact/1"
READ_CHUNK = 1024 * 1024
DEFAULT_MEDIA_TYPE = "application/octet-stream"
IDENTITY_EXCLUDED = ("package_id", "created_at")
_FIELDS = (
    "algorithm",
    "created_at",
    "files",
    "metadata",
    "name",
    "package_id",
    "producer",
    "retention_class",
    "schema",
    "subject",
)


class ManifestError(ValueError):
    """Bytes that are not a valid canonical manifest (or not the one expected)."""


def blake3_available() -> bool:
    try:
        import blake3  # noqa: F401
    except ImportError:
        return False
    return True


def new_hasher(algorithm: str) -> t.Any:
    """A hashlib-like object for ``algorithm`` (``blake3`` needs the ``blake3`` package)."""
    if algorithm == "sha256":
        return hashlib.sha256()
    if algorithm == "blake3":
        import blake3

        return blake3.blake3()
    raise ValueError(f"unknown digest algorithm {algorithm!r}")


def _check_json(value: t.Any, where: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return
    if isinstance(value, float):
        raise ManifestError(f"{where}: floats have no canonical form, use a string")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ManifestError(f"{where}: keys must be strings")
            _check_json(item, f"{where}.{key}")
        return
    raise ManifestError(f"{where}: {type(value).__name__} is not JSON")


def encode(document: t.Mapping[str, t.Any]) -> bytes:
    """The canonical bytes of a JSON document (see the module docstring)."""
    _check_json(dict(document), "manifest")
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def identity(document: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    return {k: v for k, v in document.items() if k not in IDENTITY_EXCLUDED}


def package_id_of(document: t.Mapping[str, t.Any]) -> str:
    return hashlib.sha256(encode(identity(document))).hexdigest()


def digest_of_bytes(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    media_type: str
    digest: str  # <algorithm>:<hex>

    def to_dict(self) -> dict[str, t.Any]:
        return {"path": self.path, "size": self.size, "media_type": self.media_type, "digest": self.digest}


def build(
    *,
    files: t.Iterable[FileEntry],
    name: str,
    producer: str,
    subject: str,
    metadata: t.Mapping[str, str],
    retention_class: str,
    algorithm: str,
    created_at: str,
) -> dict[str, t.Any]:
    """A complete manifest document (``package_id`` computed)."""
    entries = sorted(files, key=lambda f: f.path)
    seen: set[str] = set()
    for entry in entries:
        paths.check_relative_path(entry.path)
        if entry.path in seen:
            raise ManifestError(f"path {entry.path!r} appears twice")
        seen.add(entry.path)
    document: dict[str, t.Any] = {
        "schema": SCHEMA,
        "algorithm": algorithm,
        "name": name,
        "producer": producer,
        "subject": subject,
        "metadata": dict(metadata),
        "retention_class": retention_class,
        "files": [e.to_dict() for e in entries],
        "created_at": created_at,
    }
    document["package_id"] = package_id_of(document)
    return document


def parse(data: bytes, *, package_id: str | None = None) -> dict[str, t.Any]:
    """A stored manifest, checked: canonical bytes, known schema, well-formed files, and (when
    given) the expected ``package_id`` equal to the one its identity hashes to."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ManifestError("not a JSON object")
    if document.get("schema") != SCHEMA:
        raise ManifestError(f"unknown schema {document.get('schema')!r}")
    missing = [f for f in _FIELDS if f not in document]
    if missing:
        raise ManifestError(f"missing fields: {', '.join(missing)}")
    if encode(document) != data:
        raise ManifestError("not in canonical form (sorted keys, no whitespace): it was not written by this collection")
    files = document["files"]
    if not isinstance(files, list):
        raise ManifestError("files is not a list")
    for entry in files:
        if not isinstance(entry, dict) or set(entry) != {"path", "size", "media_type", "digest"}:
            raise ManifestError(f"bad file entry {entry!r}")
        try:
            paths.check_relative_path(entry["path"])
            paths.blob_key_for("", entry["digest"])
        except ValueError as exc:
            raise ManifestError(str(exc)) from None
        if not isinstance(entry["size"], int) or entry["size"] < 0:
            raise ManifestError(f"bad size in {entry!r}")
    computed = package_id_of(document)
    if document["package_id"] != computed:
        raise ManifestError(f"package_id {document['package_id']} does not match its content ({computed})")
    if package_id is not None and computed != package_id:
        raise ManifestError(f"is the manifest of package {computed}, not {package_id}")
    return document


def digests(document: t.Mapping[str, t.Any]) -> dict[str, int]:
    """``{digest: size}`` of the blobs a manifest references."""
    return {f["digest"]: int(f["size"]) for f in document.get("files") or []}


def total_size(document: t.Mapping[str, t.Any]) -> int:
    return sum(int(f["size"]) for f in document.get("files") or [])


# --------------------------------------------------------------------------- local files


def collect_files(src: t.Sequence[str]) -> list[tuple[str, str]]:
    """``[(relative_path, local_path)]`` for ``src``: one directory (every regular file below it,
    recursively; symlinks to files are read, symlinked directories are not entered) or a list of
    files (each under its base name). Raises ValueError on a duplicate or unusable entry."""
    found: list[tuple[str, str]] = []
    if len(src) == 1 and os.path.isdir(src[0]):
        root = src[0]
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for filename in sorted(filenames):
                local = os.path.join(directory, filename)
                if not os.path.isfile(local):
                    continue  # sockets, fifos, dangling links
                relative = os.path.relpath(local, root).replace(os.sep, "/")
                found.append((relative, local))
    else:
        for local in src:
            if os.path.isdir(local):
                raise ValueError(f"'{local}': give one directory, or a list of files")
            if not os.path.isfile(local):
                raise ValueError(f"'{local}' is not a readable file")
            found.append((os.path.basename(local), local))
    names = [rel for rel, _unused in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"several files would be stored as {', '.join(duplicates)}")
    for rel, _unused in found:
        paths.check_relative_path(rel)
    return found


def media_type(path: str) -> str:
    guessed, _encoding = mimetypes.guess_type(path, strict=False)
    return guessed or DEFAULT_MEDIA_TYPE


def hash_file(local: str, algorithm: str) -> tuple[str, int]:
    """``(<algorithm>:<hex>, size)`` of a local file, read in 1 MiB chunks."""
    hasher = new_hasher(algorithm)
    size = 0
    with open(local, "rb") as handle:
        while True:
            block = handle.read(READ_CHUNK)
            if not block:
                break
            hasher.update(block)
            size += len(block)
    return f"{algorithm}:{hasher.hexdigest()}", size


def hash_files(files: t.Sequence[tuple[str, str]], algorithm: str, *, workers: int = 4) -> list[FileEntry]:
    """Hash every ``(relative, local)`` file, ``workers`` at a time (hashlib releases the GIL)."""

    def one(item: tuple[str, str]) -> FileEntry:
        relative, local = item
        digest, size = hash_file(local, algorithm)
        return FileEntry(relative, size, media_type(relative), digest)

    if workers <= 1 or len(files) <= 1:
        return [one(item) for item in files]
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cellar-hash") as pool:
        return list(pool.map(one, files))
