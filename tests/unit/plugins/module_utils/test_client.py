# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP-level tests of the Admin API client.

A tiny HTTP server on loopback answers from a table ``(method, endpoint) -> [responses]``
(the last response repeats) and records every request, so the real ``open_url`` path,
query/body encoding, typed errors and retry behaviour are all exercised.
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import typing as t
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils import _http
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import client as _client
from ansible_collections.cellar.garage.plugins.module_utils._garage_admin.client import (
    GarageAccessDenied,
    GarageAdminClient,
    GarageBadRequest,
    GarageConflict,
    GarageConnectionError,
    GarageError,
    GarageNotFound,
    GarageServerError,
    GarageTokenError,
    read_token_file,
    resolve_admin_token,
)
from tests.unit.plugins.module_utils.http_fake import FakeHttp, Recorder, Reply

TOKEN = "s3cr3t-admin-token-Zq9"
BUCKET_ID = "ab" * 32
KEY_ID = "GK" + "0c" * 12


FakeAdmin = FakeHttp


@pytest.fixture
def fake() -> t.Iterator[FakeAdmin]:
    server = FakeAdmin()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


def make_client(fake: FakeAdmin, rec: Recorder, **kwargs: t.Any) -> GarageAdminClient:
    kwargs.setdefault("retries", 3)
    return GarageAdminClient(fake.url, TOKEN, sleep=rec.sleep, on_retry=rec.warn, **kwargs)


def error_body(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message, "region": "garage", "path": "/v2/X"}


# --------------------------------------------------------------------------- success path


def test_get_sends_bearer_token_and_parses_json(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "GetClusterHealth", Reply(200, {"status": "healthy", "partitions": 256}))
    client = make_client(fake, rec)
    assert client.get_cluster_health() == {"status": "healthy", "partitions": 256}
    (seen,) = fake.requests
    assert seen.method == "GET"
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert seen.body == b""
    assert client.calls == {"GetClusterHealth": 1}


