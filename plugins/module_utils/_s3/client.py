# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The boto3 S3 client for Garage's S3 API. No Ansible here.

boto3 is imported lazily and guarded (importing it costs ~0.2 s, which Admin API modules, whose
option groups import this file, must not pay): :func:`boto3_import_error` returns ``None`` when
boto3 can be imported, else the traceback to show (the S3 option group turns that into
``missing_required_lib('boto3')``).

Settings that work on Garage 2.x:

- path-style addressing (Garage serves virtual-host style only with ``root_domain`` set);
- region ``garage`` by default (must match Garage's ``s3_region``; SigV4 signs with it);
- ``request_checksum_calculation`` / ``response_checksum_validation`` = ``when_required``:
  botocore >= 1.36 otherwise sends CRC checksums on every upload, which Garage accepts only
  partly; older botocore does not know the settings and does not need them;
- standard retry mode, bounded attempts;
- a connection pool large enough for the worker threads of :mod:`.batch` and :mod:`.transfer`
  (boto3 clients are thread-safe; the pool is what bounds real parallelism);
- timestamps in responses are kept as the strings the server sent (``LastModified``:
  ``2025-06-14T12:00:00.123Z`` in listings, an HTTP date in HEAD/GET): parsing every
  ``LastModified`` of a listing with dateutil costs more CPU than the rest of the parse, and
  every caller here only reports or compares them.
"""

from __future__ import annotations

import importlib
import traceback
import typing as t

DEFAULT_S3_URL = "http://127.0.0.1:3900"
DEFAULT_REGION = "garage"
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_MAX_POOL_CONNECTIONS = 32
DEFAULT_CONNECT_TIMEOUT = 10
#: DeleteObjects of 1000 keys is processed key by key by Garage: give it time.
DEFAULT_READ_TIMEOUT = 120


def boto3_import_error() -> str | None:
    """``None`` when boto3 and botocore import, else the import traceback."""
    try:
        importlib.import_module("boto3")
        importlib.import_module("botocore.config")
    except ImportError:
        return traceback.format_exc()
    return None


def client_config(
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    user_agent: str = "cellar.garage",
    max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> t.Any:
    """The botocore ``Config`` for Garage (see the module docstring)."""
    from botocore.config import Config

    base: dict[str, t.Any] = {
        "s3": {"addressing_style": "path"},
        # total_max_attempts counts the first request too (botocore's max_attempts would not).
        "retries": {"mode": "standard", "total_max_attempts": max(1, int(max_attempts))},
        "user_agent_extra": user_agent,
        "signature_version": "s3v4",
        "max_pool_connections": max(1, int(max_pool_connections)),
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
    }
    try:
        return Config(
            **base,
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    except TypeError:  # pragma: no cover - botocore < 1.36 has neither setting (nor the new default)
        return Config(**base)


def s3_client(
    *,
    endpoint_url: str,
    access_key_id: str,
    secret_access_key: str,
    region: str = DEFAULT_REGION,
    validate_certs: bool = True,
    ca_path: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    user_agent: str = "cellar.garage",
    max_pool_connections: int = DEFAULT_MAX_POOL_CONNECTIONS,
) -> t.Any:
    """A boto3 S3 client for a Garage S3 endpoint (boto3 must be importable)."""
    import boto3

    verify: bool | str = (ca_path or True) if validate_certs else False
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    keep_timestamps_as_text(session)
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        verify=verify,
        config=client_config(
            max_attempts=max_attempts, user_agent=user_agent, max_pool_connections=max_pool_connections
        ),
    )


def keep_timestamps_as_text(session: t.Any) -> None:
    """Make the clients of a boto3 ``session`` return timestamps as the server's strings."""
    try:
        factory = session._session.get_component("response_parser_factory")
        factory.set_parser_defaults(timestamp_parser=_keep_text)
    except (AttributeError, KeyError):  # pragma: no cover - an unknown botocore: keep its datetimes
        pass


def _keep_text(value: str) -> str:
    return value


def unsigned_payload_with_md5(client: t.Any) -> t.Any:
    """Let ``client`` send ``UNSIGNED-PAYLOAD`` instead of hashing the body for the signature
    when the request carries ``Content-MD5`` (``PutObject``/``UploadPart`` with ``send_md5``).

    Over plain HTTP botocore otherwise reads and sha256-hashes every body once more just to sign
    it. Garage checks the body against the (signed) ``Content-MD5`` header and refuses a mismatch,
    so the integrity check stays; it is what botocore itself does over HTTPS when a checksum is
    present. Registered once per client; returns ``client``. No effect on a test double.
    """
    try:
        from botocore.client import BaseClient
        from botocore.config import Config
    except ImportError:  # pragma: no cover
        return client
    if not isinstance(client, BaseClient) or getattr(client, "_cellar_unsigned_md5", False):
        return client
    events = client.meta.events
    base = client.meta.config
    patched = base.merge(Config(s3={**(base.s3 or {}), "payload_signing_enabled": False}))

    def unsigned(request: t.Any, **_kwargs: t.Any) -> None:
        if "Content-MD5" in request.headers:
            request.context["client_config"] = patched

    for operation in ("PutObject", "UploadPart"):
        events.register(f"before-sign.s3.{operation}", unsigned)
    client._cellar_unsigned_md5 = True
    return client


def http_session(client: t.Any) -> t.Any | None:
    """The HTTP session (``botocore.httpsession.URLLib3Session``) a real boto3 client sends with.

    It carries the client's TLS settings (``verify``), proxies and connection pool, so requests
    signed by the client (presigned URLs) and sent through it behave exactly like the client's
    own. ``None`` for anything that is not a real botocore client (a test double), which then
    gets the plain botocore path of each operation.
    """
    try:
        from botocore.client import BaseClient
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(client, BaseClient):
        return None
    endpoint = getattr(client, "_endpoint", None)
    session = getattr(endpoint, "http_session", None)
    return session if session is not None and hasattr(session, "send") else None
