# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Real Garage clusters on loopback: the test fixtures, the demo and the benchmarks use this.

Each node is one ``garage server`` process of the binary ``scripts/garage-bin`` provides, with
its own directory, ports, hostname (a UTS namespace of its own: ``node1``, ``node2``, …) and an
operator-style ``garage.toml``: ``rpc_secret_file`` and ``admin_token_file`` at 0600, a
``metrics_token``, ``s3_region = "garage"``, ``[s3_web]``. Nodes are connected and laid out
through the Admin API, like an operator's tooling does.

As a command (``scripts/garage-cluster``)::

    garage-cluster start  --dir DIR [--nodes 3] [--port-base 3900] [--layout]
    garage-cluster stop   --dir DIR
    garage-cluster status --dir DIR

``start`` leaves the nodes running in the background (their pids and ports are in
``DIR/cluster.json``) and is idempotent: a second ``start`` reuses running nodes and restarts
stopped ones with their data. With ``--port-base B`` node *i* (from 0) listens on S3 ``B+10i``,
RPC ``B+10i+1``, web ``B+10i+2`` and admin ``B+10i+3`` (3900…3923 by default); without it,
on free ports. The admin token is in ``DIR/secrets/admin_token`` (0600) and never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GARAGE_BIN_SCRIPT = REPO / "scripts" / "garage-bin"
STARTUP_TIMEOUT = 30.0
HEALTH_TIMEOUT = 60.0
REGION = "garage"
ZONES = ("dc1", "dc2", "dc3")

#: Admin API v2 endpoints answered to GET; every other ``/v2/`` endpoint is POST.
GET_ENDPOINTS = frozenset(
    {
        "GetClusterStatus", "GetClusterHealth", "GetClusterStatistics", "ListAdminTokens",
        "GetAdminTokenInfo", "GetCurrentAdminTokenInfo", "GetClusterLayout", "GetClusterLayoutHistory",
        "ListKeys", "GetKeyInfo", "ListBuckets", "GetBucketInfo", "InspectObject", "GetNodeInfo",
        "GetNodeStatistics", "ListBlockErrors",
    }
)  # fmt: skip

_UNSET: t.Any = object()
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ClusterError(RuntimeError):
    pass


# ---------------------------------------------------------------- the binary


