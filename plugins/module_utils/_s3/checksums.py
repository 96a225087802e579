# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Local digests and S3 ETag arithmetic, in bounded memory. No Ansible, no network here.

Garage's ETags are S3's:

- a single ``PutObject``: the hex MD5 of the content (``"5d41402abc4b2a76b9719d911017c592"``);
- a multipart upload: the hex MD5 of the concatenated *binary* MD5s of the parts, then ``-``
  and the number of parts (``"9b2cf535f27731c974343645a3985328-3"``). It depends on where the
  parts were cut, so comparing a local file with it needs the part size the uploader used.
  :func:`etag_matches` gets it from the caller (Garage answers ``HeadObject`` with
  ``PartNumber=1`` with the size of the first part).

One pass over the data computes everything a caller may need::

    digest = checksums.digest_file("/srv/big.iso", part_size=8 * 1024 * 1024)
    digest.size, digest.md5, digest.sha256           # whole content (hex)
    digest.multipart_etag                            # what a multipart upload with that part size gets
    digest.etag(multipart=digest.size > threshold)   # the ETag an upload will produce

Memory: one read buffer (1 MiB) plus 16 bytes per part.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import math
import typing as t

READ_CHUNK = 1024 * 1024


def _md5() -> t.Any:
    try:
        return hashlib.md5(usedforsecurity=False)
    except TypeError:  # pragma: no cover - Python < 3.9
        return hashlib.md5()


def normalize_etag(etag: str | None) -> str:
    """An ETag without quotes and whitespace, lowercase hex (``W/`` weak prefix removed)."""
    value = (etag or "").strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"').lower()


def multipart_parts(etag: str | None) -> int | None:
    """The number of parts of a multipart ETag (``...-3`` -> 3), None for a single-part ETag."""
    value = normalize_etag(etag)
    head, sep, tail = value.rpartition("-")
    if not sep or not tail.isdigit() or len(head) != 32:
        return None
    return int(tail)


def multipart_etag(part_md5s: t.Sequence[bytes]) -> str:
    """The ETag of a multipart upload whose parts have these binary MD5 digests."""
    combined = _md5()
    for digest in part_md5s:
        combined.update(digest)
    return f"{combined.hexdigest()}-{len(part_md5s)}"


@dataclasses.dataclass(frozen=True)
class Digest:
    """Digests of some content (see the module docstring)."""

    size: int
    md5: str
    sha256: str
    part_size: int | None = None
    part_md5s: tuple[bytes, ...] = ()

    @property
    def multipart_etag(self) -> str | None:
        """The ETag of a multipart upload cut at ``part_size`` (None when no part size was given)."""
        if self.part_size is None:
            return None
        return multipart_etag(self.part_md5s or (_md5().digest(),))

    def etag(self, *, multipart: bool) -> str:
        """The ETag an upload of this content gets: multipart (cut at ``part_size``) or not."""
        if multipart:
            etag = self.multipart_etag
            if etag is None:
                raise ValueError("a multipart ETag needs the digest to be computed with a part_size")
            return etag
        return self.md5


class Hasher:
    """Incremental digests (whole content and per part) fed with chunks of any size: for data
    streamed elsewhere at the same time (a download, an upload)."""

    def __init__(self, part_size: int | None) -> None:
        if part_size is not None and part_size < 1:
            raise ValueError("part_size must be positive")
        self.part_size = part_size
        self.md5 = _md5()
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.parts: list[bytes] = []
        self._part = _md5()
        self._in_part = 0

    def update(self, data: bytes | memoryview) -> None:
        self.md5.update(data)
        self.sha256.update(data)
        self.size += len(data)
        if self.part_size is None:
            return
        view = memoryview(data)
        while len(view):
            room = self.part_size - self._in_part
            piece, view = view[:room], view[room:]
            self._part.update(piece)
            self._in_part += len(piece)
            if self._in_part == self.part_size:
                self.parts.append(self._part.digest())
                self._part, self._in_part = _md5(), 0

    def result(self) -> Digest:
        parts = list(self.parts)
        if self.part_size is not None and (self._in_part or not parts):
            parts.append(self._part.digest())
        return Digest(self.size, self.md5.hexdigest(), self.sha256.hexdigest(), self.part_size, tuple(parts))


def digest_stream(stream: t.BinaryIO, *, part_size: int | None = None, chunk: int = READ_CHUNK) -> Digest:
    """Digest everything ``stream`` yields, reading ``chunk`` bytes at a time."""
    hasher = Hasher(part_size)
    while True:
        data = stream.read(chunk)
        if not data:
            return hasher.result()
        hasher.update(data)


def digest_file(path: str, *, part_size: int | None = None) -> Digest:
    """Digest a local file (see :func:`digest_stream`)."""
    with open(path, "rb") as handle:
        return digest_stream(handle, part_size=part_size)


def digest_bytes(data: bytes, *, part_size: int | None = None) -> Digest:
    return digest_stream(io.BytesIO(data), part_size=part_size)


def part_count(size: int, part_size: int) -> int:
    """How many parts a multipart upload of ``size`` bytes cut at ``part_size`` has (at least 1)."""
    return max(1, math.ceil(size / part_size))


def etag_matches(
    remote_etag: str | None,
    remote_size: int | None,
    local: t.Callable[[int | None], Digest],
    first_part_size: t.Callable[[], int | None],
    *,
    local_size: int | None = None,
) -> bool | None:
    """Whether local content has the remote ETag: True, False, or None when it cannot be told.

    :param local: ``local(part_size)`` digests the local content (cut at ``part_size``, or
        whole with ``None``); it is called at most once.
    :param first_part_size: the size of the remote object's first part (one ``HeadObject``
        with ``PartNumber=1``); called only for a multipart ETag.

    :param local_size: the local size if known: a different size answers False at once.

    Parts are assumed to be equal except the last (what every S3 tool does). When the part
    count does not fit that assumption, the answer is None.
    """
    if local_size is not None and remote_size is not None and local_size != remote_size:
        return False
    etag = normalize_etag(remote_etag)
    if not etag:
        return None
    parts = multipart_parts(etag)
    if parts is None:
        digest = local(None)
        if remote_size is not None and digest.size != remote_size:
            return False
        return digest.md5 == etag if len(etag) == 32 else None
    part_size = first_part_size() if parts > 1 else remote_size
    if not part_size or remote_size is None:
        return None
    if part_count(remote_size, part_size) != parts:
        return None
    digest = local(part_size)
    if digest.size != remote_size:
        return False
    return digest.multipart_etag == etag
