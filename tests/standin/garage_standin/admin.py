"""Garage Admin API v2, as served by the stand-in (garage-facts.md §1-§4).

HTTP-agnostic: :meth:`AdminApi.handle` takes (method, target, headers, body)
and returns a :class:`Response`. The processing order is Garage's: path ->
query string and JSON body -> authentication -> handler. Standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
import typing as t
import urllib.parse

from . import GARAGE_VERSION, auth, control, layout, model
from .state import AdminToken, Bucket, Key, Node, Permission, Role, Store

log = logging.getLogger("garage_standin.admin")

INVALID_BUCKET_NAME_MESSAGE = (
    "Invalid bucket name. See AWS documentation for constraints on S3 bucket names:\n"
    "https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"
)
RUST_VERSION = "1.84.0 (standin)"
DB_ENGINE = "standin (in-memory)"
GARAGE_FEATURES = ["k2v", "lmdb", "sqlite", "metrics"]
HEX_RE = re.compile(r"^[0-9a-fA-F]*$")


# ------------------------------------------------------------------ errors


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(msg: str) -> ApiError:
    return ApiError(400, "InvalidRequest", f"Bad request: {msg}")


def internal(msg: str) -> ApiError:
    return ApiError(500, "InternalError", f"Internal error: {msg}")


def forbidden(msg: str) -> ApiError:
    return ApiError(403, "AccessDenied", msg)


def no_such_bucket(name: str) -> ApiError:
    return ApiError(404, "NoSuchBucket", f"Bucket not found: {name}")


def no_such_key(key_id: str) -> ApiError:
    return ApiError(404, "NoSuchAccessKey", f"Access key not found: {key_id}")


def no_such_token(tid: str) -> ApiError:
    return ApiError(404, "NoSuchAdminToken", f"Admin token not found: {tid}")


class BadJson(Exception):
    """Body does not deserialize (serde error); becomes 400 ``Invalid JSON: ...``."""


# --------------------------------------------------------------- responses


@dataclasses.dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def json_bytes(obj: t.Any) -> bytes:
    return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8")


def ok(obj: t.Any) -> Response:
    return Response(200, json_bytes(obj), "application/json", [("Access-Control-Allow-Origin", "*")])


def error_response(e: ApiError, path: str, region: str) -> Response:
    body = {"code": e.code, "message": e.message, "region": region, "path": path}
    return Response(e.status, json_bytes(body), "application/json")


# ------------------------------------------------------- body type checking


def _desc(v: t.Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"boolean `{'true' if v else 'false'}`"
    if isinstance(v, int):
        return f"integer `{v}`"
    if isinstance(v, float):
        return f"floating point `{v}`"
    if isinstance(v, str):
        return f'string "{v[:64]}"'
    if isinstance(v, list):
        return "a sequence"
    return "a map"


def _check(v: t.Any, kind: str) -> t.Any:
    if kind == "string":
        if not isinstance(v, str):
            raise BadJson(f"invalid type: {_desc(v)}, expected a string")
    elif kind in ("u64", "usize", "i64"):
        if isinstance(v, bool) or not isinstance(v, int):
            raise BadJson(f"invalid type: {_desc(v)}, expected {kind}")
        if kind != "i64" and v < 0:
            raise BadJson(f"invalid value: integer `{v}`, expected {kind}")
        if not (-(2**63) <= v < 2**64):
            raise BadJson(f"invalid value: integer `{v}`, expected {kind}")
    elif kind == "bool":
        if not isinstance(v, bool):
            raise BadJson(f"invalid type: {_desc(v)}, expected a boolean")
    elif kind == "strings":
        if not isinstance(v, list):
            raise BadJson(f"invalid type: {_desc(v)}, expected a sequence")
        for x in v:
            _check(x, "string")
    elif kind == "map":
        if not isinstance(v, dict):
            raise BadJson(f"invalid type: {_desc(v)}, expected a map")
    elif kind == "datetime":
        if not isinstance(v, str):
            raise BadJson(f"invalid type: {_desc(v)}, expected a RFC 3339 formatted date and time string")
        try:
            return model.parse_rfc3339(v)
        except ValueError:
            raise BadJson("input contains invalid characters") from None
    return v


def req(body: dict[str, t.Any], name: str, kind: str) -> t.Any:
    """A required, non-nullable field."""
    if name not in body:
        raise BadJson(f"missing field `{name}`")
    return _check(body[name], kind)


def opt(body: dict[str, t.Any], name: str, kind: str) -> t.Any:
    """An ``Option<T>`` field: absent or null -> None."""
    v = body.get(name)
    if v is None:
        return None
    return _check(v, kind)


def dflt(body: dict[str, t.Any], name: str, kind: str, default: t.Any) -> t.Any:
    """A ``#[serde(default)]`` field: absent -> default, null is a type error."""
    if name not in body:
        return default
    return _check(body[name], kind)


def as_map(v: t.Any) -> dict[str, t.Any]:
    if not isinstance(v, dict):
        raise BadJson(f"invalid type: {_desc(v)}, expected a map")
    return v


def parse_perm(v: t.Any) -> Permission:
    m = as_map(v)
    return Permission(dflt(m, "read", "bool", False), dflt(m, "write", "bool", False), dflt(m, "owner", "bool", False))


