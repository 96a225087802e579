"""Command line, HTTP servers and process lifecycle of the Garage stand-in.

Two ways to start it:

* test mode: ``garage-standin --admin 127.0.0.1:0 --s3 127.0.0.1:0 --admin-token T
  [--nodes 3] [--ready-file F] ...`` (several simulated nodes, ports may be 0);
* Garage mode: ``garage-standin -c /etc/garage.toml server`` reads a Garage 2.x
  config (one node, id persisted in ``metadata_dir/node_key.pub``, metadata
  persisted in ``metadata_dir/standin-state.json``). ``node id [-q]`` prints the
  node id like ``garage node id``.

Every server binds loopback only. Standard library only.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import http.server
import ipaddress
import json
import logging
import os
import secrets
import signal
import socket
import ssl
import stat
import sys
import threading
import typing as t

from . import GARAGE_VERSION, admin, control, persist
from .state import Node, Store

log = logging.getLogger("garage_standin")

MAX_BODY = 16 * 1024 * 1024
MAX_CHUNKS = 100_000


class StartupError(Exception):
    pass


# ------------------------------------------------------------------- config


@dataclasses.dataclass
class StandinConfig:
    admin_addr: str | None = "127.0.0.1:3903"
    s3_addr: str | None = "127.0.0.1:3900"
    web_addr: str | None = None
    admin_token: str | None = None
    metrics_token: str | None = None
    metrics_require_token: bool = False
    nodes: int = 3
    seed: str = "standin"
    region: str = "garage"
    data_dir: str | None = None
    metadata_dir: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    allow_faults: bool = False
    replication_factor: int = 3
    connected: str = "all"
    ready_file: str | None = None
    s3_root_domain: str | None = None
    web_root_domain: str | None = None
    allow_punycode: bool = False
    self_node_id: str | None = None  # fixed id of node 1 (config mode)
    rpc_port: int = 3901
    accept_any_peer: bool = False


def node_ids(seed: str, n: int, first: str | None = None) -> list[str]:
    ids = [hashlib.sha256(f"{seed}:node:{i}".encode()).hexdigest() for i in range(1, n + 1)]
    if first is not None and ids:
        ids[0] = first
    return ids


def split_hostport(addr: str) -> tuple[str, int]:
    addr = addr.strip()
    if addr.startswith("["):
        host, _sep, rest = addr[1:].partition("]")
        port = rest.lstrip(":")
    else:
        host, _sep, port = addr.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise StartupError(f"invalid bind address: {addr!r} (expected host:port)")
    return host, int(port)


def loopback_host(host: str) -> str:
    """Servers bind loopback only: wildcard or other addresses become loopback."""
    if host in ("localhost", "127.0.0.1", "::1"):
        return host
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        log.warning("binding %s on loopback instead (the stand-in binds loopback only)", host)
        return "127.0.0.1"
    if ip.is_loopback:
        return host
    loop = "::1" if ip.version == 6 else "127.0.0.1"
    log.warning("binding %s on %s instead (the stand-in binds loopback only)", host, loop)
    return loop


def _read_secret_file(path: str, allow_world_readable: bool, what: str) -> str:
    try:
        st = os.stat(path)
    except OSError as e:
        raise StartupError(f"Unable to read {what} file {path}: {e.strerror}") from None
    if not allow_world_readable and stat.S_IMODE(st.st_mode) & 0o077:
        raise StartupError(
            f"File {path} is world-readable! (mode: 0{stat.S_IMODE(st.st_mode):o}, expected 0600)\n"
            "Refusing to start until this is fixed, or environment variable "
            "GARAGE_ALLOW_WORLD_READABLE_SECRETS is set to true."
        )
    with open(path, encoding="utf-8") as f:
        return f.read().rstrip()


def _secret(conf: dict[str, t.Any], name: str, env: t.Mapping[str, str], allow_world_readable: bool) -> str | None:
    """Garage's secret resolution: env (value or file) overrides config (value or file)."""
    ev, ef = env.get(f"GARAGE_{name.upper()}"), env.get(f"GARAGE_{name.upper()}_FILE")
    if ev and ef:
        raise StartupError(f"only one of GARAGE_{name.upper()} and GARAGE_{name.upper()}_FILE can be set")
    if ev:
        return ev.strip()
    if ef:
        return _read_secret_file(ef, allow_world_readable, name)
    cv, cf = conf.get(name), conf.get(f"{name}_file")
    if cv is not None and cf is not None:
        raise StartupError(f"only one of `{name}` and `{name}_file` can be set")
    if cv is not None:
        return str(cv).strip()
    if cf is not None:
        return _read_secret_file(str(cf), allow_world_readable, name)
    return None


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


