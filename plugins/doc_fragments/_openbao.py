# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release. Use it as `cellar.garage._openbao`.

from __future__ import annotations


class ModuleDocFragment:
    # The OpenBao connection and authentication options shared by every module of the
    # `openbao` action group (argspec: OPENBAO in plugins/module_utils/_options.py).
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Address of OpenBao (or of a Vault-compatible server), for example V(https://bao.example.com:8200).
      - Must be an C(http://) or C(https://) URL with a host; anything else is refused before any call.
      - If not set, the E(BAO_ADDR) environment variable is used, then E(VAULT_ADDR).
    type: str
  auth_method:
    description:
      - How to authenticate. V(token) uses O(token) or O(token_file); V(approle) logs in with
        O(role_id) and O(secret_id) at the C(approle) auth mount.
    type: str
    choices: [token, approle]
    default: token
  token:
    description:
      - OpenBao token, with O(auth_method=token).
      - If neither O(token) nor O(token_file) is set, the E(BAO_TOKEN) environment variable is used,
        then E(VAULT_TOKEN).
      - Never logged, returned or shown in error messages.
      - Mutually exclusive with O(token_file).
    type: str
  token_file:
    description:
      - Path to a file holding the OpenBao token (surrounding whitespace is trimmed), read on the
        host the module runs on.
      - Mutually exclusive with O(token).
    type: path
  role_id:
    description:
      - AppRole RoleID, required with O(auth_method=approle).
    type: str
  secret_id:
    description:
      - AppRole SecretID, with O(auth_method=approle) (unless the role does not require one).
      - Never logged, returned or shown in error messages; neither is the token the login returns.
    type: str
  namespace:
    description:
      - OpenBao namespace to work in (sent as C(X-Vault-Namespace)).
      - If not set, the E(BAO_NAMESPACE) environment variable is used, then E(VAULT_NAMESPACE).
    type: str
  validate_certs:
    description:
      - Whether to validate OpenBao's TLS certificate when O(url) uses C(https).
      - A module that also talks to another service uses the same value for it.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of CA certificates used to validate OpenBao's TLS certificate.
      - A module that also talks to another service uses the same file for it.
    type: path
  timeout:
    description:
      - Timeout in seconds of each HTTP request (at least V(1)).
      - A module that also talks to the Garage Admin API uses the same value for it.
    type: int
    default: 30
notes:
  - The OpenBao options can be set once for all OpenBao modules of the collection with
    C(module_defaults) and the action group C(group/cellar.garage.openbao).
"""

    # The same options for controller-side plugins (the openbao_kv lookup), with their
    # variables; use it as `cellar.garage._openbao.plugins`.
    PLUGINS = r"""
options:
  url:
    description:
      - Address of OpenBao (or of a Vault-compatible server), for example V(https://bao.example.com:8200).
    type: str
    env:
      - name: BAO_ADDR
      - name: VAULT_ADDR
    vars:
      - name: cellar_garage_openbao_url
  auth_method:
    description:
      - How to authenticate. V(token) uses O(token) or O(token_file); V(approle) logs in with
        O(role_id) and O(secret_id) at the C(approle) auth mount.
    type: str
    choices: [token, approle]
    default: token
    vars:
      - name: cellar_garage_openbao_auth_method
  token:
    description:
      - OpenBao token, with O(auth_method=token).
      - If neither O(token) nor O(token_file) is set, the E(BAO_TOKEN) environment variable is used,
        then E(VAULT_TOKEN).
      - Mutually exclusive with O(token_file).
    type: str
    vars:
      - name: cellar_garage_openbao_token
  token_file:
    description:
      - Path to a file holding the OpenBao token, read on the controller.
      - Mutually exclusive with O(token).
    type: path
    vars:
      - name: cellar_garage_openbao_token_file
  role_id:
    description:
      - AppRole RoleID, required with O(auth_method=approle).
    type: str
    vars:
      - name: cellar_garage_openbao_role_id
  secret_id:
    description:
      - AppRole SecretID, with O(auth_method=approle).
    type: str
    vars:
      - name: cellar_garage_openbao_secret_id
  namespace:
    description:
      - OpenBao namespace to work in (sent as C(X-Vault-Namespace)).
    type: str
    env:
      - name: BAO_NAMESPACE
      - name: VAULT_NAMESPACE
    vars:
      - name: cellar_garage_openbao_namespace
  validate_certs:
    description:
      - Whether to validate OpenBao's TLS certificate when O(url) uses C(https).
    type: bool
    default: true
    vars:
      - name: cellar_garage_openbao_validate_certs
  ca_path:
    description:
      - PEM file of CA certificates used to validate OpenBao's TLS certificate.
    type: path
    vars:
      - name: cellar_garage_openbao_ca_path
  timeout:
    description:
      - Timeout in seconds of each HTTP request (at least V(1)).
    type: int
    default: 30
"""
