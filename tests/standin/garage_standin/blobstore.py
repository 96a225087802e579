"""Object bytes on disk for the stand-in's S3 front end, and S3 checksums.

Layout: ``<data_dir>/blobs/<bucket id>/<random name>``; the metadata (which
blob holds which object or part) lives in the Store. Bodies are streamed to
disk in chunks while being hashed, never held whole in memory.

Checksums (garage-facts §6): CRC32 (zlib), SHA1, SHA256 (hashlib), and CRC32C
and CRC64NVME in pure Python with a lookup table. Standard library only.
"""

from __future__ import annotations

import base64
import hashlib
import os
import queue
import secrets
import shutil
import tempfile
import threading
import typing as t
import zlib

from .state import Store

CHUNK = 256 * 1024
_ROOT_LOCK = threading.Lock()

# ------------------------------------------------------------------ checksums


def _crc_table_reflected(poly: int, width: int) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _bit in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & ((1 << width) - 1))
    return table


_CRC32C_TABLE = _crc_table_reflected(0x82F63B78, 32)
_CRC64NVME_TABLE = _crc_table_reflected(0x9A6C9329AC4BC9B5, 64)


class _TableCrc:
    """Reflected CRC with init and xorout all ones (CRC-32C, CRC-64/NVME)."""

    def __init__(self, table: list[int], width: int) -> None:
        self.table = table
        self.width = width
        self.mask = (1 << width) - 1
        self.crc = self.mask

    def update(self, data: bytes) -> None:
        crc = self.crc
        tab = self.table
        for b in data:
            crc = tab[(crc ^ b) & 0xFF] ^ (crc >> 8)
        self.crc = crc

    def digest(self) -> bytes:
        return (self.crc ^ self.mask).to_bytes(self.width // 8, "big")


class _Crc32:
    def __init__(self) -> None:
        self.crc = 0

    def update(self, data: bytes) -> None:
        self.crc = zlib.crc32(data, self.crc)

    def digest(self) -> bytes:
        return self.crc.to_bytes(4, "big")


class Hasher(t.Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")


def new_checksum(alg: str) -> Hasher:
    alg = alg.lower()
    if alg == "crc32":
        return _Crc32()
    if alg == "crc32c":
        return _TableCrc(_CRC32C_TABLE, 32)
    if alg == "crc64nvme":
        return _TableCrc(_CRC64NVME_TABLE, 64)
    if alg == "sha1":
        return hashlib.sha1()
    if alg == "sha256":
        return hashlib.sha256()
    raise ValueError(f"unknown checksum algorithm {alg}")


def checksum_b64(alg: str, data: bytes) -> str:
    h = new_checksum(alg)
    h.update(data)
    return base64.b64encode(h.digest()).decode()


# ---------------------------------------------------------------------- blobs


def blob_root(store: Store) -> str:
    """``<data_dir>/blobs`` (a private temp dir when the store has no data_dir)."""
    root = getattr(store, "_s3_blob_root", None)
    if root:
        return str(root)
    with _ROOT_LOCK:
        root = getattr(store, "_s3_blob_root", None)
        if not root:
            base = store.data_dir or tempfile.mkdtemp(prefix="standin-s3-")
            root = os.path.join(base, "blobs")
            os.makedirs(root, exist_ok=True)
            store._s3_blob_root = root  # type: ignore[attr-defined]
    return str(root)


def blob_path(store: Store, bucket_id: str, name: str) -> str:
    return os.path.join(blob_root(store), bucket_id, name)


def new_blob(store: Store, bucket_id: str) -> tuple[str, str]:
    d = os.path.join(blob_root(store), bucket_id)
    os.makedirs(d, exist_ok=True)
    name = secrets.token_hex(16)
    return name, os.path.join(d, name)


def remove_blob_now(store: Store, bucket_id: str, name: str) -> None:
    if not name:
        return
    try:
        os.unlink(blob_path(store, bucket_id, name))
    except OSError:
        pass


class _Reaper:
    """Unlinks dead blobs in the background, like Garage's asynchronous block GC.

    Right after heavy writes an unlink can block on the filesystem for a while;
    doing it off the request path keeps DeleteObjects fast. The worker thread
    exits after ``IDLE_EXIT`` seconds without work and is restarted on demand.
    """

    IDLE_EXIT = 5.0

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def put(self, path: str) -> None:
        self.queue.put(path)
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="standin-blob-reaper", daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                path = self.queue.get(timeout=self.IDLE_EXIT)
            except queue.Empty:
                with self.lock:
                    if self.queue.empty():
                        self.thread = None
                        return
                continue
            try:
                os.unlink(path)
            except OSError:
                pass


_REAPER = _Reaper()


def remove_blob(store: Store, bucket_id: str, name: str) -> None:
    """Forget a blob; the file is unlinked in the background (open readers keep their bytes)."""
    if name:
        _REAPER.put(blob_path(store, bucket_id, name))


def remove_bucket_dir(store: Store, bucket_id: str) -> None:
    shutil.rmtree(os.path.join(blob_root(store), bucket_id), ignore_errors=True)


class WriteResult(t.NamedTuple):
    name: str
    size: int
    md5: str  # hex
    sha256: str  # hex
    checksums: dict[str, str]  # ALG (upper) -> base64


class Reader(t.Protocol):
    def read(self, n: int) -> bytes: ...


def write_stream(
    store: Store,
    bucket_id: str,
    source: Reader | t.Iterable[bytes],
    *,
    checksum_algs: t.Iterable[str] = (),
    max_size: int | None = None,
) -> WriteResult:
    """Stream ``source`` into a new blob, hashing as it goes.

    ``source`` is a reader (``read(n)`` returning b"" at the end) or an
    iterable of byte strings. On any exception the partial blob is removed.
    """
    name, path = new_blob(store, bucket_id)
    md5 = hashlib.md5()
    sha = hashlib.sha256()
    hashers = {a.upper(): new_checksum(a) for a in set(x.lower() for x in checksum_algs)}
    size = 0
    try:
        with open(path, "wb") as f:
            pieces: t.Iterable[bytes]
            if hasattr(source, "read"):
                reader = t.cast(Reader, source)
                pieces = iter(lambda: reader.read(CHUNK), b"")
            else:
                pieces = source
            for data in pieces:
                if not data:
                    continue
                size += len(data)
                if max_size is not None and size > max_size:
                    raise ValueError("body too large")
                md5.update(data)
                sha.update(data)
                for h in hashers.values():
                    h.update(data)
                f.write(data)
    except BaseException:
        try:
            os.unlink(path)
        except OSError:
            pass
        raise
    return WriteResult(
        name,
        size,
        md5.hexdigest(),
        sha.hexdigest(),
        {k: base64.b64encode(h.digest()).decode() for k, h in hashers.items()},
    )


def iter_file(f: t.BinaryIO, start: int, length: int) -> t.Iterator[bytes]:
    f.seek(start)
    left = length
    while left > 0:
        data = f.read(min(CHUNK, left))
        if not data:
            break
        left -= len(data)
        yield data


def iter_blobs(store: Store, bucket_id: str, names: t.Sequence[tuple[str, int, int]]) -> t.Iterator[bytes]:
    """Yield the bytes of (blob name, start, length) ranges in order."""
    for name, start, length in names:
        with open(blob_path(store, bucket_id, name), "rb") as f:
            yield from iter_file(f, start, length)
