"""The stand-in's S3 API front end (path-style), with Garage v2.0.0 semantics.

See garage-facts.md §3 (buckets, aliases, permissions, quotas) and §6 (S3).
``S3Handler`` reads ``self.server.store`` (a Store) and
``self.server.standin_config`` (object or dict with at least ``region``).
Object bytes live on disk (``blobstore``); metadata lives in the Store, always
accessed under ``store.lock``. Standard library only.

Deliberate deviations from Garage are listed in ``DEVIATIONS`` below.
"""

from __future__ import annotations

import base64
import bisect
import email.utils
import hashlib
import http.server
import json
import os
import re
import secrets
import sys
import time
import traceback
import typing as t
import urllib.parse

from . import blobstore, model, s3xml, sigv4
from .s3xml import Node
from .state import Bucket, Key, MultipartUpload, ObjectMeta, Permission, Store

DEVIATIONS = """
- A wrong secret gives 403 SignatureDoesNotMatch (Garage: AccessDenied "Invalid signature"); the
  project's issue asks for the AWS code.
- Not implemented (501 NotImplemented): SSE-C, PostObject, partNumber on GET/HEAD, ListObjectVersions,
  versioning, tagging, policies, ACL writes, object lock. GetBucketAcl/GetObjectAcl return a fixed
  FULL_CONTROL grant to the requesting key.
- Lifecycle rules are validated and stored but never executed (no daily worker); website routing
  rules are stored and returned, not applied by the web endpoint.
- Multipart objects carry no full-object checksum; the x-amz-checksum-type header is ignored.
- A LocationConstraint other than the region gives 400 InvalidLocationConstraint (code not checked
  against Garage, which says "Cannot satisfy location constraint").
- Dead blobs are unlinked by a background thread right away (Garage: block GC with a delay).
- Vhost-style addressing works only with ``s3_root_domain`` in the config, as in Garage.
"""

MAX_XML_BODY = 64 * 1024 * 1024
MAX_DRAIN = 8 * 1024 * 1024
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
CHECKSUM_ALGS = blobstore.ALGORITHMS
NOT_IMPLEMENTED_BUCKET = (
    "policy",
    "tagging",
    "versions",
    "replication",
    "notification",
    "logging",
    "accelerate",
    "requestPayment",
    "ownershipControls",
    "publicAccessBlock",
    "analytics",
    "inventory",
    "metrics",
    "intelligent-tiering",
    "encryption",
    "object-lock",
    "policyStatus",
)
NOT_IMPLEMENTED_OBJECT = ("tagging", "retention", "legal-hold", "torrent", "restore", "select", "attributes")


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def bad_request(message: str, code: str = "InvalidRequest") -> S3Error:
    return S3Error(400, code, message)


def forbidden(message: str) -> S3Error:
    return S3Error(403, "AccessDenied", message)


def no_such_bucket(name: str) -> S3Error:
    return S3Error(404, "NoSuchBucket", f"Bucket not found: {name}")


def no_such_key() -> S3Error:
    return S3Error(404, "NoSuchKey", "Key not found")


def not_implemented(what: str) -> S3Error:
    return S3Error(501, "NotImplemented", f"Not implemented: {what}")


def cfg_get(config: object, name: str, default: t.Any = None) -> t.Any:
    if isinstance(config, dict):
        return config.get(name, default)
    return getattr(config, name, default)


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def strip_etag(value: str) -> str:
    v = value.strip()
    if v.startswith("W/"):
        v = v[2:]
    return v.strip('"')


def etag_matches(header: str, etag: str) -> bool:
    for item in header.split(","):
        item = item.strip()
        if item == "*" or strip_etag(item) == etag:
            return True
    return False