def load_garage_config(path: str, env: t.Mapping[str, str]) -> StandinConfig:
    import tomllib

    try:
        with open(path, "rb") as f:
            conf = tomllib.load(f)
    except OSError as e:
        raise StartupError(f"Unable to read config file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise StartupError(f"Unable to parse config file {path}: {e}") from None
    if "replication_mode" in conf:
        raise StartupError(
            "The legacy replication_mode is no longer supported, use replication_factor and consistency_mode."
        )
    if "replication_factor" not in conf:
        raise StartupError("The option replication_factor is required.")
    for k in ("metadata_dir", "data_dir"):
        if k not in conf:
            raise StartupError(f"missing field `{k}`")
    allow_wr = bool(conf.get("allow_world_readable_secrets", False)) or _truthy(
        env.get("GARAGE_ALLOW_WORLD_READABLE_SECRETS")
    )
    rpc_secret = _secret(conf, "rpc_secret", env, allow_wr)
    if rpc_secret is None:
        raise StartupError("one of `rpc_secret` or `rpc_secret_file` must be set")
    adm = conf.get("admin", {}) or {}
    s3 = conf.get("s3_api", {}) or {}
    web = conf.get("s3_web", {}) or {}
    extra = conf.get("standin", {}) or {}
    data_dir = conf["data_dir"]
    if isinstance(data_dir, list):
        data_dir = next((d["path"] for d in data_dir if not d.get("read_only")), data_dir[0]["path"])
    rpc_port = 3901
    try:
        rpc_port = split_hostport(str(conf.get("rpc_bind_addr", "127.0.0.1:3901")))[1]
    except StartupError:
        pass
    return StandinConfig(
        admin_addr=adm.get("api_bind_addr"),
        s3_addr=s3.get("api_bind_addr"),
        web_addr=web.get("bind_addr"),
        admin_token=_secret(adm, "admin_token", env, allow_wr),
        metrics_token=_secret(adm, "metrics_token", env, allow_wr),
        metrics_require_token=bool(adm.get("metrics_require_token", False)),
        nodes=int(extra.get("nodes", 1)),
        seed=str(extra.get("seed", "standin")),
        region=str(s3.get("s3_region", "garage")),
        data_dir=str(data_dir),
        metadata_dir=str(conf["metadata_dir"]),
        allow_faults=bool(extra.get("allow_faults", False)),
        replication_factor=int(conf["replication_factor"]),
        connected=str(extra.get("connected", "all")),
        ready_file=extra.get("ready_file"),
        s3_root_domain=s3.get("root_domain"),
        web_root_domain=web.get("root_domain"),
        allow_punycode=bool(conf.get("allow_punycode", False)),
        rpc_port=rpc_port,
        accept_any_peer=bool(extra.get("accept_any_peer", False)),
    )


def node_key_id(metadata_dir: str) -> str:
    """Read or create ``metadata_dir/node_key.pub`` (32 raw bytes, like Garage)."""
    os.makedirs(metadata_dir, exist_ok=True)
    pub = os.path.join(metadata_dir, "node_key.pub")
    if os.path.exists(pub):
        with open(pub, "rb") as f:
            raw = f.read()
        if len(raw) == 32:
            return raw.hex()
        raise StartupError(f"invalid node key file {pub}")
    raw = secrets.token_bytes(32)
    persist.write_atomic(pub, raw, 0o644)
    persist.write_atomic(os.path.join(metadata_dir, "node_key"), secrets.token_bytes(64), 0o600)
    return raw.hex()


# ------------------------------------------------------------------ HTTP layer


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        host = addr[0]
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(addr, handler)

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class AdminHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "garage-standin"
    sys_version = ""
    timeout = 30

    def version_string(self) -> str:
        return self.server_version

    @property
    def api(self) -> admin.AdminApi:
        return t.cast(admin.AdminApi, self.server.admin_api)  # type: ignore[attr-defined]

    # logging: method and path only (no query string, no headers, no body)
    def log_message(self, format: str, *args: t.Any) -> None:
        return

    def log_request(self, code: t.Any = "-", size: t.Any = "-") -> None:
        if log.isEnabledFor(logging.DEBUG):
            path = (getattr(self, "path", "") or "").split("?", 1)[0]
            log.debug("admin %s %s -> %s", getattr(self, "command", "?"), path[:200], code)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (bad request line, huge headers...) in Garage's JSON shape."""
        status = code if 400 <= code < 500 else 400
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # always answer with a status line and headers
        path = (getattr(self, "path", "") or "").split("?", 1)[0] or "/"
        msg = f"Bad request: {message or 'invalid HTTP request'}"
        region = self.api.store.region
        body = admin.json_bytes({"code": "InvalidRequest", "message": msg, "region": region, "path": path})
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok and self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 is not supported")
            return False
        return ok

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = ""
                self.request_version = ""
                self.command = ""
                self.send_error(414, "request line too long")
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._dispatch()
            self.wfile.flush()
        except TimeoutError:
            self.close_connection = True
        except (ConnectionError, ssl.SSLError):
            self.close_connection = True

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering an error."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            for _chunk in range(MAX_CHUNKS):
                line = self.rfile.readline(1024).strip()
                try:
                    size = int(line.split(b";", 1)[0], 16)
                except ValueError:
                    self.send_error(400, "invalid chunked encoding")
                    return None
                if size < 0 or len(out) + size > MAX_BODY:
                    self.send_error(400, "request body too large")
                    return None
                if size == 0:
                    for _trailer in range(100):  # trailers
                        if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                            break
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline(8)
            self.send_error(400, "too many chunks")
            return None
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b""
        try:
            n = int(cl.strip())
        except ValueError:
            self.send_error(400, "invalid Content-Length")
            return None
        if n < 0:
            self.send_error(400, "invalid Content-Length")
            return None
        if n > MAX_BODY:
            self.send_error(400, "request body too large")
            return None
        data = self.rfile.read(n)
        if len(data) < n:
            self.close_connection = True
        return data

    def _dispatch(self) -> None:
        body = self._read_body()
        if body is None:
            return
        headers = dict(self.headers.items())
        # a repeated Authorization header keeps the first value
        auth_vals = self.headers.get_all("Authorization") or []
        if auth_vals:
            headers["Authorization"] = auth_vals[0]
        else:
            headers.pop("Authorization", None)
        try:
            resp = self.api.handle(self.command, self.path, headers, body)
        except Exception:
            log.exception("internal error while handling %s", self.command)
            err = admin.internal("unexpected error in the stand-in")
            resp = admin.error_response(err, self.path.split("?", 1)[0], self.api.store.region)
        self.send_response(resp.status)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        for k, v in resp.headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)


