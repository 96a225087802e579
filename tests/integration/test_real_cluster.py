# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The test fixtures themselves: real Garage clusters, the fault proxy, restarts, teardown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import typing as t
import urllib.error
import urllib.request

import pytest

from tests.fixtures.faultproxy import FaultProxy, s3_operation
from tests.fixtures.garage import garage_binary, garage_version, start_cluster, version_tuple


def _pids_in_group(pgid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True, check=False)
    return [int(x) for x in out.stdout.split()]


def test_cluster_is_real_garage_of_the_pinned_version(garage: t.Any) -> None:
    pinned = (os.environ.get("GARAGE_VERSION") or open("GARAGE_VERSION").read()).strip()
    assert garage.version == f"v{pinned}" or os.environ.get("GARAGE_BIN"), garage.version
    info = garage.ok("GetNodeInfo", query={"node": "self"})
    node = next(iter(info["success"].values()))
    assert node["garageVersion"] == garage.version
    assert "lmdb" in node["garageFeatures"]
    health = garage.ok("GetClusterHealth")
    assert health["status"] == "healthy" and health["connectedNodes"] == 3


def test_node_config_is_written_like_an_operator_would(garage: t.Any) -> None:
    node = garage.nodes[0]
    text = node.config.read_text()
    for needle in ("rpc_secret_file", "admin_token_file", "metrics_token", 's3_region = "garage"', "[s3_web]"):
        assert needle in text, needle
    for name in ("rpc_secret", "admin_token"):
        mode = os.stat(garage.workdir / "secrets" / name).st_mode & 0o777
        assert mode == 0o600, (name, oct(mode))
    # the metrics endpoint wants its own token
    r = urllib.request.Request(f"{node.admin_url}/metrics", headers={"Authorization": f"Bearer {garage.metrics_token}"})
    with urllib.request.urlopen(r, timeout=10) as resp:
        assert b"garage_build_info" in resp.read()


def test_proxy_counts_and_fails_the_nth_call(garage: t.Any) -> None:
    proxy = FaultProxy(garage.nodes[0].ports["admin"] and f"127.0.0.1:{garage.nodes[0].ports['admin']}")
    try:
        def call(endpoint: str) -> tuple[int, t.Any]:
            req = urllib.request.Request(
                f"{proxy.url}/v2/{endpoint}", headers={"Authorization": f"Bearer {garage.admin_token}"}
            )
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        proxy.fault("ListBuckets", nth=2, status=503, code="ServiceUnavailable", message="boom")
        assert call("ListBuckets")[0] == 200
        status, body = call("ListBuckets")
        assert status == 503 and body == {
            "code": "ServiceUnavailable", "message": "boom", "region": "garage", "path": "/v2/ListBuckets"
        }  # fmt: skip
        assert call("ListBuckets")[0] == 200  # times=1: only the second call failed
        assert call("ListKeys")[0] == 200
        assert proxy.calls() == {"ListBuckets": 3, "ListKeys": 1}
        assert proxy.fired == [("ListBuckets", "HTTP 503 before")]
        proxy.reset_calls()
        assert proxy.calls() == {}
    finally:
        proxy.stop()


