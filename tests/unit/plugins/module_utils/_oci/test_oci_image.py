# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import typing as t
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError
from ansible_collections.cellar.garage.plugins.module_utils._oci import image


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    app = tmp_path / "app"
    app.write_bytes(b"#!/bin/sh\necho hi\n")
    data = tmp_path / "data.txt"
    data.write_text("payload")
    return {"app": app, "data": data}


def spec(paths: dict[str, Path], **kwargs: t.Any) -> image.ImageSpec:
    values: dict[str, t.Any] = {
        "ref": "localhost/cellar/app:1.0",
        "files": (image.ImageFile(str(paths["app"]), "/app"),
                  image.ImageFile(str(paths["data"]), "/usr/share/app/data.txt", 0o644)),
        "entrypoint": ("/app",),
        "cmd": ("serve",),
        "env": ("A=1",),
        "labels": (("org.opencontainers.image.version", "1.0"),),
        "directories": (("/tmp", 0o1777),),
    }
    values.update(kwargs)
    return image.ImageSpec(**values)


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return {m.name: m for m in tar.getmembers()}


def read(path: Path, name: str) -> bytes:
    with tarfile.open(path) as tar:
        return t.cast(t.IO[bytes], tar.extractfile(name)).read()


def test_archive_is_an_oci_layout_with_consistent_digests(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "img.tar"
    ids = image.build(spec(files), str(out))
    assert ids is not None
    assert json.loads(read(out, "oci-layout")) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(read(out, "index.json"))
    entry = index["manifests"][0]
    assert entry["annotations"] == {"org.opencontainers.image.ref.name": "localhost/cellar/app:1.0"}
    manifest_bytes = read(out, "blobs/sha256/" + entry["digest"][7:])
    assert hashlib.sha256(manifest_bytes).hexdigest() == entry["digest"][7:]
    manifest = json.loads(manifest_bytes)
    config_bytes = read(out, "blobs/sha256/" + manifest["config"]["digest"][7:])
    assert hashlib.sha256(config_bytes).hexdigest() == ids["image_id"]
    layer = read(out, "blobs/sha256/" + manifest["layers"][0]["digest"][7:])
    assert hashlib.sha256(layer).hexdigest() == manifest["layers"][0]["digest"][7:]
    config = json.loads(config_bytes)
    assert config["config"] == {"Entrypoint": ["/app"], "Cmd": ["serve"], "Env": ["A=1"],
                                "Labels": {"org.opencontainers.image.version": "1.0"}}
    assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
    assert config["architecture"] == "amd64" and config["os"] == "linux"


def test_layer_holds_the_files_and_their_parents(tmp_path: Path, files: dict[str, Path]) -> None:
    out = tmp_path / "img.tar"
    ids = image.build(spec(files), str(out))
    assert ids is not None
    layer_path = tmp_path / "layer.tar"
    layer_path.write_bytes(read(out, "blobs/sha256/" + ids["layer_digest"][7:]))
    got = members(layer_path)
    assert list(got) == ["tmp", "usr", "usr/share", "usr/share/app", "app", "usr/share/app/data.txt"]
    assert got["app"].mode == 0o755 and got["usr/share/app/data.txt"].mode == 0o644
    assert got["tmp"].mode == 0o1777
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 0 for m in got.values())
    with tarfile.open(layer_path) as tar:
        assert t.cast(t.IO[bytes], tar.extractfile("usr/share/app/data.txt")).read() == b"payload"


def test_reproducible(tmp_path: Path, files: dict[str, Path]) -> None:
    a, b = tmp_path / "a.tar", tmp_path / "b.tar"
    image.build(spec(files), str(a))
    image.build(spec(files), str(b))
    assert a.read_bytes() == b.read_bytes()
    files["data"].write_text("other")
    image.build(spec(files), str(b))
    assert a.read_bytes() != b.read_bytes()


def test_ensure_is_idempotent_and_honours_dry_run(tmp_path: Path, files: dict[str, Path]) -> None:
    dest = tmp_path / "out" / "img.tar"
    dry = image.ensure(spec(files), str(dest), dry_run=True)
    assert dry.changed and not dest.exists()
    assert list((tmp_path / "out").iterdir()) == []  # the candidate is gone
    first = image.ensure(spec(files), str(dest), dry_run=False)
    assert first.changed and dest.exists()
    assert first.after["image_id"] == dry.after["image_id"]
    assert first.result["image"]["path"] == str(dest)
    again = image.ensure(spec(files), str(dest), dry_run=False)
    assert not again.changed
    assert again.result["image"]["image_id"] == first.result["image"]["image_id"]
    changed = image.ensure(spec(files, cmd=("other",)), str(dest), dry_run=False)
    assert changed.changed and changed.before["image_id"] != changed.after["image_id"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["img.tar"]


def test_describe_of_something_else(tmp_path: Path) -> None:
    assert image.describe(str(tmp_path / "missing.tar")) is None
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar")
    assert image.describe(str(junk)) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"ref": "Localhost/App:1"}, "must look like"),
        ({"ref": "localhost/app"}, "must look like"),
        ({"files": ()}, "at least one file"),
        ({"env": ("NOEQUALS",)}, "NAME=value"),
        ({"directories": (("relative", 0o755),)}, "absolute path"),
    ],
)
def test_validation(files: dict[str, Path], change: dict[str, t.Any], words: str) -> None:
    with pytest.raises(InputError) as info:
        image.validate(spec(files, **change))
    assert words in info.value.message


def test_validation_of_files(files: dict[str, Path], tmp_path: Path) -> None:
    for bad in ("relative", "/", "/a/../b"):
        with pytest.raises(InputError):
            image.validate(spec(files, files=(image.ImageFile(str(files["app"]), bad),)))
    with pytest.raises(InputError) as info:
        image.validate(spec(files, files=(image.ImageFile(str(files["app"]), "/x"),
                                          image.ImageFile(str(files["data"]), "/x"))))
    assert "two files" in info.value.message
    with pytest.raises(InputError):
        image.validate(spec(files, files=(image.ImageFile(str(tmp_path / "nope"), "/x"),)))


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_spec_from_params_adds_the_libraries_of_dynamic_executables(files: dict[str, Path]) -> None:
    true = shutil.which("true")
    assert true
    params = {"ref": "localhost/t:1", "files": [{"src": true, "dest": "/true", "mode": "0755"},
                                                {"src": str(files["data"]), "dest": "/data", "mode": "0644"}],
              "include_libraries": True, "directories": [{"path": "/tmp", "mode": "1777"}],
              "entrypoint": ["/true"], "cmd": [], "env": [], "labels": {"b": 2, "a": "x"}}
    built = image.spec_from_params(params)
    dests = [f.dest for f in built.files]
    assert dests[:2] == ["/true", "/data"]
    assert any("libc.so" in d for d in dests)
    assert any("ld-linux" in d for d in dests)
    assert built.labels == (("a", "x"), ("b", "2"))
    assert built.directories == (("/tmp", 0o1777),)
    without = image.spec_from_params({**params, "include_libraries": False})
    assert [f.dest for f in without.files] == ["/true", "/data"]


def test_bad_modes(files: dict[str, Path]) -> None:
    params = {"ref": "localhost/t:1", "files": [{"src": str(files["data"]), "dest": "/d", "mode": "rwx"}]}
    with pytest.raises(InputError) as info:
        image.spec_from_params(params)
    assert "octal" in info.value.message


def test_shared_libraries_of_a_script_is_empty(files: dict[str, Path]) -> None:
    assert image.shared_libraries(str(files["app"])) == []
