# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. This module_util is internal to the
# cellar.garage collection; do not import it from other collections.

"""Typed client for Garage's Admin API v2 (``/v2/<Endpoint>``, bearer token, JSON).

No Ansible module machinery here: the client knows a base URL, a token, a timeout and TLS
settings, returns parsed JSON and raises :class:`GarageError` subclasses (part of the
collection's :class:`OperationError` family, each with a ``failure_reason``). Transport,
retries and the replay policy come from :class:`HttpClient` (``_http.py``); this file adds
Garage's endpoint table (method, body, replayable), Garage's error bodies and token handling.

The bearer token never appears in exception text, ``repr()`` or retry messages.
"""

from __future__ import annotations

import os
import stat
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import CREDENTIALS_INVALID
from ansible_collections.cellar.garage.plugins.module_utils._http import (
    BACKOFF_BASE,
    JSON,
    MAX_RETRY_WAIT,
    HttpClient,
    HttpConnectionError,
    HttpError,
    Query,
    Response,
    parse_error_body,
)

DEFAULT_ADMIN_URL = "http://127.0.0.1:3903"
DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 3


class Endpoint(t.NamedTuple):
    """How to call one Admin API endpoint."""

    #: HTTP method (Garage routes each endpoint on exactly one method).
    method: str
    #: POST endpoints that take a JSON body: Garage answers 400 "Invalid JSON" to an empty one,
    #: so the client sends at least ``{}``. The others are sent with an empty body.
    body: bool = False
    #: Whether repeating the call once it may have reached Garage is harmless. A second
    #: CreateKey makes a second key, a second ApplyClusterLayout answers "Invalid new layout
    #: version", a second Delete*/ImportKey/RemoveBucketAlias answers 404/409/500 for work that
    #: was done: those are retried only when Garage cannot have acted (connection refused, name
    #: not resolved, or Garage itself answered 429/503).
    replayable: bool = True


_GET = Endpoint("GET")
_POST = Endpoint("POST")
_POST_BODY = Endpoint("POST", body=True)

#: The one endpoint table of the client.
ENDPOINTS: dict[str, Endpoint] = {
    # cluster
    "GetClusterStatus": _GET,
    "GetClusterHealth": _GET,
    "GetClusterStatistics": _GET,
    "ConnectClusterNodes": _POST_BODY,
    "GetNodeInfo": _GET,
    "GetNodeStatistics": _GET,
    "GetClusterLayout": _GET,
    "GetClusterLayoutHistory": _GET,
    "UpdateClusterLayout": _POST_BODY,
    "PreviewClusterLayoutChanges": _POST,
    "ApplyClusterLayout": Endpoint("POST", body=True, replayable=False),
    "RevertClusterLayout": _POST,
    "ClusterLayoutSkipDeadNodes": _POST_BODY,
    # admin tokens
    "ListAdminTokens": _GET,
    "GetAdminTokenInfo": _GET,
    "GetCurrentAdminTokenInfo": _GET,
    "CreateAdminToken": Endpoint("POST", body=True, replayable=False),
    "UpdateAdminToken": _POST_BODY,
    "DeleteAdminToken": Endpoint("POST", replayable=False),
    # keys
    "ListKeys": _GET,
    "GetKeyInfo": _GET,
    "CreateKey": Endpoint("POST", body=True, replayable=False),
    "ImportKey": Endpoint("POST", body=True, replayable=False),
    "UpdateKey": _POST_BODY,
    "DeleteKey": Endpoint("POST", replayable=False),
    # buckets
    "ListBuckets": _GET,
    "GetBucketInfo": _GET,
    "CreateBucket": Endpoint("POST", body=True, replayable=False),
    "UpdateBucket": _POST_BODY,
    "DeleteBucket": Endpoint("POST", replayable=False),
    "CleanupIncompleteUploads": _POST_BODY,
    "InspectObject": _GET,
    "AllowBucketKey": _POST_BODY,
    "DenyBucketKey": _POST_BODY,
    "AddBucketAlias": _POST_BODY,
    "RemoveBucketAlias": Endpoint("POST", body=True, replayable=False),
    # nodes / workers
    "CreateMetadataSnapshot": _POST,
    "LaunchRepairOperation": _POST_BODY,
    "ListWorkers": _POST_BODY,
    "GetWorkerInfo": _POST_BODY,
    "GetWorkerVariable": _POST_BODY,
    "SetWorkerVariable": _POST_BODY,
    "ListBlockErrors": _GET,
    "GetBlockInfo": _POST_BODY,
    "RetryBlockResync": _POST_BODY,
    "PurgeBlocks": _POST_BODY,
}

#: Endpoint names that are not replayable (derived from :data:`ENDPOINTS`).
NOT_REPLAYABLE = frozenset(name for name, ep in ENDPOINTS.items() if not ep.replayable)


# --------------------------------------------------------------------------- errors


