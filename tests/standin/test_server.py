"""The stand-in process: launcher, Garage-config mode, persistence, control plane."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

from tests.fixtures.garage import STANDIN, GarageCluster

TOML = """\
metadata_dir = "{d}/meta"
data_dir = "{d}/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "[::]:3901"
rpc_secret = "{rpc}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:0"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "0.0.0.0:0"
admin_token_file = "{d}/admin.token"
"""


def _config(tmp: Path, token_mode: int = 0o600) -> tuple[Path, str]:
    token = secrets.token_hex(16)
    (tmp / "admin.token").write_text(token + "\n")
    (tmp / "admin.token").chmod(token_mode)
    cfg = tmp / "garage.toml"
    cfg.write_text(TOML.format(d=tmp, rpc=secrets.token_hex(32)))
    return cfg, token


def _start(args: list[str], ready: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], dict]:
    if ready.exists():
        ready.unlink()
    p = subprocess.Popen(
        [sys.executable, str(STANDIN), *args, "--ready-file", str(ready)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if ready.exists():
            return p, json.loads(ready.read_text())
        if p.poll() is not None:
            break
        time.sleep(0.01)
    _out, err = p.communicate(timeout=5) if p.poll() is not None else (b"", b"")
    raise AssertionError(f"did not start: rc={p.returncode} {err.decode()}")


def _cluster(info: dict, token: str) -> GarageCluster:
    return GarageCluster(
        admin_url=f"http://{info['admin']}",
        admin_token=token,
        s3_url=f"http://{info['s3']}",
        web_url=None,
        region="garage",
        node_ids=info["node_ids"],
        standin=True,
        ca_file=None,
        data_dir="",
    )


def _stop(p: subprocess.Popen[bytes]) -> tuple[int, str]:
    p.send_signal(signal.SIGTERM)
    _out, err = p.communicate(timeout=10)
    return p.returncode, err.decode()


def test_config_mode_refuses_world_readable_token_file(tmp_path: Path) -> None:
    cfg, _token = _config(tmp_path, 0o644)
    r = subprocess.run(
        [sys.executable, str(STANDIN), "-c", str(cfg), "server"], capture_output=True, timeout=20, check=False
    )
    assert r.returncode == 1
    assert b"world-readable" in r.stderr
    env = dict(os.environ, GARAGE_ALLOW_WORLD_READABLE_SECRETS="true")
    p, _info = _start(["-c", str(cfg), "server"], tmp_path / "ready.json", env)
    assert _stop(p)[0] == 0


def test_config_mode_requires_replication_factor(tmp_path: Path) -> None:
    cfg, _token = _config(tmp_path)
    cfg.write_text(cfg.read_text().replace("replication_factor = 1\n", ""))
    r = subprocess.run(
        [sys.executable, str(STANDIN), "-c", str(cfg), "server"], capture_output=True, timeout=20, check=False
    )
    assert r.returncode == 1 and b"replication_factor is required" in r.stderr


def test_config_mode_persists_node_id_and_metadata(tmp_path: Path) -> None:
    cfg, token = _config(tmp_path)
    ready = tmp_path / "ready.json"
    # Start-up time is measured in bench/standin, not asserted here.
    p, info = _start(["-c", str(cfg), "server", "-v"], ready)
    assert info["admin"].startswith("127.0.0.1:")  # 0.0.0.0 is rebound on loopback
    g = _cluster(info, token)
    (node,) = info["node_ids"]
    assert (tmp_path / "meta" / "node_key.pub").read_bytes().hex() == node
    assert g.admin("/health", token=None)[0] == 503
    g.ok("UpdateClusterLayout", body={"roles": [{"id": node, "zone": "dc1", "capacity": 10**9, "tags": []}]})
    g.ok("ApplyClusterLayout", body={"version": 1})
    assert g.admin("/health", token=None)[0] == 200
    b = g.ok("CreateBucket", body={"globalAlias": "persisted"})
    k = g.ok("CreateKey", body={"name": "persisted"})
    g.ok("AllowBucketKey", body={"bucketId": b["id"], "accessKeyId": k["accessKeyId"], "permissions": {"read": True}})
    tok = g.ok("CreateAdminToken", body={"name": "persisted", "scope": ["ListBuckets"]})
    g.ok("AllowBucketKey", body={"bucketId": b["id"], "accessKeyId": k["accessKeyId"], "permissions": {"write": True}})
    s3 = g.s3_client(k["accessKeyId"], k["secretAccessKey"])
    s3.put_object(Bucket="persisted", Key="dir/file.txt", Body=b"survives restarts", ContentType="text/plain")
    s3.create_multipart_upload(Bucket="persisted", Key="pending")
    state = tmp_path / "meta" / "standin-state.json"
    assert state.exists() and (state.stat().st_mode & 0o777) == 0o600
    rc, err = _stop(p)
    assert rc == 0
    assert token not in err and k["secretAccessKey"] not in err and tok["secretToken"] not in err
    assert "GET /health" in err  # -v logs requests (method and path only)

    p, info2 = _start(["-c", str(cfg), "server"], ready)
    try:
        g = _cluster(info2, token)
        assert info2["node_ids"] == [node]
        assert g.ok("GetBucketInfo", query={"globalAlias": "persisted"})["id"] == b["id"]
        ki = g.ok("GetKeyInfo", query={"id": k["accessKeyId"], "showSecretKey": "true"})
        assert ki["secretAccessKey"] == k["secretAccessKey"]
        assert ki["buckets"][0]["permissions"]["read"] is True
        assert g.ok("GetClusterLayout")["version"] == 1
        assert g.admin("/health", token=None)[0] == 200
        assert g.admin("ListBuckets", token=tok["secretToken"])[0] == 200
        s3 = g.s3_client(k["accessKeyId"], k["secretAccessKey"])
        obj = s3.get_object(Bucket="persisted", Key="dir/file.txt")
        assert obj["Body"].read() == b"survives restarts" and obj["ContentType"] == "text/plain"
        info = g.ok("GetBucketInfo", query={"id": b["id"]})
        assert (info["objects"], info["unfinishedMultipartUploads"]) == (1, 1)
    finally:
        assert _stop(p)[0] == 0


def test_test_mode_creates_missing_metadata_dir(tmp_path: Path) -> None:
    """--metadata-dir that does not exist yet is created (0700), like Garage's metadata_dir."""
    meta = tmp_path / "not" / "yet" / "meta"
    token = secrets.token_hex(16)
    ready = tmp_path / "ready.json"
    args = ["--admin", "127.0.0.1:0", "--s3", "127.0.0.1:0", "--admin-token", token, "--metadata-dir", str(meta)]
    p, info = _start(args, ready)
    try:
        key = _cluster(info, token).ok("CreateKey", body={"name": "first-mutation"})
    finally:
        rc, err = _stop(p)
    assert rc == 0, err
    assert (meta.stat().st_mode & 0o777) == 0o700
    saved = json.loads((meta / "standin-state.json").read_text())
    assert [k["id"] for k in saved["keys"]] == [key["accessKeyId"]]
    assert ((meta / "standin-state.json").stat().st_mode & 0o777) == 0o600


