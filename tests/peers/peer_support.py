"""Helpers for the real-client peer tests against a real Garage's S3 API.

``make_peer`` gives an S3 endpoint with one access key (createBucket allowed),
from the shared ``garage`` / ``garage_factory`` fixtures.

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


def make_peer(request: pytest.FixtureRequest, tmp: str, *, tls: bool = False) -> t.Iterator[S3Peer]:
    """An S3 endpoint of a real Garage cluster and a fresh key allowed to create buckets.

    ``tls``: a cluster of its own with the nginx TLS front before its S3 endpoint
    (``https://localhost:<port>``, throwaway CA in ``ca_file``); otherwise the session cluster.
    """
    import boto3
    from botocore.config import Config

    g = request.getfixturevalue("garage_factory")(tls=True) if tls else request.getfixturevalue("garage")
    key_id, secret = g.create_key("peer")
    g.ok("UpdateKey", query={"id": key_id}, body={"allow": {"createBucket": True}})
    url, region, ca = g.s3_url, g.region, g.ca_file
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
    yield S3Peer(url, host, int(port), region, key_id, secret, ca, client)
