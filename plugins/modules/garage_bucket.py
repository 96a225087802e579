#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_bucket
short_description: Manage Garage buckets, their global aliases, website and quotas
version_added: 0.1.0
description:
  - Create, update or delete a bucket of a Garage cluster through the Admin API v2.
  - A bucket is addressed by one of its global aliases (O(name)) or by its 64-hex id (O(id)).
  - Manages the bucket's global aliases (O(global_aliases), O(purge_global_aliases)), its website
    access (O(website)) and its quotas (O(quotas)). Options that are not set leave the bucket's
    current settings untouched.
  - Keys, local aliases and permissions are managed by M(cellar.garage.garage_bucket_alias) and
    M(cellar.garage.garage_bucket_permission).
  - All input is validated before anything is changed, and when a new bucket cannot be fully
    configured the bucket created by the same run is deleted again.
author:
  - cellar.garage maintainers (@cellar-garage)
options:
  name:
    description:
      - A global alias of the bucket, that is its name for S3 clients.
      - With O(state=present) and no bucket carrying that alias, a bucket is created with it.
      - This alias is always kept, even with O(purge_global_aliases=true).
      - Garage's naming rules apply (3 to 63 characters of lowercase letters, digits, C(.) and C(-),
        not an IP address); an invalid name is refused before anything is changed.
      - Exactly one of O(name) and O(id) is required.
    type: str
  id:
    description:
      - The bucket's id, 64 lowercase hexadecimal characters (RV(bucket.id)).
      - Garage chooses bucket ids itself, so O(state=present) with an id that does not exist fails;
        create buckets by O(name).
      - Exactly one of O(name) and O(id) is required.
    type: str
  state:
    description:
      - V(present) creates the bucket if needed and converges the options that are set.
      - V(absent) deletes the bucket. Garage only deletes empty buckets, so a bucket that still
        holds objects is refused (before anything is attempted) with the number of objects;
        empty it first. Deleting a bucket also removes all of its aliases and key permissions.
      - With V(absent), O(global_aliases), O(website) and O(quotas) are ignored.
    type: str
    choices: [present, absent]
    default: present
  global_aliases:
    description:
      - Global aliases the bucket must have, in addition to O(name).
      - Aliases are added first; one that already belongs to another bucket is refused before
        anything is changed.
      - Aliases not in this list are kept unless O(purge_global_aliases=true).
    type: list
    elements: str
  purge_global_aliases:
    description:
      - Remove the bucket's global aliases that are neither O(name) nor in O(global_aliases).
      - Only takes effect when O(global_aliases) is set.
      - Garage refuses to remove the last alias of a bucket (global and local aliases count together);
        such a request fails before anything is changed. Delete the bucket instead.
    type: bool
    default: false
  website:
    description:
      - Website access of the bucket (served by Garage's C([s3_web]) endpoint under its global aliases).
      - Suboptions that are not set keep their current value.
    type: dict
    suboptions:
      enabled:
        description:
          - Whether the bucket is served as a website.
          - V(false) cannot be combined with O(website.index_document) or O(website.error_document).
        type: bool
        default: true
      index_document:
        description:
          - Index document, for example V(index.html).
          - When website access is being enabled and this is not set, V(index.html) is used;
            when it is already enabled, the current index document is kept.
        type: str
      error_document:
        description:
          - Document served on errors, for example V(404.html).
          - An empty string removes the error document.
        type: str
  quotas:
    description:
      - Quotas of the bucket. Garage enforces them on S3 uploads (HTTP 403 when exceeded).
      - Garage replaces both quotas at once; the module sends the current value of a quota
        that is not set here, so it is preserved.
    type: dict
    suboptions:
      max_size:
        description:
          - Maximum total size of the objects, as a number of bytes or a size with a unit,
            for example V(10G) (10 * 1000^3 bytes) or V(512MiB) (512 * 1024^2 bytes).
          - V(none) or V(unlimited) (or an explicit C(null)) removes the limit.
        type: raw
      max_objects:
        description:
          - Maximum number of objects.
          - V(none) or V(unlimited) (or an explicit C(null)) removes the limit.
        type: raw
extends_documentation_fragment:
  - cellar.garage._admin
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage
seealso:
  - module: cellar.garage.garage_bucket_info
  - module: cellar.garage.garage_bucket_alias
  - module: cellar.garage.garage_bucket_permission
  - name: Garage Admin API v2 reference
    description: The UpdateBucket, CreateBucket and DeleteBucket endpoints used by this module.
    link: https://garagehq.deuxfleurs.fr/api/garage-admin-v2.html
"""

EXAMPLES = r"""
---
- name: Ensure the bucket photos exists
  cellar.garage.garage_bucket:
    name: photos

- name: A public website with two names, a 10 GB size limit and at most 100000 objects
  cellar.garage.garage_bucket:
    name: www-example
    global_aliases:
      - www.example.com
    website:
      enabled: true
      index_document: index.html
      error_document: 404.html
    quotas:
      max_size: 10G
      max_objects: 100000

- name: Raise the size quota only (the object quota is preserved)
  cellar.garage.garage_bucket:
    name: www-example
    quotas:
      max_size: 50GiB

- name: Remove the object quota
  cellar.garage.garage_bucket:
    name: www-example
    quotas:
      max_objects: none

- name: Keep exactly these global aliases on a bucket addressed by id
  cellar.garage.garage_bucket:
    id: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    global_aliases:
      - archive
      - archive-2024
    purge_global_aliases: true

- name: Stop serving the bucket as a website
  cellar.garage.garage_bucket:
    name: www-example
    website:
      enabled: false

- name: Delete an (empty) bucket
  cellar.garage.garage_bucket:
    name: scratch
    state: absent

- name: Connection options once for all modules of the collection
  module_defaults:
    group/cellar.garage.garage:
      admin_url: http://127.0.0.1:3903
      admin_token_file: /etc/garage/admin.token
  block:
    - name: Ensure the bucket logs exists
      cellar.garage.garage_bucket:
        name: logs
"""

RETURN = r"""
bucket:
  description:
    - The bucket after the run (in check mode, as the run would leave it).
    - In check mode, a bucket that would be created has RV(bucket.id=null).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The bucket id (64 hex characters); V(null) for a bucket that check mode would create.
      type: str
      sample: 8a1c3f0e3b5d47c2a3d5e7f9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9
    created:
      description: Creation time (RFC 3339), when Garage reports it.
      type: str
      sample: "2025-06-14T12:00:00.123Z"
    global_aliases:
      description: Global aliases, sorted.
      type: list
      elements: str
      sample: [www-example, www.example.com]
    local_aliases:
      description: Local aliases, each with the access key whose namespace holds it.
      type: list
      elements: dict
      sample: [{access_key_id: GK31c2f218a2e44f485b94239e, alias: mine}]
    website:
      description: Website access and documents.
      type: dict
      sample: {enabled: true, index_document: index.html, error_document: 404.html}
    quotas:
      description: Quotas in bytes and objects; V(null) means unlimited.
      type: dict
      sample: {max_size: 10000000000, max_objects: 100000}
    objects:
      description: Number of objects (Garage's counters are eventually consistent).
      type: int
      sample: 0
    bytes:
      description: Total size of the objects in bytes.
      type: int
      sample: 0
    unfinished_uploads:
      description: Number of unfinished uploads.
      type: int
      sample: 0
    unfinished_multipart_uploads:
      description: Number of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_parts:
      description: Number of parts of unfinished multipart uploads.
      type: int
      sample: 0
    unfinished_multipart_upload_bytes:
      description: Bytes in unfinished multipart uploads.
      type: int
      sample: 0
    keys:
      description: Access keys that appear on the bucket, with their permissions and local aliases.
        A key may be listed with all permissions false.
      type: list
      elements: dict
      sample:
        - access_key_id: GK31c2f218a2e44f485b94239e
          name: app
          permissions: {read: true, write: true, owner: false}
          local_aliases: []
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._garage_admin import buckets
from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import ADMIN
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome

ARGUMENT_SPEC: dict[str, t.Any] = {
    "name": {"type": "str"},
    "id": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "global_aliases": {"type": "list", "elements": "str"},
    "purge_global_aliases": {"type": "bool", "default": False},
    "website": {
        "type": "dict",
        "options": {
            "enabled": {"type": "bool", "default": True},
            "index_document": {"type": "str"},
            "error_document": {"type": "str"},
        },
    },
    "quotas": {
        "type": "dict",
        "options": {
            "max_size": {"type": "raw"},
            "max_objects": {"type": "raw"},
        },
    },
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(ADMIN,),
        mutually_exclusive=[["name", "id"]],
        required_one_of=[["name", "id"]],
    )

    def body() -> Outcome:
        spec = buckets.spec_from_params(module.params, module.explicit_suboptions("quotas"))
        return buckets.ensure(module.admin, spec, dry_run=module.check_mode)

    module.run(body, what=f"manage bucket '{module.params.get('name') or module.params.get('id')}'")


if __name__ == "__main__":
    main()
