# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Reading a Debian archive with a chain of trust, and fetching the files of a lock (no Ansible).

``InRelease`` is checked with ``gpgv`` against a keyring (Debian's by default); each ``Packages`` index is
checked against the SHA256 that the signed ``Release`` gives for it; each ``.deb`` against the SHA256 that
the index gives for it (kept in the lock). Downloads go to a ``.part`` file that is renamed only once its
hash matches, so a cache never holds a file that does not match.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import subprocess
import tempfile
import typing as t
import urllib.error

from ansible.module_utils.urls import open_url

from ansible_collections.cellar.garage.plugins.module_utils._deb.control import Package, parse_packages, parse_release
from ansible_collections.cellar.garage.plugins.module_utils._deb.errors import DebClosureError

DEFAULT_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
_DECOMPRESS: dict[str, t.Callable[[bytes], bytes]] = {
    ".xz": lzma.decompress, ".gz": gzip.decompress, ".bz2": bz2.decompress, "": lambda b: b,
}

Fetch = t.Callable[[str], bytes]


def http_get(url: str, timeout: float = 60) -> bytes:
    try:
        with open_url(url, timeout=timeout) as response:
            return t.cast(bytes, response.read())
    except (urllib.error.URLError, OSError) as exc:
        raise DebClosureError(f"cannot download {url}: {exc}", failure_reason="download_failed") from None


def verify_inrelease(data: bytes, keyring: str) -> None:
    """Raise ``signature_invalid`` unless ``gpgv`` accepts the clear-signed ``data`` with ``keyring``."""
    if not os.path.exists(keyring):
        raise DebClosureError(f"keyring {keyring} does not exist (install debian-archive-keyring, or pass one)",
                              failure_reason="signature_invalid")
    with tempfile.NamedTemporaryFile(suffix=".InRelease") as handle:
        handle.write(data)
        handle.flush()
        proc = subprocess.run(["gpgv", "--keyring", keyring, handle.name], capture_output=True, text=True,
                              check=False)
    if proc.returncode != 0:
        raise DebClosureError(f"the signature of InRelease does not verify with {keyring}: {proc.stderr.strip()}",
                              failure_reason="signature_invalid")


def read_source(
    url: str,
    suite: str,
    components: t.Sequence[str],
    architecture: str,
    *,
    keyring: str = DEFAULT_KEYRING,
    fetch: Fetch = http_get,
    verify: t.Callable[[bytes, str], None] = verify_inrelease,
) -> tuple[list[Package], dict[str, t.Any]]:
    """The packages of one archive source, trusted through its signed InRelease; and the source's facts."""
    base = url.rstrip("/")
    inrelease = fetch(f"{base}/dists/{suite}/InRelease")
    verify(inrelease, keyring)
    release = parse_release(inrelease.decode("utf-8", "replace"))
    packages: list[Package] = []
    for component in components:
        stem = f"{component}/binary-{architecture}/Packages"
        for suffix in (".xz", ".gz", ".bz2", ""):
            if stem + suffix in release["sha256"]:
                break
        else:
            raise DebClosureError(f"{base} {suite}: the Release file lists no {stem}[.xz|.gz]",
                                  failure_reason="malformed_index")
        digest, size = release["sha256"][stem + suffix]
        raw = fetch(f"{base}/dists/{suite}/{stem}{suffix}")
        actual = hashlib.sha256(raw).hexdigest()
        if actual != digest or len(raw) != size:
            raise DebClosureError(
                f"{base}/dists/{suite}/{stem}{suffix}: sha256 {actual} ({len(raw)} bytes) does not match the "
                f"signed Release ({digest}, {size} bytes)",
                failure_reason="hash_mismatch",
            )
        packages.extend(parse_packages(_DECOMPRESS[suffix](raw).decode("utf-8", "replace"), base))
    facts = {"url": base, "suite": suite, "components": list(components), "date": release["date"]}
    return packages, facts


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_lock_files(
    lock: t.Mapping[str, t.Any], directory: str, *, fetch: Fetch = http_get
) -> dict[str, list[str]]:
    """Make ``directory`` hold every file of ``lock`` with its pinned sha256; download only what is missing.

    Returns {"present": [...], "downloaded": [...]}. A file already there with another hash is an error (it
    is never overwritten silently); a download that does not match is discarded and is an error.
    """
    os.makedirs(directory, exist_ok=True)
    result: dict[str, list[str]] = {"present": [], "downloaded": []}
    for entry in lock["packages"]:
        path = os.path.join(directory, entry["filename"])
        if os.path.exists(path):
            actual = file_sha256(path)
            if actual != entry["sha256"]:
                raise DebClosureError(
                    f"{path} has sha256 {actual}, the lock pins {entry['sha256']}: remove the file, or "
                    "regenerate the lock if the archive really changed",
                    failure_reason="hash_mismatch", details={"file": entry["filename"]},
                )
            result["present"].append(entry["filename"])
            continue
        if not entry.get("url"):
            raise DebClosureError(f"{entry['filename']} is missing from {directory} and the lock has no URL for it",
                                  failure_reason="download_failed", details={"file": entry["filename"]})
        data = fetch(entry["url"])
        actual = hashlib.sha256(data).hexdigest()
        if actual != entry["sha256"]:
            raise DebClosureError(
                f"{entry['url']}: downloaded sha256 {actual}, the lock pins {entry['sha256']} (the archive "
                "changed or the download was tampered with; nothing was kept)",
                failure_reason="hash_mismatch", details={"file": entry["filename"]},
            )
        part = path + ".part"
        with open(part, "wb") as handle:
            handle.write(data)
        os.replace(part, path)
        result["downloaded"].append(entry["filename"])
    return result
