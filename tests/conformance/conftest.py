"""Conformance suite helpers: assertions on Garage's error shape, and a recorder
of every successful Admin API answer (validated against the OpenAPI document by
``test_openapi.py``)."""

from __future__ import annotations

import json
import secrets
import typing as t

import pytest

from tests.fixtures.garage import GarageCluster, RawResponse

# (endpoint name, status, parsed body) of every 2xx JSON answer seen in this session
RECORDED: list[tuple[str, int, t.Any]] = []
MAX_RECORDED = 5000  # bounded: other suites collected in the same session are recorded too

_orig_admin_raw = GarageCluster.admin_raw


def _recording_admin_raw(self: GarageCluster, endpoint: str, **kw: t.Any) -> RawResponse:
    r = _orig_admin_raw(self, endpoint, **kw)
    if (
        r.status == 200
        and len(RECORDED) < MAX_RECORDED
        and not endpoint.startswith("/")
        and "json" in r.headers.get("Content-Type", "")
    ):
        try:
            RECORDED.append((endpoint, r.status, json.loads(r.body)))
        except ValueError:
            pass
    return r


GarageCluster.admin_raw = _recording_admin_raw  # type: ignore[method-assign]


def assert_error(resp: tuple[int, t.Any], status: int, code: str, fragment: str | None = None) -> dict[str, t.Any]:
    st, body = resp
    assert st == status, f"expected {status} {code}, got {st}: {body}"
    assert isinstance(body, dict), f"error body is not JSON: {body!r}"
    assert list(body) == ["code", "message", "region", "path"], body
    assert body["code"] == code, body
    if fragment is not None:
        assert fragment in body["message"], body
    return body


def uniq(prefix: str = "b") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
def g(garage: GarageCluster) -> GarageCluster:
    """The session cluster (healthy, layout applied)."""
    return garage
