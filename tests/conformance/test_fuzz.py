"""Bounded, seeded fuzzing of the Admin API port.

A few thousand random or malformed requests (bad JSON, truncated bodies, bad
Content-Length, huge headers, random paths, methods, query strings and bytes).
The server must never crash, must answer 5xx only where Garage does
(ApplyClusterLayout's 500, RemoveBucketAlias's 500), and every error answer
must be Garage's JSON error shape. Stand-in only (it sends garbage on purpose).
"""

from __future__ import annotations

import json
import random
import socket
import string
import time
import typing as t
import urllib.parse

import pytest

from tests.fixtures.garage import GarageCluster

SEED = 20250614
N_REQUESTS = 3000
# A safety bound only (a few seconds suffice on an idle machine): the loop is bounded in
# count and time, and the test asserts every planned request was sent and answered.
TIME_BUDGET = 180.0
ALLOWED_5XX = {"/v2/ApplyClusterLayout", "/v2/RemoveBucketAlias"}

ENDPOINTS = [
    "GetClusterStatus", "GetClusterHealth", "GetClusterStatistics", "ConnectClusterNodes", "ListAdminTokens",
    "GetAdminTokenInfo", "GetCurrentAdminTokenInfo", "CreateAdminToken", "UpdateAdminToken", "DeleteAdminToken",
    "GetClusterLayout", "GetClusterLayoutHistory", "UpdateClusterLayout", "PreviewClusterLayoutChanges",
    "ApplyClusterLayout", "RevertClusterLayout", "ClusterLayoutSkipDeadNodes", "ListKeys", "GetKeyInfo", "CreateKey",
    "ImportKey", "UpdateKey", "DeleteKey", "ListBuckets", "GetBucketInfo", "CreateBucket", "UpdateBucket",
    "DeleteBucket", "CleanupIncompleteUploads", "InspectObject", "AllowBucketKey", "DenyBucketKey", "AddBucketAlias",
    "RemoveBucketAlias", "GetNodeInfo", "GetNodeStatistics", "CreateMetadataSnapshot", "LaunchRepairOperation",
    "ListWorkers", "GetWorkerInfo", "GetWorkerVariable", "SetWorkerVariable", "ListBlockErrors", "GetBlockInfo",
    "RetryBlockResync", "PurgeBlocks",
]  # fmt: skip
FIELDS = [
    "id", "bucketId", "accessKeyId", "secretAccessKey", "globalAlias", "localAlias", "alias", "allow", "deny",
    "permissions", "read", "write", "owner", "createBucket", "version", "roles", "zone", "capacity", "tags", "remove",
    "parameters", "zoneRedundancy", "atLeast", "name", "expiration", "neverExpires", "scope", "websiteAccess",
    "enabled", "indexDocument", "errorDocument", "quotas", "maxSize", "maxObjects", "olderThanSecs", "repairType",
    "blockHash", "variable", "value", "allowMissingData", "busyOnly",
]  # fmt: skip
QUERY_KEYS = ["id", "search", "globalAlias", "node", "bucketId", "key", "showSecretKey", "domain", "x", ""]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "FOO", "get", "CONNECT"]


