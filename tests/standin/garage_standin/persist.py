"""Persistence of the stand-in's metadata to ``<metadata_dir>/standin-state.json``.

Written atomically (temp file + fsync + rename) with mode 0600, because it holds
access-key secrets and admin-token hashes. Object bytes are not in it: they
live in the S3 blob store under ``data_dir``. Standard library only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import typing as t

from .state import AdminToken, Bucket, Key, LayoutVersion, MultipartUpload, ObjectMeta, Permission, Role, Store

log = logging.getLogger("garage_standin.persist")
FORMAT = 1
STATE_FILE = "standin-state.json"


def _plain(obj: t.Any) -> t.Any:
    """A JSON-ready copy of a dataclass, much cheaper than ``dataclasses.asdict``.

    ``asdict`` deep-copies recursively; with tens of thousands of objects that made
    each snapshot (taken under the store lock) stall every request. Containers are
    copied one level down (their items are strings, numbers or dataclasses), so the
    result can be serialised after the lock is released.
    """
    kind = type(obj)
    if kind in _LEAVES:
        return obj
    if hasattr(kind, "__dataclass_fields__"):
        return {k: v if type(v) in _LEAVES else _plain(v) for k, v in vars(obj).items()}
    if kind is dict:
        return {k: v if type(v) in _LEAVES else _plain(v) for k, v in obj.items()}
    if kind in (list, tuple):
        return [v if type(v) in _LEAVES else _plain(v) for v in obj]
    return obj


_LEAVES = frozenset((str, int, float, bool, type(None), bytes))


def _role(r: Role | None) -> t.Any:
    return None if r is None else _plain(r)


def snapshot(store: Store) -> dict[str, t.Any]:
    """The whole metadata as plain JSON data (call with store.lock held)."""
    buckets = []
    for b in store.buckets.values():
        d = _plain(b)
        d["cors_xml"] = None if b.cors_xml is None else b.cors_xml.decode("utf-8", "surrogateescape")
        d["lifecycle_xml"] = None if b.lifecycle_xml is None else b.lifecycle_xml.decode("utf-8", "surrogateescape")
        d["uploads"] = {
            uid: _plain(up) | {"parts": {str(n): list(p) for n, p in up.parts.items()}}
            for uid, up in b.uploads.items()
        }
        buckets.append(d)
    return {
        "format": FORMAT,
        "buckets": buckets,
        "global_aliases": dict(store.global_aliases),
        "keys": [_plain(k) for k in store.keys.values()],
        "admin_tokens": [_plain(x) for x in store.admin_tokens.values()],
        "layout_versions": [
            _plain(v) | {"roles": {n: _role(r) for n, r in v.roles.items()}} for v in store.layout_versions
        ],
        "staged_roles": {n: _role(r) for n, r in store.staged_roles.items()},
        "staged_zone_redundancy": store.staged_zone_redundancy,
        "update_trackers": {n: dict(tr) for n, tr in store.update_trackers.items()},
        "min_live_version": store.min_live_version,
    }


def restore(store: Store, data: dict[str, t.Any]) -> None:
    if data.get("format") != FORMAT:
        raise ValueError("unsupported stand-in state format")
    store.buckets.clear()
    for d in data["buckets"]:
        d = dict(d)
        d["authorized_keys"] = {k: Permission(**p) for k, p in d["authorized_keys"].items()}
        d["local_aliases"] = [tuple(x) for x in d["local_aliases"]]
        d["objects"] = {k: ObjectMeta(**o) for k, o in d["objects"].items()}
        ups = {}
        for uid, u in d["uploads"].items():
            u = dict(u)
            u["parts"] = {int(n): tuple(p) for n, p in u["parts"].items()}
            ups[uid] = MultipartUpload(**u)
        d["uploads"] = ups
        for f in ("cors_xml", "lifecycle_xml"):
            if d.get(f) is not None:
                d[f] = d[f].encode("utf-8", "surrogateescape")
        b = Bucket(**d)
        store.buckets[b.id] = b
    store.global_aliases = dict(data["global_aliases"])
    store.keys = {k["id"]: Key(**k) for k in data["keys"]}
    store.admin_tokens = {x["id"]: AdminToken(**x) for x in data["admin_tokens"]}
    versions = []
    for v in data["layout_versions"]:
        v = dict(v)
        v["roles"] = {n: Role(**r) for n, r in v["roles"].items() if r is not None}
        versions.append(LayoutVersion(**v))
    store.layout_versions = versions or store.layout_versions
    store.staged_roles = {n: (None if r is None else Role(**r)) for n, r in data["staged_roles"].items()}
    store.staged_zone_redundancy = data.get("staged_zone_redundancy")
    store.update_trackers = {n: dict(tr) for n, tr in data.get("update_trackers", {}).items()}
    store.min_live_version = int(data.get("min_live_version", store.layout_versions[-1].version))


def write_atomic(path: str, data: bytes, mode: int = 0o600) -> None:
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".standin-", dir=d)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class Persister:
    """Saves the store when it changed; ``flush()`` is synchronous and idempotent."""

    def __init__(self, store: Store, metadata_dir: str) -> None:
        self.store = store
        self.path = os.path.join(metadata_dir, STATE_FILE)
        self._saved_gen = -1
        self._io_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_duration = 0.0
        # The launcher does not create it; Garage creates its metadata_dir too.
        os.makedirs(metadata_dir, mode=0o700, exist_ok=True)

    def load(self) -> bool:
        if not os.path.exists(self.path):
            return False
        with open(self.path, encoding="utf-8") as f:
            data = json.load(f)
        with self.store.lock:
            restore(self.store, data)
            self._saved_gen = self.store.generation
        return True

    def notify(self) -> None:
        self._dirty.set()

    def flush(self) -> None:
        with self._io_lock:
            with self.store.lock:
                gen = self.store.generation
                if gen == self._saved_gen:
                    return
                snap = snapshot(self.store)
            # Serialise and write outside the store lock: requests keep flowing.
            started = time.monotonic()
            write_atomic(self.path, json.dumps(snap, separators=(",", ":")).encode("utf-8"))
            self._saved_gen = gen
            self.last_duration = time.monotonic() - started

    def start(self, interval: float = 0.2) -> None:
        def run() -> None:
            while not self._stop.is_set():
                self._dirty.wait(timeout=1.0)
                if self._stop.is_set():
                    break
                if self._dirty.is_set():
                    self._dirty.clear()
                    try:
                        self.flush()
                    except OSError as e:
                        log.warning("could not save the stand-in state: %s", e)
                    # Background (S3) flushes cost at most ~1/5 of the time: the
                    # pause grows with the size of the state being written.
                    self._stop.wait(max(interval, 5 * self.last_duration))

        self._thread = threading.Thread(target=run, name="standin-persist", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.flush()
        except OSError as e:
            log.warning("could not save the stand-in state: %s", e)
