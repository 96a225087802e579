# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._admin`.

from __future__ import annotations


class ModuleDocFragment:
    # The Garage Admin API connection options shared by every module of the
    # `garage` action group (argspec: ADMIN in plugins/module_utils/_options.py).
    DOCUMENTATION = r"""
options:
  admin_url:
    description:
      - Base URL of the Garage Admin API (Garage's C([admin] api_bind_addr)), without the C(/v2) suffix.
      - Must be an C(http://) or C(https://) URL with a host; anything else is refused before any call.
      - If not set, the value of the E(GARAGE_ADMIN_URL) environment variable is used.
    type: str
    default: http://127.0.0.1:3903
  admin_token:
    description:
      - Bearer token for the Admin API v2. Either the C(admin_token) of Garage's configuration or
        a dynamic admin token (C(<id>.<secret>)) whose scope covers the endpoints this module calls.
      - If neither O(admin_token) nor O(admin_token_file) is set, the E(GARAGE_ADMIN_TOKEN)
        environment variable is used, then the file named by E(GARAGE_ADMIN_TOKEN_FILE).
      - Never logged, returned or shown in error messages.
      - Mutually exclusive with O(admin_token_file).
    type: str
  admin_token_file:
    description:
      - Path to a file holding the admin token (surrounding whitespace is trimmed), read on the host
        the module runs on.
      - Like Garage itself, the module refuses a file that is accessible by group or others
        (its mode must be C(0600) or stricter).
      - Mutually exclusive with O(admin_token).
    type: path
  validate_certs:
    description:
      - Whether to validate the TLS certificate when O(admin_url) uses C(https) (Garage serves
        plain HTTP; TLS usually comes from a reverse proxy).
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of CA certificates used to validate the Admin API's TLS certificate.
    type: path
  timeout:
    description:
      - Timeout in seconds of each HTTP request to the Admin API (at least V(1)).
    type: int
    default: 30
  retries:
    description:
      - How many times a request is retried after a connection error or an HTTP 429, 502, 503 or 504
        answer, with jittered exponential backoff (honouring C(Retry-After), capped at 30 seconds).
      - A request that may already have reached Garage and is not safe to repeat (creating or
        deleting a key, bucket or admin token, applying a layout) is never repeated; the module
        then reads again to learn what happened, or says that the outcome is unknown.
      - Other errors are never retried. Each retry is reported as a warning. V(0) disables retries.
        Must not be negative.
    type: int
    default: 3
notes:
  - The connection options can be set once for all modules of the collection with
    C(module_defaults) and the action group C(group/cellar.garage.garage).
"""
