#!/usr/bin/python
# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: garage_object
short_description: Put, get or delete one object of a Garage bucket, or make a presigned URL for it
version_added: 0.2.0
description:
  - Uploads a file or a string to a bucket (O(mode=put)), downloads an object to a file (O(mode=get)),
    deletes an object (O(mode=delete)), or returns a presigned GET URL for it (O(mode=geturl)), through
    Garage's S3 API.
  - With O(overwrite=different) (the default), content is compared through ETags, which works for objects
    uploaded in several parts too (by this module, the AWS CLI, rclone, ...), so an unchanged file is never
    sent again.
  - Files larger than O(multipart_threshold) are uploaded in parts of O(part_size), O(workers) parts at a
    time; memory stays under O(workers) times O(part_size) whatever the file size.
  - Downloads are written to a temporary file in the directory of O(dest), checked against the ETag, and
    renamed over O(dest), so readers never see a partial file.
  - Paths (O(src), O(dest)) are on the host the module runs on.
author:
  - cellar.garage maintainers (@cellar-garage)
extends_documentation_fragment:
  - cellar.garage._s3
  - cellar.garage._attributes
  - cellar.garage._attributes.actiongroup_garage_s3
attributes:
  diff_mode:
    details:
      - The diff shows metadata (size, ETag, content type, user metadata), never content.
options:
  bucket:
    description:
      - The bucket, by global alias, local alias of the access key, or bucket id.
    type: str
    required: true
  key:
    description:
      - The object key (its "path" in the bucket).
    type: str
    required: true
    aliases: [object]
  mode:
    description:
      - What to do with the object.
      - V(geturl) never changes anything; the object must exist.
    type: str
    required: true
    choices: [put, get, delete, geturl]
  src:
    description:
      - With O(mode=put), the file to upload.
      - Mutually exclusive with O(content).
    type: path
  content:
    description:
      - With O(mode=put), the content to upload, as a string (UTF-8).
      - Mutually exclusive with O(src).
    type: str
  dest:
    description:
      - With O(mode=get), the file to write. Its directory must exist.
      - A file that is replaced keeps its permissions; a new file gets the default ones (umask).
    type: path
  overwrite:
    description:
      - What to do when the target (the object for V(put), O(dest) for V(get)) exists.
      - V(different) writes only when the content differs (compared through ETags), or, for V(put), when
        O(content_type) or O(metadata) are set and differ (then only the metadata is rewritten, without
        sending the content again).
      - V(always) writes every time (and reports a change); V(never) leaves an existing target alone.
    type: str
    choices: [always, never, different]
    default: different
  content_type:
    description:
      - With O(mode=put), the C(Content-Type) of the object.
      - If not set, an existing object keeps its own, and a new one gets a type guessed from the file name
        (V(application/octet-stream) if unknown).
    type: str
  metadata:
    description:
      - With O(mode=put), user metadata (C(x-amz-meta-*)) of the object, names in lower case.
      - If not set, an existing object keeps its own.
    type: dict
  expires:
    description:
      - With O(mode=geturl), how long the URL is valid, in seconds (at most 604800, 7 days).
    type: int
    default: 3600
  part_size:
    description:
      - Size of the parts of a multipart upload, in bytes or with a unit (V(8MiB)); at least 1 MiB.
      - The default, 8 MiB, is also the AWS CLI's and boto3's.
    type: str
    default: 8MiB
  multipart_threshold:
    description:
      - Files larger than this are uploaded in parts; bytes or with a unit.
    type: str
    default: 8MiB
  workers:
    description:
      - How many parts are uploaded at the same time (1 to 16).
    type: int
    default: 4
notes:
  - The presigned URL (RV(url)) lets anyone who has it read the object until it expires; register it with
    C(no_log) if your logs are read by others.
seealso:
  - module: cellar.garage.garage_bucket_usage
  - module: cellar.garage.garage_bucket_clear
"""

EXAMPLES = r"""
---
- name: Upload a release (sent only when it differs from what is stored)
  cellar.garage.garage_object:
    bucket: releases
    key: app/1.4.2/app.tar.gz
    mode: put
    src: /srv/build/app.tar.gz
    metadata:
      commit: 3f9c2e1

- name: Write a small marker object
  cellar.garage.garage_object:
    bucket: releases
    key: app/LATEST
    mode: put
    content: "1.4.2\n"
    content_type: text/plain

- name: Fetch it on the application hosts
  cellar.garage.garage_object:
    bucket: releases
    key: app/1.4.2/app.tar.gz
    mode: get
    dest: /opt/app/app.tar.gz

