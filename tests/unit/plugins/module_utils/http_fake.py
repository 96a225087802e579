# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A loopback HTTP server answering from a route table, for HTTP-level client tests.

``FakeHttp(prefix="/v2/")`` answers ``(method, path without prefix) -> [Reply, ...]`` (the last
reply repeats) and records every request, so the real ``ansible.module_utils.urls`` path,
query/body encoding, typed errors and retries are exercised. Unrouted calls get ``unrouted``.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: t.Any = None  # JSON-serialised unless bytes
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Seen:
    method: str
    endpoint: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> t.Any:
        return json.loads(self.body) if self.body else None


GARAGE_UNROUTED = Reply(400, {"code": "InvalidRequest", "message": "Bad request: Unknown API endpoint"})


class FakeHttp:
    """Loopback HTTP server answering from a route table."""

    def __init__(self, prefix: str = "/v2/", unrouted: Reply = GARAGE_UNROUTED) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: t.Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                endpoint = parts.path.removeprefix(prefix)
                fake.requests.append(
                    Seen(
                        self.command,
                        endpoint,
                        dict(parse_qsl(parts.query)),
                        parts.query,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                replies = fake.routes.get((self.command, endpoint))
                if not replies:
                    reply = unrouted
                else:
                    reply = replies.pop(0) if len(replies) > 1 else replies[0]
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle
            do_PUT = _handle
            do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def route(self, method: str, endpoint: str, *replies: Reply) -> None:
        self.routes[(method, endpoint)] = list(replies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Recorder:
    """Records the sleeps and warnings of a client (``sleep=rec.sleep, on_retry=rec.warn``)."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.warnings: list[str] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def warn(self, message: str) -> None:
        self.warnings.append(message)
