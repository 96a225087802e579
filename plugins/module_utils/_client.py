# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. This module_util is internal to the
# cellar.garage collection; do not import it from other collections.

"""Typed client for Garage's Admin API v2 (``/v2/<Endpoint>``, bearer token, JSON).

No Ansible module machinery here: the client knows a base URL, a token, a timeout
and TLS settings, returns parsed JSON and raises :class:`GarageError` subclasses.
HTTP goes through ansible-core's ``ansible.module_utils.urls`` (``Request``, the class behind
``open_url``) so that nothing beyond ansible-core is needed on the target. One ``Request`` and
one TLS context are reused for all calls of a client: ``open_url`` builds a fresh context per
call, which loads the system CA store each time (~50 ms per API call).

The bearer token never appears in exception text, ``repr()`` or retry messages.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import ssl
import stat
import time
import typing as t
from collections import Counter
from email.utils import parsedate_to_datetime
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode

from ansible.module_utils.urls import Request, make_context

DEFAULT_ADMIN_URL = "http://127.0.0.1:3903"
DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 3

#: HTTP statuses that are worth retrying (transient by nature).
RETRY_STATUSES = frozenset((429, 502, 503, 504))
#: Endpoints whose repetition is not harmless once the first request may have reached
#: Garage: a second CreateKey makes a second key, a second ApplyClusterLayout answers
#: "Invalid new layout version", a second Delete*/ImportKey/RemoveBucketAlias answers
#: 404/409/500 for work that was done. These are retried only when Garage cannot have
#: acted: the connection was refused or the name did not resolve, or Garage itself
#: answered 429/503. A timeout or a 502/504 from a proxy may hide a request that landed.
NOT_REPLAYABLE = frozenset(
    (
        "ApplyClusterLayout",
        "CreateAdminToken",
        "CreateBucket",
        "CreateKey",
        "DeleteAdminToken",
        "DeleteBucket",
        "DeleteKey",
        "ImportKey",
        "RemoveBucketAlias",
    )
)
_SAFE_RETRY_STATUSES = frozenset((429, 503))
#: Cap on any single wait between attempts, including a server's Retry-After.
MAX_RETRY_WAIT = 30.0
BACKOFF_BASE = 0.5

#: Endpoint name -> HTTP method (Garage routes each endpoint on exactly one method).
ENDPOINT_METHODS: dict[str, str] = {
    # cluster
    "GetClusterStatus": "GET",
    "GetClusterHealth": "GET",
    "GetClusterStatistics": "GET",
    "ConnectClusterNodes": "POST",
    "GetNodeInfo": "GET",
    "GetNodeStatistics": "GET",
    "GetClusterLayout": "GET",
    "GetClusterLayoutHistory": "GET",
    "UpdateClusterLayout": "POST",
    "PreviewClusterLayoutChanges": "POST",
    "ApplyClusterLayout": "POST",
    "RevertClusterLayout": "POST",
    "ClusterLayoutSkipDeadNodes": "POST",
    # admin tokens
    "ListAdminTokens": "GET",
    "GetAdminTokenInfo": "GET",
    "GetCurrentAdminTokenInfo": "GET",
    "CreateAdminToken": "POST",
    "UpdateAdminToken": "POST",
    "DeleteAdminToken": "POST",
    # keys
    "ListKeys": "GET",
    "GetKeyInfo": "GET",
    "CreateKey": "POST",
    "ImportKey": "POST",
    "UpdateKey": "POST",
    "DeleteKey": "POST",
    # buckets
    "ListBuckets": "GET",
    "GetBucketInfo": "GET",
    "CreateBucket": "POST",
    "UpdateBucket": "POST",
    "DeleteBucket": "POST",
    "CleanupIncompleteUploads": "POST",
    "InspectObject": "GET",
    "AllowBucketKey": "POST",
    "DenyBucketKey": "POST",
    "AddBucketAlias": "POST",
    "RemoveBucketAlias": "POST",
    # nodes / workers
    "CreateMetadataSnapshot": "POST",
    "LaunchRepairOperation": "POST",
    "ListWorkers": "POST",
    "GetWorkerInfo": "POST",
    "GetWorkerVariable": "POST",
    "SetWorkerVariable": "POST",
    "ListBlockErrors": "GET",
    "GetBlockInfo": "POST",
    "RetryBlockResync": "POST",
    "PurgeBlocks": "POST",
}

# POST endpoints that take a JSON body (from the v2.0.0 OpenAPI document): Garage answers
# 400 "Invalid JSON" to an empty body there, so the client sends at least ``{}``. The other
# POST endpoints (DeleteBucket, DeleteKey, DeleteAdminToken, PreviewClusterLayoutChanges,
# RevertClusterLayout, CreateMetadataSnapshot) are sent without a body.
_BODY_ENDPOINTS = frozenset(
    (
        "AddBucketAlias",
        "AllowBucketKey",
        "ApplyClusterLayout",
        "CleanupIncompleteUploads",
        "ClusterLayoutSkipDeadNodes",
        "ConnectClusterNodes",
        "CreateAdminToken",
        "CreateBucket",
        "CreateKey",
        "DenyBucketKey",
        "GetBlockInfo",
        "GetWorkerInfo",
        "GetWorkerVariable",
        "ImportKey",
        "LaunchRepairOperation",
        "ListWorkers",
        "PurgeBlocks",
        "RemoveBucketAlias",
        "RetryBlockResync",
        "SetWorkerVariable",
        "UpdateAdminToken",
        "UpdateBucket",
        "UpdateClusterLayout",
        "UpdateKey",
    )
)

JSON = t.Any
Query = t.Mapping[str, t.Union[str, int, bool, None]]


# --------------------------------------------------------------------------- errors


class GarageError(Exception):
    """An Admin API call failed. Never carries the bearer token."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.endpoint = endpoint

    def __str__(self) -> str:
        prefix = f"{self.code}: " if self.code else ""
        where = f" ({self.endpoint}, HTTP {self.status})" if self.endpoint and self.status else ""
        if self.endpoint and not self.status:
            where = f" ({self.endpoint})"
        return f"{prefix}{self.message}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, endpoint={self.endpoint!r})"
        )