def garage_binary() -> str:
    """Path of the Garage binary (``scripts/garage-bin`` builds the pinned release on first use)."""
    p = subprocess.run([str(GARAGE_BIN_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False, timeout=3600)
    if p.returncode != 0 or not p.stdout.strip():
        raise ClusterError(f"scripts/garage-bin could not provide a Garage binary (exit {p.returncode})")
    return p.stdout.strip().splitlines()[-1]


def garage_version(binary: str) -> str:
    """``v2.4.1``: the word after ``garage`` in ``garage --version``."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True)
    words = out.stdout.split()
    return words[1] if len(words) > 1 else out.stdout.strip()


def version_tuple(version: str) -> tuple[int, ...]:
    digits = version.lstrip("v").split("-", 1)[0].split("+", 1)[0]
    return tuple(int(x) for x in digits.split(".") if x.isdigit())


# ---------------------------------------------------------------- HTTP


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> t.Any:
        return json.loads(self.body)


def default_method(endpoint: str) -> str:
    if endpoint.startswith("/"):
        return "GET"
    return "GET" if endpoint in GET_ENDPOINTS else "POST"


def http_admin(
    base_url: str,
    token: str | None,
    endpoint: str,
    *,
    method: str | None = None,
    query: t.Mapping[str, t.Any] | str | None = None,
    body: t.Any = _UNSET,
    headers: t.Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> RawResponse:
    """One Admin API request: ``endpoint`` is a name (``ListBuckets``) or a raw path (``/health``).

    ``body`` unset sends none; bytes/str are sent as is; anything else is JSON-encoded.
    """
    path = endpoint if endpoint.startswith("/") else f"/v2/{endpoint}"
    url = base_url.rstrip("/") + path
    if query:
        if not isinstance(query, str):
            query = urllib.parse.urlencode(
                {k: ("true" if v is True else "false" if v is False else v) for k, v in query.items()}
            )
        url += "?" + query
    data: bytes | None
    if body is _UNSET:
        data = None
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode("utf-8")
    req = urllib.request.Request(url, data=data, method=method or default_method(endpoint))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with _NO_PROXY.open(req, timeout=timeout) as r:
            return RawResponse(r.status, dict(r.headers.items()), r.read())
    except urllib.error.HTTPError as e:
        with e:
            return RawResponse(e.code, dict(e.headers.items()), e.read())


def admin_json(base_url: str, token: str | None, endpoint: str, **kw: t.Any) -> t.Any:
    """``http_admin`` that requires HTTP 200 and returns the parsed body."""
    r = http_admin(base_url, token, endpoint, **kw)
    if r.status != 200:
        raise ClusterError(f"{endpoint} -> {r.status}: {r.body[:500]!r}")
    return r.json()


# ---------------------------------------------------------------- one node

GARAGE_TOML = """\
# cellar.garage local node {index} ({name}); written like an operator's config.
metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "lmdb"
replication_factor = {rf}
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret_file = "{secrets}/rpc_secret"

[s3_api]
s3_region = "{region}"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".s3.garage.localhost"

[s3_web]
bind_addr = "127.0.0.1:{web}"
root_domain = ".web.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:{admin}"
admin_token_file = "{secrets}/admin_token"
metrics_token_file = "{secrets}/metrics_token"
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_secret(path: Path, value: str) -> None:
    """A secret file at 0600 from the first byte (Garage refuses group/world-readable ones)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    path.chmod(0o600)


def tail(path: str | Path, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode("utf-8", "replace")
    except OSError:
        return "<no log>"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


@dataclasses.dataclass(eq=False)
class GarageNode:
    """One ``garage server`` process: its directory, config, ports and process.

    ``detached`` nodes outlive the Python process that started them (the demo); the others
    get SIGKILL should it die (``setpriv --pdeathsig``), so a crashed test run leaves nothing.
    """

    index: int
    dir: Path
    binary: str
    token: str
    ports: dict[str, int]
    detached: bool = False
    pid: int | None = None
    node_id: str = ""
    proc: subprocess.Popen[bytes] | None = dataclasses.field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.dir / "garage.toml"

    @property
    def log(self) -> Path:
        return self.dir / "garage.log"

    @property
    def hostname(self) -> str:
        return f"node{self.index}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['admin']}"

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    @property
    def rpc_addr(self) -> str:
        return f"127.0.0.1:{self.ports['rpc']}"

    @property
    def peer(self) -> str:
        """``<node id>@127.0.0.1:<rpc port>``, what ConnectClusterNodes takes."""
        return f"{self.node_id}@{self.rpc_addr}"

    @property
    def running(self) -> bool:
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def write_config(self, *, rf: int, secrets_dir: Path, cluster: str) -> None:
        self.config.write_text(
            GARAGE_TOML.format(
                index=self.index, name=cluster, dir=self.dir, rf=rf, secrets=secrets_dir, region=REGION, **self.ports
            )
        )
        self.config.chmod(0o600)

    def start(self) -> None:
        """Start the process (again): the node keeps its id and data across restarts."""
        if self.running:
            return
        # Garage reads GARAGE_ADMIN_TOKEN, GARAGE_RPC_SECRET, ... from its environment and lets
        # them override the config: a node's environment carries none of the caller's.
        env = {k: v for k, v in os.environ.items() if not k.startswith("GARAGE_")}
        env.update(RUST_LOG=os.environ.get("GARAGE_TEST_RUST_LOG", "garage=info"), RUST_BACKTRACE="1")
        # Own UTS namespace: each node reports its own hostname, as nodes on separate machines do.
        argv = ["unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', self.hostname,
                self.binary, "-c", str(self.config), "server"]  # fmt: skip
        if not self.detached:
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        logf = open(self.log, "ab")
        try:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        finally:
            logf.close()
        self.pid = self.proc.pid

    def wait_admin(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Until the Admin API answers (or the process dies: its log tail is in the error)."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.running:
                raise ClusterError(f"garage node {self.index} exited:\n{tail(self.log)}")
            with contextlib.suppress(OSError):
                r = http_admin(self.admin_url, self.token, "GetNodeInfo", query={"node": "self"}, timeout=5)
                if r.status == 200:
                    self.node_id = next(iter(r.json()["success"]))
                    return
            if time.monotonic() > deadline:
                raise ClusterError(f"garage node {self.index} did not answer in {timeout}s:\n{tail(self.log)}")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the node's process group, SIGKILL after ``timeout``."""
        if self.pid is None:
            return
        pgid = self.pid
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while self.running and time.monotonic() < deadline:
                if self.proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        self.proc.wait(timeout=0.1)
                else:
                    time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)


# ---------------------------------------------------------------- the cluster


class LocalCluster:
    """``nodes`` real Garage processes under ``workdir`` (see the module doc)."""

    def __init__(
        self,
        workdir: Path,
        *,
        nodes: int = 3,
        replication_factor: int | None = None,
        binary: str | None = None,
        port_base: int | None = None,
        detached: bool = False,
    ) -> None:
        self.workdir = workdir
        self.rf = replication_factor if replication_factor is not None else (1 if nodes == 1 else 3)
        self.binary = binary or garage_binary()
        self.version = garage_version(self.binary)
        self.port_base = port_base
        self.secrets_dir = workdir / "secrets"
        workdir.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.mkdir(mode=0o700, exist_ok=True)
        for name, make in (
            ("rpc_secret", lambda: secrets.token_hex(32)),
            ("admin_token", lambda: secrets.token_hex(32)),
            ("metrics_token", lambda: secrets.token_hex(16)),
        ):
            if not (self.secrets_dir / name).exists():
                write_secret(self.secrets_dir / name, make())
        self.token = (self.secrets_dir / "admin_token").read_text().strip()
        self.metrics_token = (self.secrets_dir / "metrics_token").read_text().strip()
        self.nodes: list[GarageNode] = []
        for i in range(nodes):
            d = workdir / f"node{i + 1}"
            (d / "meta").mkdir(parents=True, exist_ok=True)
            (d / "data").mkdir(parents=True, exist_ok=True)
            self.nodes.append(GarageNode(i + 1, d, self.binary, self.token, {}, detached=detached))

    @property
    def state_file(self) -> Path:
        return self.workdir / "cluster.json"

    # ------------------------------------------------------------ lifecycle

    def _ports_for(self, node: GarageNode) -> dict[str, int]:
        if self.port_base is None:
            return {k: free_port() for k in ("s3", "rpc", "web", "admin")}
        base = self.port_base + 10 * (node.index - 1)
        return {"s3": base, "rpc": base + 1, "web": base + 2, "admin": base + 3}

    def launch(self, node: GarageNode) -> None:
        """Start a node on its ports (fresh free ports when one was taken under our feet)."""
        attempts = 1 if (self.port_base is not None or node.ports) else 4
        for attempt in range(attempts):
            if not node.ports or attempt:
                node.ports = self._ports_for(node)
            node.write_config(rf=self.rf, secrets_dir=self.secrets_dir, cluster=self.workdir.name)
            node.start()
            try:
                node.wait_admin()
                return
            except ClusterError:
                node.stop()
                if attempt == attempts - 1 or "in use" not in tail(node.log, 2000):
                    raise

    def start(self) -> None:
        try:
            for n in self.nodes:
                self.launch(n)
        except BaseException:
            self.stop()
            raise
        self.save()

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()

    def save(self) -> None:
        state = {
            "version": self.version,
            "binary": self.binary,
            "replication_factor": self.rf,
            "nodes": [{"index": n.index, "pid": n.pid, "ports": n.ports, "node_id": n.node_id} for n in self.nodes],
        }
        self.state_file.write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, workdir: Path) -> LocalCluster:
        """The cluster a ``start`` left in ``workdir`` (its nodes may or may not be running)."""
        state = json.loads((workdir / "cluster.json").read_text())
        c = cls(workdir, nodes=len(state["nodes"]), replication_factor=state["replication_factor"],
                binary=state["binary"], detached=True)  # fmt: skip
        for n, saved in zip(c.nodes, state["nodes"]):
            n.ports = {k: int(v) for k, v in saved["ports"].items()}
            n.pid = saved["pid"]
            n.node_id = saved["node_id"]
        return c

    # ------------------------------------------------------------ admin

    def admin(self, endpoint: str, node: int = 0, **kw: t.Any) -> t.Any:
        return admin_json(self.nodes[node].admin_url, self.token, endpoint, **kw)

    def wait_peers_up(self, timeout: float = HEALTH_TIMEOUT, *, hostnames: bool = False) -> None:
        """Until every running node sees every running node as up (``hostnames``: and knows its hostname).

        A node learns a peer's hostname (and version) from the peer's status broadcast, which
        Garage sends every 10 s: right after a connection, GetClusterStatus lists the peer with
        ``hostname: null``. Tooling that names nodes by hostname has to wait for it (up to 10 s).
        """
        running = [i for i, n in enumerate(self.nodes) if n.running]
        want = {self.nodes[i].node_id for i in running}
        deadline = time.monotonic() + timeout
        last: t.Any = None
        while True:
            ok = True
            for i in running:
                last = self.admin("GetClusterStatus", node=i)
                known = {x["id"] for x in last["nodes"] if x["isUp"] and (x.get("hostname") or not hostnames)}
                if not want <= known:
                    ok = False
                    break
            if ok:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"nodes not all connected after {timeout}s: {last}")
            time.sleep(0.1)

    def connect_all(self, *, hostnames: bool = False) -> None:
        """Connect node 1 to every other node (Garage gossips the rest) and wait for it
        (``hostnames``: also until every node knows every peer's hostname, see wait_peers_up)."""
        peers = [n.peer for n in self.nodes[1:]]
        if peers:
            res = self.admin("ConnectClusterNodes", body=peers)
            if not all(r["success"] for r in res):
                raise ClusterError(f"ConnectClusterNodes failed: {res}")
        self.wait_peers_up(hostnames=hostnames)

    def apply_layout(self, zones: t.Sequence[str] = ZONES, capacity: int = 10**12) -> None:
        """Assign every node (round-robin over ``zones``) and apply the next layout version."""
        roles = [
            {"id": n.node_id, "zone": zones[i % len(zones)], "capacity": capacity, "tags": []}
            for i, n in enumerate(self.nodes)
        ]
        lay = self.admin("UpdateClusterLayout", body={"roles": roles})
        self.admin("ApplyClusterLayout", body={"version": lay["version"] + 1})

    def wait_healthy(self, timeout: float = HEALTH_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last: t.Any = None
        while True:
            r = http_admin(self.nodes[0].admin_url, self.token, "GetClusterHealth")
            last = r.body
            if r.status == 200 and r.json().get("status") == "healthy":
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"cluster not healthy after {timeout}s: {last!r}")
            time.sleep(0.1)