# ------------------------------------------------------------------ the process


class Standin:
    """A running stand-in: store, API, HTTP servers."""

    def __init__(self, cfg: StandinConfig) -> None:
        self.cfg = cfg
        self.store = Store(region=cfg.region, replication_factor=cfg.replication_factor, data_dir=cfg.data_dir)
        self.store.allow_punycode = cfg.allow_punycode
        self.store.s3_root_domain = cfg.s3_root_domain
        self.store.web_root_domain = cfg.web_root_domain
        ids = node_ids(cfg.seed, max(cfg.nodes, 1), cfg.self_node_id)
        for i, nid in enumerate(ids, start=1):
            connected = cfg.connected == "all" or i == 1
            self.store.nodes[nid] = Node(
                id=nid,
                hostname=f"node{i}",
                addr=f"127.0.0.1:{cfg.rpc_port + (i - 1) * 10}",
                is_up=connected,
                known=connected,
            )
        self.node_ids = ids
        self.control = control.Control()
        self.api = admin.AdminApi(
            self.store,
            admin.AdminConfig(
                admin_token=cfg.admin_token,
                metrics_token=cfg.metrics_token,
                metrics_require_token=cfg.metrics_require_token,
                allow_faults=cfg.allow_faults,
                self_node=ids[0],
                accept_any_peer=cfg.accept_any_peer,
            ),
            self.control,
        )
        self.store.control = self.control  # type: ignore[attr-defined]  # for the S3 front end (faults)
        self.persister: persist.Persister | None = None
        if cfg.metadata_dir:
            self.persister = persist.Persister(self.store, cfg.metadata_dir)
        self.servers: dict[str, http.server.HTTPServer] = {}
        self.threads: list[threading.Thread] = []

    def _make(self, name: str, addr: str, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        host, port = split_hostport(addr)
        host = loopback_host(host)
        try:
            srv = QuietServer((host, port), handler)
        except OSError as e:
            raise StartupError(f"cannot bind the {name} API on {host}:{port}: {e.strerror}") from None
        srv.store = self.store  # type: ignore[attr-defined]
        srv.standin_config = self.cfg  # type: ignore[attr-defined]
        srv.admin_api = self.api  # type: ignore[attr-defined]
        srv.control = self.control  # type: ignore[attr-defined]
        if name == "s3" and self.cfg.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.cfg.tls_cert, self.cfg.tls_key)
            srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
        self.servers[name] = srv

    def start(self) -> None:
        if self.persister is not None:
            try:
                self.persister.load()
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise StartupError(f"cannot load {self.persister.path}: {e}") from None
            self.store.on_change = self.persister.notify
            self.api.on_mutation = self.persister.flush
            self.persister.start()
        if self.cfg.admin_addr:
            self._make("admin", self.cfg.admin_addr, AdminHandler)
        if self.cfg.s3_addr:
            try:
                from .s3 import S3Handler
            except ImportError as e:
                log.warning("S3 front end not available (%s); not serving S3", e)
            else:
                self._make("s3", self.cfg.s3_addr, S3Handler)
        if self.cfg.web_addr:
            try:
                from .web import WebHandler
            except ImportError as e:
                log.warning("web front end not available (%s); not serving websites", e)
            else:
                self._make("web", self.cfg.web_addr, WebHandler)
        for name, srv in self.servers.items():
            th = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, name=f"standin-{name}")
            th.daemon = True
            th.start()
            self.threads.append(th)

    def bound(self, name: str) -> str | None:
        srv = self.servers.get(name)
        if srv is None:
            return None
        host = str(srv.server_address[0])
        port = int(srv.server_address[1])
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def ready_info(self) -> dict[str, t.Any]:
        return {
            "admin": self.bound("admin"),
            "s3": self.bound("s3"),
            "web": self.bound("web"),
            "pid": os.getpid(),
            "node_ids": list(self.node_ids),
            "region": self.store.region,
            "tls": bool(self.cfg.tls_cert),
            "version": GARAGE_VERSION,
        }

    def stop(self) -> None:
        for srv in self.servers.values():
            srv.shutdown()
        for srv in self.servers.values():
            srv.server_close()
        for th in self.threads:
            th.join(timeout=5)
        if self.persister is not None:
            self.persister.stop()