def test_node_id_command(tmp_path: Path) -> None:
    cfg, _token = _config(tmp_path)
    r = subprocess.run(
        [sys.executable, str(STANDIN), "-c", str(cfg), "node", "id", "-q"], capture_output=True, timeout=20, check=False
    )
    assert r.returncode == 0
    line = r.stdout.decode().strip()
    nid, _sep, addr = line.partition("@")
    assert len(nid) == 64 and addr == "127.0.0.1:3901"
    assert (tmp_path / "meta" / "node_key.pub").read_bytes().hex() == nid


def test_control_plane_refused_without_allow_faults(tmp_path: Path) -> None:
    token = secrets.token_hex(8)
    p, info = _start(["--admin", "127.0.0.1:0", "--s3", "", "--admin-token", token], tmp_path / "r.json")
    try:
        g = _cluster(info, token)
        for method, path in (("GET", "/__standin/state"), ("POST", "/__standin/faults"), ("GET", "/__standin/calls")):
            st, body = g.admin(path, method=method, body=b"{}")
            assert st == 403 and body["code"] == "AccessDenied", body
    finally:
        assert _stop(p)[0] == 0


def test_faults_nth_times_and_latency(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(layout=False, web=False)
    g.fault("ListKeys", nth=2, times=2, status=503, code="ServiceUnavailable", message="boom")
    assert g.admin("ListKeys")[0] == 200
    for _call in range(2):
        st, body = g.admin("ListKeys")
        assert st == 503 and body["code"] == "ServiceUnavailable" and body["message"] == "boom"
        assert body["path"] == "/v2/ListKeys"
    assert g.admin("ListKeys")[0] == 200
    g.fault("GetClusterHealth", status=None, latency_ms=300)
    t0 = time.monotonic()
    assert g.admin("GetClusterHealth")[0] == 200
    assert time.monotonic() - t0 >= 0.29
    g.fault("*", times=1)
    assert g.admin("ListBuckets")[0] == 500
    g.fault("ListBuckets", times=5)
    g.clear_faults()
    assert g.admin("ListBuckets")[0] == 200
    st, body = g.admin("/__standin/faults", method="POST", body={"nth": 0}, token=None)
    assert st == 400 and body["code"] == "InvalidRequest"


def test_call_counters(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(layout=False, web=False)
    g.reset_calls()
    g.admin("ListBuckets")
    g.admin("ListBuckets", token=None)  # refused calls count too
    g.admin("GetClusterHealth")
    assert g.calls() == {"ListBuckets": 2, "GetClusterHealth": 1}
    g.reset_calls()
    assert g.calls() == {}


def test_state_dump_has_no_secrets(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(web=False)
    k = g.ok("CreateKey", body={"name": "s"})
    tok = g.ok("CreateAdminToken", body={"name": "t"})
    b = g.ok(
        "CreateBucket", body={"globalAlias": "dumped", "localAlias": {"accessKeyId": k["accessKeyId"], "alias": "loc"}}
    )
    raw = json.dumps(g.state())
    assert k["secretAccessKey"] not in raw and tok["secretToken"] not in raw and g.admin_token not in raw
    st = g.state()
    assert st["buckets"][b["id"]]["globalAliases"] == ["dumped"]
    assert st["keys"][k["accessKeyId"]]["localAliases"] == {"loc": b["id"]}
    assert len(st["layout"]["versions"][-1]["assignment"]) == 256


def test_connected_self(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(connected="self", layout=False, web=False)
    st = g.ok("GetClusterStatus")
    assert [n["id"] for n in st["nodes"]] == [g.node_ids[0]]
    specs = [f"{g.node_ids[1]}@127.0.0.1:3911", f"{secrets.token_hex(32)}@127.0.0.1:3999", "nonsense"]
    res = g.ok("ConnectClusterNodes", body=specs)
    assert res[0] == {"success": True, "error": None}
    assert res[1]["success"] is False
    assert res[2] == {"success": False, "error": "Unable to parse or resolve node specification: nonsense"}
    ids = [n["id"] for n in g.ok("GetClusterStatus")["nodes"]]
    assert sorted(ids) == sorted(g.node_ids[:2])
    assert g.ok("GetClusterHealth")["connectedNodes"] == 2


def test_node_down_and_per_node_endpoints(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(web=False)
    g.set_node_up(g.node_ids[2], False)
    st = {n["id"]: n for n in g.ok("GetClusterStatus")["nodes"]}
    assert st[g.node_ids[2]]["isUp"] is False and st[g.node_ids[0]]["isUp"] is True
    assert g.ok("GetClusterHealth")["status"] == "degraded"
    info = g.ok("GetNodeInfo", query={"node": "*"})
    assert set(info["success"]) == set(g.node_ids[:2]) and set(info["error"]) == {g.node_ids[2]}
    assert list(g.ok("GetNodeInfo", query={"node": "self"})["success"]) == [g.node_ids[0]]
    one = g.ok("GetNodeInfo", query={"node": g.node_ids[1][:10]})
    assert list(one["success"]) == [g.node_ids[1]]
    st2, body = g.admin("GetNodeInfo", query={"node": "ffffffffffffffff0"})
    assert st2 == 400 and "No nodes matching" in body["message"]
    res = g.ok("ConnectClusterNodes", body=[f"{g.node_ids[2]}@127.0.0.1:3921"])
    assert res[0]["success"] is False  # held down by the control plane
    g.set_node_up(g.node_ids[2], True)
    assert g.ok("GetClusterHealth")["status"] == "healthy"


def test_current_admin_token_info(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(layout=False, web=False)
    me = g.ok("GetCurrentAdminTokenInfo")
    assert me["id"] is None and me["name"] == "admin_token (from daemon configuration)" and me["scope"] == ["*"]
    tok = g.ok("CreateAdminToken", body={"name": "cur", "scope": ["GetCurrentAdminTokenInfo"]})
    me = g.ok("GetCurrentAdminTokenInfo", token=tok["secretToken"])
    assert me["id"] == tok["id"] and me["name"] == "cur"
    lst = g.ok("ListAdminTokens")
    assert lst[0]["id"] is None and lst[0]["name"] == "admin_token (from daemon configuration)"
    assert [x["id"] for x in lst[1:]] == [tok["id"]]
    assert len(tok["id"]) == 24 and tok["secretToken"].startswith(tok["id"] + ".")
    assert len(tok["secretToken"].split(".", 1)[1]) == 43


def test_layout_preview_message_and_gateway(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(nodes=4, layout=False, web=False)
    roles = [{"id": n, "zone": f"dc{i + 1}", "capacity": 10**10, "tags": []} for i, n in enumerate(g.node_ids[:3])]
    roles.append({"id": g.node_ids[3], "zone": "dc1", "capacity": None, "tags": ["gw"]})
    g.ok("UpdateClusterLayout", body={"roles": roles})
    prev = g.ok("PreviewClusterLayoutChanges")
    assert any("partitions will move" in m for m in prev["message"])
    assert prev["newLayout"]["version"] == 1 and prev["newLayout"]["stagedRoleChanges"] == []
    res = g.ok("ApplyClusterLayout", body={"version": 1})
    gw = next(r for r in res["layout"]["roles"] if r["id"] == g.node_ids[3])
    assert gw["capacity"] is None and gw["storedPartitions"] is None and gw["usableCapacity"] is None
    assert res["layout"]["partitionSize"] == 10**10 // 256
    hist = g.ok("GetClusterLayoutHistory")
    assert hist["currentVersion"] == 1 and hist["updateTrackers"] is None
    assert hist["versions"][0] == {"version": 1, "status": "Current", "storageNodes": 3, "gatewayNodes": 1}
    # same role again: no staged change; parameters staged then applied are kept
    g.ok("UpdateClusterLayout", body={"roles": roles[:1], "parameters": {"zoneRedundancy": {"atLeast": 2}}})
    lay = g.ok("GetClusterLayout")
    assert lay["stagedRoleChanges"] == [] and lay["stagedParameters"] == {"zoneRedundancy": {"atLeast": 2}}
    res = g.ok("ApplyClusterLayout", body={"version": 2})
    assert res["layout"]["parameters"] == {"zoneRedundancy": {"atLeast": 2}}
    assert any("0 partitions will move" in m for m in res["message"])
    # too few storage nodes: preview reports, apply is a 500
    g.ok("UpdateClusterLayout", body={"roles": [{"id": g.node_ids[0], "remove": True}]})
    assert "smaller than the replication factor" in g.ok("PreviewClusterLayoutChanges")["error"]
    st, body = g.admin("ApplyClusterLayout", body={"version": 3})
    assert st == 500 and body["code"] == "InternalError" and "replication factor (3)" in body["message"]


def test_draining_version_and_skip_dead_nodes(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(nodes=4, web=False, layout=False)
    a, b, c, d = g.node_ids
    roles = [{"id": n, "zone": z, "capacity": 10**12, "tags": []} for n, z in ((a, "dc1"), (b, "dc2"), (c, "dc3"))]
    g.ok("UpdateClusterLayout", body={"roles": roles})
    g.ok("ApplyClusterLayout", body={"version": 1})
    hist = g.ok("GetClusterLayoutHistory")
    assert hist["updateTrackers"] is None and [v["status"] for v in hist["versions"]] == ["Current", "Historical"]
    skip = g.admin("ClusterLayoutSkipDeadNodes", body={"version": 1, "allowMissingData": False})
    assert skip[0] == 400 and "only one live cluster layout version" in skip[1]["message"]
    # c dies and is replaced by d while down: version 1 keeps draining
    g.set_node_up(c, False)
    g.ok(
        "UpdateClusterLayout",
        body={"roles": [{"id": c, "remove": True}, {"id": d, "zone": "dc3", "capacity": 10**12, "tags": []}]},
    )
    g.ok("ApplyClusterLayout", body={"version": 2})
    hist = g.ok("GetClusterLayoutHistory")
    assert [v["status"] for v in hist["versions"]] == ["Current", "Draining", "Historical"]
    assert hist["minAck"] == 1 and hist["updateTrackers"][c] == {"ack": 1, "sync": 1, "syncAck": 1}
    assert hist["updateTrackers"][a] == {"ack": 2, "sync": 2, "syncAck": 2}
    status = {n["id"]: n for n in g.ok("GetClusterStatus")["nodes"]}
    assert status[c]["draining"] is True and status[c]["isUp"] is False and status[a]["draining"] is False
    bad = g.admin("ClusterLayoutSkipDeadNodes", body={"version": 3, "allowMissingData": False})
    assert bad[0] == 400 and "you may use the following version numbers: 2" in bad[1]["message"]
    res = g.ok("ClusterLayoutSkipDeadNodes", body={"version": 2, "allowMissingData": False})
    assert res == {"ackUpdated": [c], "syncUpdated": []}
    assert g.ok("GetClusterLayoutHistory")["versions"][1]["status"] == "Draining"  # data not synced yet
    res = g.ok("ClusterLayoutSkipDeadNodes", body={"version": 2, "allowMissingData": True})
    assert res == {"ackUpdated": [], "syncUpdated": [c]}
    hist = g.ok("GetClusterLayoutHistory")
    assert hist["updateTrackers"] is None and hist["versions"][1]["status"] == "Historical"
    assert g.ok("GetClusterHealth")["status"] == "healthy"  # c has no role any more


def test_draining_ends_when_the_node_comes_back(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(nodes=3, web=False)
    g.set_node_up(g.node_ids[1], False)
    lay = g.ok(
        "UpdateClusterLayout",
        body={"roles": [{"id": g.node_ids[0], "zone": "dc1", "capacity": 5 * 10**12, "tags": []}]},
    )
    g.ok("ApplyClusterLayout", body={"version": lay["version"] + 1})
    assert g.ok("GetClusterLayoutHistory")["versions"][1]["status"] == "Draining"
    assert g.ok("GetClusterHealth")["status"] == "degraded"
    g.set_node_up(g.node_ids[1], True)
    hist = g.ok("GetClusterLayoutHistory")
    assert hist["versions"][1]["status"] == "Historical" and hist["updateTrackers"] is None
    assert g.ok("GetClusterHealth")["status"] == "healthy"


def test_accept_any_peer(garage_factory: t.Callable[..., GarageCluster]) -> None:
    g = garage_factory(nodes=1, layout=False, web=False, extra_args=["--accept-any-peer"])
    peer = secrets.token_hex(32)
    assert g.ok("ConnectClusterNodes", body=[f"{peer}@10.0.0.2:3901"]) == [{"success": True, "error": None}]
    nodes = {n["id"]: n for n in g.ok("GetClusterStatus")["nodes"]}
    assert nodes[peer]["isUp"] is True and nodes[peer]["addr"] == "10.0.0.2:3901"
    st, body = g.admin("ConnectClusterNodes", body=["x", 3], token=None)
    assert st == 400 and "Invalid JSON" in body["message"]  # body type checked before auth
