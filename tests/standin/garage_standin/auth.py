"""Admin API authentication (garage-facts.md §1.2).

Static tokens (config ``admin_token`` / ``metrics_token``) are dotless; dynamic
tokens are ``<24 hex>.<43 base64url>`` and only a hash of them is stored.
Garage uses argon2; the stand-in uses salted-free SHA-256 (test infrastructure,
never a product feature). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import secrets
import time

from .state import AdminToken, Store

MSG_NO_HEADER = "Forbidden: Bearer token must be provided in Authorization header"
MSG_BAD_HEADER = "Forbidden: Invalid Authorization header"
MSG_BAD_TOKEN = "Forbidden: Invalid bearer token"


class HeaderError(Exception):
    """The Authorization header is not visible ASCII (hyper's ``to_str`` fails)."""


class AuthError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass
class AuthResult:
    kind: str  # "none" | "admin_token" | "metrics_token" | "dynamic"
    token_id: str | None = None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_dynamic_token() -> tuple[str, str]:
    """Return (id, full secret token)."""
    prefix = secrets.token_hex(12)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii").rstrip("=")
    return prefix, f"{prefix}.{secret}"


def _eq(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def check(
    store: Store,
    endpoint: str,
    header: str | None,
    *,
    admin_token: str | None,
    metrics_token: str | None,
    metrics_require_token: bool,
) -> AuthResult:
    """Authenticate a request to ``endpoint`` (an endpoint name). Raise AuthError."""
    if endpoint in ("Options", "Health", "CheckDomain"):
        return AuthResult("none")
    if endpoint == "Metrics" and metrics_token is None and not metrics_require_token:
        return AuthResult("none")
    if header is None:
        raise AuthError(MSG_NO_HEADER)
    if any(not (" " <= ch <= "~" or ch == "\t") for ch in header):
        raise HeaderError("failed to parse header value")
    if not header.startswith("Bearer "):
        raise AuthError(MSG_BAD_HEADER)
    token = header[len("Bearer ") :].strip()
    if "." in token:
        prefix = token.split(".", 1)[0]
        with store.lock:
            tok: AdminToken | None = store.admin_tokens.get(prefix)
            if tok is None or tok.deleted or tok.expired(time.time()):
                raise AuthError(MSG_BAD_TOKEN)
            if "*" not in tok.scope and endpoint not in tok.scope:
                raise AuthError(MSG_BAD_TOKEN)
            if not _eq(tok.secret_hash, hash_token(token)):
                raise AuthError(MSG_BAD_TOKEN)
        return AuthResult("dynamic", prefix)
    static = metrics_token if endpoint == "Metrics" else admin_token
    if static is None or not _eq(static, token):
        raise AuthError(MSG_BAD_TOKEN)
    return AuthResult("metrics_token" if endpoint == "Metrics" else "admin_token")