# -------------------------------------------------------------------- the CLI


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="garage-standin",
        description="Garage stand-in (test infrastructure): Admin API v2 + S3 with Garage's semantics.",
    )
    p.add_argument("-c", "--config", help="Garage config file (Garage mode); default $GARAGE_CONFIG_FILE")
    p.add_argument("command", nargs="*", help="Garage mode: `server` or `node id`")
    p.add_argument("--admin", default="127.0.0.1:3903", help="admin API bind address (port 0: any free port)")
    p.add_argument("--s3", default="127.0.0.1:3900", help="S3 API bind address")
    p.add_argument("--web", default=None, help="website endpoint bind address")
    p.add_argument("--admin-token", default=None, help="static admin token (default: $GARAGE_ADMIN_TOKEN)")
    p.add_argument("--metrics-token", default=None)
    p.add_argument("--metrics-require-token", action="store_true")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--seed", default="standin", help="seed of the deterministic node ids")
    p.add_argument("--region", default="garage")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--metadata-dir", default=None, help="persist metadata there (optional in test mode)")
    p.add_argument("--tls-cert", default=None)
    p.add_argument("--tls-key", default=None)
    p.add_argument("--allow-faults", action="store_true", help="enable the /__standin/ control plane")
    p.add_argument("--replication-factor", type=int, default=3)
    p.add_argument("--connected", choices=("all", "self"), default="all")
    p.add_argument(
        "--accept-any-peer",
        action="store_true",
        help="ConnectClusterNodes to an unknown well-formed <id>@<host:port> adds it as a connected node",
    )
    p.add_argument("--s3-root-domain", default=None)
    p.add_argument("--web-root-domain", default=None)
    p.add_argument("--ready-file", default=None, help="write {admin, s3, web, pid, node_ids} there once listening")
    p.add_argument("-q", "--quiet", action="store_true", help="`node id -q`: print only the id line")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging (never logs secrets)")
    return p


