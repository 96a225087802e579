# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.checksums: digests in one pass, part boundaries, multipart ETags, ETag comparison."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._s3 import checksums

DATA = os.urandom(10_000)


def reference_multipart_etag(data: bytes, part: int) -> str:
    """S3's definition, written the obvious way."""
    digests = [hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)] or [
        hashlib.md5(b"").digest()
    ]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


@pytest.mark.parametrize("part", [1000, 3000, 9999, 10_000, 20_000])
@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_one_pass_digests_match_the_definitions(part: int, chunk: int) -> None:
    data = DATA[:2500] if chunk == 1 else DATA
    digest = checksums.digest_stream(io.BytesIO(data), part_size=part, chunk=chunk)
    assert digest.size == len(data)
    assert digest.md5 == hashlib.md5(data).hexdigest()
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.multipart_etag == reference_multipart_etag(data, part)
    assert digest.etag(multipart=False) == digest.md5


def test_empty_content_and_no_part_size() -> None:
    assert checksums.digest_bytes(b"").md5 == hashlib.md5(b"").hexdigest()
    assert checksums.digest_bytes(b"", part_size=5).multipart_etag == reference_multipart_etag(b"", 5)
    digest = checksums.digest_bytes(b"abc")
    assert digest.multipart_etag is None
    with pytest.raises(ValueError):
        digest.etag(multipart=True)


@pytest.mark.parametrize(
    ("etag", "parts"),
    [
        ('"d41d8cd98f00b204e9800998ecf8427e-3"', 3),
        ("d41d8cd98f00b204e9800998ecf8427e", None),
        ("x-3", None),
        ("", None),
    ],
)
def test_multipart_parts(etag: str, parts: int | None) -> None:
    assert checksums.multipart_parts(etag) == parts


def test_normalize_etag() -> None:
    assert checksums.normalize_etag('W/"ABC"') == "abc"
    assert checksums.normalize_etag(None) == ""


def _local(data: bytes):  # type: ignore[no-untyped-def]
    calls: list[int | None] = []

    def local(part: int | None) -> checksums.Digest:
        calls.append(part)
        return checksums.digest_bytes(data, part_size=part)

    return local, calls


def test_etag_matches_single_part() -> None:
    local, _unused = _local(DATA)
    assert checksums.etag_matches(hashlib.md5(DATA).hexdigest(), len(DATA), local, lambda: None) is True
    assert checksums.etag_matches("0" * 32, len(DATA), local, lambda: None) is False


def test_etag_matches_multipart_with_the_remote_part_size() -> None:
    local, calls = _local(DATA)
    remote = reference_multipart_etag(DATA, 3000)
    asked: list[bool] = []

    def first_part() -> int:
        asked.append(True)
        return 3000

    assert checksums.etag_matches(remote, len(DATA), local, first_part) is True
    assert calls == [3000] and asked == [True]
    other, _unused = _local(DATA[:-1] + b"\0" if DATA[-1:] != b"\0" else DATA[:-1] + b"\1")
    assert checksums.etag_matches(remote, len(DATA), other, lambda: 3000) is False


def test_etag_matches_cannot_tell_uneven_parts_and_short_circuits_on_size() -> None:
    local, calls = _local(DATA)
    remote = reference_multipart_etag(DATA, 3000)  # 4 parts
    assert checksums.etag_matches(remote, len(DATA), local, lambda: 5000) is None  # 5000 -> 2 parts, not 4
    assert checksums.etag_matches(remote, len(DATA), local, lambda: 3000, local_size=1) is False
    assert calls == []


def test_digest_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(DATA)
    assert checksums.digest_file(str(path), part_size=4096) == checksums.digest_bytes(DATA, part_size=4096)


def test_part_count() -> None:
    assert [checksums.part_count(s, 10) for s in (0, 1, 10, 11, 100)] == [1, 1, 1, 2, 10]