def parse_http_date(value: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """Single byte range -> (start, length); None if syntactically unusable (ignored)."""
    m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", value)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if m.group(1):
        start = int(m.group(1))
        end = int(m.group(2)) if m.group(2) else size - 1
        if start >= size or end < start:
            raise S3Error(
                416,
                "InvalidRange",
                "The requested range is not satisfiable",
                {"Content-Range": f"bytes */{size}"},
            )
        end = min(end, size - 1)
        return start, end - start + 1
    suffix = int(m.group(2))
    if suffix == 0:
        raise S3Error(
            416, "InvalidRange", "The requested range is not satisfiable", {"Content-Range": f"bytes */{size}"}
        )
    suffix = min(suffix, size)
    return size - suffix, suffix


class _RFile(t.Protocol):
    def read(self, n: int, /) -> bytes: ...

    def readline(self, n: int, /) -> bytes: ...


class _Body:
    """The raw request body, bounded by Content-Length (or HTTP chunked)."""

    def __init__(self, rfile: _RFile, length: int | None, chunked: bool) -> None:
        self.rfile = rfile
        self.left = length or 0
        self.chunked = chunked
        self.chunk_left = 0
        self.eof = not chunked and not length
        self.consumed = 0

    def _fill_chunk(self) -> bool:
        if self.chunk_left:
            return True
        if self.eof:
            return False
        if self.consumed:  # CRLF after the previous chunk
            self.rfile.readline(8)
        line = self.rfile.readline(1024)
        if not line.endswith(b"\n"):
            raise S3Error(400, "IncompleteBody", "Bad request: truncated chunked body")
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            raise S3Error(400, "IncompleteBody", "Bad request: malformed chunked body") from None
        if size == 0:
            for _trailer in range(64):  # trailers
                tl = self.rfile.readline(8192)
                if not tl.strip():
                    break
            self.eof = True
            return False
        self.chunk_left = size
        return True

    def read(self, n: int) -> bytes:
        if self.chunked:
            if not self._fill_chunk():
                return b""
            data = self.rfile.read(min(n, self.chunk_left))
            if not data:
                raise S3Error(400, "IncompleteBody", "Bad request: truncated chunked body")
            self.chunk_left -= len(data)
            self.consumed += len(data)
            return data
        if self.left <= 0:
            return b""
        data = self.rfile.read(min(n, self.left))
        if not data:
            self.left = 0
            raise S3Error(400, "IncompleteBody", "Bad request: the request body is shorter than Content-Length")
        self.left -= len(data)
        self.consumed += len(data)
        return data

    def readline(self, limit: int) -> bytes:
        if self.chunked:
            out = b""
            while len(out) < limit and not out.endswith(b"\n"):
                if not self._fill_chunk():
                    break
                piece = self.rfile.readline(min(limit - len(out), self.chunk_left))
                if not piece:
                    raise S3Error(400, "IncompleteBody", "Bad request: truncated chunked body")
                self.chunk_left -= len(piece)
                self.consumed += len(piece)
                out += piece
            return out
        if self.left <= 0:
            return b""
        line = self.rfile.readline(min(limit, self.left))
        self.left -= len(line)
        self.consumed += len(line)
        return line

    def pending(self) -> int | None:
        """Bytes still unread (None: unknown, chunked)."""
        if self.chunked:
            return None if not self.eof else 0
        return self.left


class _SizedReader:
    """Wrap a decoded reader and fail if its length differs from ``expected``."""

    def __init__(self, inner: blobstore.Reader, expected: int | None) -> None:
        self.inner = inner
        self.expected = expected
        self.got = 0

    def read(self, n: int) -> bytes:
        data = self.inner.read(n)
        self.got += len(data)
        if self.expected is not None:
            if self.got > self.expected:
                raise S3Error(400, "IncompleteBody", "Bad request: body longer than x-amz-decoded-content-length")
            if not data and self.got != self.expected:
                raise S3Error(400, "IncompleteBody", "Bad request: body shorter than x-amz-decoded-content-length")
        return data


class Request(t.NamedTuple):
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    raw_path: str


class GarageHandler(http.server.BaseHTTPRequestHandler):
    """HTTP plumbing shared by the S3 and website endpoints: keep-alive HTTP/1.1,
    Garage's server identity, and the cluster state behind ``server.store``."""

    protocol_version = "HTTP/1.1"
    server_version = "Garage"
    sys_version = ""
    default_request_version = "HTTP/1.1"

    def version_string(self) -> str:
        return "Garage"

    @property
    def store(self) -> Store:
        return t.cast(Store, self.server.store)  # type: ignore[attr-defined]


class S3Handler(GarageHandler):
    timeout = 120
    # Guard against header floods: http.server already caps line length (64 KiB) and count (100).

    # ------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: t.Any) -> None:
        # Never log request lines: presigned URLs carry credentials in the query.
        if os.environ.get("STANDIN_S3_LOG"):
            sys.stderr.write(f"s3 {self.command} {self.path.split('?', 1)[0]} {args[1] if len(args) > 1 else ''}\n")

    @property
    def region(self) -> str:
        return str(cfg_get(getattr(self.server, "standin_config", None), "region", None) or self.store.region)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own errors (bad request line, huge headers) as S3 XML."""
        names = {400: "InvalidRequest", 414: "InvalidURI", 431: "RequestHeaderSectionTooLarge", 501: "NotImplemented"}
        body = s3xml.error_xml(names.get(code, "InvalidRequest"), message or "Bad request", "", self.store.region)
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass
        self.close_connection = True

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def _h(self, name: str) -> str | None:
        return self.headers.get(name)

    def _hall(self, name: str) -> list[str]:
        return [str(v) for v in (self.headers.get_all(name) or [])]

    def _dispatch(self) -> None:
        self._extra_headers: dict[str, str] = {}
        self._req_bucket = ""
        self._request_id = secrets.token_hex(8).upper()
        self._resource = self.path.split("?", 1)[0]
        te = (self._h("Transfer-Encoding") or "").lower()
        chunked = "chunked" in te
        try:
            cl = int(self._h("Content-Length") or 0) if not chunked else None
            if cl is not None and cl < 0:
                raise ValueError
        except ValueError:
            self._send_s3_error(S3Error(400, "InvalidRequest", "Bad request: invalid Content-Length"))
            self.close_connection = True
            return
        self._body = _Body(self.rfile, cl, chunked)
        try:
            self._route()
        except S3Error as e:
            self._send_s3_error(e)
        except sigv4.SigError as e:
            self._send_s3_error(S3Error(e.status, e.code, e.message))
        except s3xml.XmlError as e:
            self._send_s3_error(S3Error(400, "MalformedXML", f"The XML you provided was not well-formed: {e}"))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
            return
        except Exception:  # noqa: BLE001 - the server must answer, never die
            traceback.print_exc(file=sys.stderr)
            self._send_s3_error(S3Error(500, "InternalError", "Internal error"))
        finally:
            self._drain()

    def _drain(self) -> None:
        """Consume what is left of the request body (up to MAX_DRAIN) to keep the connection usable."""
        pending = self._body.pending()
        if pending == 0:
            return
        if pending is not None and pending > MAX_DRAIN:
            self.close_connection = True
            return
        try:
            drained = 0
            for _chunk in range(MAX_DRAIN // 65536 + 2):
                data = self._body.read(65536)
                if not data:
                    break
                drained += len(data)
                if drained > MAX_DRAIN:
                    break
        except (S3Error, OSError, ValueError):
            self.close_connection = True
            return
        if self._body.pending() != 0:
            self.close_connection = True

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        content_type: str | None = "application/xml",
    ) -> None:
        self.send_response(status)
        all_headers = dict(self._extra_headers)
        all_headers.update(headers or {})
        if body and content_type and "Content-Type" not in all_headers:
            all_headers["Content-Type"] = content_type
        all_headers.setdefault("x-amz-request-id", self._request_id)
        for k, v in all_headers.items():
            self.send_header(k, v)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _send_s3_error(self, e: S3Error) -> None:
        body = s3xml.error_xml(e.code, e.message, self._resource, self.region)
        self._send(e.status, body, e.headers)

    # --------------------------------------------------------------- routing

    def _parse_target(self) -> Request:
        raw_path, _sep, raw_query = self.path.partition("?")
        if not raw_path.startswith("/"):
            raise bad_request("Bad request: invalid request path")
        query = dict(sigv4.parse_query_pairs(raw_query))
        rest = raw_path[1:]
        bucket: str | None = None
        key: str | None = None
        vhost = self._vhost_bucket()
        if vhost is not None:  # vhost-style: <bucket>.<s3 root_domain>
            bucket = vhost
            key = urllib.parse.unquote(rest) if rest else None
        elif rest:
            b, sep, k = rest.partition("/")
            bucket = urllib.parse.unquote(b)
            if sep and k:
                key = urllib.parse.unquote(k)
        self._req_bucket = bucket or ""
        return Request(self.command, bucket, key, query, raw_path)

    def _vhost_bucket(self) -> str | None:
        """Bucket name from the Host header when ``[s3_api] root_domain`` is configured."""
        root = cfg_get(getattr(self.server, "standin_config", None), "s3_root_domain")
        if not root:
            return None
        root = str(root).lstrip(".").lower()
        host = re.sub(r":\d+$", "", (self._h("Host") or "").strip().lower())
        if host.endswith("." + root) and len(host) > len(root) + 1:
            return host[: -len(root) - 1]
        return None

    def _authenticate(self) -> Key:
        raw_path, _sep, raw_query = self.path.partition("?")
        store = self.store
        region = self.region

        def lookup(access_key: str) -> str:
            with store.lock:
                k = store.keys.get(access_key)
                if k is None or k.deleted:
                    raise sigv4.SigError(403, "AccessDenied", f"Forbidden: No such key: {access_key}")
                if k.expired():
                    raise sigv4.SigError(403, "AccessDenied", f"Forbidden: Access key {access_key} has expired")
                return k.secret

        auth = sigv4.verify_request(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=self._hall,
            region=region,
            lookup_secret=lookup,
            now=time.time(),
        )
        if auth is None:
            raise forbidden("Forbidden: Garage does not support anonymous access yet")
        self._auth = auth
        with store.lock:
            key = store.keys[auth.access_key]
        return key

    def _route(self) -> None:
        req = self._parse_target()
        if req.method == "OPTIONS":
            self._cors_preflight(req)
            return
        key = self._authenticate()
        self._apply_control(req)
        m = req.method
        if req.bucket is None:
            if m == "GET":
                self._list_buckets(key)
                return
            raise not_implemented(f"{m} /")
        if req.key is None:
            self._route_bucket(req, key)
        else:
            self._route_object(req, key)

    def _apply_control(self, req: Request) -> None:
        """Count the call as ``S3:<Operation>`` and apply a fault registered for exactly that name.

        The control plane (``/__standin/`` on the admin port, ``--allow-faults``) is the core's;
        faults on ``*`` are meant for admin endpoints and are not applied to S3 calls.
        """
        ctl = getattr(self.store, "control", None)
        if ctl is None:
            return
        name = f"S3:{op_name(req, self._h('x-amz-copy-source') is not None)}"
        ctl.count(name)
        if not any(f.get("endpoint") == name for f in ctl.faults()):
            return
        fault = ctl.take(name)
        if fault is None:
            return
        if fault.latency_ms:
            time.sleep(min(fault.latency_ms, 30_000) / 1000.0)
        if fault.status:
            raise S3Error(fault.status, fault.code, fault.message)

    def _resolve(self, req: Request, key: Key, need: str) -> Bucket:
        store = self.store
        assert req.bucket is not None
        with store.lock:
            b = model.resolve_bucket_for_key(store, req.bucket, key.id)
            if b is None:
                raise no_such_bucket(req.bucket)
            p = model.key_permission(b, key.id)
            allowed = {"read": p.read, "write": p.write, "owner": p.owner}[need]
            if not allowed:
                raise forbidden("Forbidden: Operation is not allowed for this key.")
            self._extra_headers.update(self._cors_headers(b))
            return b

    def _route_bucket(self, req: Request, key: Key) -> None:
        q, m = req.query, req.method
        for sub in NOT_IMPLEMENTED_BUCKET:
            if sub in q:
                self._resolve(req, key, "read")
                raise not_implemented(f"{m} ?{sub}")
        if m == "PUT":
            if "cors" in q:
                self._put_cors(self._resolve(req, key, "owner"))
            elif "website" in q:
                self._put_website(self._resolve(req, key, "owner"))
            elif "lifecycle" in q:
                self._put_lifecycle(self._resolve(req, key, "write"))
            elif "acl" in q or "versioning" in q:
                self._resolve(req, key, "write")
                raise not_implemented("PUT bucket ?acl/?versioning")
            else:
                self._create_bucket(req, key)
        elif m in ("GET", "HEAD"):
            if m == "HEAD":
                self._resolve(req, key, "read")
                self._send(200)
            elif "cors" in q:
                self._get_cors(self._resolve(req, key, "owner"))
            elif "website" in q:
                self._get_website(self._resolve(req, key, "owner"))
            elif "lifecycle" in q:
                self._get_lifecycle(self._resolve(req, key, "read"))
            elif "location" in q:
                self._resolve(req, key, "read")
                self._send(200, s3xml.render("LocationConstraint", self.region))
            elif "versioning" in q:
                self._resolve(req, key, "read")
                self._send(200, s3xml.render("VersioningConfiguration", []))
            elif "acl" in q:
                self._resolve(req, key, "read")
                self._send(200, self._acl_xml(key))
            elif "uploads" in q:
                self._list_uploads(self._resolve(req, key, "read"), req)
            else:
                self._list_objects(self._resolve(req, key, "read"), req)
        elif m == "DELETE":
            if "cors" in q:
                b = self._resolve(req, key, "owner")
                with self.store.lock:
                    b.cors_xml = None
                    model.mark_changed(self.store)
                self._send(204)
            elif "website" in q:
                b = self._resolve(req, key, "owner")
                with self.store.lock:
                    b.website_enabled = False
                    b.website_index = None
                    b.website_error = None
                    b.website_routing_rules = []
                    model.mark_changed(self.store)
                self._send(204)
            elif "lifecycle" in q:
                b = self._resolve(req, key, "write")
                with self.store.lock:
                    b.lifecycle_xml = None
                    model.mark_changed(self.store)
                self._send(204)
            else:
                self._delete_bucket(req, key)
        elif m == "POST":
            if "delete" in q:
                self._delete_objects(self._resolve(req, key, "write"))
            else:
                raise not_implemented("POST bucket (PostObject)")
        else:
            raise not_implemented(m)

    def _route_object(self, req: Request, key: Key) -> None:
        q, m = req.query, req.method
        assert req.key is not None
        for sub in NOT_IMPLEMENTED_OBJECT:
            if sub in q:
                raise not_implemented(f"{m} object ?{sub}")
        if m == "PUT":
            b = self._resolve(req, key, "write")
            if "acl" in q:
                raise not_implemented("PutObjectAcl")
            if "uploadId" in q or "partNumber" in q:
                if self._h("x-amz-copy-source"):
                    self._upload_part_copy(b, req, key)
                else:
                    self._upload_part(b, req)
            elif self._h("x-amz-copy-source"):
                self._copy_object(b, req, key)
            else:
                self._put_object(b, req.key)
        elif m in ("GET", "HEAD"):
            b = self._resolve(req, key, "read")
            if "uploadId" in q and m == "GET":
                self._list_parts(b, req)
            elif "acl" in q and m == "GET":
                self._send(200, self._acl_xml(key))
            else:
                self._get_object(b, req)
        elif m == "POST":
            b = self._resolve(req, key, "write")
            if "uploads" in q:
                self._create_upload(b, req.key)
            elif "uploadId" in q:
                self._complete_upload(b, req)
            else:
                raise not_implemented("POST object")
        elif m == "DELETE":
            b = self._resolve(req, key, "write")
            if "uploadId" in q:
                self._abort_upload(b, req)
            else:
                self._delete_object(b, req.key)
        else:
            raise not_implemented(m)

    # ------------------------------------------------------------ body helpers

    def _payload_reader(self) -> tuple[blobstore.Reader, sigv4.AwsChunkedReader | None]:
        mode = self._auth.content_sha256
        enc = (self._h("Content-Encoding") or "").lower()
        if mode in sigv4.STREAMING_MODES or "aws-chunked" in enc:
            if mode not in sigv4.STREAMING_MODES:
                mode = sigv4.STREAMING_UNSIGNED_TRAILER
            chunked = sigv4.AwsChunkedReader(self._body, mode, self._auth)
            dl = self._h("x-amz-decoded-content-length")
            expected = int(dl) if dl and dl.isdigit() else None
            return _SizedReader(chunked, expected), chunked
        return self._body, None

    def _checksum_algs(self) -> list[str]:
        algs = []
        for alg in CHECKSUM_ALGS:
            if self._h(f"x-amz-checksum-{alg}"):
                algs.append(alg)
        trailer = (self._h("x-amz-trailer") or "").lower()
        for name in trailer.split(","):
            name = name.strip()
            if name.startswith("x-amz-checksum-") and name[15:] in CHECKSUM_ALGS:
                algs.append(name[15:])
        return algs

    def _verify_payload(self, res: blobstore.WriteResult, chunked: sigv4.AwsChunkedReader | None) -> None:
        """Check x-amz-content-sha256, Content-MD5 and x-amz-checksum-*; raise S3Error."""
        sha = self._auth.content_sha256
        if re.fullmatch(r"[0-9a-f]{64}", sha) and sha != res.sha256:
            raise bad_request(
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                "XAmzContentSHA256Mismatch",
            )
        md5_h = self._h("Content-MD5")
        if md5_h is not None:
            try:
                want = base64.b64decode(md5_h.strip(), validate=True).hex()
            except ValueError:
                raise bad_request("Invalid Content-MD5 header", "InvalidDigest") from None
            if want != res.md5:
                raise bad_request("Content-MD5 does not match the computed MD5 of the body", "InvalidDigest")
        for alg in CHECKSUM_ALGS:
            want_c = self._h(f"x-amz-checksum-{alg}")
            if want_c is None and chunked is not None:
                want_c = chunked.trailers.get(f"x-amz-checksum-{alg}")
            if want_c is not None and res.checksums.get(alg.upper()) != want_c.strip():
                raise bad_request(
                    f"The {alg.upper()} checksum you specified did not match the computed one", "InvalidDigest"
                )

    def _read_small(self, limit: int = MAX_XML_BODY) -> bytes:
        reader, chunked = self._payload_reader()
        chunks: list[bytes] = []
        size = 0
        for _chunk in range(limit // 65536 + 2):
            data = reader.read(65536)
            if not data:
                break
            size += len(data)
            if size > limit:
                raise bad_request("Request body too large", "MaxMessageLengthExceeded")
            chunks.append(data)
        body = b"".join(chunks)
        algs = [
            a
            for a in CHECKSUM_ALGS
            if self._h(f"x-amz-checksum-{a}") or (chunked and f"x-amz-checksum-{a}" in chunked.trailers)
        ]
        res = blobstore.WriteResult(
            "",
            len(body),
            hashlib.md5(body).hexdigest(),
            hashlib.sha256(body).hexdigest(),
            {a.upper(): blobstore.checksum_b64(a, body) for a in algs},
        )
        self._verify_payload(res, chunked)
        return body

    def _store_body(self, bucket: Bucket) -> blobstore.WriteResult:
        reader, chunked = self._payload_reader()
        res = blobstore.write_stream(self.store, bucket.id, reader, checksum_algs=self._checksum_algs())
        try:
            self._verify_payload(res, chunked)
        except S3Error:
            blobstore.remove_blob(self.store, bucket.id, res.name)
            raise
        return res

    def _request_meta(self) -> tuple[str, dict[str, str], dict[str, str]]:
        ctype = self._h("Content-Type") or "binary/octet-stream"
        user_meta: dict[str, str] = {}
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            ln = name.lower()
            if ln.startswith("x-amz-meta-"):
                user_meta[ln[11:]] = value
            elif ln in STORED_HEADERS:
                if ln == "content-encoding":
                    value = ",".join(p.strip() for p in value.split(",") if p.strip().lower() != "aws-chunked")
                    if not value:
                        continue
                headers[ln] = value
        return ctype, user_meta, headers

    # ------------------------------------------------------------------ CORS

    def _cors_headers(self, bucket: Bucket) -> dict[str, str]:
        origin = self._h("Origin")
        if not origin or not bucket.cors_xml:
            return {}
        rule = match_cors(bucket, origin, self.command, [])
        return {} if rule is None else cors_response_headers(rule, origin, [])

    def _cors_preflight(self, req: Request) -> None:
        with self.store.lock:
            b = model.resolve_global_bucket(self.store, req.bucket) if req.bucket is not None else None
            status, headers = cors_preflight(b, self.headers)
        if status != 200:
            raise (bad_request(headers["message"]) if status == 400 else forbidden(headers["message"]))
        self._send(200, b"", headers)

    def _put_cors(self, bucket: Bucket) -> None:
        body = self._read_small(1024 * 1024)
        root = s3xml.parse(body)
        s3xml.expect_root(root, "CORSConfiguration")
        rules = s3xml.children(root, "CORSRule")
        if not rules:
            raise bad_request("CORSConfiguration must have at least one CORSRule", "MalformedXML")
        for r in rules:
            if not s3xml.children(r, "AllowedMethod") or not s3xml.children(r, "AllowedOrigin"):
                raise bad_request("CORSRule needs AllowedMethod and AllowedOrigin", "MalformedXML")
            for mth in s3xml.children(r, "AllowedMethod"):
                if (mth.text or "").strip() not in ("GET", "PUT", "POST", "DELETE", "HEAD", "*"):
                    raise bad_request(f"Unsupported method {mth.text}", "InvalidRequest")
        with self.store.lock:
            bucket.cors_xml = body
            model.mark_changed(self.store)
        self._send(200)

    def _get_cors(self, bucket: Bucket) -> None:
        with self.store.lock:
            doc = bucket.cors_xml
        if doc is None:
            self._send(204)
        else:
            self._send(200, doc)

    # --------------------------------------------------------------- website

    def _put_website(self, bucket: Bucket) -> None:
        body = self._read_small(1024 * 1024)
        root = s3xml.parse(body)
        s3xml.expect_root(root, "WebsiteConfiguration")
        if s3xml.child(root, "RedirectAllRequestsTo") is not None:
            raise not_implemented("RedirectAllRequestsTo")
        idx = s3xml.child(root, "IndexDocument")
        suffix = s3xml.text(idx, "Suffix") if idx is not None else None
        if not suffix:
            raise bad_request("Bad request: IndexDocument Suffix is required", "InvalidArgument")
        if "/" in suffix:
            raise bad_request("Bad request: Invalid index document suffix", "InvalidArgument")
        err = s3xml.child(root, "ErrorDocument")
        err_key = s3xml.text(err, "Key") if err is not None else None
        rules_el = s3xml.child(root, "RoutingRules")
        rules: list[t.Any] = []
        if rules_el is not None:
            rr = s3xml.children(rules_el, "RoutingRule")
            if len(rr) > 1000:
                raise bad_request("Bad request: too many routing rules (max 1000)", "InvalidArgument")
            for r in rr:
                rules.append({local: _el_to_dict(c) for c in r for local in [s3xml.local(c.tag)]})
        with self.store.lock:
            bucket.website_enabled = True
            bucket.website_index = suffix
            bucket.website_error = err_key or None
            bucket.website_routing_rules = rules
            model.mark_changed(self.store)
        self._send(200)

    def _get_website(self, bucket: Bucket) -> None:
        with self.store.lock:
            if not bucket.website_enabled:
                self._send(204)
                return
            children: list[Node] = []
            if bucket.website_error:
                children.append(("ErrorDocument", [("Key", bucket.website_error)]))
            children.append(("IndexDocument", [("Suffix", bucket.website_index or "index.html")]))
            if bucket.website_routing_rules:
                children.append(
                    ("RoutingRules", [("RoutingRule", _dict_to_nodes(r)) for r in bucket.website_routing_rules])
                )
        self._send(200, s3xml.render("WebsiteConfiguration", children))

    # ------------------------------------------------------------- lifecycle

    def _put_lifecycle(self, bucket: Bucket) -> None:
        body = self._read_small(1024 * 1024)
        root = s3xml.parse(body)
        s3xml.expect_root(root, "LifecycleConfiguration")
        for r in s3xml.children(root, "Rule"):
            status = s3xml.text(r, "Status")
            if status not in ("Enabled", "Disabled"):
                raise bad_request("Bad request: invalid lifecycle rule Status", "MalformedXML")
            if s3xml.child(r, "Prefix") is not None:
                raise bad_request("Bad request: legacy Rule/Prefix is not supported, use Filter", "MalformedXML")
            for c in r:
                name = s3xml.local(c.tag)
                if name not in ("ID", "Status", "Filter", "Expiration", "AbortIncompleteMultipartUpload"):
                    raise not_implemented(f"lifecycle {name}")
            exp = s3xml.child(r, "Expiration")
            if exp is not None and s3xml.child(exp, "ExpiredObjectDeleteMarker") is not None:
                raise not_implemented("ExpiredObjectDeleteMarker")
        with self.store.lock:
            bucket.lifecycle_xml = body
            model.mark_changed(self.store)
        self._send(200)

    def _get_lifecycle(self, bucket: Bucket) -> None:
        with self.store.lock:
            doc = bucket.lifecycle_xml
        if doc is None:
            self._send(404)
        else:
            self._send(200, doc)

    def _acl_xml(self, key: Key) -> bytes:
        owner: list[Node] = [("ID", key.id), ("DisplayName", key.name)]
        return s3xml.render(
            "AccessControlPolicy",
            [
                ("Owner", owner),
                (
                    "AccessControlList",
                    [("Grant", [("Grantee", owner), ("Permission", "FULL_CONTROL")])],
                ),
            ],
        )

    # --------------------------------------------------------------- buckets

    def _list_buckets(self, key: Key) -> None:
        store = self.store
        entries: list[tuple[str, float]] = []
        with store.lock:
            for b in store.buckets.values():
                if b.deleted:
                    continue
                p = b.authorized_keys.get(key.id)
                if p is None or not (p.read or p.write or p.owner):
                    continue
                names = set(a for a in b.global_aliases if store.global_aliases.get(a) == b.id)
                names.update(a for a, bid in key.local_aliases.items() if bid == b.id)
                entries.extend((n, b.created) for n in names)
        entries.sort()
        body = s3xml.render(
            "ListAllMyBucketsResult",
            [
                ("Owner", [("ID", key.id), ("DisplayName", key.name)]),
                ("Buckets", [("Bucket", [("Name", n), ("CreationDate", s3xml.iso8601(c))]) for n, c in entries]),
            ],
        )
        self._send(200, body)

    def _create_bucket(self, req: Request, key: Key) -> None:
        assert req.bucket is not None
        name = req.bucket
        body = self._read_small(1024 * 1024)
        if body.strip():
            root = s3xml.parse(body)
            loc = s3xml.text(root, "LocationConstraint")
            if loc is not None and loc != self.region:
                raise bad_request(
                    f"Bad request: Cannot satisfy location constraint `{loc}`: "
                    f"buckets can only be created in region `{self.region}`",
                    "InvalidLocationConstraint",
                )
        store = self.store
        with store.lock:
            existing = model.resolve_bucket_for_key(store, name, key.id)
            if existing is not None:
                p = model.key_permission(existing, key.id)
                if p.write or p.owner:
                    self._send(200, b"", {"Location": f"/{name}"})
                    return
                raise S3Error(409, "BucketAlreadyExists", "Bucket already exists")
            if not model.is_valid_bucket_name(name):
                raise bad_request(
                    f"Bad request: {name}: Invalid bucket name. "
                    "See AWS documentation for constraints on S3 bucket names:\n"
                    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
                )
            live = store.keys.get(key.id)
            if live is None or live.deleted or not live.allow_create_bucket:
                raise forbidden(f"Forbidden: Access key {key.id} is not allowed to create buckets")
            if name in live.local_aliases:  # tombstone (see garage-facts §3.2)
                raise bad_request("Bad request: Local alias already exists")
            model.create_bucket(
                store, local_key=live, local_alias=name, permission=Permission(read=True, write=True, owner=True)
            )
        self._send(200, b"", {"Location": f"/{name}"})

    def _delete_bucket(self, req: Request, key: Key) -> None:
        assert req.bucket is not None
        name = req.bucket
        b = self._resolve(req, key, "owner")
        store = self.store
        with store.lock:
            live = store.keys.get(key.id)
            via_local = live is not None and live.local_aliases.get(name) == b.id
            via_global = not via_local and store.global_aliases.get(name) == b.id
            others = model.active_alias_count(store, b) - (1 if (via_local or via_global) else 0)
            if (via_local or via_global) and others > 0:
                if via_local and live is not None:
                    model.unset_local_alias(store, b, live, name)
                else:
                    model.unset_global_alias(store, b, name)
                self._send(204)
                return
            if not model.bucket_is_empty(b):
                raise S3Error(409, "BucketNotEmpty", "Tried to delete a non-empty bucket")
            model.delete_bucket(store, b)
        blobstore.remove_bucket_dir(store, b.id)
        self._send(204)

    # --------------------------------------------------------------- listing

    @staticmethod
    def _max(q: dict[str, str], name: str) -> int:
        raw = q.get(name)
        if raw is None or raw == "":
            return 1000
        try:
            v = int(raw)
        except ValueError:
            raise bad_request(f"Bad request: Invalid value for {name}", "InvalidArgument") from None
        return max(1, min(1000, v))

    @staticmethod
    def _walk(
        keys: list[str], prefix: str, delimiter: str, after: str | None, max_keys: int
    ) -> tuple[list[str], list[str], bool, str | None]:
        """Return (keys, common prefixes, truncated, last item) from sorted ``keys``."""
        lo = bisect.bisect_left(keys, prefix)
        i = max(lo, bisect.bisect_right(keys, after)) if after is not None else lo
        contents: list[str] = []
        prefixes: list[str] = []
        last: str | None = None
        truncated = False
        n = len(keys)
        for _step in range(n + 1):
            if i >= n:
                break
            k = keys[i]
            if not k.startswith(prefix):
                break
            cp: str | None = None
            if delimiter:
                pos = k.find(delimiter, len(prefix))
                if pos >= 0:
                    cp = k[: pos + len(delimiter)]
            if cp is not None:
                nxt = bisect.bisect_left(keys, cp + "\U0010ffff", i)
                if cp == after:
                    i = nxt
                    continue
                if len(contents) + len(prefixes) >= max_keys:
                    truncated = True
                    break
                prefixes.append(cp)
                last = cp
                i = nxt
                continue
            if len(contents) + len(prefixes) >= max_keys:
                truncated = True
                break
            contents.append(k)
            last = k
            i += 1
        return contents, prefixes, truncated, last

    def _list_objects(self, bucket: Bucket, req: Request) -> None:
        q = req.query
        v2 = "list-type" in q
        if v2 and q["list-type"] != "2":
            raise bad_request("Bad request: Invalid list-type", "InvalidArgument")
        prefix = q.get("prefix", "")
        delimiter = q.get("delimiter", "")
        max_keys = self._max(q, "max-keys")
        url = q.get("encoding-type") == "url"
        if "encoding-type" in q and not url:
            raise bad_request("Bad request: Invalid encoding-type", "InvalidArgument")

        def enc(s: str) -> str:
            return urllib.parse.quote(s, safe="/") if url else s

        after: str | None
        token = q.get("continuation-token")
        if v2:
            if token is not None:
                try:
                    after = json.loads(base64.urlsafe_b64decode(token.encode()).decode())["a"]
                except (ValueError, KeyError, TypeError):
                    raise bad_request("Bad request: Invalid continuation token", "InvalidArgument") from None
            else:
                after = q.get("start-after") or None
        else:
            after = q.get("marker") or None
        with self.store.lock:
            keys = sorted(bucket.objects)
            found, prefixes, truncated, last = self._walk(keys, prefix, delimiter, after, max_keys)
            metas = [bucket.objects[k] for k in found]
        name = req.bucket or ""
        out: list[Node] = [("Name", name), ("Prefix", enc(prefix))]
        if v2:
            if "start-after" in q:
                out.append(("StartAfter", enc(q["start-after"])))
            if token is not None:
                out.append(("ContinuationToken", token))
            if truncated and last is not None:
                nt = base64.urlsafe_b64encode(json.dumps({"a": last}).encode()).decode()
                out.append(("NextContinuationToken", nt))
            out.append(("KeyCount", len(metas) + len(prefixes)))
        else:
            out.append(("Marker", enc(q.get("marker", ""))))
            if truncated and last is not None:
                out.append(("NextMarker", enc(last)))
        out.append(("MaxKeys", max_keys))
        if delimiter:
            out.append(("Delimiter", enc(delimiter)))
        if url:
            out.append(("EncodingType", "url"))
        out.append(("IsTruncated", truncated))
        for m in metas:
            item: list[Node] = [
                ("Key", enc(m.key)),
                ("LastModified", s3xml.iso8601(m.last_modified)),
                ("ETag", quote_etag(m.etag)),
                ("Size", m.size),
                ("StorageClass", "STANDARD"),
            ]
            out.append(("Contents", item))
        for p in prefixes:
            out.append(("CommonPrefixes", [("Prefix", enc(p))]))
        self._send(200, s3xml.render("ListBucketResult", out))

    # --------------------------------------------------------------- objects

    def _object_headers(self, m: ObjectMeta) -> dict[str, str]:
        h = {
            "ETag": quote_etag(m.etag),
            "Last-Modified": s3xml.http_date(m.last_modified),
            "Content-Type": m.content_type,
            "Accept-Ranges": "bytes",
        }
        for k, v in m.headers.items():
            h[k] = v
        for k, v in m.user_meta.items():
            h[f"x-amz-meta-{k}"] = v
        return h

    def _check_conditions(self, m: ObjectMeta, *, prefix: str = "", copy: bool = False) -> bool:
        """Evaluate If-* headers. Returns False for 304 (GET/HEAD only); raises 412."""
        im = self._h(prefix + "If-Match")
        inm = self._h(prefix + "If-None-Match")
        ims = self._h(prefix + "If-Modified-Since")
        ius = self._h(prefix + "If-Unmodified-Since")
        lm = int(m.last_modified)
        failed = S3Error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
        if im is not None:
            if not etag_matches(im, m.etag):
                raise failed
        elif ius is not None:
            d = parse_http_date(ius)
            if d is not None and lm > d:
                raise failed
        if inm is not None:
            if etag_matches(inm, m.etag):
                if copy:
                    raise failed
                return False
        elif ims is not None:
            d = parse_http_date(ims)
            if d is not None and lm <= d:
                if copy:
                    raise failed
                return False
        return True

    def _get_object(self, bucket: Bucket, req: Request) -> None:
        assert req.key is not None
        store = self.store
        with store.lock:
            m = bucket.objects.get(req.key)
            if m is None:
                raise no_such_key()
            f = open(blobstore.blob_path(store, bucket.id, m.blob), "rb")
        try:
            headers = self._object_headers(m)
            if not self._check_conditions(m):
                self._send(304, b"", {"ETag": headers["ETag"], "Last-Modified": headers["Last-Modified"]})
                return
            q = req.query
            for qn, hn in (
                ("response-content-type", "Content-Type"),
                ("response-content-language", "content-language"),
                ("response-expires", "expires"),
                ("response-cache-control", "cache-control"),
                ("response-content-disposition", "content-disposition"),
                ("response-content-encoding", "content-encoding"),
            ):
                if qn in q:
                    headers.pop(hn, None)
                    headers[hn] = q[qn]
            status = 200
            start, length = 0, m.size
            rng = self._h("Range")
            if rng and m.size > 0:
                parsed = parse_range(rng, m.size)
                if parsed is not None:
                    start, length = parsed
                    status = 206
                    headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{m.size}"
            elif rng and m.size == 0 and re.fullmatch(r"\s*bytes\s*=\s*\d+-\d*\s*", rng):
                raise S3Error(
                    416, "InvalidRange", "The requested range is not satisfiable", {"Content-Range": "bytes */0"}
                )
            if status == 200 and (self._h("x-amz-checksum-mode") or "").upper() == "ENABLED":
                for alg, val in m.checksums.items():
                    headers[f"x-amz-checksum-{alg.lower()}"] = val
            self.send_response(status)
            for k, v in {**self._extra_headers, **headers}.items():
                self.send_header(k, v)
            self.send_header("x-amz-request-id", self._request_id)
            self.send_header("Content-Length", str(length))
            self.end_headers()
            if self.command == "HEAD":
                return
            for data in blobstore.iter_file(f, start, length):
                self.wfile.write(data)
        finally:
            f.close()

    def _quota_check(self, bucket: Bucket, key: str, new_size: int) -> None:
        """Garage ``check_quotas``; call with the lock held."""
        if bucket.quota_max_objects is not None:
            n = len(bucket.objects) + (0 if key in bucket.objects else 1)
            if n > bucket.quota_max_objects:
                raise forbidden(
                    f"Forbidden: Object quota is reached, maximum objects for this bucket: {bucket.quota_max_objects}"
                )
        if bucket.quota_max_size is not None:
            total = sum(o.size for o in bucket.objects.values())
            old = bucket.objects[key].size if key in bucket.objects else 0
            if total - old + new_size > bucket.quota_max_size:
                raise forbidden(
                    f"Forbidden: Bucket size quota is reached, maximum total size of objects for this bucket: "
                    f"{bucket.quota_max_size}. The bucket is already {total} bytes, and this object would add "
                    f"{new_size - old} bytes."
                )

    def _commit_object(self, bucket: Bucket, meta: ObjectMeta, *, if_none_match: bool = False) -> None:
        store = self.store
        old_blob = ""
        with store.lock:
            if bucket.deleted:
                blobstore.remove_blob(store, bucket.id, meta.blob)
                raise no_such_bucket(bucket.id)
            try:
                if if_none_match and meta.key in bucket.objects:
                    raise S3Error(
                        412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
                    )
                self._quota_check(bucket, meta.key, meta.size)
            except S3Error:
                blobstore.remove_blob(store, bucket.id, meta.blob)
                raise
            prev = bucket.objects.get(meta.key)
            if prev is not None:
                old_blob = prev.blob
            bucket.objects[meta.key] = meta
            model.mark_changed(store)
        blobstore.remove_blob(store, bucket.id, old_blob)

    def _put_object(self, bucket: Bucket, key: str) -> None:
        inm = (self._h("If-None-Match") or "").strip()
        if inm and inm != "*":
            raise not_implemented("If-None-Match other than * on PutObject")
        with self.store.lock:
            if inm == "*" and key in bucket.objects:
                raise S3Error(
                    412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"
                )
        ctype, user_meta, headers = self._request_meta()
        res = self._store_body(bucket)
        checksums = dict(res.checksums)
        meta = ObjectMeta(
            key=key,
            size=res.size,
            etag=res.md5,
            last_modified=time.time(),
            content_type=ctype,
            user_meta=user_meta,
            headers=headers,
            blob=res.name,
            checksums=checksums,
        )
        self._commit_object(bucket, meta, if_none_match=inm == "*")
        out = {"ETag": quote_etag(res.md5)}
        for alg, val in checksums.items():
            out[f"x-amz-checksum-{alg.lower()}"] = val
        self._send(200, b"", out)

    def _delete_object(self, bucket: Bucket, key: str) -> None:
        store = self.store
        with store.lock:
            m = bucket.objects.pop(key, None)
            if m is not None:
                model.mark_changed(store)
        if m is not None:
            blobstore.remove_blob(store, bucket.id, m.blob)
        self._send(204)

    def _delete_objects(self, bucket: Bucket) -> None:
        body = self._read_small()
        root = s3xml.parse(body)
        s3xml.expect_root(root, "Delete")
        quiet = (s3xml.text(root, "Quiet") or "").strip().lower() == "true"
        items: list[Node] = []
        removed: list[str] = []
        store = self.store
        with store.lock:
            for obj in s3xml.children(root, "Object"):
                k = s3xml.text(obj, "Key")
                if k is None:
                    raise bad_request("Object without Key", "MalformedXML")
                m = bucket.objects.pop(k, None)
                if m is None:
                    items.append(("Error", [("Key", k), ("Code", "NoSuchKey"), ("Message", "Key not found")]))
                    continue
                removed.append(m.blob)
                if not quiet:
                    items.append(("Deleted", [("Key", k)]))
            if removed:
                model.mark_changed(store)
        for name in removed:
            blobstore.remove_blob(store, bucket.id, name)
        self._send(200, s3xml.render("DeleteResult", items))

    def _copy_source(self, key: Key) -> tuple[Bucket, ObjectMeta, t.BinaryIO]:
        raw = self._h("x-amz-copy-source") or ""
        raw = raw.split("?versionId=", 1)[0]
        src = urllib.parse.unquote(raw).lstrip("/")
        sb, _sep, sk = src.partition("/")
        if not sb or not sk:
            raise bad_request("Bad request: Invalid x-amz-copy-source", "InvalidArgument")
        store = self.store
        with store.lock:
            b = model.resolve_bucket_for_key(store, sb, key.id)
            if b is None:
                raise no_such_bucket(sb)
            if not model.key_permission(b, key.id).read:
                raise forbidden("Forbidden: Operation is not allowed for this key.")
            m = b.objects.get(sk)
            if m is None:
                raise no_such_key()
            f = open(blobstore.blob_path(store, b.id, m.blob), "rb")
        try:
            self._check_conditions(m, prefix="x-amz-copy-source-", copy=True)
        except S3Error:
            f.close()
            raise
        return b, m, f

    def _copy_object(self, bucket: Bucket, req: Request, key: Key) -> None:
        assert req.key is not None
        _sb, src, f = self._copy_source(key)
        with f:
            res = blobstore.write_stream(
                self.store,
                bucket.id,
                blobstore.iter_file(f, 0, src.size),
                checksum_algs=[a.lower() for a in src.checksums],
            )
        directive = (self._h("x-amz-metadata-directive") or "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            blobstore.remove_blob(self.store, bucket.id, res.name)
            raise bad_request("Bad request: Invalid x-amz-metadata-directive", "InvalidArgument")
        if directive == "REPLACE":
            ctype, user_meta, headers = self._request_meta()
        else:
            ctype, user_meta, headers = src.content_type, dict(src.user_meta), dict(src.headers)
        now = time.time()
        meta = ObjectMeta(
            key=req.key,
            size=res.size,
            etag=src.etag,
            last_modified=now,
            content_type=ctype,
            user_meta=user_meta,
            headers=headers,
            blob=res.name,
            checksums=dict(res.checksums),
        )
        self._commit_object(bucket, meta)
        body = s3xml.render("CopyObjectResult", [("ETag", quote_etag(src.etag)), ("LastModified", s3xml.iso8601(now))])
        self._send(200, body)

    # ------------------------------------------------------------- multipart

    def _get_upload(self, bucket: Bucket, req: Request) -> MultipartUpload:
        up = bucket.uploads.get(req.query.get("uploadId", ""))
        if up is None or up.key != req.key:
            raise S3Error(404, "NoSuchUpload", "Upload not found")
        return up

    def _create_upload(self, bucket: Bucket, key: str) -> None:
        ctype, user_meta, headers = self._request_meta()
        store = self.store
        with store.lock:
            uid = model.new_upload_id()
            bucket.uploads[uid] = MultipartUpload(
                upload_id=uid, key=key, initiated=time.time(), content_type=ctype, user_meta=user_meta, headers=headers
            )
            model.mark_changed(store)
        body = s3xml.render(
            "InitiateMultipartUploadResult", [("Bucket", self._bucket_name()), ("Key", key), ("UploadId", uid)]
        )
        self._send(200, body)

    def _bucket_name(self) -> str:
        return self._req_bucket

    def _part_number(self, req: Request) -> int:
        try:
            n = int(req.query.get("partNumber", ""))
        except ValueError:
            raise bad_request("Bad request: Invalid part number", "InvalidArgument") from None
        if n < 1:
            raise bad_request("Bad request: Invalid part number", "InvalidArgument")
        return n

    def _set_part(self, bucket: Bucket, req: Request, n: int, res: blobstore.WriteResult) -> None:
        store = self.store
        old = ""
        with store.lock:
            try:
                up = self._get_upload(bucket, req)
            except S3Error:
                blobstore.remove_blob(store, bucket.id, res.name)
                raise
            if n in up.parts:
                old = up.parts[n][2]
            up.parts[n] = (res.size, res.md5, res.name)
            model.mark_changed(store)
        blobstore.remove_blob(store, bucket.id, old)

    def _upload_part(self, bucket: Bucket, req: Request) -> None:
        n = self._part_number(req)
        with self.store.lock:
            self._get_upload(bucket, req)
        res = self._store_body(bucket)
        self._set_part(bucket, req, n, res)
        out = {"ETag": quote_etag(res.md5)}
        for alg, val in res.checksums.items():
            out[f"x-amz-checksum-{alg.lower()}"] = val
        self._send(200, b"", out)

    def _upload_part_copy(self, bucket: Bucket, req: Request, key: Key) -> None:
        n = self._part_number(req)
        with self.store.lock:
            self._get_upload(bucket, req)
        _sb, src, f = self._copy_source(key)
        with f:
            start, length = 0, src.size
            rng = self._h("x-amz-copy-source-range")
            if rng:
                m = re.fullmatch(r"\s*bytes=(\d+)-(\d+)\s*", rng)
                if not m or int(m.group(1)) > int(m.group(2)) or int(m.group(2)) >= src.size:
                    raise S3Error(416, "InvalidRange", "The requested range is not satisfiable")
                start, length = int(m.group(1)), int(m.group(2)) - int(m.group(1)) + 1
            res = blobstore.write_stream(self.store, bucket.id, blobstore.iter_file(f, start, length))
        self._set_part(bucket, req, n, res)
        body = s3xml.render(
            "CopyPartResult", [("ETag", quote_etag(res.md5)), ("LastModified", s3xml.iso8601(time.time()))]
        )
        self._send(200, body)

    def _complete_upload(self, bucket: Bucket, req: Request) -> None:
        assert req.key is not None
        body = self._read_small()
        root = s3xml.parse(body)
        s3xml.expect_root(root, "CompleteMultipartUpload")
        wanted: list[tuple[int, str]] = []
        for p in s3xml.children(root, "Part"):
            try:
                pn = int(s3xml.text(p, "PartNumber") or "")
            except ValueError:
                raise bad_request("Bad request: Invalid PartNumber", "MalformedXML") from None
            wanted.append((pn, strip_etag(s3xml.text(p, "ETag") or "")))
        store = self.store
        with store.lock:
            up = self._get_upload(bucket, req)
            if not wanted:
                raise bad_request("Bad request: Multipart upload has no parts", "EntityTooSmall")
            if not up.parts:
                raise bad_request("Bad request: No data was uploaded")
            for (a, _etag_a), (b_, _etag_b) in zip(wanted, wanted[1:], strict=False):
                if b_ <= a:
                    raise bad_request("Part numbers must be strictly increasing", "InvalidPartOrder")
            segments: list[tuple[str, int, int]] = []
            md5s = b""
            size = 0
            for pn, etag in wanted:
                part = up.parts.get(pn)
                if part is None or part[1] != etag:
                    raise bad_request(f"Part {pn} not found or ETag mismatch", "InvalidPart")
                segments.append((part[2], 0, part[0]))
                md5s += bytes.fromhex(part[1])
                size += part[0]
            self._quota_check(bucket, req.key, size)
            upload_id = up.upload_id
        try:
            res = blobstore.write_stream(store, bucket.id, blobstore.iter_blobs(store, bucket.id, segments))
        except FileNotFoundError:
            raise S3Error(404, "NoSuchUpload", "Upload not found") from None
        etag = f"{hashlib.md5(md5s).hexdigest()}-{len(wanted)}"
        meta = ObjectMeta(
            key=req.key,
            size=res.size,
            etag=etag,
            last_modified=time.time(),
            content_type=up.content_type,
            user_meta=dict(up.user_meta),
            headers=dict(up.headers),
            blob=res.name,
        )
        with store.lock:
            if bucket.uploads.get(upload_id) is not up:
                blobstore.remove_blob(store, bucket.id, res.name)
                raise S3Error(404, "NoSuchUpload", "Upload not found")
            self._commit_object(bucket, meta)
            del bucket.uploads[upload_id]
            model.mark_changed(store)
        for _size, _etag, name in up.parts.values():
            blobstore.remove_blob(store, bucket.id, name)
        out = s3xml.render(
            "CompleteMultipartUploadResult",
            [
                ("Location", f"/{self._bucket_name()}/{urllib.parse.quote(req.key)}"),
                ("Bucket", self._bucket_name()),
                ("Key", req.key),
                ("ETag", quote_etag(etag)),
            ],
        )
        self._send(200, out)

    def _abort_upload(self, bucket: Bucket, req: Request) -> None:
        store = self.store
        with store.lock:
            up = self._get_upload(bucket, req)
            del bucket.uploads[up.upload_id]
            model.mark_changed(store)
        for _size, _etag, name in up.parts.values():
            blobstore.remove_blob(store, bucket.id, name)
        self._send(204)

    def _list_parts(self, bucket: Bucket, req: Request) -> None:
        q = req.query
        max_parts = self._max(q, "max-parts")
        try:
            marker = min(int(q.get("part-number-marker") or 0), 10000)
        except ValueError:
            raise bad_request("Bad request: Invalid part-number-marker", "InvalidArgument") from None
        with self.store.lock:
            up = self._get_upload(bucket, req)
            parts = sorted((n, p) for n, p in up.parts.items() if n > marker)
            initiated = up.initiated
        page = parts[:max_parts]
        truncated = len(parts) > max_parts
        out: list[Node] = [
            ("Bucket", self._bucket_name()),
            ("Key", req.key),
            ("UploadId", up.upload_id),
            ("PartNumberMarker", marker),
        ]
        if page:
            out.append(("NextPartNumberMarker", page[-1][0]))
        out += [("MaxParts", max_parts), ("IsTruncated", truncated), ("StorageClass", "STANDARD")]
        for n, (size, etag, _name) in page:
            out.append(
                (
                    "Part",
                    [
                        ("PartNumber", n),
                        ("LastModified", s3xml.iso8601(initiated)),
                        ("ETag", quote_etag(etag)),
                        ("Size", size),
                    ],
                )
            )
        self._send(200, s3xml.render("ListPartsResult", out))

    def _list_uploads(self, bucket: Bucket, req: Request) -> None:
        q = req.query
        max_uploads = self._max(q, "max-uploads")
        prefix = q.get("prefix", "")
        key_marker = q.get("key-marker", "")
        id_marker = q.get("upload-id-marker", "")
        with self.store.lock:
            ups = sorted(
                ((u.key, u.upload_id, u.initiated) for u in bucket.uploads.values() if u.key.startswith(prefix)),
            )
        if key_marker:
            ups = [u for u in ups if u[0] > key_marker or (u[0] == key_marker and id_marker and u[1] > id_marker)]
        page = ups[:max_uploads]
        truncated = len(ups) > max_uploads
        out: list[Node] = [
            ("Bucket", self._bucket_name()),
            ("KeyMarker", key_marker),
            ("UploadIdMarker", id_marker),
        ]
        if truncated and page:
            out += [("NextKeyMarker", page[-1][0]), ("NextUploadIdMarker", page[-1][1])]
        out += [("Prefix", prefix), ("MaxUploads", max_uploads), ("IsTruncated", truncated)]
        for k, uid, init in page:
            out.append(
                (
                    "Upload",
                    [("Key", k), ("UploadId", uid), ("StorageClass", "STANDARD"), ("Initiated", s3xml.iso8601(init))],
                )
            )
        self._send(200, s3xml.render("ListMultipartUploadsResult", out))


# ----------------------------------------------------------------------- CORS
# Shared with the website endpoint (web.py). Call with the store lock held.


def cors_rules(bucket: Bucket) -> list[dict[str, list[str]]]:
    if not bucket.cors_xml:
        return []
    try:
        root = s3xml.parse(bucket.cors_xml)
    except s3xml.XmlError:
        return []
    rules = []
    for r in s3xml.children(root, "CORSRule"):
        rule: dict[str, list[str]] = {}
        for f in ("AllowedOrigin", "AllowedMethod", "AllowedHeader", "ExposeHeader", "MaxAgeSeconds"):
            rule[f] = [(c.text or "").strip() for c in s3xml.children(r, f)]
        rules.append(rule)
    return rules


def _glob(pattern: str, value: str) -> bool:
    return re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), value, re.IGNORECASE) is not None


def match_cors(bucket: Bucket, origin: str, method: str, req_headers: list[str]) -> dict[str, list[str]] | None:
    """The first CORS rule of the bucket allowing (origin, method, request headers), if any."""
    for rule in cors_rules(bucket):
        if not any(_glob(o, origin) for o in rule["AllowedOrigin"]):
            continue
        if method not in rule["AllowedMethod"] and "*" not in rule["AllowedMethod"]:
            continue
        if all(any(_glob(a.lower(), h.lower()) for a in rule["AllowedHeader"]) for h in req_headers):
            return rule
    return None


def cors_response_headers(rule: dict[str, list[str]], origin: str, req_headers: list[str]) -> dict[str, str]:
    out = {
        "Access-Control-Allow-Origin": "*" if rule["AllowedOrigin"] == ["*"] else origin,
        "Access-Control-Allow-Methods": ", ".join(rule["AllowedMethod"]),
    }
    if req_headers:
        out["Access-Control-Allow-Headers"] = ", ".join(rule["AllowedHeader"] or req_headers)
    if rule["MaxAgeSeconds"]:
        out["Access-Control-Max-Age"] = rule["MaxAgeSeconds"][0]
    if rule["ExposeHeader"]:
        out["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeader"])
    return out


def cors_preflight(bucket: Bucket | None, headers: t.Any) -> tuple[int, dict[str, str]]:
    """Answer an OPTIONS preflight: (200, CORS headers), or (400|403, {"message": ...})."""
    origin = headers.get("Origin")
    method = headers.get("Access-Control-Request-Method")
    if not origin or not method:
        return 400, {"message": "Bad request: Missing Origin or Access-Control-Request-Method header"}
    hdrs = [h.strip() for h in (headers.get("Access-Control-Request-Headers") or "").split(",") if h.strip()]
    rule = match_cors(bucket, origin, method, hdrs) if bucket is not None else None
    if rule is None:
        return 403, {"message": "Forbidden: This CORS request is not allowed."}
    return 200, cors_response_headers(rule, origin, hdrs)


def op_name(req: Request, copy: bool) -> str:
    """The S3 operation name of a request (mirrors the routing of S3Handler)."""
    q, m = req.query, req.method
    if m == "OPTIONS":
        return "Options"
    if req.bucket is None:
        return "ListBuckets" if m == "GET" else "Unknown"
    if req.key is None:
        sub = {
            "cors": "BucketCors",
            "website": "BucketWebsite",
            "lifecycle": "BucketLifecycleConfiguration",
        }
        for k, v in sub.items():
            if k in q and m in ("GET", "PUT", "DELETE"):
                if m == "DELETE" and k == "lifecycle":
                    return "DeleteBucketLifecycle"
                return {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}[m] + v
        if m == "GET":
            for k, v in (
                ("location", "GetBucketLocation"),
                ("versioning", "GetBucketVersioning"),
                ("acl", "GetBucketAcl"),
                ("uploads", "ListMultipartUploads"),
            ):
                if k in q:
                    return v
            return "ListObjectsV2" if "list-type" in q else "ListObjects"
        return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(
            m, "DeleteObjects" if m == "POST" and "delete" in q else "Unknown"
        )
    if m == "PUT":
        if "uploadId" in q or "partNumber" in q:
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if m == "GET":
        return "ListParts" if "uploadId" in q else "GetObject"
    if m == "HEAD":
        return "HeadObject"
    if m == "POST":
        return "CreateMultipartUpload" if "uploads" in q else "CompleteMultipartUpload"
    if m == "DELETE":
        return "AbortMultipartUpload" if "uploadId" in q else "DeleteObject"
    return "Unknown"


def _el_to_dict(el: t.Any) -> t.Any:
    kids = list(el)
    if not kids:
        return (el.text or "").strip()
    return {s3xml.local(c.tag): _el_to_dict(c) for c in kids}


def _dict_to_nodes(d: t.Any) -> t.Any:
    if isinstance(d, dict):
        return [(k, _dict_to_nodes(v)) for k, v in d.items()]
    return d
