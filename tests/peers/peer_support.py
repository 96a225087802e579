"""Helpers for the real-client peer tests against the Garage stand-in's S3 API.

``make_peer`` gives an S3 endpoint with one access key (createBucket allowed),
from the shared ``garage`` / ``garage_factory`` fixtures when they exist, else
an in-process stand-in S3 server (also forced by STANDIN_PEERS_INPROCESS=1).

Peer binaries may be absent on a developer machine: the tests then skip, but
only when ``CI`` is unset; in CI a missing binary is a failure.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import typing as t

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # so test modules can `import peer_support`
    sys.path.insert(0, HERE)
STANDIN_DIR = os.path.join(os.path.dirname(HERE), "standin")
VENV_BIN = os.path.dirname(sys.executable)


def require(binary: str) -> str:
    """Path of ``binary`` (the venv's bin first); skip if absent outside CI, fail in CI."""
    path = shutil.which(binary, path=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"{binary} is required in CI but is not installed")
    pytest.skip(f"{binary} not installed (and CI is unset)")


@dataclasses.dataclass
class S3Peer:
    url: str  # http(s)://host:port
    host: str
    port: int
    region: str
    key_id: str
    secret: str
    ca_file: str | None
    boto3: t.Any  # a boto3 client for setup and checks

    def env(self, **extra: str) -> dict[str, str]:
        e = dict(os.environ)
        e.update(
            AWS_ACCESS_KEY_ID=self.key_id,
            AWS_SECRET_ACCESS_KEY=self.secret,
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
        )
        e.update(extra)
        return e


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 120, **kw: t.Any) -> str:
    """Run a peer command; on failure show its output (never the environment)."""
    p = subprocess.run(
        cmd, env=env, capture_output=True, text=True, errors="replace", timeout=timeout, check=False, **kw
    )
    if p.returncode != 0:
        raise AssertionError(
            f"{cmd[0]} exited {p.returncode}\nstdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}"
        )
    return p.stdout


def _core_cluster(request: pytest.FixtureRequest, tls: bool) -> t.Any:
    """The shared cluster fixture (session ``garage``, or ``garage_factory(tls=True)``), if present."""
    try:
        if tls:
            return request.getfixturevalue("garage_factory")(tls=True)
        return request.getfixturevalue("garage")
    except pytest.FixtureLookupError:
        return None


def make_peer(request: pytest.FixtureRequest, tmp: str, *, tls: bool = False) -> t.Iterator[S3Peer]:
    """An S3 endpoint and a fresh key allowed to create buckets (shared fixture, else in-process)."""
    import boto3
    from botocore.config import Config

    g = None if os.environ.get("STANDIN_PEERS_INPROCESS") else _core_cluster(request, tls)
    stop = None
    if g is not None:
        key_id, secret = g.create_key("peer")
        g.ok("UpdateKey", query={"id": key_id}, body={"allow": {"createBucket": True}})
        url, region, ca = g.s3_url, g.region, g.ca_file
    else:
        sys.path.insert(0, STANDIN_DIR)
        from test_s3_helpers import S3Server

        cert_pair = None
        if tls:
            cert_pair = self_signed(os.path.join(tmp, "tls"))
        srv = S3Server(os.path.join(tmp, "data"), tls=cert_pair)
        key = srv.create_key("peer")
        key_id, secret, url, region = key.id, key.secret, srv.url, srv.region
        ca = cert_pair[0] if cert_pair else None
        stop = srv.stop
    if tls:
        url = url.replace("127.0.0.1", "localhost")  # pgBackRest 2.45 does not match IP SANs
    hostport = url.split("://", 1)[1]
    host, port = hostport.rsplit(":", 1)
    client = boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        region_name=region,
        config=Config(s3={"addressing_style": "path"}),
        verify=ca if ca else None,
    )
    try:
        yield S3Peer(url, host, int(port), region, key_id, secret, ca, client)
    finally:
        if stop is not None:
            stop()


def self_signed(dirpath: str) -> tuple[str, str]:
    """(cert.pem, key.pem) with a DNS:localhost SAN, made by openssl."""
    os.makedirs(dirpath, exist_ok=True)
    cert, key = os.path.join(dirpath, "cert.pem"), os.path.join(dirpath, "key.pem")
    run(
        [require("openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        timeout=60,
    )  # fmt: skip
    return cert, key