def test_fault_after_forwarding_lands_the_request(garage: t.Any) -> None:
    """when="after": Garage acts on the request, the client only loses the answer."""
    name = f"landed-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    garage.fault("CreateKey", status=504, code="GatewayTimeout", message="lost answer", when="after")
    req = urllib.request.Request(
        f"{garage.admin_url}/v2/CreateKey",
        data=json.dumps({"name": name}).encode(),
        headers={"Authorization": f"Bearer {garage.admin_token}", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 504
    listed = [k for k in garage.ok("ListKeys") if k["name"] == name]
    assert len(listed) == 1, "the request must have reached Garage"
    garage.ok("DeleteKey", query={"id": listed[0]["id"]})


def test_fault_drop_closes_without_answer(garage: t.Any) -> None:
    garage.fault("GetClusterHealth", status=None, drop=True)
    req = urllib.request.Request(
        f"{garage.admin_url}/v2/GetClusterHealth", headers={"Authorization": f"Bearer {garage.admin_token}"}
    )
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(req, timeout=10)
    with urllib.request.urlopen(req, timeout=10) as resp:  # the next call goes through
        assert resp.status == 200


def test_s3_proxy_streams_and_names_operations(garage: t.Any) -> None:
    key_id, secret = garage.create_key("proxy-s3")
    garage.ok("UpdateKey", query={"id": key_id}, body={"allow": {"createBucket": True}})
    proxy = garage.s3_proxy()
    proxy.reset_calls()
    s3 = garage.s3_client(key_id, secret, endpoint_url=proxy.url)
    bucket = f"proxy-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    payload = os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket=bucket, Key="a/b.bin", Body=payload)
    assert s3.get_object(Bucket=bucket, Key="a/b.bin")["Body"].read() == payload
    proxy.fault("DeleteObjects", status=500, code="InternalError", message="injected")
    with pytest.raises(Exception) as err:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a/b.bin"}]})
    assert "InternalError" in str(err.value)
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "a/b.bin"}]})
    s3.delete_bucket(Bucket=bucket)
    calls = proxy.calls()
    assert calls["CreateBucket"] == 1 and calls["PutObject"] == 1 and calls["GetObject"] == 1
    assert calls["DeleteObjects"] == 2 and calls["DeleteBucket"] == 1
    garage.ok("DeleteKey", query={"id": key_id})


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/", "", {}, "ListBuckets"),
        ("GET", "/b", "list-type=2&prefix=x", {}, "ListObjectsV2"),
        ("POST", "/b", "delete", {}, "DeleteObjects"),
        ("PUT", "/b", "cors", {}, "PutBucketCors"),
        ("GET", "/b", "lifecycle", {}, "GetBucketLifecycleConfiguration"),
        ("HEAD", "/b", "", {}, "HeadBucket"),
        ("POST", "/b/k", "uploads", {}, "CreateMultipartUpload"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", {}, "UploadPart"),
        ("POST", "/b/k", "uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/b/k", "uploadId=u", {}, "AbortMultipartUpload"),
        ("PUT", "/b/k", "", {"x-amz-copy-source": "/b/j"}, "CopyObject"),
        ("GET", "/b/k/l", "", {}, "GetObject"),
    ],
)
def test_s3_operation_names(method: str, path: str, query: str, headers: dict[str, str], expected: str) -> None:
    assert s3_operation(method, path, query, headers) == expected


def test_node_restart_keeps_its_data_and_id(garage_factory: t.Any) -> None:
    g = garage_factory(nodes=3)
    g.ok("CreateBucket", body={"globalAlias": "survivor"})
    victim = g.nodes[2]
    old_pid = victim.proc.pid
    g.set_node_up(victim.node_id, False)
    assert not victim.running
    health = g.ok("GetClusterHealth")
    assert health["status"] == "degraded" and health["connectedNodes"] == 2
    g.set_node_up(victim.node_id, True)
    assert victim.running and victim.proc.pid != old_pid
    g.wait_healthy()
    info = g.ok("GetNodeInfo", query={"node": victim.node_id}, node=2)
    assert victim.node_id in info["success"]
    assert g.ok("GetBucketInfo", query={"globalAlias": "survivor"}, node=2)["globalAliases"] == ["survivor"]


def test_teardown_leaves_no_process(tmp_path: t.Any) -> None:
    """Stopping a cluster kills every process of every node's group, even a stuck one."""
    g = start_cluster(tmp_path / "c", nodes=3, connected="self", layout=False)
    groups = [n.proc.pid for n in g.nodes]
    assert all(_pids_in_group(pg) for pg in groups)
    # one node ignores SIGTERM (stopped): teardown must still end it
    os.kill(g.nodes[1].proc.pid, signal.SIGSTOP)
    g.nodes[1].stop(timeout=1)
    g.stop()
    deadline = time.monotonic() + 10
    while any(_pids_in_group(pg) for pg in groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_pids_in_group(pg) for pg in groups)


def test_start_to_healthy_times(tmp_path: t.Any, record_property: t.Any) -> None:
    """Reported, not asserted against a bound: start-to-healthy of a 1-node and a 3-node cluster."""
    times = {}
    for n in (1, 3):
        start = time.monotonic()
        g = start_cluster(tmp_path / f"c{n}", nodes=n)
        times[n] = time.monotonic() - start
        try:
            assert g.ok("GetClusterHealth")["status"] == "healthy"
            layout = g.ok("GetClusterLayout")
            assert len(layout["roles"]) == n and layout["parameters"]["zoneRedundancy"]
        finally:
            g.stop()
    record_property("start_to_healthy_s", times)
    print(f"\nstart-to-healthy: 1 node {times[1]:.2f}s, 3 nodes {times[3]:.2f}s")


def test_version_helpers() -> None:
    assert version_tuple("v2.4.1") == (2, 4, 1)
    assert version_tuple("2.1.0-rc1") == (2, 1, 0)
    assert garage_version(garage_binary()).startswith("v2.")
