"""Fixtures for the real-client peer tests (helpers live in ``peer_support``).

``s3peer`` / ``s3peer_tls``: an S3 endpoint of a real Garage and a fresh access key
allowed to create buckets, from the shared ``garage`` / ``garage_factory(tls=True)``
fixtures (tests/fixtures/garage.py; TLS through an nginx front).
"""

from __future__ import annotations

import os
import sys
import typing as t

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from peer_support import S3Peer, make_peer


@pytest.fixture
def s3peer(request: pytest.FixtureRequest, tmp_path: t.Any) -> t.Iterator[S3Peer]:
    yield from make_peer(request, str(tmp_path))


@pytest.fixture
def s3peer_tls(request: pytest.FixtureRequest, tmp_path: t.Any) -> t.Iterator[S3Peer]:
    yield from make_peer(request, str(tmp_path), tls=True)
