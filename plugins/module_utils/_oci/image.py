# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""An OCI image archive from plain files, with no registry and no container engine (no Ansible).

The archive is an OCI image layout (``oci-layout``, ``index.json``, ``blobs/sha256/...``) in a tar file, the
format ``podman load`` / ``skopeo copy oci-archive:`` read. The image has one uncompressed layer holding the
given files (plus their parent directories), and a config with the entrypoint, command, environment and
labels. Everything is reproducible: the same files and settings give byte-identical layer, config, manifest
and archive, so the image id (the config digest) is known before anything is shipped or loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import tarfile
import tempfile
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome, present

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar"
REF_ANNOTATION = "org.opencontainers.image.ref.name"
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
_REF_RE = re.compile(rf"^{_NAME}(?:/{_NAME})*:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}$")


@dataclasses.dataclass(frozen=True)
class ImageFile:
    src: str  # path on this machine (followed if a symlink)
    dest: str  # absolute path in the image
    mode: int = 0o755


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    ref: str  # e.g. localhost/cellar/garage:2.4.1
    files: tuple[ImageFile, ...]
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    directories: tuple[tuple[str, int], ...] = ()  # extra empty directories (path, mode)
    architecture: str = "amd64"
    user: str = ""


def validate(spec: ImageSpec) -> None:
    """Raise ``InputError`` for anything that would make a broken image (before any file is read)."""
    if not _REF_RE.match(spec.ref):
        raise InputError(
            f"ref {spec.ref!r} must look like registry/name:tag in lowercase (e.g. localhost/garage:2.4.1)"
        )
    if not spec.files:
        raise InputError("an image needs at least one file")
    seen: set[str] = set()
    for item in spec.files:
        dest = posixpath.normpath(item.dest)
        if not item.dest.startswith("/") or dest == "/" or ".." in item.dest.split("/"):
            raise InputError(f"file destination {item.dest!r} must be an absolute path inside the image")
        if dest in seen:
            raise InputError(f"two files go to {dest}")
        seen.add(dest)
        if not os.path.isfile(item.src):
            raise InputError(f"{item.src} is not a file")
        if not 0 <= item.mode <= 0o7777:
            raise InputError(f"mode {item.mode:o} of {item.dest} is not a file mode")
    for path, _mode in spec.directories:
        if not path.startswith("/") or ".." in path.split("/"):
            raise InputError(f"directory {path!r} must be an absolute path inside the image")
    for var in spec.env:
        if "=" not in var:
            raise InputError(f"environment entry {var!r} must be NAME=value")


def _mode(value: t.Any, what: str) -> int:
    text = str(value).strip()
    if not re.fullmatch(r"0?[0-7]{3,4}", text):
        raise InputError(f"mode {value!r} of {what} must be octal, e.g. '0755'")
    return int(text, 8)


def spec_from_params(params: t.Mapping[str, t.Any]) -> ImageSpec:
    """An :class:`ImageSpec` from module parameters: libraries of dynamic files added, all validated."""
    files = [ImageFile(f["src"], f["dest"], _mode(f.get("mode", "0755"), f["dest"])) for f in params["files"]]
    for item in files:
        if not os.path.isfile(item.src):
            raise InputError(f"{item.src} is not a file")
    if params.get("include_libraries", True):
        taken = {posixpath.normpath(f.dest) for f in files}
        for item in list(files):
            if _is_elf(item.src):
                for lib in shared_libraries(item.src):
                    if lib not in taken:
                        files.append(ImageFile(lib, lib, 0o755))
                        taken.add(lib)
    labels = params.get("labels") or {}
    spec = ImageSpec(
        ref=params["ref"],
        files=tuple(files),
        entrypoint=tuple(params.get("entrypoint") or ()),
        cmd=tuple(params.get("cmd") or ()),
        env=tuple(params.get("env") or ()),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        directories=tuple(
            (d["path"], _mode(d.get("mode", "0755"), d["path"])) for d in params.get("directories") or ()
        ),
        architecture=params.get("architecture") or "amd64",
    )
    validate(spec)
    return spec


