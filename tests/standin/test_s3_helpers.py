"""In-process S3 stand-in for the S3 front-end tests (no test functions here).

``S3Server`` starts ``ThreadingHTTPServer(S3Handler)`` on 127.0.0.1 with a
fresh Store, and creates keys and buckets directly in it. It is used by the
``test_s3_*`` modules and by ``tests/peers`` when the core's ``garage``
fixture is not available.
"""

from __future__ import annotations

import http.server
import os
import secrets
import ssl
import sys
import threading
import time
import typing as t

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from garage_standin import model
from garage_standin.s3 import S3Handler
from garage_standin.state import Key, Permission, Store
from garage_standin.web import WebHandler


class S3Server:
    def __init__(
        self,
        data_dir: str,
        *,
        region: str = "garage",
        tls: tuple[str, str] | None = None,
        web_root_domain: str = "web.garage.localhost",
    ) -> None:
        self.store = Store(region=region, data_dir=data_dir)
        self.region = region
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), S3Handler)
        self.httpd.daemon_threads = True
        config = {"region": region, "web_root_domain": web_root_domain, "s3_root_domain": "s3.garage.localhost"}
        self.httpd.store = self.store  # type: ignore[attr-defined]
        self.httpd.standin_config = config  # type: ignore[attr-defined]
        scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls[0], tls[1])
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.port = self.httpd.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebHandler)
        self.web.daemon_threads = True
        self.web.store = self.store  # type: ignore[attr-defined]
        self.web.standin_config = config  # type: ignore[attr-defined]
        self.web_url = f"http://127.0.0.1:{self.web.server_address[1]}"
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            for s in (self.httpd, self.web)
        ]
        for th in self._threads:
            th.start()

    def stop(self) -> None:
        for s in (self.httpd, self.web):
            s.shutdown()
            s.server_close()
        for th in self._threads:
            th.join(timeout=5)

    def create_key(self, name: str = "test", *, allow_create_bucket: bool = True) -> Key:
        with self.store.lock:
            k = Key(
                id=model.new_key_id(),
                secret=model.new_secret_key(),
                name=name,
                created=time.time(),
                allow_create_bucket=allow_create_bucket,
            )
            self.store.keys[k.id] = k
        return k

    def create_bucket(self, alias: str, key: Key | None = None, *, perm: tuple[bool, bool, bool] = (True, True, True)):
        with self.store.lock:
            b = model.create_bucket(self.store, global_alias=alias)
            if key is not None:
                b.authorized_keys[key.id] = Permission(*perm)
        return b

    def client(
        self,
        key: Key,
        *,
        secret: str | None = None,
        region: str | None = None,
        verify: str | bool | None = None,
        **cfg: t.Any,
    ) -> t.Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=key.id,
            aws_secret_access_key=secret if secret is not None else key.secret,
            region_name=region or self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **cfg),
            verify=verify,
        )


def random_name(prefix: str = "b") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
