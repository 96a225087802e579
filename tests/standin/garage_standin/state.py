"""In-memory model of one Garage cluster, shared by the admin and S3 front ends.

Contract between the front ends (admin.py, s3.py):
- every read or mutation of ``Store`` happens under ``store.lock`` (an RLock);
- object *bytes* live on disk under ``Store.data_dir`` (see s3 storage), only
  metadata lives here;
- ids are Garage's formats: bucket ids 64 lowercase hex, key ids ``GK`` + 24 hex,
  secrets 64 hex, node ids 64 hex, admin token ids 24 hex.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import typing as t


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclasses.dataclass
class Permission:
    read: bool = False
    write: bool = False
    owner: bool = False


@dataclasses.dataclass
class ObjectMeta:
    key: str
    size: int
    etag: str  # quoted-less hex md5 (or md5-N for multipart)
    last_modified: float  # epoch seconds
    content_type: str = "application/octet-stream"
    user_meta: dict[str, str] = dataclasses.field(default_factory=dict)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # cache-control, content-encoding...
    blob: str = ""  # file name (relative to the bucket's blob dir) holding the bytes
    checksums: dict[str, str] = dataclasses.field(default_factory=dict)  # e.g. {"CRC32": "base64"}


@dataclasses.dataclass
class MultipartUpload:
    upload_id: str
    key: str
    initiated: float
    content_type: str = "application/octet-stream"
    user_meta: dict[str, str] = dataclasses.field(default_factory=dict)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    # part number -> (size, etag, blob file name)
    parts: dict[int, tuple[int, str, str]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Bucket:
    id: str
    created: float  # epoch seconds
    global_aliases: list[str] = dataclasses.field(default_factory=list)
    # access key id -> permission (entries stay when all flags are false: Garage lists them)
    authorized_keys: dict[str, Permission] = dataclasses.field(default_factory=dict)
    # (access key id, alias) pairs of local aliases pointing here
    local_aliases: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    website_enabled: bool = False
    website_index: str | None = None
    website_error: str | None = None
    website_routing_rules: list[t.Any] = dataclasses.field(default_factory=list)
    quota_max_size: int | None = None
    quota_max_objects: int | None = None
    cors_xml: bytes | None = None  # stored CORSConfiguration document, None when unset
    lifecycle_xml: bytes | None = None
    objects: dict[str, ObjectMeta] = dataclasses.field(default_factory=dict)
    uploads: dict[str, MultipartUpload] = dataclasses.field(default_factory=dict)
    deleted: bool = False


@dataclasses.dataclass
class Key:
    id: str
    secret: str
    name: str
    created: float | None
    expiration: float | None = None  # epoch seconds; None = never expires
    allow_create_bucket: bool = False
    # local alias name -> bucket id; a value of None is a tombstone (see garage-facts §3.2)
    local_aliases: dict[str, str | None] = dataclasses.field(default_factory=dict)
    deleted: bool = False

    def expired(self, at: float | None = None) -> bool:
        return self.expiration is not None and (at or time.time()) >= self.expiration


@dataclasses.dataclass
class AdminToken:
    id: str  # 24 lowercase hex
    secret_hash: str  # sha256 hex of the whole token (the stand-in's stand-in for argon2)
    name: str
    created: float
    expiration: float | None = None
    scope: list[str] = dataclasses.field(default_factory=lambda: ["*"])
    deleted: bool = False

    def expired(self, at: float | None = None) -> bool:
        return self.expiration is not None and (at or time.time()) >= self.expiration


@dataclasses.dataclass
class Node:
    id: str  # 64 hex
    hostname: str
    addr: str  # "127.0.0.1:<rpc port>" (simulated)
    is_up: bool = True
    # False for a node that was never connected (``--connected self``): such a
    # node is only listed by GetClusterStatus when it has a layout role.
    known: bool = True
    # False while the control plane holds the node down (connections fail).
    reachable: bool = True
    last_seen: float | None = None  # epoch seconds of the last contact when down
    data_avail: int = 1 << 40
    data_total: int = 2 << 40


@dataclasses.dataclass
class Role:
    zone: str
    capacity: int | None  # None = gateway
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class LayoutVersion:
    version: int
    roles: dict[str, Role]  # node id -> role
    zone_redundancy: t.Any  # "maximum" or int
    partition_size: int = 0
    # node id -> number of partitions stored (computed at apply)
    stored_partitions: dict[str, int] = dataclasses.field(default_factory=dict)
    # partition index (0..255) -> node ids storing it; empty for version 0
    assignment: list[list[str]] = dataclasses.field(default_factory=list)


class Store:
    """The whole simulated cluster. Hold ``lock`` for every access."""

    def __init__(self, *, region: str = "garage", replication_factor: int = 3, data_dir: str | None = None) -> None:
        self.lock = threading.RLock()
        self.region = region
        self.replication_factor = replication_factor
        self.data_dir = data_dir
        self.nodes: dict[str, Node] = {}
        self.buckets: dict[str, Bucket] = {}  # id -> bucket (deleted ones kept as tombstones)
        self.global_aliases: dict[str, str] = {}  # alias -> bucket id
        self.keys: dict[str, Key] = {}  # id -> key (deleted ones kept: ImportKey must 409 on them)
        self.admin_tokens: dict[str, AdminToken] = {}
        # layout: history of applied versions; versions[-1] is current. Version 0 = empty.
        self.layout_versions: list[LayoutVersion] = [LayoutVersion(0, {}, "maximum")]
        # staged changes: node id -> Role, or None for "remove"
        self.staged_roles: dict[str, Role | None] = {}
        self.staged_zone_redundancy: t.Any = None  # None = no staged parameters
        # Layout update trackers (node id -> {"ack", "sync", "sync_ack"}) and the oldest
        # still-live layout version: older versions stay live ("Draining") until every
        # storage node has synced the newer ones (see layout.sync_trackers).
        self.update_trackers: dict[str, dict[str, int]] = {}
        self.min_live_version = 0
        self.started = time.time()
        # Persistence hooks (see model.mark_changed): bumped on every mutation.
        self.generation = 0
        self.on_change: t.Callable[[], None] | None = None
        # Garage config bits both front ends may need.
        self.allow_punycode = False
        self.s3_root_domain: str | None = None
        self.web_root_domain: str | None = None
