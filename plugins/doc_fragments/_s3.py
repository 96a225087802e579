# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._s3`.

from __future__ import annotations


class ModuleDocFragment:
    # The Garage S3 API connection options shared by every module of the `garage_s3`
    # action group (argspec: S3 in plugins/module_utils/_options.py).
    DOCUMENTATION = r"""
options:
  s3_url:
    description:
      - URL of Garage's S3 API endpoint (Garage's C([s3_api] api_bind_addr)), for example
        V(http://127.0.0.1:3900).
      - Must be an C(http://) or C(https://) URL with a host; anything else is refused before any call.
      - If not set, the value of the E(GARAGE_S3_URL) environment variable is used.
      - Buckets are addressed path-style (C(<s3_url>/<bucket>/<key>)), so no DNS setup is needed.
    type: str
    default: http://127.0.0.1:3900
  region:
    description:
      - The S3 region requests are signed for. It must equal Garage's C([s3_api] s3_region).
      - If not set, the value of the E(GARAGE_S3_REGION) environment variable is used.
    type: str
    default: garage
  access_key_id:
    description:
      - Id of the Garage access key (C(GK...)) the module authenticates with.
      - If not set, the E(GARAGE_S3_ACCESS_KEY_ID) environment variable is used, then E(AWS_ACCESS_KEY_ID).
    type: str
  secret_access_key:
    description:
      - Secret of that access key.
      - If not set, the E(GARAGE_S3_SECRET_ACCESS_KEY) environment variable is used, then
        E(AWS_SECRET_ACCESS_KEY).
      - Never logged, returned or shown in error messages.
    type: str
  validate_certs:
    description:
      - Whether to validate the TLS certificate when the endpoint uses C(https).
      - A module that also talks to another service uses the same value for it.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of CA certificates used to validate the endpoint's TLS certificate.
      - A module that also talks to another service uses the same file for it.
    type: path
requirements:
  - boto3 (on the host the module runs on)
notes:
  - The S3 connection options can be set once for all S3 modules of the collection with
    C(module_defaults) and the action group C(group/cellar.garage.garage_s3).
  - Requests use path-style addressing, and upload checksums only where S3 requires them,
    settings that work with Garage 2.x.
"""