def test_delete_answer_null_is_none(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("POST", "DeleteBucket", Reply(200, None))
    assert make_client(fake, rec).delete_bucket(BUCKET_ID) is None
    assert fake.requests[0].query == {"id": BUCKET_ID}


def test_trailing_slash_and_v2_suffix_tolerated(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListKeys", Reply(200, []))
    for url in (fake.url + "/", fake.url + "/v2", fake.url + "/v2/"):
        assert GarageAdminClient(url, TOKEN, sleep=rec.sleep).list_keys() == []
    assert all(r.endpoint == "ListKeys" for r in fake.requests)


# (client call, expected method, endpoint, query, body)
ENDPOINT_CASES: list[tuple[t.Callable[[GarageAdminClient], t.Any], str, str, dict[str, str], t.Any]] = [
    (lambda c: c.get_cluster_status(), "GET", "GetClusterStatus", {}, None),
    (lambda c: c.get_cluster_health(), "GET", "GetClusterHealth", {}, None),
    (lambda c: c.get_cluster_statistics(), "GET", "GetClusterStatistics", {}, None),
    (
        lambda c: c.connect_cluster_nodes(["a" * 64 + "@10.0.0.1:3901"]),
        "POST",
        "ConnectClusterNodes",
        {},
        ["a" * 64 + "@10.0.0.1:3901"],
    ),
    (lambda c: c.get_node_info(), "GET", "GetNodeInfo", {"node": "*"}, None),
    (lambda c: c.get_node_info("self"), "GET", "GetNodeInfo", {"node": "self"}, None),
    (lambda c: c.get_cluster_layout(), "GET", "GetClusterLayout", {}, None),
    (lambda c: c.get_cluster_layout_history(), "GET", "GetClusterLayoutHistory", {}, None),
    (
        lambda c: c.update_cluster_layout(roles=[{"id": "a" * 64, "zone": "z1", "capacity": 1024, "tags": []}]),
        "POST",
        "UpdateClusterLayout",
        {},
        {"roles": [{"id": "a" * 64, "zone": "z1", "capacity": 1024, "tags": []}]},
    ),
    (
        lambda c: c.update_cluster_layout(parameters={"zoneRedundancy": {"atLeast": 2}}),
        "POST",
        "UpdateClusterLayout",
        {},
        {"parameters": {"zoneRedundancy": {"atLeast": 2}}},
    ),
    (lambda c: c.update_cluster_layout(), "POST", "UpdateClusterLayout", {}, {}),
    (lambda c: c.preview_cluster_layout_changes(), "POST", "PreviewClusterLayoutChanges", {}, None),
    (lambda c: c.apply_cluster_layout(3), "POST", "ApplyClusterLayout", {}, {"version": 3}),
    (lambda c: c.revert_cluster_layout(), "POST", "RevertClusterLayout", {}, None),
    (lambda c: c.list_buckets(), "GET", "ListBuckets", {}, None),
    (lambda c: c.get_bucket_info(id=BUCKET_ID), "GET", "GetBucketInfo", {"id": BUCKET_ID}, None),
    (lambda c: c.get_bucket_info(global_alias="photos"), "GET", "GetBucketInfo", {"globalAlias": "photos"}, None),
    (lambda c: c.get_bucket_info(search="ab12"), "GET", "GetBucketInfo", {"search": "ab12"}, None),
    (lambda c: c.create_bucket({"globalAlias": "photos"}), "POST", "CreateBucket", {}, {"globalAlias": "photos"}),
    (lambda c: c.create_bucket(), "POST", "CreateBucket", {}, {}),
    (
        lambda c: c.update_bucket(BUCKET_ID, {"quotas": {"maxSize": 10}}),
        "POST",
        "UpdateBucket",
        {"id": BUCKET_ID},
        {"quotas": {"maxSize": 10}},
    ),
    (lambda c: c.delete_bucket(BUCKET_ID), "POST", "DeleteBucket", {"id": BUCKET_ID}, None),
    (
        lambda c: c.add_bucket_alias({"bucketId": BUCKET_ID, "globalAlias": "p"}),
        "POST",
        "AddBucketAlias",
        {},
        {"bucketId": BUCKET_ID, "globalAlias": "p"},
    ),
    (
        lambda c: c.remove_bucket_alias({"bucketId": BUCKET_ID, "localAlias": "p", "accessKeyId": KEY_ID}),
        "POST",
        "RemoveBucketAlias",
        {},
        {"bucketId": BUCKET_ID, "localAlias": "p", "accessKeyId": KEY_ID},
    ),
    (
        lambda c: c.allow_bucket_key(BUCKET_ID, KEY_ID, {"read": True}),
        "POST",
        "AllowBucketKey",
        {},
        {"bucketId": BUCKET_ID, "accessKeyId": KEY_ID, "permissions": {"read": True}},
    ),
    (
        lambda c: c.deny_bucket_key(BUCKET_ID, KEY_ID, {"owner": True}),
        "POST",
        "DenyBucketKey",
        {},
        {"bucketId": BUCKET_ID, "accessKeyId": KEY_ID, "permissions": {"owner": True}},
    ),
    (lambda c: c.list_keys(), "GET", "ListKeys", {}, None),
    (lambda c: c.get_key_info(id=KEY_ID), "GET", "GetKeyInfo", {"id": KEY_ID}, None),
    (
        lambda c: c.get_key_info(search="app", show_secret=True),
        "GET",
        "GetKeyInfo",
        {"search": "app", "showSecretKey": "true"},
        None,
    ),
    (lambda c: c.create_key({"name": "app"}), "POST", "CreateKey", {}, {"name": "app"}),
    (
        lambda c: c.import_key({"accessKeyId": KEY_ID, "secretAccessKey": "f" * 64}),
        "POST",
        "ImportKey",
        {},
        {"accessKeyId": KEY_ID, "secretAccessKey": "f" * 64},
    ),
    (
        lambda c: c.update_key(KEY_ID, {"allow": {"createBucket": True}}),
        "POST",
        "UpdateKey",
        {"id": KEY_ID},
        {"allow": {"createBucket": True}},
    ),
    (lambda c: c.delete_key(KEY_ID), "POST", "DeleteKey", {"id": KEY_ID}, None),
    (lambda c: c.list_admin_tokens(), "GET", "ListAdminTokens", {}, None),
    (lambda c: c.get_admin_token_info(id="0a" * 12), "GET", "GetAdminTokenInfo", {"id": "0a" * 12}, None),
    (lambda c: c.get_admin_token_info(search="ci"), "GET", "GetAdminTokenInfo", {"search": "ci"}, None),
    (
        lambda c: c.create_admin_token({"name": "ci", "scope": ["*"]}),
        "POST",
        "CreateAdminToken",
        {},
        {"name": "ci", "scope": ["*"]},
    ),
    (
        lambda c: c.update_admin_token("0a" * 12, {"neverExpires": True}),
        "POST",
        "UpdateAdminToken",
        {"id": "0a" * 12},
        {"neverExpires": True},
    ),
    (lambda c: c.delete_admin_token("0a" * 12), "POST", "DeleteAdminToken", {"id": "0a" * 12}, None),
    (lambda c: c.get_current_admin_token_info(), "GET", "GetCurrentAdminTokenInfo", {}, None),
    (
        lambda c: c.call("CleanupIncompleteUploads", body={"bucketId": BUCKET_ID, "olderThanSecs": 3600}),
        "POST",
        "CleanupIncompleteUploads",
        {},
        {"bucketId": BUCKET_ID, "olderThanSecs": 3600},
    ),
]


@pytest.mark.parametrize(
    ("invoke", "method", "endpoint", "query", "body"),
    ENDPOINT_CASES,
    ids=[f"{c[2]}-{i}" for i, c in enumerate(ENDPOINT_CASES)],
)
def test_endpoint_encoding(
    fake: FakeAdmin,
    rec: Recorder,
    invoke: t.Callable[[GarageAdminClient], t.Any],
    method: str,
    endpoint: str,
    query: dict[str, str],
    body: t.Any,
) -> None:
    fake.route(method, endpoint, Reply(200, {"ok": True}))
    client = make_client(fake, rec)
    assert invoke(client) == {"ok": True}
    (seen,) = fake.requests
    assert (seen.method, seen.endpoint, seen.query) == (method, endpoint, query)
    if body is None:
        assert seen.body == b""
    else:
        assert seen.json == body
        assert seen.headers["content-type"] == "application/json"
    assert client.calls[endpoint] == 1


def test_node_wildcard_is_not_percent_encoded(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "GetNodeInfo", Reply(200, {"success": {}, "error": {}}))
    make_client(fake, rec).get_node_info()
    assert fake.requests[0].raw_query == "node=*"


@pytest.mark.parametrize("kwargs", [{}, {"id": BUCKET_ID, "global_alias": "p"}, {"id": "", "search": ""}])
def test_get_bucket_info_needs_exactly_one_selector(fake: FakeAdmin, rec: Recorder, kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        make_client(fake, rec).get_bucket_info(**kwargs)
    assert fake.requests == []


def test_get_key_info_needs_exactly_one_selector(fake: FakeAdmin, rec: Recorder) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        make_client(fake, rec).get_key_info(id=KEY_ID, search="app")


def test_invalid_json_answer_is_a_garage_error(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListBuckets", Reply(200, b"<html>not json</html>"))
    with pytest.raises(GarageError, match="invalid JSON") as info:
        make_client(fake, rec).list_buckets()
    assert info.value.endpoint == "ListBuckets"


# --------------------------------------------------------------------------- typed errors

ERROR_CASES = [
    (400, "InvalidRequest", "Bad request: Missing argument `id` for endpoint", GarageBadRequest),
    (403, "AccessDenied", "Forbidden: Invalid bearer token", GarageAccessDenied),
    (404, "NoSuchBucket", "Bucket not found: photos", GarageNotFound),
    (409, "BucketNotEmpty", "Tried to delete a non-empty bucket", GarageConflict),
    (500, "InternalError", "Internal error: Invalid new layout version", GarageServerError),
]


@pytest.mark.parametrize(("status", "code", "message", "cls"), ERROR_CASES, ids=[str(c[0]) for c in ERROR_CASES])
def test_typed_error_per_status_and_never_retried(
    fake: FakeAdmin, rec: Recorder, status: int, code: str, message: str, cls: type[GarageError]
) -> None:
    fake.route("GET", "ListBuckets", Reply(status, error_body(code, message)))
    client = make_client(fake, rec)
    with pytest.raises(cls) as info:
        client.list_buckets()
    err = info.value
    assert (err.status, err.code, err.message, err.endpoint) == (status, code, message, "ListBuckets")
    assert err.__class__ is cls
    assert isinstance(err, GarageError)
    assert len(fake.requests) == 1, "must not retry"
    assert client.calls["ListBuckets"] == 1
    assert rec.sleeps == [] and rec.warnings == []
    for text in (str(err), repr(err), err.message):
        assert TOKEN not in text


def test_error_without_json_body_keeps_status(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListBuckets", Reply(418, b"I'm a teapot"))
    with pytest.raises(GarageError) as info:
        make_client(fake, rec).list_buckets()
    assert info.value.status == 418
    assert info.value.code is None
    assert "teapot" in info.value.message


def test_unknown_endpoint_is_bad_request(fake: FakeAdmin, rec: Recorder) -> None:
    with pytest.raises(GarageBadRequest, match="Unknown API endpoint"):
        make_client(fake, rec).call("NoSuchEndpoint")


# --------------------------------------------------------------------------- retries


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_status_then_success(fake: FakeAdmin, rec: Recorder, status: int) -> None:
    fake.route(
        "GET",
        "GetClusterHealth",
        Reply(status, error_body("ServiceUnavailable", "Quorum is not available")),
        Reply(status, b""),
        Reply(200, {"status": "healthy"}),
    )
    client = make_client(fake, rec, retries=3)
    assert client.get_cluster_health() == {"status": "healthy"}
    assert len(fake.requests) == 3
    assert client.calls["GetClusterHealth"] == 3
    assert len(rec.sleeps) == 2
    assert len(rec.warnings) == 2
    assert "retry 1/3" in rec.warnings[0] and "retry 2/3" in rec.warnings[1]
    assert f"HTTP {status}" in rec.warnings[0]
    assert all(TOKEN not in w for w in rec.warnings)


def test_retries_are_bounded(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListKeys", Reply(503, error_body("ServiceUnavailable", "busy")))
    client = make_client(fake, rec, retries=2)
    with pytest.raises(GarageServerError) as info:
        client.list_keys()
    assert info.value.status == 503 and info.value.code == "ServiceUnavailable"
    assert len(fake.requests) == 3  # 1 + 2 retries
    assert len(rec.sleeps) == 2


def test_retries_zero_means_one_attempt(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListKeys", Reply(503, b""))
    with pytest.raises(GarageServerError):
        make_client(fake, rec, retries=0).list_keys()
    assert len(fake.requests) == 1 and rec.sleeps == []


def test_backoff_is_exponential_jittered_and_capped(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListKeys", Reply(502, b""))
    with pytest.raises(GarageServerError):
        make_client(fake, rec, retries=8).list_keys()
    assert len(rec.sleeps) == 8
    for attempt, wait in enumerate(rec.sleeps):
        ceiling = min(_client.BACKOFF_BASE * 2**attempt, _client.MAX_RETRY_WAIT)
        assert ceiling / 2 <= wait <= ceiling
    assert max(rec.sleeps) <= _client.MAX_RETRY_WAIT


@pytest.mark.parametrize(("header", "expected"), [("2", 2.0), ("0", 0.0), ("3600", _client.MAX_RETRY_WAIT)])
def test_retry_after_is_honoured_and_capped(fake: FakeAdmin, rec: Recorder, header: str, expected: float) -> None:
    fake.route("GET", "ListKeys", Reply(429, b"", {"Retry-After": header}), Reply(200, []))
    assert make_client(fake, rec).list_keys() == []
    assert rec.sleeps == [expected]


def test_retry_after_http_date(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListKeys", Reply(503, b"", {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), Reply(200, []))
    assert make_client(fake, rec).list_keys() == []
    assert rec.sleeps == [0.0]  # a date in the past means "now"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_connection_refused_is_retried_then_typed(rec: Recorder) -> None:
    client = GarageAdminClient(
        f"http://127.0.0.1:{_closed_port()}", TOKEN, retries=2, sleep=rec.sleep, on_retry=rec.warn
    )
    with pytest.raises(GarageConnectionError) as info:
        client.get_cluster_status()
    err = info.value
    assert err.status is None and err.code is None and err.endpoint == "GetClusterStatus"
    assert "Cannot reach Garage admin API" in err.message
    assert client.calls["GetClusterStatus"] == 3
    assert len(rec.warnings) == 2 and "connection error" in rec.warnings[0]
    assert TOKEN not in str(err) and TOKEN not in repr(err)


def test_timeout_is_a_connection_error(rec: Recorder) -> None:
    """A server that accepts but never answers: the client times out and says so."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        client = GarageAdminClient(url, TOKEN, timeout=0.3, retries=1, sleep=rec.sleep, on_retry=rec.warn)
        with pytest.raises(GarageConnectionError, match="timed out"):
            client.list_buckets()
        assert client.calls["ListBuckets"] == 2
    finally:
        listener.close()


def test_timeout_on_a_non_replayable_call_is_not_retried(rec: Recorder) -> None:
    """ApplyClusterLayout may have landed before the timeout: repeating it is never safe."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        client = GarageAdminClient(url, TOKEN, timeout=0.3, retries=3, sleep=rec.sleep, on_retry=rec.warn)
        with pytest.raises(GarageConnectionError, match="timed out"):
            client.apply_cluster_layout(7)
        assert client.calls["ApplyClusterLayout"] == 1
        assert rec.sleeps == [] and rec.warnings == []
    finally:
        listener.close()


def test_refused_connection_on_a_non_replayable_call_is_retried(rec: Recorder) -> None:
    """A refused connection never reached Garage, so even CreateKey may be tried again."""
    client = GarageAdminClient(
        f"http://127.0.0.1:{_closed_port()}", TOKEN, retries=2, sleep=rec.sleep, on_retry=rec.warn
    )
    with pytest.raises(GarageConnectionError):
        client.create_key({"name": "k"})
    assert client.calls["CreateKey"] == 3


@pytest.mark.parametrize(("status", "attempts"), [(502, 1), (504, 1), (429, 2), (503, 2)])
def test_non_replayable_call_retries_only_what_garage_refused(
    fake: FakeAdmin, rec: Recorder, status: int, attempts: int
) -> None:
    """A 502/504 from a proxy may hide a CreateBucket that landed; 429/503 are Garage's own refusals."""
    fake.route("POST", "CreateBucket", Reply(status, b""), Reply(200, {"id": BUCKET_ID}))
    client = make_client(fake, rec, retries=3)
    if attempts == 1:
        with pytest.raises(GarageServerError if status != 429 else GarageError):
            client.create_bucket({"globalAlias": "photos"})
    else:
        assert client.create_bucket({"globalAlias": "photos"}) == {"id": BUCKET_ID}
    assert len(fake.requests) == attempts


def test_tls_failure_is_a_connection_error(fake: FakeAdmin, rec: Recorder) -> None:
    """https:// against a plain-HTTP port fails the TLS handshake."""
    client = GarageAdminClient(fake.url.replace("http://", "https://"), TOKEN, retries=0, timeout=2, sleep=rec.sleep)
    with pytest.raises(GarageConnectionError) as info:
        client.list_buckets()
    assert TOKEN not in str(info.value)


def test_request_gets_tls_options() -> None:
    resp = mock.MagicMock()
    resp.read.return_value = b"[]"
    resp.getcode.return_value = 200
    resp.headers = {}
    with mock.patch.object(_http, "Request") as request_cls, mock.patch.object(_http, "make_context") as ctx:
        request_cls.return_value.open.return_value = resp
        client = GarageAdminClient(
            "https://garage.example:3903", TOKEN, validate_certs=False, ca_path="/ca.pem", timeout=7
        )
        assert client.list_buckets() == []
        assert client.list_buckets() == []
    ctx.assert_called_once_with(cafile="/ca.pem", validate_certs=False)
    request_cls.assert_called_once()  # one Request (and TLS context) for the client's lifetime
    kwargs = request_cls.call_args.kwargs
    assert kwargs["validate_certs"] is False
    assert kwargs["ca_path"] == "/ca.pem"
    assert kwargs["follow_redirects"] == "none"
    assert kwargs["context"] is ctx.return_value
    method, url = request_cls.return_value.open.call_args.args
    assert (method, url) == ("GET", "https://garage.example:3903/v2/ListBuckets")
    assert request_cls.return_value.open.call_args.kwargs["timeout"] == 7


@pytest.fixture
def tls_fake(tmp_path: Path) -> t.Iterator[tuple[FakeAdmin, str]]:
    """The fake admin API behind TLS with a throwaway self-signed certificate for 127.0.0.1."""
    if not shutil.which("openssl"):
        pytest.skip("openssl CLI not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = FakeAdmin()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    server.server.socket = ctx.wrap_socket(server.server.socket, server_side=True)
    server.url = server.url.replace("http://", "https://")
    try:
        yield server, str(cert)
    finally:
        server.close()


def test_tls_verification(tls_fake: tuple[FakeAdmin, str], rec: Recorder) -> None:
    fake, cert = tls_fake
    fake.route("GET", "ListKeys", Reply(200, []))
    untrusted = GarageAdminClient(fake.url, TOKEN, retries=0, timeout=5, sleep=rec.sleep)
    with pytest.raises(GarageConnectionError, match=r"TLS|certificate|CERTIFICATE") as info:
        untrusted.list_keys()
    assert TOKEN not in str(info.value)
    assert GarageAdminClient(fake.url, TOKEN, ca_path=cert, timeout=5).list_keys() == []
    assert GarageAdminClient(fake.url, TOKEN, validate_certs=False, timeout=5).list_keys() == []


# --------------------------------------------------------------------------- token hygiene


def test_token_not_in_client_repr() -> None:
    client = GarageAdminClient("http://127.0.0.1:3903", TOKEN)
    assert TOKEN not in repr(client)
    assert TOKEN not in str(vars(client).get("admin_url"))
    assert client.has_token


def test_no_authorization_header_without_token(fake: FakeAdmin, rec: Recorder) -> None:
    fake.route("GET", "ListBuckets", Reply(403, error_body("AccessDenied", "Forbidden: Bearer token must be provided")))
    with pytest.raises(GarageAccessDenied):
        GarageAdminClient(fake.url, None, sleep=rec.sleep).list_buckets()
    assert "authorization" not in fake.requests[0].headers


# --------------------------------------------------------------------------- token resolution


def write_token(tmp_path: Path, content: str, mode: int) -> str:
    path = tmp_path / "admin.token"
    path.write_text(content, encoding="utf-8")
    os.chmod(path, mode)
    return str(path)


def test_token_file_is_trimmed(tmp_path: Path) -> None:
    assert read_token_file(write_token(tmp_path, f"  {TOKEN}\n\n", 0o600)) == TOKEN


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o610])
def test_token_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = write_token(tmp_path, TOKEN, mode)
    with pytest.raises(GarageTokenError, match="accessible by group or others") as info:
        read_token_file(path)
    assert f"{mode:04o}" in str(info.value)
    assert "chmod 600" in str(info.value)
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_token_file_private_modes_accepted(tmp_path: Path, mode: int) -> None:
    assert read_token_file(write_token(tmp_path, TOKEN, mode)) == TOKEN


def test_token_file_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(GarageTokenError, match="Cannot read"):
        read_token_file(str(tmp_path / "nope"))
    with pytest.raises(GarageTokenError, match="empty"):
        read_token_file(write_token(tmp_path, " \n", 0o600))


def test_resolve_precedence(tmp_path: Path) -> None:
    path = write_token(tmp_path, "from-file", 0o600)
    env_file = tmp_path / "env.token"
    env_file.write_text("from-env-file")
    env_file.chmod(0o600)
    env = {"GARAGE_ADMIN_TOKEN": "from-env", "GARAGE_ADMIN_TOKEN_FILE": str(env_file)}
    assert resolve_admin_token("from-option", None, environ=env) == "from-option"
    assert resolve_admin_token(None, path, environ=env) == "from-file"
    assert resolve_admin_token(None, None, environ=env) == "from-env"
    assert resolve_admin_token(None, None, environ={"GARAGE_ADMIN_TOKEN_FILE": str(env_file)}) == "from-env-file"
    assert resolve_admin_token(None, None, environ={}) is None
    assert resolve_admin_token("  ", None, environ={"GARAGE_ADMIN_TOKEN": " "}) is None
