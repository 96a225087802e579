# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared transport (``_http.HttpClient``) at HTTP level: replay policy and outcome_unknown,
hooks, and the base error parsing (Garage- and OpenBao-specific parsing: test_client.py,
test_openbao_client.py)."""

from __future__ import annotations

import socket
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._http import (
    HttpClient,
    HttpConnectionError,
    HttpError,
    reason_for_status,
)
from tests.unit.plugins.module_utils.http_fake import FakeHttp, Recorder, Reply


@pytest.fixture
def fake() -> t.Iterator[FakeHttp]:
    server = FakeHttp(prefix="/", unrouted=Reply(404, {"message": "no route"}))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def silent() -> t.Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


def client(url: str, rec: Recorder, **kwargs: t.Any) -> HttpClient:
    kwargs.setdefault("retries", 2)
    return HttpClient(url, sleep=rec.sleep, on_retry=rec.warn, **kwargs)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "bad_request"),
        (401, "access_denied"),
        (403, "access_denied"),
        (404, "not_found"),
        (409, "conflict"),
        (500, "server_error"),
        (503, "server_error"),
        (418, "http_error"),
        (None, "http_error"),
    ],
)
def test_reason_for_status(status: int | None, reason: str) -> None:
    assert reason_for_status(status) == reason


def test_base_error_parsing_and_reason(fake: FakeHttp) -> None:
    fake.route("GET", "thing", Reply(409, {"message": "taken"}))
    with pytest.raises(HttpError) as info:
        client(fake.url, Recorder()).request("GET", "/thing", name="read thing")
    assert (info.value.status, info.value.message, info.value.failure_reason) == (409, "taken", "conflict")
    assert info.value.details == {"status": 409, "code": None}


def test_invalid_json_is_invalid_response(fake: FakeHttp) -> None:
    fake.route("GET", "thing", Reply(200, b"<html>"))
    with pytest.raises(HttpError) as info:
        client(fake.url, Recorder()).request("GET", "/thing", name="read thing")
    assert info.value.failure_reason == "invalid_response"


def test_on_request_hook_and_counter(fake: FakeHttp) -> None:
    fake.route("GET", "thing", Reply(503, {}), Reply(200, {"ok": True}))
    seen: list[str] = []
    rec = Recorder()
    c = client(fake.url, rec, on_request=seen.append)
    assert c.request("GET", "/thing", name="read thing") == {"ok": True}
    assert seen == ["read thing", "read thing"] and c.calls["read thing"] == 2
    assert len(rec.warnings) == 1 and "HTTP API read thing: HTTP 503" in rec.warnings[0]


def test_timeout_of_a_read_is_a_connection_failure(silent: str) -> None:
    rec = Recorder()
    c = client(silent, rec, timeout=0.2, retries=1)
    with pytest.raises(HttpConnectionError) as info:
        c.request("GET", "/thing", name="read thing")
    assert info.value.failure_reason == "connection_failed" and not info.value.may_have_landed
    assert c.calls["read thing"] == 2
    assert "Cannot reach HTTP API" in info.value.message


def test_timeout_of_a_non_replayable_write_is_outcome_unknown_and_not_repeated(silent: str) -> None:
    rec = Recorder()
    c = client(silent, rec, timeout=0.2, retries=3)
    with pytest.raises(HttpConnectionError) as info:
        c.request("POST", "/create", name="create thing", body={}, replayable=False)
    assert info.value.failure_reason == "outcome_unknown" and info.value.may_have_landed
    assert "outcome is unknown" in info.value.message and "timed out" in info.value.message
    assert c.calls["create thing"] == 1 and rec.sleeps == []


def test_timeout_of_a_replayable_write_is_retried_then_outcome_unknown(silent: str) -> None:
    rec = Recorder()
    c = client(silent, rec, timeout=0.2, retries=1)
    with pytest.raises(HttpConnectionError) as info:
        c.request("POST", "/update", name="update thing", body={})
    assert c.calls["update thing"] == 2
    assert info.value.failure_reason == "outcome_unknown"


@pytest.mark.parametrize(
    ("status", "reason"), [(502, "outcome_unknown"), (504, "outcome_unknown"), (500, "server_error")]
)
def test_proxy_error_on_a_write_is_outcome_unknown(fake: FakeHttp, status: int, reason: str) -> None:
    fake.route("POST", "create", Reply(status, {"message": "bad gateway"}))
    c = client(fake.url, Recorder(), retries=0)
    with pytest.raises(HttpError) as info:
        c.request("POST", "/create", name="create thing", body={}, replayable=False)
    assert info.value.failure_reason == reason


def test_proxy_error_on_a_read_is_a_server_error(fake: FakeHttp) -> None:
    fake.route("GET", "thing", Reply(502, {"message": "bad gateway"}))
    with pytest.raises(HttpError) as info:
        client(fake.url, Recorder(), retries=0).request("GET", "/thing", name="read thing")
    assert info.value.failure_reason == "server_error"


def test_refused_connection_is_a_connection_failure_even_for_writes() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    rec = Recorder()
    c = client(f"http://127.0.0.1:{port}", rec, retries=1)
    with pytest.raises(HttpConnectionError) as info:
        c.request("POST", "/create", name="create thing", body={}, replayable=False)
    assert info.value.failure_reason == "connection_failed"
    assert c.calls["create thing"] == 2


def test_auth_headers_hook_and_query(fake: FakeHttp) -> None:
    class Custom(HttpClient):
        service = "Custom"

        def auth_headers(self) -> dict[str, str]:
            return {"X-Token": "secret-value"}

    fake.route("GET", "thing", Reply(200, {}))
    c = Custom(fake.url + "/", retries=0)
    c.request("GET", "/thing", name="read thing", query={"a": 1, "b": None, "c": True}, headers={"X-Extra": "1"})
    seen = fake.requests[-1]
    assert seen.headers["x-token"] == "secret-value" and seen.headers["x-extra"] == "1"
    assert seen.query == {"a": "1", "c": "true"}
    assert "secret-value" not in repr(c)