# ---------------------------------------------------------------- command line


def _cmd_start(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    started = time.monotonic()
    if (workdir / "cluster.json").exists():
        cluster = LocalCluster.load(workdir)
        down = [n for n in cluster.nodes if not n.running]
        for n in down:
            cluster.launch(n)
        cluster.save()
        running = len(cluster.nodes) - len(down)
        print(f"garage-cluster: {running} node(s) running, {len(down)} restarted", file=sys.stderr)
    else:
        cluster = LocalCluster(workdir, nodes=args.nodes, port_base=args.port_base, detached=True)
        cluster.start()
        print(f"garage-cluster: started {len(cluster.nodes)} {cluster.version} node(s)", file=sys.stderr)
    cluster.connect_all(hostnames=True)  # the demo's layout play names nodes by hostname
    if args.layout and not cluster.admin("GetClusterLayout")["roles"]:
        cluster.apply_layout()
    if args.layout:
        cluster.wait_healthy()
    print(f"garage-cluster: ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
    _print_status(cluster)
    return 0


def _print_status(cluster: LocalCluster) -> None:
    for n in cluster.nodes:
        state = "running" if n.running else "stopped"
        print(f"  {n.hostname}: {state:<8} admin {n.admin_url}  s3 {n.s3_url}  web {n.web_url}  rpc {n.rpc_addr}")


def _cmd_stop(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    if not (workdir / "cluster.json").exists():
        print(f"garage-cluster: no cluster in {workdir}", file=sys.stderr)
        return 0
    cluster = LocalCluster.load(workdir)
    running = [n for n in cluster.nodes if n.running]
    cluster.stop()
    print(f"garage-cluster: stopped {len(running)} node(s); data kept in {workdir}", file=sys.stderr)
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).resolve()
    if not (workdir / "cluster.json").exists():
        print(f"garage-cluster: no cluster in {workdir}", file=sys.stderr)
        return 3
    cluster = LocalCluster.load(workdir)
    _print_status(cluster)
    return 0 if all(n.running for n in cluster.nodes) else 3


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="garage-cluster", description=__doc__.split("\n\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("start", help="start (or restart) a local cluster in the background")
    p.add_argument("--dir", required=True)
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--port-base", type=int, default=None)
    p.add_argument("--layout", action="store_true", help="apply a layout (dc1..dc3) when there is none")
    p.set_defaults(func=_cmd_start)
    for name, func in (("stop", _cmd_stop), ("status", _cmd_status)):
        p = sub.add_parser(name)
        p.add_argument("--dir", required=True)
        p.set_defaults(func=func)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ClusterError as exc:
        print(f"garage-cluster: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
