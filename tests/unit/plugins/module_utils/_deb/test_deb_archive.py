# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import hashlib
import lzma
import os
import shutil
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._deb import archive
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError
from tests.unit.plugins.module_utils._deb.debdata import index_entry as ix

URL = "http://deb.example.org/debian"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FakeArchive:
    """URL -> bytes, counting requests."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.requests.append(url)
        if url not in self.files:
            raise DebClosureError(f"cannot download {url}: 404", failure_reason="download_failed")
        return self.files[url]


def make_archive(index_text: str, *, lie_about: str | None = None) -> FakeArchive:
    raw = lzma.compress(index_text.encode())
    digest = "0" * 64 if lie_about == "hash" else sha(raw)
    release = (
        "Origin: Test\nSuite: stable\nCodename: bookworm\nDate: Sat, 10 May 2025 08:56:22 UTC\nSHA256:\n"
        f" {digest} {len(raw)} main/binary-amd64/Packages.xz\n"
    )
    return FakeArchive({
        f"{URL}/dists/bookworm/InRelease": release.encode(),
        f"{URL}/dists/bookworm/main/binary-amd64/Packages.xz": raw,
    })


def no_verify(data: bytes, keyring: str) -> None:
    assert data and keyring


def test_read_source_trusts_the_index_through_the_release() -> None:
    fake = make_archive(ix("app", Depends="lib") + "\n" + ix("lib"))
    found, facts = archive.read_source(URL, "bookworm", ["main"], "amd64", fetch=fake, verify=no_verify)
    assert [p.name for p in found] == ["app", "lib"]
    assert all(p.source_url == URL for p in found)
    assert facts == {"url": URL, "suite": "bookworm", "components": ["main"], "date": "Sat, 10 May 2025 08:56:22 UTC"}
    assert fake.requests == [f"{URL}/dists/bookworm/InRelease", f"{URL}/dists/bookworm/main/binary-amd64/Packages.xz"]


def test_read_source_refuses_an_index_that_does_not_match_the_release() -> None:
    fake = make_archive(ix("app"), lie_about="hash")
    with pytest.raises(DebClosureError) as info:
        archive.read_source(URL, "bookworm", ["main"], "amd64", fetch=fake, verify=no_verify)
    assert info.value.failure_reason == "hash_mismatch"


def test_read_source_needs_the_component_in_the_release() -> None:
    fake = make_archive(ix("app"))
    with pytest.raises(DebClosureError) as info:
        archive.read_source(URL, "bookworm", ["contrib"], "amd64", fetch=fake, verify=no_verify)
    assert info.value.failure_reason == "malformed_index"
    assert "contrib/binary-amd64/Packages" in info.value.message


def test_read_source_stops_at_a_bad_signature() -> None:
    fake = make_archive(ix("app"))

    def refuse(data: bytes, keyring: str) -> None:
        raise DebClosureError("bad signature", failure_reason="signature_invalid")

    with pytest.raises(DebClosureError) as info:
        archive.read_source(URL, "bookworm", ["main"], "amd64", fetch=fake, verify=refuse)
    assert info.value.failure_reason == "signature_invalid"
    assert len(fake.requests) == 1  # nothing read past the InRelease


@pytest.mark.skipif(shutil.which("gpgv") is None, reason="needs gpgv")
def test_gpgv_refuses_an_unsigned_release(tmp_path) -> None:
    keyring = archive.DEFAULT_KEYRING if os.path.exists(archive.DEFAULT_KEYRING) else None
    if keyring is None:
        pytest.skip("needs debian-archive-keyring")
    with pytest.raises(DebClosureError) as info:
        archive.verify_inrelease(b"Origin: Debian\nSHA256:\n", keyring)
    assert info.value.failure_reason == "signature_invalid"


def test_missing_keyring(tmp_path) -> None:
    with pytest.raises(DebClosureError) as info:
        archive.verify_inrelease(b"x", str(tmp_path / "nope.gpg"))
    assert info.value.failure_reason == "signature_invalid"
    assert "does not exist" in info.value.message


# ------------------------------------------------------------------------------------------------ fetch


def lock_for(files: dict[str, bytes]) -> dict[str, t.Any]:
    return {"packages": [
        {"package": name.split("_")[0], "filename": name, "sha256": sha(data), "size": len(data),
         "url": f"{URL}/pool/{name}"}
        for name, data in files.items()
    ]}


def test_fetch_downloads_only_what_is_missing(tmp_path) -> None:
    files = {"a_1_amd64.deb": b"aaa", "b_1_all.deb": b"bbbb"}
    (tmp_path / "a_1_amd64.deb").write_bytes(b"aaa")
    fake = FakeArchive({f"{URL}/pool/{k}": v for k, v in files.items()})
    result = archive.fetch_lock_files(lock_for(files), str(tmp_path), fetch=fake)
    assert result == {"present": ["a_1_amd64.deb"], "downloaded": ["b_1_all.deb"]}
    assert fake.requests == [f"{URL}/pool/b_1_all.deb"]
    assert (tmp_path / "b_1_all.deb").read_bytes() == b"bbbb"
    again = archive.fetch_lock_files(lock_for(files), str(tmp_path), fetch=fake)
    assert again == {"present": ["a_1_amd64.deb", "b_1_all.deb"], "downloaded": []}


def test_fetch_discards_a_download_that_does_not_match(tmp_path) -> None:
    lock = lock_for({"a_1_amd64.deb": b"aaa"})
    fake = FakeArchive({f"{URL}/pool/a_1_amd64.deb": b"evil"})
    with pytest.raises(DebClosureError) as info:
        archive.fetch_lock_files(lock, str(tmp_path), fetch=fake)
    assert info.value.failure_reason == "hash_mismatch"
    assert list(tmp_path.iterdir()) == []


def test_fetch_never_overwrites_a_mismatching_file(tmp_path) -> None:
    lock = lock_for({"a_1_amd64.deb": b"aaa"})
    (tmp_path / "a_1_amd64.deb").write_bytes(b"aaa-tampered")
    fake = FakeArchive({})
    with pytest.raises(DebClosureError) as info:
        archive.fetch_lock_files(lock, str(tmp_path), fetch=fake)
    assert info.value.failure_reason == "hash_mismatch"
    assert info.value.details == {"file": "a_1_amd64.deb"}
    assert (tmp_path / "a_1_amd64.deb").read_bytes() == b"aaa-tampered"
    assert fake.requests == []


def test_fetch_without_url(tmp_path) -> None:
    lock = lock_for({"a_1_amd64.deb": b"aaa"})
    lock["packages"][0]["url"] = ""
    with pytest.raises(DebClosureError) as info:
        archive.fetch_lock_files(lock, str(tmp_path), fetch=FakeArchive({}))
    assert info.value.failure_reason == "download_failed"


def test_http_get_reports_unreachable_hosts() -> None:
    with pytest.raises(DebClosureError) as info:
        archive.http_get("http://127.0.0.1:9/nothing", timeout=2)
    assert info.value.failure_reason == "download_failed"


def test_file_sha256(tmp_path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * (3 << 20))
    assert archive.file_sha256(str(path)) == sha(b"x" * (3 << 20))