def _cli_config(a: argparse.Namespace) -> StandinConfig:
    if a.nodes < 1 or a.nodes > 300:
        raise StartupError("--nodes must be between 1 and 300")
    if a.replication_factor < 1:
        raise StartupError("--replication-factor must be at least 1")
    if bool(a.tls_cert) != bool(a.tls_key):
        raise StartupError("--tls-cert and --tls-key go together")
    token = a.admin_token if a.admin_token is not None else os.environ.get("GARAGE_ADMIN_TOKEN")
    return StandinConfig(
        admin_addr=a.admin,
        s3_addr=a.s3 or None,
        web_addr=a.web,
        admin_token=token,
        metrics_token=a.metrics_token,
        metrics_require_token=a.metrics_require_token,
        nodes=a.nodes,
        seed=a.seed,
        region=a.region,
        data_dir=a.data_dir,
        metadata_dir=a.metadata_dir,
        tls_cert=a.tls_cert,
        tls_key=a.tls_key,
        allow_faults=a.allow_faults,
        replication_factor=a.replication_factor,
        connected=a.connected,
        ready_file=a.ready_file,
        s3_root_domain=a.s3_root_domain,
        web_root_domain=a.web_root_domain,
        accept_any_peer=a.accept_any_peer,
    )


def run(cfg: StandinConfig) -> int:
    sa = Standin(cfg)
    stop = threading.Event()

    def on_signal(signum: int, frame: t.Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sa.start()
    info = sa.ready_info()
    if cfg.ready_file:
        persist.write_atomic(cfg.ready_file, json.dumps(info).encode("utf-8"), 0o644)
    log.info(
        "garage-standin ready: admin=%s s3=%s web=%s nodes=%d", info["admin"], info["s3"], info["web"], len(sa.node_ids)
    )
    while not stop.is_set():
        stop.wait(0.05)
    log.info("garage-standin stopping")
    sa.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config_path = args.config or (os.environ.get("GARAGE_CONFIG_FILE") if args.command else None)
        if args.command or args.config:
            config_path = config_path or "/etc/garage.toml"
            cfg = load_garage_config(config_path, os.environ)
            if cfg.metadata_dir:
                cfg.self_node_id = node_key_id(cfg.metadata_dir)
            cmd = args.command or ["server"]
            if cmd == ["node", "id"]:
                line = f"{cfg.self_node_id}@127.0.0.1:{cfg.rpc_port}"
                print(line)
                if not args.quiet:
                    print(
                        "\nTo instruct a node to connect to this node, run the following command on that node:\n"
                        f"    garage [-c <config file path>] node connect {line}",
                        file=sys.stderr,
                    )
                return 0
            if cmd != ["server"]:
                raise StartupError(f"unsupported command for the stand-in: {' '.join(cmd)} (use `server` or `node id`)")
            if args.allow_faults:
                cfg.allow_faults = True
            if args.ready_file:
                cfg.ready_file = args.ready_file
        else:
            cfg = _cli_config(args)
        return run(cfg)
    except StartupError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