def _is_elf(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"\x7fELF"


def shared_libraries(path: str) -> list[str]:
    """The shared libraries (and the dynamic loader) an ELF executable needs, from ``ldd``; [] if static."""
    proc = subprocess.run(["ldd", path], capture_output=True, text=True, check=False)
    text = proc.stdout + proc.stderr
    if "not a dynamic executable" in text or "statically linked" in text:
        return []
    if proc.returncode != 0:
        raise OperationError(f"ldd {path} failed: {text.strip()}", failure_reason="library_lookup_failed")
    libraries = []
    for line in proc.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].strip().split(" (")[0].strip()
            if target == "not found":
                raise OperationError(f"{path} needs {line.split()[0]}, which is not installed here",
                                     failure_reason="library_lookup_failed")
            if target.startswith("/"):
                libraries.append(target)
        elif line.startswith("/"):
            libraries.append(line.split(" (")[0].strip())  # the dynamic loader
    return sorted(set(libraries))


def _info(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.size = size
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _layer(spec: ImageSpec, out: t.BinaryIO) -> None:
    """Write the layer tar: parent directories first, then files, all sorted, owned by root, mtime 0."""
    dirs: dict[str, int] = {}
    for item in spec.files:
        parent = posixpath.dirname(posixpath.normpath(item.dest))
        while parent not in ("/", ""):
            dirs.setdefault(parent, 0o755)
            parent = posixpath.dirname(parent)
    for path, mode in spec.directories:
        norm = posixpath.normpath(path)
        dirs[norm] = mode
        parent = posixpath.dirname(norm)
        while parent not in ("/", ""):
            dirs.setdefault(parent, 0o755)
            parent = posixpath.dirname(parent)
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(dirs):
            tar.addfile(_info(path.lstrip("/") + "/", tarfile.DIRTYPE, dirs[path]))
        for item in sorted(spec.files, key=lambda f: posixpath.normpath(f.dest)):
            size = os.path.getsize(item.src)
            with open(item.src, "rb") as handle:
                tar.addfile(_info(posixpath.normpath(item.dest).lstrip("/"), tarfile.REGTYPE, item.mode, size), handle)


def _digest_file(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _json(value: t.Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def build(spec: ImageSpec, dest: str) -> dict[str, t.Any]:
    """Write the OCI archive of ``spec`` to ``dest`` (atomically); return its ids (see :func:`describe`)."""
    validate(spec)
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    work = tempfile.mkdtemp(dir=directory, prefix=".oci-")
    try:
        layer_path = os.path.join(work, "layer.tar")
        with open(layer_path, "wb") as handle:
            _layer(spec, handle)
        layer_digest, layer_size = _digest_file(layer_path)
        config: dict[str, t.Any] = {
            "architecture": spec.architecture,
            "os": "linux",
            "config": {
                "Entrypoint": list(spec.entrypoint) or None,
                "Cmd": list(spec.cmd) or None,
                "Env": list(spec.env) or None,
                "Labels": dict(spec.labels) or None,
                "User": spec.user or None,
            },
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_digest}"]},
            "history": [{"created_by": "cellar.garage oci_image_archive", "created": "1970-01-01T00:00:00Z"}],
            "created": "1970-01-01T00:00:00Z",
        }
        config["config"] = {k: v for k, v in config["config"].items() if v is not None}
        config_bytes = _json(config)
        config_digest = hashlib.sha256(config_bytes).hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": CONFIG_TYPE, "digest": f"sha256:{config_digest}", "size": len(config_bytes)},
            "layers": [{"mediaType": LAYER_TYPE, "digest": f"sha256:{layer_digest}", "size": layer_size}],
        }
        manifest_bytes = _json(manifest)
        manifest_digest = hashlib.sha256(manifest_bytes).hexdigest()
        index = {
            "schemaVersion": 2,
            "manifests": [{"mediaType": MANIFEST_TYPE, "digest": f"sha256:{manifest_digest}",
                           "size": len(manifest_bytes), "annotations": {REF_ANNOTATION: spec.ref}}],
        }
        tmp_dest = os.path.join(work, "image.tar")
        with tarfile.open(tmp_dest, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name, data in (("oci-layout", _json({"imageLayoutVersion": "1.0.0"})), ("index.json", _json(index))):
                tar.addfile(_info(name, tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
            tar.addfile(_info("blobs/", tarfile.DIRTYPE, 0o755))
            tar.addfile(_info("blobs/sha256/", tarfile.DIRTYPE, 0o755))
            blobs = sorted([(config_digest, config_bytes), (manifest_digest, manifest_bytes)])
            for digest, data in blobs:
                tar.addfile(_info(f"blobs/sha256/{digest}", tarfile.REGTYPE, 0o644, len(data)), io.BytesIO(data))
            with open(layer_path, "rb") as handle:
                tar.addfile(_info(f"blobs/sha256/{layer_digest}", tarfile.REGTYPE, 0o644, layer_size), handle)
        os.chmod(tmp_dest, 0o644)
        os.replace(tmp_dest, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    described = describe(dest)
    if described is None:  # pragma: no cover - we just wrote it
        raise OperationError(f"{dest} is not readable after writing it", failure_reason="image_write_failed")
    return described


def image_view(description: t.Mapping[str, t.Any] | None) -> dict[str, t.Any] | None:
    """The managed view of an archive (before/after of the module): None when there is none."""
    if not description:
        return None
    return present({k: description[k] for k in ("ref", "image_id", "manifest_digest", "archive_sha256")})


def ensure(spec: ImageSpec, dest: str, *, dry_run: bool) -> Outcome:
    """Make ``dest`` the OCI archive of ``spec``: built next to it, kept only when it differs."""
    validate(spec)
    before = describe(dest)
    directory = os.path.dirname(os.path.abspath(dest))
    os.makedirs(directory, exist_ok=True)
    fd, candidate = tempfile.mkstemp(dir=directory, prefix=".oci-candidate-", suffix=".tar")
    os.close(fd)
    try:
        after = build(spec, candidate)
        if before is not None and before["archive_sha256"] == after["archive_sha256"]:
            return Outcome.unchanged(image_view(before), image=dict(before, path=dest))
        if not dry_run:
            os.replace(candidate, dest)
    finally:
        if os.path.exists(candidate):
            os.unlink(candidate)
    return Outcome(before=image_view(before), after=image_view(after), result={"image": dict(after, path=dest)})


def describe(path: str) -> dict[str, t.Any] | None:
    """The ids of an OCI archive written by :func:`build`: ref, image id, manifest digest, sizes; None if
    ``path`` is missing or not such an archive."""
    if not os.path.isfile(path):
        return None
    try:
        with tarfile.open(path, mode="r") as tar:
            index = json.loads(t.cast(t.IO[bytes], tar.extractfile("index.json")).read())
            entry = index["manifests"][0]
            manifest_name = "blobs/sha256/" + entry["digest"].split(":", 1)[1]
            manifest = json.loads(t.cast(t.IO[bytes], tar.extractfile(manifest_name)).read())
    except (tarfile.TarError, KeyError, IndexError, ValueError, AttributeError, TypeError):
        return None
    sha, size = _digest_file(path)
    return {
        "ref": entry.get("annotations", {}).get(REF_ANNOTATION, ""),
        "image_id": manifest["config"]["digest"].split(":", 1)[1],
        "manifest_digest": entry["digest"],
        "layer_digest": manifest["layers"][0]["digest"],
        "layer_size": manifest["layers"][0]["size"],
        "archive_sha256": sha,
        "archive_size": size,
    }
