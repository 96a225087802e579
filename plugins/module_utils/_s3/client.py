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
- standard retry mode, bounded attempts.
"""

from __future__ import annotations

import importlib
import traceback
import typing as t

DEFAULT_S3_URL = "http://127.0.0.1:3900"
DEFAULT_REGION = "garage"
DEFAULT_MAX_ATTEMPTS = 3


def boto3_import_error() -> str | None:
    """``None`` when boto3 and botocore import, else the import traceback."""
    try:
        importlib.import_module("boto3")
        importlib.import_module("botocore.config")
    except ImportError:
        return traceback.format_exc()
    return None


def client_config(*, max_attempts: int = DEFAULT_MAX_ATTEMPTS, user_agent: str = "cellar.garage") -> t.Any:
    """The botocore ``Config`` for Garage (see the module docstring)."""
    from botocore.config import Config

    base: dict[str, t.Any] = {
        "s3": {"addressing_style": "path"},
        "retries": {"mode": "standard", "max_attempts": max(1, int(max_attempts))},
        "user_agent_extra": user_agent,
        "signature_version": "s3v4",
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
) -> t.Any:
    """A boto3 S3 client for a Garage S3 endpoint (boto3 must be importable)."""
    import boto3

    verify: bool | str = (ca_path or True) if validate_certs else False
    session = boto3.session.Session(
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        region_name=region,
    )
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        verify=verify,
        config=client_config(max_attempts=max_attempts, user_agent=user_agent),
    )