class GarageBadRequest(GarageError):
    """HTTP 400 (InvalidRequest, InvalidBucketName, ...)."""


class GarageAccessDenied(GarageError):
    """HTTP 403 (AccessDenied: missing, invalid, expired or out-of-scope token)."""


class GarageNotFound(GarageError):
    """HTTP 404 (NoSuchBucket, NoSuchAccessKey, NoSuchAdminToken, ...)."""


class GarageConflict(GarageError):
    """HTTP 409 (BucketAlreadyExists, BucketNotEmpty, KeyAlreadyExists)."""


class GarageServerError(GarageError):
    """HTTP 5xx (InternalError, ServiceUnavailable, ...)."""


class GarageConnectionError(GarageError):
    """The request never got an HTTP answer: refused, unreachable, timeout, TLS failure."""


_STATUS_ERRORS: dict[int, type[GarageError]] = {
    400: GarageBadRequest,
    403: GarageAccessDenied,
    404: GarageNotFound,
    409: GarageConflict,
}


def error_for_status(
    status: int, body: bytes | str | None, *, endpoint: str | None = None, reason: str | None = None
) -> GarageError:
    """Build the typed error for an HTTP error answer, parsing Garage's JSON error body."""
    code: str | None = None
    message: str | None = None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if text:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = data.get("code") if isinstance(data.get("code"), str) else None
            message = data.get("message") if isinstance(data.get("message"), str) else None
        if message is None:
            message = text.strip()[:500] or None
    if message is None:
        message = reason or f"HTTP {status}"
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = GarageServerError if status >= 500 else GarageError
    return cls(message, status=status, code=code, endpoint=endpoint)


# --------------------------------------------------------------------------- token resolution


class GarageTokenError(GarageError):
    """The admin token could not be resolved (missing, unreadable or unsafe token file)."""