def parse_key_update(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    out: dict[str, t.Any] = {
        "name": opt(m, "name", "string"),
        "expiration": opt(m, "expiration", "datetime"),
        "neverExpires": dflt(m, "neverExpires", "bool", False),
        "allow": None,
        "deny": None,
    }
    for f in ("allow", "deny"):
        v = m.get(f)
        if v is not None:
            mm = as_map(v)
            out[f] = dflt(mm, "createBucket", "bool", False)
    return out


def parse_token_update(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    return {
        "name": opt(m, "name", "string"),
        "expiration": opt(m, "expiration", "datetime"),
        "neverExpires": dflt(m, "neverExpires", "bool", False),
        "scope": opt(m, "scope", "strings"),
    }


def parse_alias_req(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    out = {"bucketId": req(m, "bucketId", "string")}
    if isinstance(m.get("globalAlias"), str):
        out["globalAlias"] = m["globalAlias"]
    elif isinstance(m.get("localAlias"), str) and isinstance(m.get("accessKeyId"), str):
        out["localAlias"] = m["localAlias"]
        out["accessKeyId"] = m["accessKeyId"]
    else:
        raise BadJson("data did not match any variant of untagged enum BucketAliasEnum")
    return out


def parse_create_bucket(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    la = None
    if m.get("localAlias") is not None:
        lm = as_map(m["localAlias"])
        la = {
            "accessKeyId": req(lm, "accessKeyId", "string"),
            "alias": req(lm, "alias", "string"),
            "allow": parse_perm(lm["allow"]) if lm.get("allow") is not None else Permission(),
        }
    return {"globalAlias": opt(m, "globalAlias", "string"), "localAlias": la}


def parse_update_bucket(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    wa = None
    if m.get("websiteAccess") is not None:
        wm = as_map(m["websiteAccess"])
        wa = {
            "enabled": req(wm, "enabled", "bool"),
            "indexDocument": opt(wm, "indexDocument", "string"),
            "errorDocument": opt(wm, "errorDocument", "string"),
        }
    qu = None
    if m.get("quotas") is not None:
        qm = as_map(m["quotas"])
        qu = {"maxSize": opt(qm, "maxSize", "u64"), "maxObjects": opt(qm, "maxObjects", "u64")}
    return {"websiteAccess": wa, "quotas": qu}


def parse_perm_change(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    return {
        "bucketId": req(m, "bucketId", "string"),
        "accessKeyId": req(m, "accessKeyId", "string"),
        "permissions": parse_perm(req(m, "permissions", "map")),
    }


REPAIR_TYPES = {"tables", "blocks", "versions", "multipartUploads", "blockRefs", "blockRc", "rebalance", "aliases"}


def parse_repair(body: t.Any) -> dict[str, t.Any]:
    rt = req(as_map(body), "repairType", "any")
    if isinstance(rt, str) and rt in REPAIR_TYPES:
        return {"repairType": rt}
    if isinstance(rt, dict) and len(rt) == 1 and rt.get("scrub") in ("start", "pause", "resume", "cancel"):
        return {"repairType": rt}
    raise BadJson("data did not match any variant of untagged enum RepairType")


def parse_retry_resync(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    if isinstance(m.get("all"), bool):
        return {"all": m["all"]}
    if "blockHashes" in m:
        return {"blockHashes": _check(m["blockHashes"], "strings")}
    raise BadJson("data did not match any variant of untagged enum LocalRetryBlockResyncRequest")


def parse_zone_redundancy(v: t.Any) -> t.Any:
    if v == "maximum":
        return "maximum"
    if isinstance(v, dict) and len(v) == 1 and "atLeast" in v:
        return _check(v["atLeast"], "usize")
    if isinstance(v, str):
        raise BadJson(f"unknown variant `{v[:64]}`, expected `atLeast` or `maximum`")
    raise BadJson(f"invalid type: {_desc(v)}, expected enum ZoneRedundancy")


def parse_layout_update(body: t.Any) -> dict[str, t.Any]:
    m = as_map(body)
    roles_raw = m.get("roles")
    roles: list[dict[str, t.Any]] = []
    if roles_raw is not None:
        if not isinstance(roles_raw, list):
            raise BadJson(f"invalid type: {_desc(roles_raw)}, expected a sequence")
        for item in roles_raw:
            im = as_map(item)
            rid = req(im, "id", "string")
            if isinstance(im.get("remove"), bool):
                roles.append({"id": rid, "remove": im["remove"]})
                continue
            if (
                isinstance(im.get("zone"), str)
                and isinstance(im.get("tags"), list)
                and all(isinstance(x, str) for x in im["tags"])
                and (
                    im.get("capacity") is None
                    or (
                        isinstance(im["capacity"], int)
                        and not isinstance(im["capacity"], bool)
                        and 0 <= im["capacity"] < 2**64
                    )
                )
            ):
                roles.append({"id": rid, "zone": im["zone"], "capacity": im.get("capacity"), "tags": list(im["tags"])})
                continue
            raise BadJson("data did not match any variant of untagged enum NodeRoleChangeEnum")
    params = None
    if m.get("parameters") is not None:
        pm = as_map(m["parameters"])
        params = parse_zone_redundancy(req(pm, "zoneRedundancy", "any"))
    return {"roles": roles, "parameters": params}


# ------------------------------------------------------------ endpoint table


@dataclasses.dataclass(frozen=True)
class Endpoint:
    method: str
    query: tuple[str, ...] = ()  # accepted query parameters
    required: tuple[str, ...] = ()  # required ones
    body: t.Callable[[t.Any], t.Any] | None = None  # body parser (None = no body)
    bool_query: tuple[str, ...] = ()


def _map_body(b: t.Any) -> t.Any:
    return as_map(b)


def node_ep(method: str, body: t.Callable[[t.Any], t.Any] | None = None) -> Endpoint:
    """A per-node endpoint: required ``?node=*|self|<id prefix>``."""
    return Endpoint(method, query=("node",), required=("node",), body=body)


ENDPOINTS: dict[str, Endpoint] = {
    # cluster
    "GetClusterStatus": Endpoint("GET"),
    "GetClusterHealth": Endpoint("GET"),
    "GetClusterStatistics": Endpoint("GET"),
    "ConnectClusterNodes": Endpoint("POST", body=lambda b: _check(b, "strings")),
    # admin tokens
    "ListAdminTokens": Endpoint("GET"),
    "GetAdminTokenInfo": Endpoint("GET", query=("id", "search")),
    "GetCurrentAdminTokenInfo": Endpoint("GET"),
    "CreateAdminToken": Endpoint("POST", body=parse_token_update),
    "UpdateAdminToken": Endpoint("POST", query=("id",), required=("id",), body=parse_token_update),
    "DeleteAdminToken": Endpoint("POST", query=("id",), required=("id",)),
    # layout
    "GetClusterLayout": Endpoint("GET"),
    "GetClusterLayoutHistory": Endpoint("GET"),
    "UpdateClusterLayout": Endpoint("POST", body=parse_layout_update),
    "PreviewClusterLayoutChanges": Endpoint("POST"),
    "ApplyClusterLayout": Endpoint("POST", body=lambda b: {"version": req(as_map(b), "version", "u64")}),
    "RevertClusterLayout": Endpoint("POST"),
    "ClusterLayoutSkipDeadNodes": Endpoint(
        "POST",
        body=lambda b: {
            "version": req(as_map(b), "version", "u64"),
            "allowMissingData": req(as_map(b), "allowMissingData", "bool"),
        },
    ),
    # keys
    "ListKeys": Endpoint("GET"),
    "GetKeyInfo": Endpoint("GET", query=("id", "search", "showSecretKey"), bool_query=("showSecretKey",)),
    "CreateKey": Endpoint("POST", body=parse_key_update),
    "ImportKey": Endpoint(
        "POST",
        body=lambda b: {
            "accessKeyId": req(as_map(b), "accessKeyId", "string"),
            "secretAccessKey": req(as_map(b), "secretAccessKey", "string"),
            "name": opt(as_map(b), "name", "string"),
        },
    ),
    "UpdateKey": Endpoint("POST", query=("id",), required=("id",), body=parse_key_update),
    "DeleteKey": Endpoint("POST", query=("id",), required=("id",)),
    # buckets
    "ListBuckets": Endpoint("GET"),
    "GetBucketInfo": Endpoint("GET", query=("id", "globalAlias", "search")),
    "CreateBucket": Endpoint("POST", body=parse_create_bucket),
    "UpdateBucket": Endpoint("POST", query=("id",), required=("id",), body=parse_update_bucket),
    "DeleteBucket": Endpoint("POST", query=("id",), required=("id",)),
    "CleanupIncompleteUploads": Endpoint(
        "POST",
        body=lambda b: {
            "bucketId": req(as_map(b), "bucketId", "string"),
            "olderThanSecs": req(as_map(b), "olderThanSecs", "u64"),
        },
    ),
    "InspectObject": Endpoint("GET", query=("bucketId", "key"), required=("bucketId", "key")),
    "AllowBucketKey": Endpoint("POST", body=parse_perm_change),
    "DenyBucketKey": Endpoint("POST", body=parse_perm_change),
    "AddBucketAlias": Endpoint("POST", body=parse_alias_req),
    "RemoveBucketAlias": Endpoint("POST", body=parse_alias_req),
    # per-node
    "GetNodeInfo": node_ep("GET"),
    "GetNodeStatistics": node_ep("GET"),
    "CreateMetadataSnapshot": node_ep("POST"),
    "LaunchRepairOperation": node_ep("POST", parse_repair),
    "ListWorkers": node_ep("POST", _map_body),
    "GetWorkerInfo": node_ep("POST", lambda b: {"id": req(as_map(b), "id", "u64")}),
    "GetWorkerVariable": node_ep("POST", _map_body),
    "SetWorkerVariable": node_ep(
        "POST",
        lambda b: {
            "variable": req(as_map(b), "variable", "string"),
            "value": req(as_map(b), "value", "string"),
        },
    ),
    "ListBlockErrors": node_ep("GET"),
    "GetBlockInfo": node_ep("POST", lambda b: {"blockHash": req(as_map(b), "blockHash", "string")}),
    "RetryBlockResync": node_ep("POST", parse_retry_resync),
    "PurgeBlocks": node_ep("POST", lambda b: _check(b, "strings")),
}

SPECIAL = {("GET", "/health"): "Health", ("GET", "/check"): "CheckDomain", ("GET", "/metrics"): "Metrics"}
SPECIAL_QUERY = {"CheckDomain": ("domain",)}
V1_REJECTED = {
    ("GET", "/v1/status"): "GetClusterStatus",
    ("POST", "/v1/layout"): "UpdateClusterLayout",
    ("DELETE", "/v1/key"): "DeleteKey",
    ("DELETE", "/v1/bucket"): "DeleteBucket",
}


@dataclasses.dataclass
class AdminConfig:
    admin_token: str | None = None
    metrics_token: str | None = None
    metrics_require_token: bool = False
    allow_faults: bool = False
    self_node: str = ""
    # ConnectClusterNodes to an unknown (well-formed) peer adds it as a connected node
    accept_any_peer: bool = False


@dataclasses.dataclass
class Call:
    endpoint: str
    query: dict[str, str]
    body: t.Any
    auth: auth.AuthResult
    path: str


# ------------------------------------------------------------------- the API


class AdminApi:
    def __init__(self, store: Store, config: AdminConfig, ctl: control.Control | None = None) -> None:
        self.store = store
        self.config = config
        self.control = ctl or control.Control()
        self.on_mutation: t.Callable[[], None] | None = None

    # ---- entry point

    def handle(self, method: str, target: str, headers: t.Mapping[str, str], body: bytes) -> Response:
        path, _sep, qs = target.partition("?")
        region = self.store.region
        if path == "/__standin" or path.startswith("/__standin/"):
            return self._control(method, path, body)
        try:
            endpoint = self._route(method, path)
            spec = ENDPOINTS.get(endpoint)
            if endpoint != "Options":
                self.control.count(endpoint)
            query = self._parse_query(qs, spec, endpoint)
            parsed_body: t.Any = None
            if spec is not None and spec.body is not None:
                raw = parse_json_body(body)
                try:
                    parsed_body = spec.body(raw)
                except BadJson as e:
                    raise bad_request(f"Invalid JSON: {e}") from None
            try:
                who = auth.check(
                    self.store,
                    endpoint,
                    headers.get("Authorization"),
                    admin_token=self.config.admin_token,
                    metrics_token=self.config.metrics_token,
                    metrics_require_token=self.config.metrics_require_token,
                )
            except auth.AuthError as e:
                raise forbidden(e.message) from None
            except auth.HeaderError as e:
                raise ApiError(400, "InvalidHeaderValue", f"Invalid header value: {e}") from None
            fault = self.control.take(endpoint) if endpoint not in ("Options",) else None
            if fault is not None:
                if fault.latency_ms:
                    time.sleep(min(fault.latency_ms, control.MAX_LATENCY_MS) / 1000.0)
                if fault.status:
                    raise ApiError(fault.status, fault.code, fault.message)
            call = Call(endpoint, query, parsed_body, who, path)
            handler = getattr(self, "h_" + endpoint)
            with self.store.lock:
                before = self.store.generation
                resp: Response = handler(call)
                changed = self.store.generation != before
            if changed and self.on_mutation is not None:
                self.on_mutation()
            return resp
        except ApiError as e:
            return error_response(e, path, region)

    def _route(self, method: str, path: str) -> str:
        if method == "OPTIONS":
            if path.startswith("/v1/"):
                raise bad_request("v1/ endpoint is no longer supported: Options")
            return "Options"
        if (method, path) in SPECIAL:
            return SPECIAL[(method, path)]
        if (method, path) in V1_REJECTED:
            raise bad_request(f"v1/ endpoint is no longer supported: {V1_REJECTED[(method, path)]}")
        if path.startswith("/v2/"):
            name = path[4:]
            spec = ENDPOINTS.get(name)
            if spec is not None and spec.method == method:
                return name
        raise bad_request(f"Unknown API endpoint: {method} {path}")

    def _parse_query(self, qs: str, spec: Endpoint | None, endpoint: str) -> dict[str, str]:
        seen: dict[str, str] = {}
        if qs:
            for k, v in urllib.parse.parse_qsl(qs, keep_blank_values=True, errors="replace"):
                if k in seen:
                    raise bad_request(f"Query parameter repeated: '{k}'")
                seen[k] = v
        allowed = spec.query if spec is not None else SPECIAL_QUERY.get(endpoint, ())
        out = {k: v for k, v in seen.items() if k in allowed and v != ""}
        required = spec.required if spec is not None else SPECIAL_QUERY.get(endpoint, ())
        for r in required:
            if r not in out:
                raise bad_request(f"Missing argument `{r}` for endpoint")
        if spec is not None:
            for b in spec.bool_query:
                if b in out and out[b] not in ("true", "false"):
                    raise bad_request("Failed to parse query parameter")
        return out

    # ---- control plane (test only)

    def _control(self, method: str, path: str, body: bytes) -> Response:
        region = self.store.region
        if not self.config.allow_faults:
            return error_response(
                forbidden("Forbidden: the stand-in control plane is disabled (start with --allow-faults)"),
                path,
                region,
            )
        try:
            data: t.Any = None
            if method == "POST":
                try:
                    data = json.loads(body.decode("utf-8") or "null")
                except (ValueError, UnicodeDecodeError) as e:
                    raise bad_request(f"Invalid JSON: {e}") from None
            if path == "/__standin/faults":
                if method == "POST":
                    try:
                        self.control.add_fault(control.parse_fault(data))
                    except control.FaultSpecError as e:
                        raise bad_request(str(e)) from None
                    return ok({"faults": self.control.faults()})
                if method == "DELETE":
                    self.control.clear_faults()
                    return ok({"faults": []})
                if method == "GET":
                    return ok({"faults": self.control.faults()})
            elif path == "/__standin/nodes":
                if method == "POST":
                    if not (
                        isinstance(data, dict) and isinstance(data.get("id"), str) and isinstance(data.get("up"), bool)
                    ):
                        raise bad_request("body must be {id: <node id or prefix>, up: bool}")
                    with self.store.lock:
                        node = self._find_node(data["id"])
                        set_node_up(self.store, node, data["up"])
                    return ok(self._node_json(node))
                if method == "GET":
                    with self.store.lock:
                        return ok([self._node_json(n) for _node_id, n in sorted(self.store.nodes.items())])
            elif path == "/__standin/state" and method == "GET":
                with self.store.lock:
                    return ok(dump_state(self.store) | {"faults": self.control.faults(), "calls": self.control.calls()})
            elif path == "/__standin/calls":
                if method == "GET":
                    return ok(self.control.calls())
                if method == "DELETE":
                    self.control.reset_calls()
                    return ok({})
            raise bad_request(f"Unknown API endpoint: {method} {path}")
        except ApiError as e:
            return error_response(e, path, region)

    def _find_node(self, ident: str) -> Node:
        matches = [n for nid, n in self.store.nodes.items() if nid.startswith(ident.lower()) or n.hostname == ident]
        if len(matches) != 1:
            raise bad_request(f"{len(matches)} nodes matching {ident}")
        return matches[0]

    def _node_json(self, n: Node) -> dict[str, t.Any]:
        return {"id": n.id, "hostname": n.hostname, "addr": n.addr, "isUp": n.is_up, "known": n.known}

    # ------------------------------------------------------------- special

    def h_Options(self, c: Call) -> Response:
        return Response(
            200,
            b"",
            None,
            [
                ("Allow", "OPTIONS,GET,POST"),
                ("Access-Control-Allow-Methods", "OPTIONS,GET,POST"),
                ("Access-Control-Allow-Headers", "authorization,content-type"),
                ("Access-Control-Allow-Origin", "*"),
            ],
        )

    def h_Health(self, c: Call) -> Response:
        h = layout.health(self.store)
        tail = "Consult the full health check API endpoint at /v2/GetClusterHealth for more details\n"
        if h["status"] == "healthy":
            return Response(200, ("Garage is fully operational\n" + tail).encode(), "text/plain")
        if h["status"] == "degraded":
            return Response(
                200, ("Garage is operational but some storage nodes are unavailable\n" + tail).encode(), "text/plain"
            )
        return Response(
            503,
            ("Quorum is not available for some/all partitions, reads and writes will fail\n" + tail).encode(),
            "text/plain",
        )

    def h_CheckDomain(self, c: Call) -> Response:
        domain = c.query["domain"]
        s = self.store
        found = False
        candidates: list[tuple[str, bool]] = []  # (bucket name, website required)
        if s.s3_root_domain and domain.endswith("." + s.s3_root_domain.lstrip(".")):
            candidates.append((domain[: -len(s.s3_root_domain.lstrip(".")) - 1], False))
        if s.web_root_domain and domain.endswith("." + s.web_root_domain.lstrip(".")):
            candidates.append((domain[: -len(s.web_root_domain.lstrip(".")) - 1], True))
        candidates.append((domain, True))
        for name, need_web in candidates:
            b = model.resolve_global_bucket(s, name)
            if b is not None and (not need_web or b.website_enabled):
                found = True
                break
        if found:
            return Response(200, f"Domain '{domain}' is managed by Garage".encode(), "text/plain")
        raise bad_request(f"Domain '{domain}' is not managed by Garage")

    def h_Metrics(self, c: Call) -> Response:
        h = layout.health(self.store)
        cur = self.store.layout_versions[-1]
        lines = [
            "# HELP garage_build_info Garage build info",
            "# TYPE garage_build_info counter",
            f'garage_build_info{{rustversion="{RUST_VERSION}",version="{GARAGE_VERSION}"}} 1',
            "# TYPE cluster_healthy gauge",
            f"cluster_healthy {1 if h['status'] == 'healthy' else 0}",
            "# TYPE cluster_available gauge",
            f"cluster_available {0 if h['status'] == 'unavailable' else 1}",
            "# TYPE cluster_connected_nodes gauge",
            f"cluster_connected_nodes {h['connectedNodes']}",
            "# TYPE cluster_known_nodes gauge",
            f"cluster_known_nodes {h['knownNodes']}",
            "# TYPE cluster_storage_nodes gauge",
            f"cluster_storage_nodes {h['storageNodes']}",
            "# TYPE cluster_storage_nodes_ok gauge",
            f"cluster_storage_nodes_ok {h['storageNodesOk']}",
            "# TYPE cluster_partitions gauge",
            f"cluster_partitions {h['partitions']}",
            "# TYPE cluster_partitions_quorum gauge",
            f"cluster_partitions_quorum {h['partitionsQuorum']}",
            "# TYPE cluster_partitions_all_ok gauge",
            f"cluster_partitions_all_ok {h['partitionsAllOk']}",
            "# TYPE cluster_layout_version gauge",
            f"cluster_layout_version {cur.version}",
            "# TYPE api_admin_request_counter counter",
        ]
        for ep, n in self.control.calls().items():
            lines.append(f'api_admin_request_counter{{api_endpoint="{ep}"}} {n}')
        return Response(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")

    # ------------------------------------------------------------- cluster

    def _node_resp(self, nid: str) -> dict[str, t.Any]:
        s = self.store
        n = s.nodes.get(nid)
        role = s.layout_versions[-1].roles.get(nid)
        role_json = None if role is None else {"zone": role.zone, "tags": list(role.tags), "capacity": role.capacity}
        if n is None or not n.known:
            return {
                "id": nid,
                "garageVersion": None,
                "addr": None,
                "hostname": None,
                "isUp": False,
                "lastSeenSecsAgo": None,
                "role": role_json,
                "draining": False,
            }
        out: dict[str, t.Any] = {
            "id": nid,
            "garageVersion": GARAGE_VERSION,
            "addr": n.addr,
            "hostname": n.hostname,
            "isUp": n.is_up,
            "lastSeenSecsAgo": None if n.is_up or n.last_seen is None else int(time.time() - n.last_seen),
            "role": role_json,
            "draining": False,
            "dataPartition": {"available": n.data_avail, "total": n.data_total},
            "metadataPartition": {"available": n.data_avail, "total": n.data_total},
        }
        return out

    def h_GetClusterStatus(self, c: Call) -> Response:
        s = self.store
        draining = layout.draining_nodes(s)
        ids = {nid for nid, n in s.nodes.items() if n.known} | set(s.layout_versions[-1].roles) | draining
        nodes = []
        for i in sorted(ids):
            resp = self._node_resp(i)
            resp["draining"] = i in draining
            nodes.append(resp)
        return ok({"layoutVersion": s.layout_versions[-1].version, "nodes": nodes})

    def h_GetClusterHealth(self, c: Call) -> Response:
        return ok(layout.health(self.store))

    def h_GetClusterStatistics(self, c: Call) -> Response:
        s = self.store
        cur = s.layout_versions[-1]
        lines = ["Storage nodes:", "  ID                Hostname  Zone  Capacity  Part.  DataAvail"]
        for nid in sorted(cur.roles):
            r = cur.roles[nid]
            n = s.nodes.get(nid)
            lines.append(
                f"  {nid[:16]}  {n.hostname if n else '?'}  {r.zone}  "
                f"{r.capacity if r.capacity is not None else 'gateway'}  {cur.stored_partitions.get(nid, 0)}  "
                f"{n.data_avail if n else '?'}"
            )
        live = [b for b in s.buckets.values() if not b.deleted]
        lines += ["", f"Bucket count: {len(live)}", f"Key count: {sum(1 for k in s.keys.values() if not k.deleted)}"]
        lines.append(f"Object count: {sum(len(b.objects) for b in live)}")
        return ok({"freeform": "\n".join(lines) + "\n"})

    def h_ConnectClusterNodes(self, c: Call) -> Response:
        out = []
        s = self.store
        for spec in c.body:
            nid, sep, addr = spec.partition("@")
            host, _sep, port = addr.rpartition(":")
            if not sep or not model.is_hex64(nid.lower()) or not host or not port.isdigit() or int(port) > 65535:
                out.append({"success": False, "error": f"Unable to parse or resolve node specification: {spec}"})
                continue
            node = s.nodes.get(nid.lower())
            if node is None and self.config.accept_any_peer:
                node = Node(id=nid.lower(), hostname=f"peer-{nid[:8].lower()}", addr=addr, is_up=False, known=False)
                s.nodes[node.id] = node
            if node is None or not node.reachable:
                out.append(
                    {
                        "success": False,
                        "error": "Could not connect to specified peers. Errors:\n"
                        f"\t{addr}: Connection refused (os error 111)",
                    }
                )
                continue
            if not node.known or not node.is_up:
                set_node_up(s, node, True)
            out.append({"success": True, "error": None})
        return ok(out)

    # ------------------------------------------------------------ per-node

    def _select_nodes(self, sel: str) -> list[str]:
        s = self.store
        cur = s.layout_versions[-1]
        if sel == "*":
            return sorted({nid for nid, n in s.nodes.items() if n.is_up} | set(cur.roles))
        if sel == "self":
            return [self.config.self_node]
        pool = sorted({nid for nid, n in s.nodes.items() if n.known} | set(cur.roles))
        m = [nid for nid in pool if nid.startswith(sel.lower())] if HEX_RE.match(sel) else []
        if not m:
            raise bad_request(f"No nodes matching {sel}")
        if len(m) > 1:
            raise bad_request(f"Multiple nodes matching {sel}: {', '.join(x[:16] for x in m)}")
        return m

    def _per_node(self, c: Call, fn: t.Callable[[str], t.Any]) -> Response:
        success: dict[str, t.Any] = {}
        errors: dict[str, str] = {}
        for nid in self._select_nodes(c.query["node"]):
            n = self.store.nodes.get(nid)
            if n is None or not n.is_up:
                errors[nid] = f"ServiceUnavailable (503): Could not reach node {nid[:16]}: node is not connected"
                continue
            try:
                success[nid] = fn(nid)
            except ApiError as e:
                errors[nid] = f"{e.code} ({e.status}): {e.message}"
        return ok({"success": success, "error": errors})

    def h_GetNodeInfo(self, c: Call) -> Response:
        return self._per_node(
            c,
            lambda nid: {
                "nodeId": nid,
                "garageVersion": GARAGE_VERSION,
                "garageFeatures": list(GARAGE_FEATURES),
                "rustVersion": RUST_VERSION,
                "dbEngine": DB_ENGINE,
            },
        )

    def h_GetNodeStatistics(self, c: Call) -> Response:
        def one(nid: str) -> dict[str, t.Any]:
            n = self.store.nodes[nid]
            return {
                "freeform": f"Garage version: {GARAGE_VERSION}\nNode: {n.hostname} ({nid[:16]})\n"
                f"Data partition: {n.data_avail} / {n.data_total} bytes available\n"
            }

        return self._per_node(c, one)

    def h_CreateMetadataSnapshot(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: None)

    def h_LaunchRepairOperation(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: {})

    def h_ListWorkers(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: [])

    def h_GetWorkerInfo(self, c: Call) -> Response:
        def one(nid: str) -> t.Any:
            raise ApiError(404, "NoSuchWorker", "Worker not found")

        return self._per_node(c, one)

    def h_GetWorkerVariable(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: {})

    def h_SetWorkerVariable(self, c: Call) -> Response:
        def one(nid: str) -> t.Any:
            raise bad_request(f"Unknown worker variable: {c.body['variable']}")

        return self._per_node(c, one)

    def h_ListBlockErrors(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: [])

    def h_GetBlockInfo(self, c: Call) -> Response:
        h = c.body["blockHash"]
        if len(h) < 4 or not HEX_RE.match(h):
            raise bad_request("Block hash prefix must be at least 4 hex characters")

        def one(nid: str) -> t.Any:
            raise ApiError(404, "NoSuchBlock", f"Block not found: {h}")

        return self._per_node(c, one)

    def h_RetryBlockResync(self, c: Call) -> Response:
        return self._per_node(c, lambda nid: {"count": 0})

    def h_PurgeBlocks(self, c: Call) -> Response:
        return self._per_node(
            c,
            lambda nid: {
                "blocksPurged": 0,
                "objectsDeleted": 0,
                "uploadsDeleted": 0,
                "versionsDeleted": 0,
                "blockRefsPurged": 0,
            },
        )

    # -------------------------------------------------------------- layout

    def _layout_json(self, v: t.Any = None, staged: bool = True) -> dict[str, t.Any]:
        s = self.store
        cur = v or s.layout_versions[-1]
        roles = []
        for nid in sorted(cur.roles):
            r = cur.roles[nid]
            sp = cur.stored_partitions.get(nid) if r.capacity is not None else None
            roles.append(
                {
                    "id": nid,
                    "zone": r.zone,
                    "tags": list(r.tags),
                    "capacity": r.capacity,
                    "storedPartitions": sp,
                    "usableCapacity": None if sp is None else sp * cur.partition_size,
                }
            )
        changes: list[dict[str, t.Any]] = []
        sp_json = None
        if staged:
            for nid, new in layout.staged_changes(s).items():
                if new is None:
                    changes.append({"id": nid, "remove": True})
                else:
                    changes.append({"id": nid, "zone": new.zone, "tags": list(new.tags), "capacity": new.capacity})
            sp = layout.staged_parameters(s)
            sp_json = None if sp is None else {"zoneRedundancy": layout.zone_redundancy_json(sp)}
        return {
            "version": cur.version,
            "roles": roles,
            "parameters": {"zoneRedundancy": layout.zone_redundancy_json(cur.zone_redundancy)},
            "partitionSize": cur.partition_size,
            "stagedRoleChanges": changes,
            "stagedParameters": sp_json,
        }

    def h_GetClusterLayout(self, c: Call) -> Response:
        return ok(self._layout_json())

    def h_GetClusterLayoutHistory(self, c: Call) -> Response:
        s = self.store
        cur = s.layout_versions[-1]
        live = layout.live_versions(s)
        live_ids = {v.version for v in live}
        versions = []
        for v in reversed(s.layout_versions):
            if v is cur:
                status = "Current"
            elif v.version in live_ids:
                status = "Draining"
            else:
                status = "Historical"
            versions.append(
                {
                    "version": v.version,
                    "status": status,
                    "storageNodes": sum(1 for r in v.roles.values() if r.capacity is not None),
                    "gatewayNodes": sum(1 for r in v.roles.values() if r.capacity is None),
                }
            )
        trackers = None
        if len(live) > 1:
            trackers = {
                nid: {"ack": tr["ack"], "sync": tr["sync"], "syncAck": tr["sync_ack"]}
                for nid, tr in sorted(s.update_trackers.items())
            }
        return ok(
            {
                "currentVersion": cur.version,
                "minAck": layout.min_ack(s),
                "versions": versions,
                "updateTrackers": trackers,
            }
        )

    def h_UpdateClusterLayout(self, c: Call) -> Response:
        s = self.store
        staged: list[tuple[str, Role | None]] = []
        for ch in c.body["roles"]:
            nid = ch["id"]
            if not (len(nid) == 64 and HEX_RE.match(nid)):
                raise bad_request("Invalid node identifier")
            nid = nid.lower()
            if "remove" in ch:
                if not ch["remove"]:
                    raise bad_request("Invalid layout change")
                staged.append((nid, None))
                continue
            cap = ch["capacity"]
            if cap is not None and cap < 1024:
                raise bad_request("Capacity should be at least 1K (1024)")
            staged.append((nid, Role(ch["zone"], cap, list(ch["tags"]))))
        zr = c.body["parameters"]
        if zr is not None and zr != "maximum":
            if zr > s.replication_factor:
                raise bad_request(
                    f"The zone redundancy must be smaller or equal to the replication factor ({s.replication_factor})."
                )
            if zr < 1:
                raise bad_request("The zone redundancy must be at least 1.")
        for nid, role in staged:
            s.staged_roles[nid] = role
        if zr is not None:
            s.staged_zone_redundancy = zr
        model.mark_changed(s)
        return ok(self._layout_json())

    def h_PreviewClusterLayoutChanges(self, c: Call) -> Response:
        try:
            nv, msgs = layout.next_version(self.store)
        except layout.LayoutError as e:
            return ok({"error": str(e)})
        return ok({"message": msgs, "newLayout": self._layout_json(nv, staged=False)})

    def h_ApplyClusterLayout(self, c: Call) -> Response:
        s = self.store
        try:
            msgs = layout.apply(s, c.body["version"])
        except ValueError as e:  # LayoutError is not a ValueError
            raise internal(str(e)) from None
        except layout.LayoutError as e:
            raise internal(str(e)) from None
        model.mark_changed(s)
        return ok({"message": msgs, "layout": self._layout_json()})

    def h_RevertClusterLayout(self, c: Call) -> Response:
        layout.revert(self.store)
        model.mark_changed(self.store)
        return ok(self._layout_json())

    def h_ClusterLayoutSkipDeadNodes(self, c: Call) -> Response:
        try:
            ack, sync = layout.skip_dead_nodes(self.store, c.body["version"], c.body["allowMissingData"])
        except layout.SkipError as e:
            raise bad_request(str(e)) from None
        model.mark_changed(self.store)
        return ok({"ackUpdated": ack, "syncUpdated": sync})

    # ---------------------------------------------------------------- keys

    def _key_info(self, k: Key, show_secret: bool) -> dict[str, t.Any]:
        s = self.store
        buckets = []
        for bid in sorted(s.buckets):
            b = s.buckets[bid]
            if b.deleted:
                continue
            perm = b.authorized_keys.get(k.id)
            las = sorted(a for a, target in k.local_aliases.items() if target == bid)
            if perm is None and not las:
                continue
            buckets.append(
                {
                    "id": bid,
                    "globalAliases": list(b.global_aliases),
                    "localAliases": las,
                    "permissions": _perm_json(perm or Permission()),
                }
            )
        out: dict[str, t.Any] = {
            "accessKeyId": k.id,
            "created": model.rfc3339(k.created),
            "name": k.name,
            "expiration": model.rfc3339(k.expiration),
            "expired": k.expired(),
        }
        if show_secret:
            out["secretAccessKey"] = k.secret
        out["permissions"] = {"createBucket": k.allow_create_bucket}
        out["buckets"] = buckets
        return out

    def _existing_key(self, key_id: str) -> Key:
        k = model.live_key(self.store, key_id)
        if k is None:
            raise no_such_key(key_id)
        return k

    def h_ListKeys(self, c: Call) -> Response:
        out = []
        for kid in sorted(self.store.keys):
            k = self.store.keys[kid]
            if k.deleted:
                continue
            out.append(
                {
                    "id": k.id,
                    "name": k.name,
                    "created": model.rfc3339(k.created),
                    "expiration": model.rfc3339(k.expiration),
                    "expired": k.expired(),
                }
            )
        return ok(out)

    def h_GetKeyInfo(self, c: Call) -> Response:
        q = c.query
        show = q.get("showSecretKey") == "true"
        if "id" in q and "search" not in q:
            k = self._existing_key(q["id"])
        elif "search" in q and "id" not in q:
            pat = q["search"].lower()
            m = [
                k
                for k in self.store.keys.values()
                if not k.deleted and (k.id.lower().startswith(pat) or k.name.lower() == pat)
            ]
            if len(m) != 1:
                raise bad_request(f"{len(m)} matching keys")
            k = m[0]
        else:
            raise bad_request("Either id or search must be provided (but not both)")
        return ok(self._key_info(k, show))

    def _apply_key_update(self, k: Key, u: dict[str, t.Any]) -> None:
        if u["expiration"] is not None and u["neverExpires"]:
            raise bad_request("cannot specify `expiration` and `never_expires`")
        if u["name"] is not None:
            k.name = u["name"]
        if u["expiration"] is not None:
            k.expiration = u["expiration"]
        if u["neverExpires"]:
            k.expiration = None
        if u["allow"]:
            k.allow_create_bucket = True
        if u["deny"]:
            k.allow_create_bucket = False

    def h_CreateKey(self, c: Call) -> Response:
        u = c.body
        s = self.store
        k = Key(id=model.new_key_id(), secret=model.new_secret_key(), name="Unnamed key", created=time.time())
        while k.id in s.keys:  # pragma: no cover
            k.id = model.new_key_id()
        self._apply_key_update(k, u)
        s.keys[k.id] = k
        model.mark_changed(s)
        return ok(self._key_info(k, True))

    def h_ImportKey(self, c: Call) -> Response:
        s = self.store
        kid = c.body["accessKeyId"]
        secret = c.body["secretAccessKey"]
        if kid in s.keys:
            raise ApiError(
                409,
                "KeyAlreadyExists",
                f"Key {kid} already exists in data store. Even if it is deleted, we can't let you create a new "
                "key with the same ID. Sorry.",
            )
        if not (len(kid) == 26 and kid.startswith("GK") and HEX_RE.match(kid[2:])):
            raise bad_request(
                "Invalid key format: The specified key ID is not a valid Garage key ID "
                "(starts with `GK`, followed by 12 hex-encoded bytes)"
            )
        if not (len(secret) == 64 and HEX_RE.match(secret)):
            raise bad_request(
                "Invalid key format: The specified secret key is not a valid Garage secret key "
                "(composed of 32 hex-encoded bytes)"
            )
        k = Key(id=kid, secret=secret, name=c.body["name"] or "Imported key", created=time.time())
        s.keys[kid] = k
        model.mark_changed(s)
        return ok(self._key_info(k, False))

    def h_UpdateKey(self, c: Call) -> Response:
        k = self._existing_key(c.query["id"])
        self._apply_key_update(k, c.body)
        model.mark_changed(self.store)
        return ok(self._key_info(k, False))

    def h_DeleteKey(self, c: Call) -> Response:
        k = self._existing_key(c.query["id"])
        model.delete_key(self.store, k)
        return ok(None)

    # ------------------------------------------------------------- buckets

    def _parse_bucket_id(self, raw: str) -> str:
        if not (len(raw) == 64 and HEX_RE.match(raw)):
            raise bad_request("Invalid bucket id")
        return raw.lower()

    def _existing_bucket(self, bid: str) -> Bucket:
        b = model.live_bucket(self.store, bid)
        if b is None:
            raise no_such_bucket(bid)
        return b

    def bucket_info(self, b: Bucket) -> dict[str, t.Any]:
        s = self.store
        key_ids = set(b.authorized_keys)
        for kid, _alias in b.local_aliases:
            key_ids.add(kid)
        keys = []
        for kid in sorted(key_ids):
            k = model.live_key(s, kid)
            if k is None:
                continue
            perm = b.authorized_keys.get(kid) or Permission()
            keys.append(
                {
                    "accessKeyId": kid,
                    "name": k.name,
                    "permissions": _perm_json(perm),
                    "bucketLocalAliases": sorted(a for a, target in k.local_aliases.items() if target == b.id),
                }
            )
        cnt = model.bucket_counters(b)
        return {
            "id": b.id,
            "created": model.rfc3339(b.created),
            "globalAliases": list(b.global_aliases),
            "websiteAccess": b.website_enabled,
            "websiteConfig": (
                {"indexDocument": b.website_index, "errorDocument": b.website_error} if b.website_enabled else None
            ),
            "keys": keys,
            "objects": cnt["objects"],
            "bytes": cnt["bytes"],
            "unfinishedUploads": cnt["unfinished_uploads"],
            "unfinishedMultipartUploads": cnt["unfinished_multipart_uploads"],
            "unfinishedMultipartUploadParts": cnt["unfinished_multipart_upload_parts"],
            "unfinishedMultipartUploadBytes": cnt["unfinished_multipart_upload_bytes"],
            "quotas": {"maxSize": b.quota_max_size, "maxObjects": b.quota_max_objects},
        }

    def h_ListBuckets(self, c: Call) -> Response:
        out = []
        s = self.store
        for bid in sorted(s.buckets):
            b = s.buckets[bid]
            if b.deleted:
                continue
            locs = []
            for kid, alias in sorted(b.local_aliases):
                k = model.live_key(s, kid)
                if k is not None and k.local_aliases.get(alias) == bid:
                    locs.append({"accessKeyId": kid, "alias": alias})
            out.append(
                {
                    "id": bid,
                    "created": model.rfc3339(b.created),
                    "globalAliases": list(b.global_aliases),
                    "localAliases": locs,
                }
            )
        return ok(out)

    def h_GetBucketInfo(self, c: Call) -> Response:
        q = c.query
        s = self.store
        given = [k for k in ("id", "globalAlias", "search") if k in q]
        if len(given) != 1:
            raise bad_request("Either id, globalAlias or search must be provided (but not several of them)")
        if "id" in q:
            b = self._existing_bucket(self._parse_bucket_id(q["id"]))
        elif "globalAlias" in q:
            bid = s.global_aliases.get(q["globalAlias"])
            b0 = model.live_bucket(s, bid)
            if b0 is None:
                raise no_such_bucket(q["globalAlias"])
            b = b0
        else:
            search = q["search"]
            found = model.resolve_global_bucket(s, search)
            if found is None:
                even = search[: len(search) & ~1].lower()
                if len(search) < 2 or not HEX_RE.match(even):
                    raise no_such_bucket(search)
                cands = [x for bid, x in sorted(s.buckets.items()) if not x.deleted and bid.startswith(even)][:10]
                if not cands:
                    raise no_such_bucket(search)
                if len(cands) > 1:
                    raise bad_request(f"Several matching buckets: {search}")
                found = cands[0]
            b = found
        return ok(self.bucket_info(b))

    def h_CreateBucket(self, c: Call) -> Response:
        s = self.store
        ga = c.body["globalAlias"]
        la = c.body["localAlias"]
        if ga is not None:
            if not model.is_valid_bucket_name(ga, s.allow_punycode):
                raise bad_request(f"{ga}: {INVALID_BUCKET_NAME_MESSAGE}")
            if model.live_bucket(s, s.global_aliases.get(ga)) is not None:
                raise ApiError(409, "BucketAlreadyExists", "Bucket already exists")
        key = None
        if la is not None:
            if not model.is_valid_bucket_name(la["alias"], s.allow_punycode):
                raise bad_request(f"{la['alias']}: {INVALID_BUCKET_NAME_MESSAGE}")
            key = self._existing_key(la["accessKeyId"])
            if la["alias"] in key.local_aliases:
                raise bad_request("Local alias already exists")
        b = model.create_bucket(
            s,
            global_alias=ga,
            local_key=key,
            local_alias=la["alias"] if la else None,
            permission=la["allow"] if la else None,
        )
        return ok(self.bucket_info(b))

    def h_UpdateBucket(self, c: Call) -> Response:
        b = self._existing_bucket(self._parse_bucket_id(c.query["id"]))
        wa = c.body["websiteAccess"]
        qu = c.body["quotas"]
        if wa is not None:
            if wa["enabled"]:
                if wa["indexDocument"] is None:
                    raise bad_request("Please specify indexDocument when enabling website access.")
            elif wa["indexDocument"] is not None or wa["errorDocument"] is not None:
                raise bad_request("Cannot specify indexDocument or errorDocument when disabling website access.")
        if wa is not None:
            if wa["enabled"]:
                if not b.website_enabled:
                    b.website_routing_rules = []
                b.website_enabled = True
                b.website_index = wa["indexDocument"]
                b.website_error = wa["errorDocument"]
            else:
                b.website_enabled = False
                b.website_index = None
                b.website_error = None
                b.website_routing_rules = []
        if qu is not None:
            b.quota_max_size = qu["maxSize"]
            b.quota_max_objects = qu["maxObjects"]
        model.mark_changed(self.store)
        return ok(self.bucket_info(b))

    def h_DeleteBucket(self, c: Call) -> Response:
        b = self._existing_bucket(self._parse_bucket_id(c.query["id"]))
        if not model.bucket_is_empty(b):
            raise ApiError(409, "BucketNotEmpty", "Tried to delete a non-empty bucket")
        _drop_upload_blobs(self.store, b, list(b.uploads))
        model.delete_bucket(self.store, b)
        _drop_bucket_dir(self.store, b)
        return ok(None)

    def h_CleanupIncompleteUploads(self, c: Call) -> Response:
        b = self._existing_bucket(self._parse_bucket_id(c.body["bucketId"]))
        limit = time.time() - c.body["olderThanSecs"]
        old = [uid for uid, up in b.uploads.items() if up.initiated < limit]
        _drop_upload_blobs(self.store, b, old)
        for uid in old:
            del b.uploads[uid]
        if old:
            model.mark_changed(self.store)
        return ok({"uploadsDeleted": len(old)})

    def h_InspectObject(self, c: Call) -> Response:
        b = self._existing_bucket(self._parse_bucket_id(c.query["bucketId"]))
        key = c.query["key"]
        versions = []
        o = b.objects.get(key)
        if o is not None:
            hdrs = [["content-type", o.content_type]] + [[k, v] for k, v in o.headers.items()]
            hdrs += [[f"x-amz-meta-{k}", v] for k, v in o.user_meta.items()]
            versions.append(
                {
                    "uuid": model.new_bucket_id(),
                    "timestamp": model.rfc3339(o.last_modified),
                    "encrypted": False,
                    "uploading": False,
                    "aborted": False,
                    "deleteMarker": False,
                    "inline": o.size <= 3072,
                    "size": o.size,
                    "etag": o.etag,
                    "headers": hdrs,
                    "blocks": [],
                }
            )
        for up in b.uploads.values():
            if up.key == key:
                versions.append(
                    {
                        "uuid": up.upload_id[:64],
                        "timestamp": model.rfc3339(up.initiated),
                        "encrypted": False,
                        "uploading": True,
                        "aborted": False,
                        "deleteMarker": False,
                        "inline": False,
                    }
                )
        if not versions:
            raise ApiError(404, "NoSuchKey", "Key not found")
        return ok({"bucketId": b.id, "key": key, "versions": versions})

    def _perm_change(self, c: Call, allow: bool) -> Response:
        bid_raw, kid, perm = c.body["bucketId"], c.body["accessKeyId"], c.body["permissions"]
        b = self._existing_bucket(self._parse_bucket_id(bid_raw))
        k = self._existing_key(kid)
        cur = b.authorized_keys.get(k.id) or Permission()
        new = Permission(cur.read, cur.write, cur.owner)
        if perm.read:
            new.read = allow
        if perm.write:
            new.write = allow
        if perm.owner:
            new.owner = allow
        b.authorized_keys[k.id] = new
        model.mark_changed(self.store)
        return ok(self.bucket_info(b))

    def h_AllowBucketKey(self, c: Call) -> Response:
        return self._perm_change(c, True)

    def h_DenyBucketKey(self, c: Call) -> Response:
        return self._perm_change(c, False)

    def h_AddBucketAlias(self, c: Call) -> Response:
        s = self.store
        bid = self._parse_bucket_id(c.body["bucketId"])
        if "globalAlias" in c.body:
            name = c.body["globalAlias"]
            if not model.is_valid_bucket_name(name, s.allow_punycode):
                raise ApiError(400, "InvalidBucketName", f"Invalid bucket name: {name}")
            b = self._existing_bucket(bid)
            other = s.global_aliases.get(name)
            if other is not None and other != b.id and model.live_bucket(s, other) is not None:
                raise bad_request(
                    f"Alias {name} already exists and points to different bucket: {model.short_id(other)}"
                )
            model.set_global_alias(s, b, name)
        else:
            name = c.body["localAlias"]
            if not model.is_valid_bucket_name(name, s.allow_punycode):
                raise ApiError(400, "InvalidBucketName", f"Invalid bucket name: {name}")
            b = self._existing_bucket(bid)
            k = self._existing_key(c.body["accessKeyId"])
            other = k.local_aliases.get(name)
            if other is not None and other != b.id:
                raise bad_request(
                    f"Alias {name} already exists in namespace of key {k.id} and points to different bucket: "
                    f"{model.short_id(other)}"
                )
            model.set_local_alias(s, b, k, name)
        return ok(self.bucket_info(b))

    def h_RemoveBucketAlias(self, c: Call) -> Response:
        s = self.store
        bid = self._parse_bucket_id(c.body["bucketId"])
        b = self._existing_bucket(bid)
        if "globalAlias" in c.body:
            name = c.body["globalAlias"]
            if s.global_aliases.get(name) != b.id:
                raise internal(f"alias not found or does not point to bucket {model.short_id(b.id)}")
            if model.active_alias_count(s, b) <= 1:
                raise bad_request(
                    f"Bucket {name} doesn't have other aliases, please delete it instead of just unaliasing."
                )
            model.unset_global_alias(s, b, name)
        else:
            name = c.body["localAlias"]
            k = self._existing_key(c.body["accessKeyId"])
            if k.local_aliases.get(name) != b.id:
                raise internal(f"Bucket {model.short_id(b.id)} does not have alias {name} in namespace of key {k.id}")
            if model.active_alias_count(s, b) <= 1:
                raise bad_request(
                    f"Bucket {name} doesn't have other aliases, please delete it instead of just unaliasing."
                )
            model.unset_local_alias(s, b, k, name)
        return ok(self.bucket_info(b))

    # -------------------------------------------------------- admin tokens

    def _static_token_infos(self) -> list[dict[str, t.Any]]:
        out = []
        if self.config.admin_token is not None:
            out.append(_pseudo_token("admin_token (from daemon configuration)", ["*"]))
        if self.config.metrics_token is not None:
            out.append(_pseudo_token("metrics_token (from daemon configuration)", ["Metrics"]))
        return out

    def h_ListAdminTokens(self, c: Call) -> Response:
        out = self._static_token_infos()
        for tid in sorted(self.store.admin_tokens):
            tok = self.store.admin_tokens[tid]
            if not tok.deleted:
                out.append(_token_info(tok))
        return ok(out)

    def _existing_token(self, tid: str) -> AdminToken:
        tok = self.store.admin_tokens.get(tid)
        if tok is None or tok.deleted:
            raise no_such_token(tid)
        return tok

    def h_GetAdminTokenInfo(self, c: Call) -> Response:
        q = c.query
        if "id" in q and "search" not in q:
            return ok(_token_info(self._existing_token(q["id"])))
        if "search" in q and "id" not in q:
            pat = q["search"]
            m = [
                tok
                for tok in self.store.admin_tokens.values()
                if not tok.deleted and (tok.id.startswith(pat) or tok.name == pat)
            ]
            if len(m) != 1:
                raise bad_request(f"{len(m)} matching admin tokens")
            return ok(_token_info(m[0]))
        raise bad_request("Either id or search must be provided (but not both)")

    def h_GetCurrentAdminTokenInfo(self, c: Call) -> Response:
        if c.auth.kind == "dynamic" and c.auth.token_id is not None:
            return ok(_token_info(self._existing_token(c.auth.token_id)))
        return ok(_pseudo_token("admin_token (from daemon configuration)", ["*"]))

    def _apply_token_update(self, tok: AdminToken, u: dict[str, t.Any]) -> None:
        if u["expiration"] is not None and u["neverExpires"]:
            raise bad_request("cannot specify `expiration` and `never_expires`")
        if u["name"] is not None:
            tok.name = u["name"]
        if u["expiration"] is not None:
            tok.expiration = u["expiration"]
        if u["neverExpires"]:
            tok.expiration = None
        if u["scope"] is not None:
            tok.scope = list(u["scope"])

    def h_CreateAdminToken(self, c: Call) -> Response:
        s = self.store
        tid, secret = auth.new_dynamic_token()
        now = time.time()
        name = time.strftime("token_%Y%m%d_%H%M", time.gmtime(now))
        tok = AdminToken(id=tid, secret_hash=auth.hash_token(secret), name=name, created=now)
        self._apply_token_update(tok, c.body)
        s.admin_tokens[tid] = tok
        model.mark_changed(s)
        return ok({"secretToken": secret} | _token_info(tok))

    def h_UpdateAdminToken(self, c: Call) -> Response:
        tok = self._existing_token(c.query["id"])
        self._apply_token_update(tok, c.body)
        model.mark_changed(self.store)
        return ok(_token_info(tok))

    def h_DeleteAdminToken(self, c: Call) -> Response:
        tok = self._existing_token(c.query["id"])
        tok.deleted = True
        model.mark_changed(self.store)
        return ok(None)


# ------------------------------------------------------------------ helpers


def _perm_json(p: Permission) -> dict[str, bool]:
    return {"read": p.read, "write": p.write, "owner": p.owner}


def _token_info(tok: AdminToken) -> dict[str, t.Any]:
    return {
        "id": tok.id,
        "created": model.rfc3339(tok.created),
        "name": tok.name,
        "expiration": model.rfc3339(tok.expiration),
        "expired": tok.expired(),
        "scope": list(tok.scope),
    }


def _pseudo_token(name: str, scope: list[str]) -> dict[str, t.Any]:
    return {"id": None, "created": None, "name": name, "expiration": None, "expired": False, "scope": scope}


MAX_JSON_DEPTH = 128  # serde_json's recursion limit


def _reject_constant(name: str) -> t.Any:
    raise ValueError(f"expected value ({name} is not JSON)")


def _json_depth_exceeded(body: bytes) -> bool:
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    in_str = False
    esc = False
    for ch in body:
        if in_str:
            if esc:
                esc = False
            elif ch == 0x5C:  # backslash
                esc = True
            elif ch == 0x22:
                in_str = False
        elif ch == 0x22:
            in_str = True
        elif ch in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif ch in (0x5D, 0x7D):
            depth -= 1
    return False


def parse_json_body(body: bytes) -> t.Any:
    """Parse a request body like serde_json would (400 ``Invalid JSON: ...`` otherwise)."""
    if _json_depth_exceeded(body):
        raise bad_request("Invalid JSON: recursion limit exceeded")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise bad_request(f"Invalid JSON: {_serde_like(e, body)}") from None


def _serde_like(e: Exception, body: bytes) -> str:
    if not body.strip():
        return "EOF while parsing a value at line 1 column 0"
    if isinstance(e, json.JSONDecodeError):
        return f"{e.msg} at line {e.lineno} column {e.colno}"
    return "invalid UTF-8 in body"


def _drop_upload_blobs(store: Store, b: Bucket, upload_ids: list[str]) -> None:
    """Remove the part files of these uploads through the S3 blob store (if present)."""
    try:
        from . import blobstore
    except Exception:  # noqa: BLE001 - module owned by the S3 front end, optional
        return
    for uid in upload_ids:
        up = b.uploads.get(uid)
        if up is None:
            continue
        for _size, _etag, blob in up.parts.values():
            try:
                blobstore.remove_blob(store, b.id, blob)
            except Exception:  # noqa: BLE001
                log.debug("could not remove a part file of upload %s", uid[:8])


def _drop_bucket_dir(store: Store, b: Bucket) -> None:
    try:
        from . import blobstore

        blobstore.remove_bucket_dir(store, b.id)
    except Exception:  # noqa: BLE001
        log.debug("could not remove the blob directory of bucket %s", b.id[:16])


def set_node_up(store: Store, node: Node, up: bool) -> None:
    node.reachable = up
    if up:
        node.known = True
        node.is_up = True
        node.last_seen = None
        layout.sync_trackers(store)  # a node back up catches up with the layout
    else:
        if node.is_up:
            node.last_seen = time.time()
        node.is_up = False
    model.mark_changed(store)


def dump_state(store: Store) -> dict[str, t.Any]:
    """Whole state as JSON for out-of-band assertions. No secrets."""
    buckets = {}
    for bid, b in sorted(store.buckets.items()):
        buckets[bid] = {
            "id": bid,
            "deleted": b.deleted,
            "created": model.rfc3339(b.created),
            "globalAliases": list(b.global_aliases),
            "localAliases": [{"accessKeyId": k, "alias": a} for k, a in b.local_aliases],
            "authorizedKeys": {k: _perm_json(p) for k, p in sorted(b.authorized_keys.items())},
            "website": {
                "enabled": b.website_enabled,
                "indexDocument": b.website_index,
                "errorDocument": b.website_error,
                "routingRules": len(b.website_routing_rules),
            },
            "quotas": {"maxSize": b.quota_max_size, "maxObjects": b.quota_max_objects},
            "cors": b.cors_xml is not None,
            "lifecycle": b.lifecycle_xml is not None,
            "objects": {k: {"size": o.size, "etag": o.etag} for k, o in sorted(b.objects.items())},
            "uploads": {u: {"key": up.key, "parts": len(up.parts)} for u, up in sorted(b.uploads.items())},
            "counters": model.bucket_counters(b),
        }
    keys = {}
    for kid, k in sorted(store.keys.items()):
        keys[kid] = {
            "id": kid,
            "name": k.name,
            "deleted": k.deleted,
            "created": model.rfc3339(k.created),
            "expiration": model.rfc3339(k.expiration),
            "allowCreateBucket": k.allow_create_bucket,
            "localAliases": dict(sorted(k.local_aliases.items())),
        }
    versions = []
    for v in store.layout_versions:
        versions.append(
            {
                "version": v.version,
                "roles": {
                    nid: {"zone": r.zone, "capacity": r.capacity, "tags": list(r.tags)}
                    for nid, r in sorted(v.roles.items())
                },
                "zoneRedundancy": layout.zone_redundancy_json(v.zone_redundancy),
                "partitionSize": v.partition_size,
                "storedPartitions": dict(sorted(v.stored_partitions.items())),
                "assignment": [list(p) for p in v.assignment],
            }
        )
    return {
        "region": store.region,
        "replicationFactor": store.replication_factor,
        "nodes": [
            {"id": n.id, "hostname": n.hostname, "addr": n.addr, "isUp": n.is_up, "known": n.known}
            for _node_id, n in sorted(store.nodes.items())
        ],
        "layout": {
            "versions": versions,
            "stagedRoles": {
                nid: (None if r is None else {"zone": r.zone, "capacity": r.capacity, "tags": list(r.tags)})
                for nid, r in sorted(store.staged_roles.items())
            },
            "minLiveVersion": store.min_live_version,
            "updateTrackers": {n: dict(tr) for n, tr in sorted(store.update_trackers.items())},
            "stagedZoneRedundancy": (
                None
                if store.staged_zone_redundancy is None
                else layout.zone_redundancy_json(store.staged_zone_redundancy)
            ),
        },
        "buckets": buckets,
        "globalAliases": dict(sorted(store.global_aliases.items())),
        "keys": keys,
        "adminTokens": {
            tid: {
                "id": tid,
                "name": tok.name,
                "scope": list(tok.scope),
                "expiration": model.rfc3339(tok.expiration),
                "deleted": tok.deleted,
            }
            for tid, tok in sorted(store.admin_tokens.items())
        },
    }
