# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._tenant`.

from __future__ import annotations


class ModuleDocFragment:
    # The options shared by the tenant orchestrations (garage_customer_bucket, garage_customer_key,
    # garage_key_rotation); argspec: TENANT_OPTIONS in plugins/module_utils/_tenants/glue.py.
    DOCUMENTATION = r"""
options:
  s3_url:
    description:
      - Garage's S3 endpoint, used to prove that a new key works (O(verify_new_key)).
      - If not set, the E(GARAGE_S3_URL) environment variable is used.
      - TLS uses O(validate_certs) and O(ca_path).
    type: str
    default: http://127.0.0.1:3900
  region:
    description:
      - S3 region of the Garage cluster (its C(s3_region)); S3 requests are signed with it.
      - If not set, the E(GARAGE_S3_REGION) environment variable is used.
    type: str
    default: garage
  verify_new_key:
    description:
      - Prove that a key this run creates works before reporting success (and before storing it in
        OpenBao), with a signed S3 C(HeadBucket) request on the bucket's local alias. A key that does
        not work is rolled back like any other failed step.
      - Needs the C(boto3) Python library on the host the module runs on.
    type: bool
    default: true
  openbao_path:
    description:
      - Path (in O(openbao_mount)) of an OpenBao KV version 2 secret to hand the key's credentials to,
        as the fields C(access_key_id), C(secret_access_key), C(bucket_id), C(bucket) (the local alias) and
        C(key_name).
      - The secret is written after the key is proven to work and before the task reports success; if the
        write fails, the key is rolled back. Later runs write it again only when it differs.
      - When set, the secret key is not returned. The OpenBao connection options (O(url), O(token), ...) are
        then used, and only then.
    type: str
  openbao_mount:
    description:
      - Path of the KV version 2 secrets engine of O(openbao_path).
    type: str
    default: secret
"""