def read_token_file(path: str) -> str:
    """Read an admin token file like Garage does: trimmed, and refused if group/world accessible."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise GarageTokenError(f"Cannot read admin token file {path}: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o077:
        raise GarageTokenError(
            f"Admin token file {path} is accessible by group or others (mode {mode:04o}); "
            f"restrict it with 'chmod 600 {path}' (Garage refuses such secret files too)"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise GarageTokenError(f"Cannot read admin token file {path}: {exc}") from None
    if not token:
        raise GarageTokenError(f"Admin token file {path} is empty")
    return token


def resolve_admin_token(
    token: str | None = None,
    token_file: str | None = None,
    *,
    environ: t.Mapping[str, str] | None = None,
) -> str | None:
    """Return the admin token from, in order: ``token``, ``token_file``, env GARAGE_ADMIN_TOKEN,
    env GARAGE_ADMIN_TOKEN_FILE. Returns ``None`` when no source provides one."""
    env = os.environ if environ is None else environ
    if token and token.strip():
        return token.strip()
    if token_file:
        return read_token_file(token_file)
    env_token = env.get("GARAGE_ADMIN_TOKEN", "").strip()
    if env_token:
        return env_token
    env_file = env.get("GARAGE_ADMIN_TOKEN_FILE", "").strip()
    if env_file:
        return read_token_file(env_file)
    return None


# --------------------------------------------------------------------------- client


class Response(t.NamedTuple):
    status: int
    headers: t.Mapping[str, str]
    body: bytes


#: ``transport(method, url, headers, data, timeout)`` -> Response; raises HTTPError/URLError/OSError.
Transport = t.Callable[[str, str, dict[str, str], t.Optional[bytes], float], Response]


class GarageAdminClient:
    """Admin API v2 client.

    :param admin_url: base URL, e.g. ``http://127.0.0.1:3903`` (a trailing ``/`` or ``/v2`` is tolerated).
    :param token: bearer token (kept private; never logged or shown).
    :param retries: extra attempts for connection errors and 429/502/503/504 (0 = no retry).
    :param on_retry: called as ``on_retry(message)`` before each retry sleep.
    :param sleep: injectable sleep (tests pass a recorder).
    """

    def __init__(
        self,
        admin_url: str = DEFAULT_ADMIN_URL,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        validate_certs: bool = True,
        ca_path: str | None = None,
        on_retry: t.Callable[[str], None] | None = None,
        sleep: t.Callable[[float], None] = time.sleep,
        transport: Transport | None = None,
        user_agent: str = "cellar.garage",
    ) -> None:
        base = (admin_url or DEFAULT_ADMIN_URL).rstrip("/")
        if base.endswith("/v2"):
            base = base[: -len("/v2")]
        self.admin_url = base
        self.__token = token
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.on_retry = on_retry
        self.sleep = sleep
        self.user_agent = user_agent
        self._transport: Transport = transport or self._open_url_transport
        self._request: t.Any = None
        self._context: ssl.SSLContext | None = None
        #: Number of HTTP attempts per endpoint name (retries included).
        self.calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"GarageAdminClient(admin_url={self.admin_url!r}, token={'<set>' if self.__token else None})"

    @property
    def has_token(self) -> bool:
        return bool(self.__token)

    # ------------------------------------------------------------------ transport

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            if self.admin_url.lower().startswith("https:"):
                self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            else:
                # Plain HTTP never uses it (redirects are not followed); skip loading the CA store.
                self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._context

    def _open_url_transport(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, timeout: float
    ) -> Response:
        if self._request is None:
            self._request = Request(
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                http_agent=self.user_agent,
                follow_redirects="none",
                use_proxy=True,
                context=self._tls_context(),
            )
        resp = self._request.open(method, url, data=data, headers=headers, timeout=timeout)
        try:
            body = resp.read()
            status = resp.getcode() or 200
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
        finally:
            resp.close()
        return Response(status, resp_headers, body)

    # ------------------------------------------------------------------ core

    def url_for(self, endpoint: str, query: Query | None = None) -> str:
        url = f"{self.admin_url}/v2/{endpoint}"
        params = _encode_query(query)
        if params:
            url += "?" + urlencode(params, safe="*")
        return url

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_WAIT)
        ceiling = min(BACKOFF_BASE * (2**attempt), MAX_RETRY_WAIT)
        return random.uniform(ceiling / 2, ceiling)

    def call(
        self,
        endpoint: str,
        query: Query | None = None,
        body: JSON = None,
        *,
        method: str | None = None,
    ) -> JSON:
        """Call ``/v2/<endpoint>`` and return the parsed JSON answer (``None`` for ``null``/empty)."""
        method = method or ENDPOINT_METHODS.get(endpoint)
        if method is None:
            method = "POST" if body is not None else "GET"
        if method == "POST" and body is None and endpoint in _BODY_ENDPOINTS:
            body = {}
        url = self.url_for(endpoint, query)
        headers = {"Accept": "application/json"}
        if self.__token:
            headers["Authorization"] = f"Bearer {self.__token}"
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif method == "POST":
            data = b""

        replayable = endpoint not in NOT_REPLAYABLE
        retry_statuses = RETRY_STATUSES if replayable else _SAFE_RETRY_STATUSES
        attempt = 0
        while True:
            self.calls[endpoint] += 1
            retry_after: float | None = None
            try:
                resp = self._transport(method, url, headers, data, self.timeout)
            except HTTPError as exc:
                err_body = _read_error_body(exc)
                error = error_for_status(exc.code, err_body, endpoint=endpoint, reason=str(exc.reason))
                if exc.code not in retry_statuses:
                    raise error from None
                retry_after = _parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, TLS, resets
                error = GarageConnectionError(
                    f"Cannot reach Garage admin API at {self.admin_url}: {_describe_conn_error(exc)}",
                    endpoint=endpoint,
                )
                if not replayable and not _never_delivered(exc):
                    raise error from None
            else:
                if resp.status >= 400:
                    error = error_for_status(resp.status, resp.body, endpoint=endpoint)
                    if resp.status not in retry_statuses:
                        raise error
                    retry_after = _parse_retry_after(resp.headers.get("retry-after"))
                else:
                    return _parse_json(resp.body, endpoint, resp.status)

            if attempt >= self.retries:
                raise error
            wait = self._backoff(attempt, retry_after)
            attempt += 1
            if self.on_retry is not None:
                what = f"HTTP {error.status}" if error.status else "connection error"
                self.on_retry(
                    f"Garage admin API {endpoint}: {what} ({error.message}); "
                    f"retry {attempt}/{self.retries} in {wait:.1f}s"
                )
            self.sleep(wait)

    # ------------------------------------------------------------------ cluster

    def get_cluster_status(self) -> JSON:
        return self.call("GetClusterStatus")

    def get_cluster_health(self) -> JSON:
        return self.call("GetClusterHealth")

    def get_cluster_statistics(self) -> JSON:
        return self.call("GetClusterStatistics")

    def connect_cluster_nodes(self, nodes: t.Sequence[str]) -> JSON:
        """``nodes``: ``["<64hex>@host:port", ...]``; answers ``[{success, error}]`` in order."""
        return self.call("ConnectClusterNodes", body=list(nodes))

    def get_node_info(self, node: str = "*") -> JSON:
        return self.call("GetNodeInfo", query={"node": node})

    def get_node_statistics(self, node: str = "*") -> JSON:
        return self.call("GetNodeStatistics", query={"node": node})

    def get_cluster_layout(self) -> JSON:
        return self.call("GetClusterLayout")

    def get_cluster_layout_history(self) -> JSON:
        return self.call("GetClusterLayoutHistory")

    def update_cluster_layout(
        self, roles: t.Sequence[t.Mapping[str, t.Any]] | None = None, parameters: t.Mapping[str, t.Any] | None = None
    ) -> JSON:
        body: dict[str, t.Any] = {}
        if roles is not None:
            body["roles"] = list(roles)
        if parameters is not None:
            body["parameters"] = dict(parameters)
        return self.call("UpdateClusterLayout", body=body)

    def preview_cluster_layout_changes(self) -> JSON:
        return self.call("PreviewClusterLayoutChanges")

    def apply_cluster_layout(self, version: int) -> JSON:
        """``version`` must be the current layout version + 1 (Garage answers 500 otherwise)."""
        return self.call("ApplyClusterLayout", body={"version": int(version)})

    def revert_cluster_layout(self) -> JSON:
        return self.call("RevertClusterLayout")

    # ------------------------------------------------------------------ buckets

    def list_buckets(self) -> JSON:
        return self.call("ListBuckets")

    def get_bucket_info(
        self, *, id: str | None = None, global_alias: str | None = None, search: str | None = None
    ) -> JSON:
        query = _exactly_one("GetBucketInfo", id=id, globalAlias=global_alias, search=search)
        return self.call("GetBucketInfo", query=query)

    def create_bucket(self, body: t.Mapping[str, t.Any] | None = None) -> JSON:
        return self.call("CreateBucket", body=dict(body or {}))

    def update_bucket(self, id: str, body: t.Mapping[str, t.Any]) -> JSON:
        return self.call("UpdateBucket", query={"id": id}, body=dict(body))

    def delete_bucket(self, id: str) -> JSON:
        return self.call("DeleteBucket", query={"id": id})

    def add_bucket_alias(self, body: t.Mapping[str, t.Any]) -> JSON:
        """``{bucketId, globalAlias}`` or ``{bucketId, localAlias, accessKeyId}``."""
        return self.call("AddBucketAlias", body=dict(body))

    def remove_bucket_alias(self, body: t.Mapping[str, t.Any]) -> JSON:
        return self.call("RemoveBucketAlias", body=dict(body))

    def allow_bucket_key(self, bucket_id: str, access_key_id: str, permissions: t.Mapping[str, bool]) -> JSON:
        """Sets the flags that are true in ``permissions``; others stay unchanged."""
        body = {"bucketId": bucket_id, "accessKeyId": access_key_id, "permissions": dict(permissions)}
        return self.call("AllowBucketKey", body=body)

    def deny_bucket_key(self, bucket_id: str, access_key_id: str, permissions: t.Mapping[str, bool]) -> JSON:
        """Clears the flags that are true in ``permissions``; others stay unchanged."""
        body = {"bucketId": bucket_id, "accessKeyId": access_key_id, "permissions": dict(permissions)}
        return self.call("DenyBucketKey", body=body)

    # ------------------------------------------------------------------ keys

    def list_keys(self) -> JSON:
        return self.call("ListKeys")

    def get_key_info(self, *, id: str | None = None, search: str | None = None, show_secret: bool = False) -> JSON:
        query: dict[str, t.Any] = _exactly_one("GetKeyInfo", id=id, search=search)
        if show_secret:
            query["showSecretKey"] = True
        return self.call("GetKeyInfo", query=query)

    def create_key(self, body: t.Mapping[str, t.Any] | None = None) -> JSON:
        return self.call("CreateKey", body=dict(body or {}))

    def import_key(self, body: t.Mapping[str, t.Any]) -> JSON:
        return self.call("ImportKey", body=dict(body))

    def update_key(self, id: str, body: t.Mapping[str, t.Any]) -> JSON:
        return self.call("UpdateKey", query={"id": id}, body=dict(body))

    def delete_key(self, id: str) -> JSON:
        return self.call("DeleteKey", query={"id": id})

    # ------------------------------------------------------------------ admin tokens

    def list_admin_tokens(self) -> JSON:
        return self.call("ListAdminTokens")

    def get_admin_token_info(self, *, id: str | None = None, search: str | None = None) -> JSON:
        return self.call("GetAdminTokenInfo", query=_exactly_one("GetAdminTokenInfo", id=id, search=search))

    def get_current_admin_token_info(self) -> JSON:
        """The token used for this call. Garage >= 2.1 only: v2.0.0 answers 400 Unknown API endpoint."""
        return self.call("GetCurrentAdminTokenInfo")

    def create_admin_token(self, body: t.Mapping[str, t.Any] | None = None) -> JSON:
        return self.call("CreateAdminToken", body=dict(body or {}))

    def update_admin_token(self, id: str, body: t.Mapping[str, t.Any]) -> JSON:
        return self.call("UpdateAdminToken", query={"id": id}, body=dict(body))

    def delete_admin_token(self, id: str) -> JSON:
        return self.call("DeleteAdminToken", query={"id": id})


# --------------------------------------------------------------------------- helpers


def _exactly_one(endpoint: str, **candidates: str | None) -> dict[str, t.Any]:
    given = {k: v for k, v in candidates.items() if v is not None and v != ""}
    if len(given) != 1:
        raise ValueError(f"{endpoint} needs exactly one of {', '.join(candidates)}")
    return given


def _encode_query(query: Query | None) -> list[tuple[str, str]]:
    if not query:
        return []
    params: list[tuple[str, str]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params.append((key, "true" if value else "false"))
        else:
            params.append((key, str(value)))
    return params


def _parse_json(body: bytes, endpoint: str, status: int) -> JSON:
    if not body or not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise GarageError(
            f"Garage answered with invalid JSON: {body[:200]!r}", status=status, endpoint=endpoint
        ) from None


def _read_error_body(exc: HTTPError) -> bytes:
    try:
        data = exc.read()
    except (OSError, ValueError, http.client.HTTPException):
        return b""
    return data if isinstance(data, bytes) else b""


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value.strip())
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _never_delivered(exc: BaseException) -> bool:
    """True when the request cannot have reached Garage (refused connection, unresolvable name)."""
    if isinstance(exc, URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    return isinstance(exc, (ConnectionRefusedError, socket.gaierror))


def _describe_conn_error(exc: BaseException) -> str:
    """A short, token-free description of a transport failure."""
    if isinstance(exc, URLError) and not isinstance(exc, HTTPError):
        reason = exc.reason
        if not isinstance(reason, BaseException):
            return str(reason)
        exc = reason
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__


#: Short alias.
GarageClient = GarageAdminClient