class Fuzzer:
    def __init__(self, rng: random.Random, g: GarageCluster) -> None:
        self.rng = rng
        self.g = g

    def scalar(self) -> t.Any:
        r = self.rng
        return r.choice(
            [
                None,
                True,
                False,
                0,
                -1,
                1,
                1023,
                1024,
                2**63,
                2**64 + 5,
                -(2**70),
                1.5,
                "",
                "maximum",
                "x" * r.randint(0, 300),
                "".join(r.choice(string.hexdigits.lower()) for _i in range(64)),
                "GK" + "".join(r.choice("0123456789abcdef") for _i in range(24)),
                self.g.node_ids[r.randrange(len(self.g.node_ids))],
                "2030-01-01T00:00:00Z",
                "not-a-date",
                "\u00e9\u2603\U0001f600",
                "Bad_Name",
                "../../etc/passwd",
            ]
        )

    def value(self, depth: int = 0) -> t.Any:
        r = self.rng
        kind = r.random()
        if depth > 3 or kind < 0.5:
            return self.scalar()
        if kind < 0.7:
            return [self.value(depth + 1) for _i in range(r.randint(0, 4))]
        return {r.choice(FIELDS): self.value(depth + 1) for _i in range(r.randint(0, 5))}

    def body(self) -> bytes:
        r = self.rng
        choice = r.randrange(9)
        if choice == 0:
            return b""
        if choice == 1:
            return bytes(r.randrange(256) for _i in range(r.randint(1, 200)))
        if choice == 2:
            s = json.dumps(self.value())
            return s[: r.randint(0, max(len(s) - 1, 0))].encode()  # truncated
        if choice == 3:
            return b"[" * r.randint(100, 5000)  # deep nesting
        if choice == 4:
            return b'{"version": NaN, "roles": Infinity}'
        return json.dumps(self.value()).encode()

    def query(self) -> str:
        r = self.rng
        parts = []
        for _param in range(r.randint(0, 4)):
            k = r.choice(QUERY_KEYS)
            v = self.scalar()
            parts.append(f"{urllib.parse.quote(str(k))}={urllib.parse.quote(str(v))}")
        if r.random() < 0.1:
            parts.append("%zz=%%&&==")
        if r.random() < 0.1 and parts:
            parts.append(parts[0])  # repeated parameter
        return "&".join(parts)

    def path(self) -> str:
        r = self.rng
        c = r.random()
        if c < 0.7:
            p = "/v2/" + r.choice(ENDPOINTS)
        elif c < 0.8:
            p = r.choice(["/health", "/metrics", "/check", "/", "/v1/status", "/v1/bucket", "/v0/", "/v2/", "//v2//"])
        else:
            p = "/" + "".join(r.choice(string.ascii_letters + "/%.~-_") for _i in range(r.randint(0, 60)))
            if p.startswith("/__standin"):
                p = "/x" + p
        q = self.query()
        return p + ("?" + q if q else "")

    def request(self) -> bytes:
        r = self.rng
        method = r.choice(METHODS) if r.random() < 0.3 else ("GET" if r.random() < 0.4 else "POST")
        path = self.path()
        body = self.body() if method != "GET" or r.random() < 0.2 else b""
        headers = [("Host", "127.0.0.1")]
        a = r.random()
        if a < 0.6:
            headers.append(("Authorization", f"Bearer {self.g.admin_token}"))
        elif a < 0.7:
            headers.append(("Authorization", r.choice(["Bearer", "Basic xx", "Bearer a.b.c", "Bearer " + "z" * 500])))
        c = r.random()
        if c < 0.75:
            headers.append(("Content-Length", str(len(body))))
        elif c < 0.8:
            headers.append(("Content-Length", r.choice(["-5", "abc", "1e3", "99999999999999999999", " 3 "])))
        elif c < 0.85:
            headers.append(("Content-Length", str(len(body) + r.randint(1, 50))))  # truncated body
        elif c < 0.9:
            headers.append(("Transfer-Encoding", "chunked"))
            body = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" if r.random() < 0.7 else b"zz\r\n" + body
        if r.random() < 0.03:
            headers.append(("X-Huge", "h" * r.randint(10_000, 70_000)))
        if r.random() < 0.02:
            headers += [(f"X-H{i}", "v") for i in range(120)]
        version = "HTTP/1.1" if r.random() < 0.97 else r.choice(["HTTP/2.0", "HTTP/0.9", "FOO", ""])
        head = f"{method} {path} {version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        if r.random() < 0.02:
            return bytes(r.randrange(256) for _i in range(r.randint(1, 300))) + b"\r\n\r\n"
        return head.encode("utf-8", "replace") + body


def send_raw(host: str, port: int, data: bytes, timeout: float = 10.0) -> bytes:
    with socket.create_connection((host, port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early on garbage; read what it said
        chunks = []
        total = 0
        while total < 1_000_000:
            try:
                b = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not b:
                break
            chunks.append(b)
            total += len(b)
    return b"".join(chunks)


def parse_first_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _sep, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        k, _sep, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    return status, headers, rest[:n]


def test_fuzz_admin_api(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(nodes=3, web=False)
    if not g.standin:
        pytest.skip("stand-in only")
    host, port_s = g.admin_url.removeprefix("http://").rsplit(":", 1)
    port = int(port_s)
    rng = random.Random(SEED)
    fz = Fuzzer(rng, g)
    # seed a few objects so that ids, aliases and keys sometimes exist
    for i in range(5):
        g.ok("CreateBucket", body={"globalAlias": f"fuzz-{i}"})
        g.create_key(f"fuzz-{i}")
    deadline = time.monotonic() + TIME_BUDGET
    seen_status: dict[int, int] = {}
    sent = 0
    for _request in range(N_REQUESTS):
        if time.monotonic() > deadline:
            break
        req = fz.request()
        method = req.split(b" ", 1)[0]
        raw = send_raw(host, port, req)
        sent += 1
        if not raw:
            continue  # connection closed without an answer (garbage request line)
        status, headers, body = parse_first_response(raw)
        seen_status[status] = seen_status.get(status, 0) + 1
        req_path = req.split(b" ", 2)[1].split(b"?", 1)[0].decode("utf-8", "replace") if b" " in req else ""
        if status >= 500:
            assert (status == 500 and req_path in ALLOWED_5XX) or (status == 503 and req_path == "/health"), (
                status,
                req[:300],
                body[:300],
            )
        if status >= 400 and method != b"HEAD" and not (status == 503 and req_path == "/health"):
            assert headers.get("content-type") == "application/json", (status, req[:200], headers)
            err = json.loads(body)
            assert list(err) == ["code", "message", "region", "path"], err
            assert isinstance(err["code"], str) and err["code"], err
    print(f"fuzz: {sent} requests, statuses {sorted(seen_status.items())}")
    assert sent == N_REQUESTS, f"only {sent} of {N_REQUESTS} requests within the {TIME_BUDGET:.0f} s bound"
    # still alive and still correct
    st, text = g.admin("/health", token=None)
    assert st in (200, 503), text
    assert g.admin("ListBuckets")[0] == 200
    assert g.admin("GetClusterStatus")[0] == 200
    assert g.processes[0].poll() is None
    assert 400 in seen_status and 200 in seen_status