class GarageError(HttpError):
    """An Admin API call failed. Never carries the bearer token.

    ``failure_reason`` defaults to the HTTP status's generic reason (``not_found``, ...);
    the result keys ``status`` and ``garage_code`` describe Garage's answer.
    """

    def result_details(self) -> dict[str, t.Any]:
        return {"status": self.status, "garage_code": self.code}


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


class GarageConnectionError(HttpConnectionError, GarageError):
    """The request never got an HTTP answer: refused, unreachable, timeout, TLS failure.

    ``failure_reason`` is ``outcome_unknown`` when the request may have landed (see ``_http``).
    """


_STATUS_ERRORS: dict[int, type[GarageError]] = {
    400: GarageBadRequest,
    403: GarageAccessDenied,
    404: GarageNotFound,
    409: GarageConflict,
}

#: Appended to a 403: Garage gives the same answer for a wrong token, an expired dynamic
#: token and a dynamic token whose scope lacks the endpoint.
ACCESS_DENIED_HINT = (
    "Garage gives this answer when the admin token is wrong, when a dynamic admin token has "
    "expired, or when its scope does not include {endpoint}"
)


def error_for_status(
    status: int, body: bytes | str | None, *, endpoint: str | None = None, reason: str | None = None
) -> GarageError:
    """Build the typed error for an HTTP error answer, parsing Garage's JSON error body."""
    code: str | None = None
    message: str | None = None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if text:
        data = parse_error_body(text)
        if isinstance(data.get("code"), str):
            code = data["code"]
        if isinstance(data.get("message"), str):
            message = data["message"]
        if message is None:
            message = text.strip()[:500] or None
    if message is None:
        message = reason or f"HTTP {status}"
    hint = ACCESS_DENIED_HINT.format(endpoint=endpoint) if status == 403 and endpoint else None
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = GarageServerError if status >= 500 else GarageError
    return cls(message, status=status, code=code, endpoint=endpoint, hint=hint)


# --------------------------------------------------------------------------- token resolution


class GarageTokenError(GarageError):
    """The admin token could not be resolved (missing, unreadable or unsafe token file)."""

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return CREDENTIALS_INVALID


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


class GarageAdminClient(HttpClient):
    """Admin API v2 client.

    :param admin_url: base URL, e.g. ``http://127.0.0.1:3903`` (a trailing ``/`` or ``/v2`` is tolerated).
    :param token: bearer token (kept private; never logged or shown).
    Keyword arguments: see :class:`HttpClient` (timeout, retries, validate_certs, ca_path, hooks).
    """

    service = "Garage admin API"
    server = "Garage"
    error_class = GarageError
    connection_error_class = GarageConnectionError

    def __init__(self, admin_url: str = DEFAULT_ADMIN_URL, token: str | None = None, **kwargs: t.Any) -> None:
        base = (admin_url or DEFAULT_ADMIN_URL).rstrip("/")
        if base.endswith("/v2"):
            base = base[: -len("/v2")]
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("retries", DEFAULT_RETRIES)
        super().__init__(base, token, **kwargs)

    @property
    def admin_url(self) -> str:
        return self.base_url

    def token_id(self) -> str | None:
        """The id of the dynamic admin token this client uses (``<id>.<secret>``), else None."""
        token = self._token() or ""
        prefix, dot, _secret = token.partition(".")
        return prefix if dot and len(prefix) == 24 and all(c in "0123456789abcdef" for c in prefix) else None

    def error_for_status(self, status: int, body: bytes, *, name: str, reason: str | None = None) -> HttpError:
        return error_for_status(status, body, endpoint=name, reason=reason)

    # ------------------------------------------------------------------ core

    def call(
        self,
        endpoint: str,
        query: Query | None = None,
        body: JSON = None,
        *,
        method: str | None = None,
    ) -> JSON:
        """Call ``/v2/<endpoint>`` and return the parsed JSON answer (``None`` for ``null``/empty)."""
        spec = ENDPOINTS.get(endpoint)
        if method is None:
            method = spec.method if spec else ("POST" if body is not None else "GET")
        if method == "POST" and body is None and spec is not None and spec.body:
            body = {}
        return self.request(
            method,
            f"/v2/{endpoint}",
            name=endpoint,
            query=query,
            body=body,
            replayable=spec.replayable if spec else True,
            empty_body=method == "POST",
        )

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


__all__ = [
    "BACKOFF_BASE",
    "DEFAULT_ADMIN_URL",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENDPOINTS",
    "MAX_RETRY_WAIT",
    "NOT_REPLAYABLE",
    "Endpoint",
    "GarageAccessDenied",
    "GarageAdminClient",
    "GarageBadRequest",
    "GarageConflict",
    "GarageConnectionError",
    "GarageError",
    "GarageNotFound",
    "GarageServerError",
    "GarageTokenError",
    "Response",
    "error_for_status",
    "read_token_file",
    "resolve_admin_token",
]
