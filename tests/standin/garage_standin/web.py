"""The stand-in's website endpoint (Garage ``[s3_web]``, garage-facts §3.7).

Serves buckets that have a website configuration, addressed by a *global*
alias as the Host (``<alias>`` or ``<alias>.<web_root_domain>``); local
aliases are not served. ``/`` and paths ending in ``/`` get the index
document; a missing ``dir`` whose ``dir/<index>`` exists redirects (302) to
``dir/``; a miss serves the error document with status 404 when there is one.
Standard library only.
"""

from __future__ import annotations

import os
import re
import sys
import typing as t
import urllib.parse

from . import blobstore, s3xml
from .s3 import (
    GarageHandler,
    S3Error,
    cfg_get,
    cors_preflight,
    cors_response_headers,
    etag_matches,
    match_cors,
    parse_range,
    quote_etag,
)
from .state import Bucket, ObjectMeta


class WebHandler(GarageHandler):
    timeout = 60

    def log_message(self, format: str, *args: t.Any) -> None:
        if os.environ.get("STANDIN_S3_LOG"):
            sys.stderr.write(f"web {self.command} {self.path.split('?', 1)[0]}\n")

    def _root_domain(self) -> str | None:
        cfg = getattr(self.server, "standin_config", None)
        value = cfg_get(cfg, "web_root_domain") or cfg_get(cfg, "root_domain")
        return str(value).lstrip(".") if value else None

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        with self.store.lock:
            status, headers = cors_preflight(self._bucket(), self.headers)
        if status != 200:
            self._plain(status, headers["message"])
            return
        self.send_response(200)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_PUT(self) -> None:
        self._method_not_allowed()

    def do_POST(self) -> None:
        self._method_not_allowed()

    def do_DELETE(self) -> None:
        self._method_not_allowed()

    def _method_not_allowed(self) -> None:
        self.close_connection = True
        self._plain(405, "Method not allowed")

    def _plain(self, status: int, text: str, headers: dict[str, str] | None = None) -> None:
        body = s3xml.error_xml(
            {404: "NoSuchKey", 405: "MethodNotAllowed"}.get(status, "InvalidRequest"),
            text,
            self.path.split("?", 1)[0],
            self.store.region,
        )
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _bucket(self) -> Bucket | None:
        host = (self.headers.get("Host") or "").strip().lower()
        host = re.sub(r":\d+$", "", host)
        root = self._root_domain()
        name = host
        if root and host.endswith("." + root.lower()):
            name = host[: -len(root) - 1]
        bid = self.store.global_aliases.get(name)
        if bid is None:
            return None
        b = self.store.buckets.get(bid)
        if b is None or b.deleted or not b.website_enabled:
            return None
        return b

    def _serve(self) -> None:
        try:
            self._serve_inner()
        except S3Error as e:
            self._plain(e.status, e.message, e.headers)
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _serve_inner(self) -> None:
        if (self.headers.get("Content-Length") or "0").strip() != "0" or self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # bodies are not expected here; do not read them
        store = self.store
        path = urllib.parse.unquote(self.path.split("?", 1)[0])
        with store.lock:
            b = self._bucket()
            if b is None:
                raise S3Error(404, "NoSuchBucket", "Bucket not found or website not enabled")
            index = b.website_index or "index.html"
            key = path.lstrip("/")
            if key == "" or key.endswith("/"):
                key += index
            m = b.objects.get(key)
            if m is None and not path.endswith("/") and f"{key}/{index}" in b.objects:
                target = urllib.parse.quote(path + "/")
                self._plain(302, "Found", {"Location": target})
                return
            status = 200
            cors: dict[str, str] = {}
            origin = self.headers.get("Origin")
            if origin and b.cors_xml:
                rule = match_cors(b, origin, self.command, [])
                cors = cors_response_headers(rule, origin, []) if rule is not None else {}
            if m is None:
                err = b.website_error
                m = b.objects.get(err) if err else None
                if m is None:
                    raise S3Error(404, "NoSuchKey", "Key not found")
                status = 404
            f = open(blobstore.blob_path(store, b.id, m.blob), "rb")
        with f:
            self._send_object(m, f, status, cors)

    def _send_object(self, m: ObjectMeta, f: t.BinaryIO, status: int, cors: dict[str, str]) -> None:
        headers = {
            **cors,
            "ETag": quote_etag(m.etag),
            "Last-Modified": s3xml.http_date(m.last_modified),
            "Content-Type": m.content_type,
            "Accept-Ranges": "bytes",
            **m.headers,
        }
        inm = self.headers.get("If-None-Match")
        if status == 200 and inm is not None and etag_matches(inm, m.etag):
            self.send_response(304)
            self.send_header("ETag", headers["ETag"])
            self.end_headers()
            return
        start, length = 0, m.size
        rng = self.headers.get("Range")
        if status == 200 and rng and m.size > 0:
            parsed = parse_range(rng, m.size)
            if parsed is not None:
                start, length = parsed
                status = 206
                headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{m.size}"
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if self.command == "HEAD":
            return
        for data in blobstore.iter_file(f, start, length):
            self.wfile.write(data)
