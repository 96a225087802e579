# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP-level tests of the OpenBao client (KV v2, AppRole, typed errors, replay policy).

Answers follow OpenBao's documented JSON shapes (``{"data": {"data": ..., "metadata": ...}}``,
``{"errors": [...]}``).
"""

from __future__ import annotations

import json
import socket
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import (
    KvVersion,
    OpenBaoBadRequest,
    OpenBaoCasMismatch,
    OpenBaoCasRequired,
    OpenBaoClient,
    OpenBaoConnectionError,
    OpenBaoError,
    OpenBaoLoginError,
    OpenBaoPermissionDenied,
    OpenBaoSealed,
)
from tests.unit.plugins.module_utils.http_fake import FakeHttp, Recorder, Reply

TOKEN = "s.bao-unit-token-Qw3"
SECRET_ID = "secret-id-Zz9"


@pytest.fixture
def bao() -> t.Iterator[FakeHttp]:
    server = FakeHttp(prefix="/v1/", unrouted=Reply(404, {"errors": []}))
    try:
        yield server
    finally:
        server.close()


def make(bao: FakeHttp, token: str | None = TOKEN, **kwargs: t.Any) -> OpenBaoClient:
    rec = Recorder()
    kwargs.setdefault("retries", 2)
    return OpenBaoClient(bao.url, token, sleep=rec.sleep, on_retry=rec.warn, **kwargs)


def version_meta(version: int, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "version": version,
        "created_time": "2025-06-14T12:00:00Z",
        "deletion_time": "",
        "destroyed": False,
        "custom_metadata": None,
        **extra,
    }


def test_kv_read_latest_sends_token_and_namespace(bao: FakeHttp) -> None:
    bao.route("GET", "secret/data/garage/app", Reply(200, {"data": {"data": {"k": "v"}, "metadata": version_meta(3)}}))
    secret = make(bao, namespace="team-a").kv_read("secret", "garage/app")
    assert secret is not None
    assert secret.data == {"k": "v"}
    assert secret.version == KvVersion(3, "2025-06-14T12:00:00Z", None, False)
    seen = bao.requests[-1]
    assert seen.method == "GET" and seen.endpoint == "secret/data/garage/app" and seen.query == {}
    assert seen.headers["x-vault-token"] == TOKEN and seen.headers["x-vault-namespace"] == "team-a"


def test_kv_read_version_and_quoting(bao: FakeHttp) -> None:
    bao.route("GET", "kv/data/a%20b/c", Reply(200, {"data": {"data": {}, "metadata": version_meta(1)}}))
    assert make(bao).kv_read("/kv/", "/a b/c", version=1) is not None
    assert bao.requests[-1].query == {"version": "1"}


def test_kv_read_missing_or_deleted_is_none(bao: FakeHttp) -> None:
    assert make(bao).kv_read("secret", "nothing") is None
    deleted = {"data": {"data": None, "metadata": version_meta(2, deletion_time="2025-06-15T00:00:00Z")}}
    bao.route("GET", "secret/data/gone", Reply(404, deleted))
    assert make(bao).kv_read("secret", "gone") is None
    bao.route("GET", "secret/data/destroyed", Reply(200, {"data": {"data": None, "metadata": version_meta(2)}}))
    assert make(bao).kv_read("secret", "destroyed") is None


def test_kv_write_with_cas(bao: FakeHttp) -> None:
    bao.route("POST", "secret/data/app", Reply(200, {"data": version_meta(4)}))
    written = make(bao).kv_write("secret", "app", {"secret_access_key": "x"}, cas=3)
    assert written.version == 4
    assert bao.requests[-1].json == {"data": {"secret_access_key": "x"}, "options": {"cas": 3}}


def test_kv_write_without_cas_sends_no_options(bao: FakeHttp) -> None:
    bao.route("POST", "secret/data/app", Reply(200, {"data": version_meta(1)}))
    make(bao).kv_write("secret", "app", {"a": 1})
    assert bao.requests[-1].json == {"data": {"a": 1}}


def test_cas_mismatch_is_typed_and_not_retried(bao: FakeHttp) -> None:
    bao.route(
        "POST", "secret/data/app", Reply(400, {"errors": ["check-and-set parameter did not match the current version"]})
    )
    with pytest.raises(OpenBaoCasMismatch) as info:
        make(bao).kv_write("secret", "app", {"a": 1}, cas=0)
    assert info.value.failure_reason == "cas_mismatch"
    assert info.value.errors == ["check-and-set parameter did not match the current version"]
    assert isinstance(info.value, OpenBaoBadRequest)
    assert len(bao.requests) == 1


def test_cas_required_is_typed(bao: FakeHttp) -> None:
    bao.route("POST", "secret/data/app", Reply(400, {"errors": ["check-and-set parameter required for this call"]}))
    with pytest.raises(OpenBaoCasRequired) as info:
        make(bao).kv_write("secret", "app", {"a": 1})
    assert info.value.failure_reason == "cas_required"


@pytest.mark.parametrize(
    ("status", "cls", "reason"),
    [
        (403, OpenBaoPermissionDenied, "access_denied"),
        (400, OpenBaoBadRequest, "bad_request"),
        (503, OpenBaoSealed, "sealed"),
        (500, OpenBaoError, "server_error"),
    ],
)
def test_errors_are_typed(bao: FakeHttp, status: int, cls: type[OpenBaoError], reason: str) -> None:
    bao.route("GET", "secret/metadata/app", Reply(status, {"errors": ["permission denied", "second"]}))
    with pytest.raises(cls) as info:
        make(bao, retries=0).kv_metadata("secret", "app")
    assert info.value.failure_reason == reason
    assert info.value.message == "permission denied; second"
    assert info.value.status == status and info.value.details == {"status": status}
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


def test_metadata(bao: FakeHttp) -> None:
    body = {
        "data": {
            "current_version": 2,
            "oldest_version": 1,
            "max_versions": 0,
            "cas_required": True,
            "custom_metadata": {"owner": "garage"},
            "versions": {
                "1": {"created_time": "t1", "deletion_time": "t2", "destroyed": False},
                "2": {"created_time": "t3", "deletion_time": "", "destroyed": False},
            },
        }
    }
    bao.route("GET", "secret/metadata/app", Reply(200, body))
    meta = make(bao).kv_metadata("secret", "app")
    assert meta is not None
    assert (meta.current_version, meta.oldest_version, meta.cas_required) == (2, 1, True)
    assert meta.versions[1].deletion_time == "t2" and meta.versions[2].deletion_time is None
    assert meta.custom_metadata == {"owner": "garage"}
    assert make(bao).kv_metadata("secret", "other") is None


def test_delete_destroy_and_delete_metadata(bao: FakeHttp) -> None:
    for method, path in [
        ("DELETE", "secret/data/app"),
        ("POST", "secret/delete/app"),
        ("POST", "secret/destroy/app"),
        ("DELETE", "secret/metadata/app"),
    ]:
        bao.route(method, path, Reply(204, b""))
    c = make(bao)
    c.kv_delete("secret", "app")
    c.kv_delete("secret", "app", versions=[1, 2])
    c.kv_destroy("secret", "app", [1])
    c.kv_delete_metadata("secret", "app")
    got = [(r.method, r.endpoint, r.json) for r in bao.requests]
    assert got == [
        ("DELETE", "secret/data/app", None),
        ("POST", "secret/delete/app", {"versions": [1, 2]}),
        ("POST", "secret/destroy/app", {"versions": [1]}),
        ("DELETE", "secret/metadata/app", None),
    ]


def test_approle_login_sets_the_token(bao: FakeHttp) -> None:
    bao.route("POST", "auth/approle/login", Reply(200, {"auth": {"client_token": "s.new-token", "policies": ["p"]}}))
    bao.route("GET", "auth/token/lookup-self", Reply(200, {"data": {"policies": ["p"], "ttl": 60}}))
    c = make(bao, token=None)
    assert not c.has_token
    assert c.approle_login("role-1", SECRET_ID) == "s.new-token"
    login = bao.requests[-1]
    assert login.json == {"role_id": "role-1", "secret_id": SECRET_ID}
    assert "x-vault-token" not in login.headers
    assert c.lookup_self() == {"policies": ["p"], "ttl": 60}
    assert bao.requests[-1].headers["x-vault-token"] == "s.new-token"
    assert "s.new-token" not in repr(c)


def test_approle_login_refused_or_without_token(bao: FakeHttp) -> None:
    bao.route("POST", "auth/approle/login", Reply(400, {"errors": ["invalid role or secret ID"]}))
    with pytest.raises(OpenBaoLoginError) as info:
        make(bao).approle_login("role-1", SECRET_ID)
    assert info.value.failure_reason == "credentials_invalid" and info.value.status == 400
    assert "invalid role or secret ID" in info.value.message and "check role_id" in info.value.message
    assert SECRET_ID not in json.dumps(info.value.result())
    bao.route("POST", "auth/approle/login", Reply(200, {"auth": None}))
    with pytest.raises(OpenBaoLoginError) as login:
        make(bao).approle_login("role-1", SECRET_ID)
    assert login.value.failure_reason == "credentials_invalid"


def test_write_that_times_out_is_outcome_unknown_and_never_repeated() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    try:
        c = OpenBaoClient(
            f"http://127.0.0.1:{listener.getsockname()[1]}", TOKEN, timeout=0.2, retries=3, sleep=lambda s: None
        )
        with pytest.raises(OpenBaoConnectionError) as info:
            c.kv_write("secret", "app", {"a": 1}, cas=0)
        assert info.value.failure_reason == "outcome_unknown"
        assert c.calls["kv write"] == 1
        assert "OpenBao" in info.value.message
    finally:
        listener.close()


def test_reads_are_retried_on_503_standby(bao: FakeHttp) -> None:
    bao.route(
        "GET",
        "secret/data/app",
        Reply(503, {"errors": ["standby"]}),
        Reply(200, {"data": {"data": {"a": 1}, "metadata": version_meta(1)}}),
    )
    assert make(bao).kv_read("secret", "app") is not None
    assert len(bao.requests) == 2


def test_empty_mount_or_path_refused() -> None:
    c = OpenBaoClient("http://127.0.0.1:1", TOKEN)
    with pytest.raises(ValueError):
        c.kv_read("", "x")
    with pytest.raises(ValueError):
        c.kv_read("secret", "/")