- name: A link valid for one day
  cellar.garage.garage_object:
    bucket: releases
    key: app/1.4.2/app.tar.gz
    mode: geturl
    expires: 86400
  register: link
  no_log: true

- name: Remove an old release
  cellar.garage.garage_object:
    bucket: releases
    key: app/1.3.0/app.tar.gz
    mode: delete
"""

RETURN = r"""
---
bucket:
  description: The bucket.
  returned: always
  type: str
  sample: releases
key:
  description: The object key.
  returned: always
  type: str
  sample: app/1.4.2/app.tar.gz
object:
  description:
    - The object's metadata (after the upload for V(put); as read for V(get) and V(geturl)).
  returned: when O(mode) is V(put), V(get) or V(geturl)
  type: dict
  contains:
    key:
      description: The key.
      type: str
    size:
      description: Size in bytes.
      type: int
    etag:
      description: The ETag, without quotes (an MD5, or C(<md5>-<parts>) after a multipart upload).
      type: str
    content_type:
      description: The C(Content-Type).
      type: str
    metadata:
      description: User metadata.
      type: dict
  sample: {key: app/LATEST, size: 6, etag: 8d3f7cc1b8a1f7d0d0f5c1a8e0e9b2a4, content_type: text/plain, metadata: {}}
action:
  description:
    - With O(mode=put), what was done (or would be, in check mode), V(upload), V(metadata) (metadata
      rewritten, content kept) or V(none).
  returned: when O(mode=put)
  type: str
  sample: upload
dest:
  description: The file written (or that would be written).
  returned: when O(mode=get)
  type: str
  sample: /opt/app/app.tar.gz
url:
  description: The presigned GET URL.
  returned: when O(mode=geturl)
  type: str
  sample: https://s3.example.net/releases/app/1.4.2/app.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&...
expires_in:
  description: Seconds the URL stays valid.
  returned: when O(mode=geturl)
  type: int
  sample: 86400
expires_at:
  description: When the URL stops working (UTC, RFC 3339).
  returned: when O(mode=geturl)
  type: str
  sample: "2025-06-15T12:00:00Z"
manual_cleanup_required:
  description:
    - What is left for a human when a failed multipart upload could not be aborted either (the
      upload, with C(resource), ids, C(action) and C(error)).
  returned: when something could not be cleaned up
  type: list
  elements: dict
failure_reason:
  description:
    - On failure, why, as a stable code to match in playbooks.
    - V(object_not_found) (V(get), V(geturl)), V(checksum_mismatch) (what landed is not what was sent or
      read; O(dest) is left untouched), V(object_put_failed), V(object_get_failed), V(object_delete_failed),
      V(object_read_failed), V(auth_failed), V(access_denied), V(bucket_not_found), V(os_error),
      V(invalid_input), V(credentials_missing).
    - A multipart upload that fails is aborted; if the abort fails too, RV(manual_cleanup_required) names
      the upload.
  returned: on failure
  type: str
  sample: object_not_found
"""

import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._module import GarageModule
from ansible_collections.cellar.garage.plugins.module_utils._options import S3
from ansible_collections.cellar.garage.plugins.module_utils._outcome import Outcome
from ansible_collections.cellar.garage.plugins.module_utils._s3 import objects

ARGUMENT_SPEC = {
    "bucket": {"type": "str", "required": True},
    "key": {"type": "str", "required": True, "aliases": ["object"], "no_log": False},
    "mode": {"type": "str", "required": True, "choices": list(objects.MODES)},
    "src": {"type": "path"},
    "content": {"type": "str"},
    "dest": {"type": "path"},
    "overwrite": {"type": "str", "choices": list(objects.OVERWRITE), "default": "different"},
    "content_type": {"type": "str"},
    "metadata": {"type": "dict"},
    "expires": {"type": "int", "default": 3600},
    "part_size": {"type": "str", "default": "8MiB"},
    "multipart_threshold": {"type": "str", "default": "8MiB"},
    "workers": {"type": "int", "default": 4},
}


def main() -> None:
    module = GarageModule(
        ARGUMENT_SPEC,
        option_groups=(S3,),
        mutually_exclusive=[["src", "content"]],
        required_if=[["mode", "get", ["dest"]], ["mode", "put", ["src", "content"], True]],
    )
    params = module.params

    def body() -> Outcome | dict[str, t.Any]:
        spec = objects.spec_from_params(params)
        return objects.run(module.s3, spec, dry_run=module.check_mode, access_key_id=params.get("access_key_id"))

    module.run(body, what=f"{params['mode']} object '{params['key']}'")


if __name__ == "__main__":
    main()
