# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""A small OpenBao (and Vault-compatible) HTTP API client on the shared transport (``_http``).

No Ansible here. What the collection needs, and nothing more:

- KV version 2: read (latest or a given version), write with check-and-set, soft delete of the
  latest or given versions, destroy, metadata read and delete;
- AppRole login (the token it returns replaces the client's token);
- token self-lookup (to check a token before using it).

Errors are :class:`OpenBaoError` s (part of the :class:`OperationError` family) with a
``failure_reason``: ``access_denied`` (403: bad or expired token, or a policy that does not
allow the path), ``not_found``, ``cas_mismatch`` (the secret changed since it was read),
``cas_required`` (the mount or secret demands check-and-set), ``sealed`` (503), and the generic
HTTP and connection reasons of ``_http``.

Replay policy: reads, deletes and destroys are replayable; writes and logins are not (a
check-and-set write that landed would fail as a mismatch when repeated, and a login may consume
a use of a limited SecretID).

The token never appears in exception text, ``repr()`` or retry messages.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import CREDENTIALS_INVALID
from ansible_collections.cellar.garage.plugins.module_utils._http import (
    JSON,
    HttpClient,
    HttpConnectionError,
    HttpError,
    parse_error_body,
    path_quote,
)

DEFAULT_TIMEOUT = 30
DEFAULT_RETRIES = 3
CAS_MISMATCH = "cas_mismatch"
CAS_REQUIRED = "cas_required"
SEALED = "sealed"


# --------------------------------------------------------------------------- errors


class OpenBaoError(HttpError):
    """An OpenBao call failed. ``errors`` holds OpenBao's error strings."""

    errors: list[str] = []

    def result_details(self) -> dict[str, t.Any]:
        return {"status": self.status}


class OpenBaoBadRequest(OpenBaoError):
    """HTTP 400."""


class OpenBaoPermissionDenied(OpenBaoError):
    """HTTP 403: missing, invalid or expired token, or a policy that denies the path."""


class OpenBaoNotFound(OpenBaoError):
    """HTTP 404."""


class OpenBaoCasMismatch(OpenBaoBadRequest):
    """A check-and-set write whose ``cas`` is not the secret's current version."""

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return CAS_MISMATCH


class OpenBaoCasRequired(OpenBaoBadRequest):
    """The mount or the secret requires check-and-set, and the write gave no ``cas``."""

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return CAS_REQUIRED


class OpenBaoSealed(OpenBaoError):
    """HTTP 503: OpenBao is sealed (or in standby without forwarding)."""

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return SEALED


class OpenBaoServerError(OpenBaoError):
    """Other HTTP 5xx."""


class OpenBaoConnectionError(HttpConnectionError, OpenBaoError):
    """No HTTP answer (``failure_reason`` ``connection_failed`` or ``outcome_unknown``)."""


class OpenBaoLoginError(OpenBaoError):
    """A login was refused or answered without a token."""

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return CREDENTIALS_INVALID


_MULTI_ERROR_RE = re.compile(r"^\s*\d+ errors? occurred:\s*(.*)$", re.S)


def _flatten_error(text: str) -> list[str]:
    """OpenBao wraps errors as ``"1 error occurred:\\n\\t* permission denied\\n\\n"``: keep the items."""
    match = _MULTI_ERROR_RE.match(text)
    if match is None:
        return [text.strip()]
    items = [line.strip().lstrip("*").strip() for line in match.group(1).splitlines()]
    return [item for item in items if item] or [text.strip()]


def error_for_status(status: int, body: bytes | str | None, *, name: str, reason: str | None = None) -> OpenBaoError:
    """The typed error of an OpenBao error answer (``{"errors": ["..."]}``)."""
    data = parse_error_body(body)
    raw = data.get("errors")
    errors = [item for e in raw for item in _flatten_error(str(e))] if isinstance(raw, list) else []
    if not errors and isinstance(data.get("message"), str) and data["message"]:
        errors = [data["message"]]
    message = "; ".join(errors) or reason or f"HTTP {status}"
    lowered = message.lower()
    cls: type[OpenBaoError]
    if status == 400 and "check-and-set" in lowered and "required" in lowered:
        cls = OpenBaoCasRequired
    elif status == 400 and "check-and-set" in lowered:
        cls = OpenBaoCasMismatch
    elif status == 400:
        cls = OpenBaoBadRequest
    elif status in (401, 403):
        cls = OpenBaoPermissionDenied
    elif status == 404:
        cls = OpenBaoNotFound
    elif status == 503:
        cls = OpenBaoSealed
    elif status >= 500:
        cls = OpenBaoServerError
    else:
        cls = OpenBaoError
    error = cls(message, status=status, endpoint=name)
    error.errors = errors
    return error


# --------------------------------------------------------------------------- values


@dataclasses.dataclass(frozen=True)
class KvVersion:
    """Metadata of one version of a KV v2 secret."""

    version: int
    created_time: str | None = None
    deletion_time: str | None = None
    destroyed: bool = False

    @classmethod
    def from_api(cls, data: t.Mapping[str, t.Any], version: int | None = None) -> KvVersion:
        return cls(
            version=int(data.get("version") or 0) if version is None else version,
            created_time=data.get("created_time") or None,
            deletion_time=data.get("deletion_time") or None,
            destroyed=bool(data.get("destroyed", False)),
        )


@dataclasses.dataclass(frozen=True)
class KvSecret:
    """A KV v2 secret version that can be read (not deleted, not destroyed)."""

    data: dict[str, t.Any]
    version: KvVersion
    custom_metadata: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KvMetadata:
    """The metadata of a KV v2 secret (all versions)."""

    current_version: int
    oldest_version: int
    max_versions: int
    cas_required: bool
    versions: dict[int, KvVersion]
    custom_metadata: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_api(cls, data: t.Mapping[str, t.Any]) -> KvMetadata:
        versions = {int(k): KvVersion.from_api(v, int(k)) for k, v in (data.get("versions") or {}).items()}
        return cls(
            current_version=int(data.get("current_version") or 0),
            oldest_version=int(data.get("oldest_version") or 0),
            max_versions=int(data.get("max_versions") or 0),
            cas_required=bool(data.get("cas_required", False)),
            versions=versions,
            custom_metadata=dict(data.get("custom_metadata") or {}),
        )


# --------------------------------------------------------------------------- client


def _kv_path(mount: str, kind: str, path: str) -> str:
    mount, path = mount.strip("/"), path.strip("/")
    if not mount or not path:
        raise ValueError("a KV mount and a secret path are required")
    return f"/v1/{path_quote(mount)}/{kind}/{path_quote(path)}"


class OpenBaoClient(HttpClient):
    """OpenBao HTTP API client (``/v1/...``, ``X-Vault-Token``).

    :param url: OpenBao's address, e.g. ``https://bao.example:8200``.
    :param token: client token (kept private); may be set later by :meth:`approle_login`.
    :param namespace: sent as ``X-Vault-Namespace`` when set.
    Keyword arguments: see :class:`HttpClient`.
    """

    service = "OpenBao"
    server = "OpenBao"
    error_class = OpenBaoError
    connection_error_class = OpenBaoConnectionError

    def __init__(self, url: str, token: str | None = None, *, namespace: str | None = None, **kwargs: t.Any) -> None:
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        kwargs.setdefault("retries", DEFAULT_RETRIES)
        super().__init__(url, token, **kwargs)
        self.namespace = namespace

    def auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        token = self._token()
        if token:
            headers["X-Vault-Token"] = token
        if self.namespace:
            headers["X-Vault-Namespace"] = self.namespace
        return headers

    def error_for_status(self, status: int, body: bytes, *, name: str, reason: str | None = None) -> HttpError:
        return error_for_status(status, body, name=name, reason=reason)

    # ------------------------------------------------------------------ auth

    def approle_login(self, role_id: str, secret_id: str | None = None, *, mount: str = "approle") -> str:
        """Log in with AppRole; the returned client token becomes this client's token."""
        body: dict[str, str] = {"role_id": role_id}
        if secret_id is not None:
            body["secret_id"] = secret_id
        try:
            answer = self.request(
                "POST", f"/v1/auth/{path_quote(mount.strip('/'))}/login", name="approle login", body=body,
                replayable=False,
            )
        except (OpenBaoBadRequest, OpenBaoPermissionDenied) as exc:
            # 400 "invalid role or secret ID", 403: the credentials are wrong, not the request.
            raise OpenBaoLoginError(
                f"OpenBao refused the AppRole login at auth/{mount.strip('/')}: {exc.message}; check role_id and "
                "secret_id",
                status=exc.status,
                endpoint="approle login",
            ) from None
        token = ((answer or {}).get("auth") or {}).get("client_token")
        if not isinstance(token, str) or not token:
            raise OpenBaoLoginError(
                "OpenBao answered the AppRole login without a client token", endpoint="approle login"
            )
        self.set_token(token)
        return token

    def lookup_self(self) -> JSON:
        """``auth/token/lookup-self``: the token's ``data`` (policies, ttl, ...)."""
        answer = self.request("GET", "/v1/auth/token/lookup-self", name="token lookup-self")
        return (answer or {}).get("data") or {}

    # ------------------------------------------------------------------ KV v2

    def kv_read(self, mount: str, path: str, *, version: int | None = None) -> KvSecret | None:
        """The secret's latest (or given) version; ``None`` when it does not exist, or that version
        is deleted or destroyed."""
        try:
            answer = self.request(
                "GET", _kv_path(mount, "data", path), name="kv read", query={"version": version}
            )
        except OpenBaoNotFound:
            return None
        payload = (answer or {}).get("data") or {}
        meta = payload.get("metadata") or {}
        if payload.get("data") is None:
            return None
        return KvSecret(
            data=dict(payload["data"]),
            version=KvVersion.from_api(meta),
            custom_metadata=dict(meta.get("custom_metadata") or {}),
        )

    def kv_write(self, mount: str, path: str, data: t.Mapping[str, t.Any], *, cas: int | None = None) -> KvVersion:
        """Write a new version. ``cas=0``: only if the secret does not exist; ``cas=n``: only if the
        current version is ``n`` (else :class:`OpenBaoCasMismatch`)."""
        body: dict[str, t.Any] = {"data": dict(data)}
        if cas is not None:
            body["options"] = {"cas": int(cas)}
        answer = self.request("POST", _kv_path(mount, "data", path), name="kv write", body=body, replayable=False)
        return KvVersion.from_api((answer or {}).get("data") or {})

    def kv_delete(self, mount: str, path: str, *, versions: t.Sequence[int] | None = None) -> None:
        """Soft-delete the latest version (or the given ones); they can be undeleted."""
        if versions:
            self.request(
                "POST", _kv_path(mount, "delete", path), name="kv delete", body={"versions": [int(v) for v in versions]}
            )
        else:
            self.request("DELETE", _kv_path(mount, "data", path), name="kv delete")

    def kv_destroy(self, mount: str, path: str, versions: t.Sequence[int]) -> None:
        """Permanently remove the data of the given versions."""
        self.request(
            "POST", _kv_path(mount, "destroy", path), name="kv destroy", body={"versions": [int(v) for v in versions]}
        )

    def kv_metadata(self, mount: str, path: str) -> KvMetadata | None:
        """The secret's metadata, or ``None`` when it has none (never written or fully deleted)."""
        try:
            answer = self.request("GET", _kv_path(mount, "metadata", path), name="kv metadata")
        except OpenBaoNotFound:
            return None
        return KvMetadata.from_api((answer or {}).get("data") or {})

    def kv_delete_metadata(self, mount: str, path: str) -> None:
        """Delete the secret entirely: metadata and every version."""
        self.request("DELETE", _kv_path(mount, "metadata", path), name="kv delete metadata")
