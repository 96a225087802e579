# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Garage behaviours that differ between 2.x releases and that the collection handles.

Each test asserts what the Garage under test (the pinned release, or ``GARAGE_VERSION`` /
``GARAGE_BIN``) really does, for its version: these are the rows of
docs/garage-compatibility.md, proven on the binary. The collection's handling of both shapes
is unit-tested next to the code that reads them.
"""

from __future__ import annotations

import secrets
import typing as t

import pytest


def _uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def test_health_names_the_storage_nodes_that_are_up(garage: t.Any) -> None:
    health = garage.ok("GetClusterHealth")
    if garage.version_tuple >= (2, 1):
        assert health["storageNodesUp"] == 3 and "storageNodesOk" not in health
    else:
        assert health["storageNodesOk"] == 3 and "storageNodesUp" not in health


def test_key_search_without_match(garage: t.Any) -> None:
    status, body = garage.admin("GetKeyInfo", query={"search": _uid("nomatch")})
    if garage.version_tuple >= (2, 3):
        assert (status, body["code"]) == (404, "NoSuchAccessKey"), body
    else:
        assert status == 400 and "0 matching keys" in body["message"], body


def test_admin_token_search_without_match_is_still_400(garage: t.Any) -> None:
    status, body = garage.admin("GetAdminTokenInfo", query={"search": _uid("nomatch")})
    assert status == 400 and "0 matching admin tokens" in body["message"], body


def test_keys_without_permission_are_hidden(garage: t.Any) -> None:
    """A key denied every flag (and with no local alias) on a bucket: listed with three false
    flags on 2.0, not listed from 2.1. A key with only a local alias is listed everywhere."""
    bucket = garage.ok("CreateBucket", body={"globalAlias": _uid("hidden")})
    denied = garage.ok("CreateKey", body={"name": _uid("denied")})["accessKeyId"]
    aliased = garage.ok("CreateKey", body={"name": _uid("aliased")})["accessKeyId"]
    flags = {"read": True, "write": True, "owner": True}
    garage.ok("AllowBucketKey", body={"bucketId": bucket["id"], "accessKeyId": denied, "permissions": flags})
    garage.ok("DenyBucketKey", body={"bucketId": bucket["id"], "accessKeyId": denied, "permissions": flags})
    garage.ok("AddBucketAlias", body={"bucketId": bucket["id"], "accessKeyId": aliased, "localAlias": "mine"})
    listed = {k["accessKeyId"]: k for k in garage.ok("GetBucketInfo", query={"id": bucket["id"]})["keys"]}
    denied_buckets = [b["id"] for b in garage.ok("GetKeyInfo", query={"id": denied})["buckets"]]
    assert listed[aliased]["bucketLocalAliases"] == ["mine"]
    assert listed[aliased]["permissions"] == {"read": False, "write": False, "owner": False}
    if garage.version_tuple >= (2, 1):
        assert denied not in listed and bucket["id"] not in denied_buckets
    else:
        assert listed[denied]["permissions"] == {"read": False, "write": False, "owner": False}
    garage.ok("RemoveBucketAlias", body={"bucketId": bucket["id"], "accessKeyId": aliased, "localAlias": "mine"})
    for key_id in (denied, aliased):
        garage.ok("DeleteKey", query={"id": key_id})
    garage.ok("DeleteBucket", query={"id": bucket["id"]})


def test_website_config_without_website(garage: t.Any) -> None:
    bucket = garage.ok("CreateBucket", body={"globalAlias": _uid("noweb")})
    if garage.version_tuple >= (2, 3):
        assert "websiteConfig" not in bucket
    else:
        assert bucket["websiteConfig"] is None
    on = garage.ok("UpdateBucket", query={"id": bucket["id"]},
                   body={"websiteAccess": {"enabled": True, "indexDocument": "index.html"}})  # fmt: skip
    if garage.version_tuple >= (2, 3):
        assert on["websiteConfig"] == {"indexDocument": "index.html", "errorDocument": None, "routingRules": []}
    else:
        assert on["websiteConfig"] == {"indexDocument": "index.html", "errorDocument": None}
    garage.ok("DeleteBucket", query={"id": bucket["id"]})


def test_import_key_id_format(garage: t.Any) -> None:
    key_id, secret = "tenant-" + secrets.token_hex(6), secrets.token_hex(32)
    status, body = garage.admin("ImportKey", body={"accessKeyId": key_id, "secretAccessKey": secret})
    if garage.version_tuple >= (2, 3):
        assert status == 200 and body["accessKeyId"] == key_id, body
        garage.ok("DeleteKey", query={"id": key_id})
    else:
        assert status == 400 and "Invalid key format" in body["message"], body


def test_s3_create_bucket_you_already_own(garage: t.Any) -> None:
    key_id, secret = garage.create_key(_uid("owner"))
    garage.ok("UpdateKey", query={"id": key_id}, body={"allow": {"createBucket": True}})
    s3 = garage.s3_client(key_id, secret)
    name = _uid("owned")
    s3.create_bucket(Bucket=name)
    if garage.version_tuple >= (2, 3):
        with pytest.raises(s3.exceptions.BucketAlreadyOwnedByYou):
            s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name)  # 200 OK again
    s3.delete_bucket(Bucket=name)
    garage.ok("DeleteKey", query={"id": key_id})


def test_layout_dependent_call_before_the_first_layout(garage_fresh: t.Any) -> None:
    status, body = garage_fresh.admin("CreateBucket", body={"globalAlias": _uid("early")})
    health = garage_fresh.ok("GetClusterHealth")
    assert health["status"] == "unavailable"
    if garage_fresh.version_tuple >= (2, 1):
        assert status == 500 and "Layout not ready" in body["message"], body
        assert health["partitions"] == 0
    else:
        assert status >= 500, body


def test_peer_hostname_is_learnt_from_its_status_broadcast(garage_factory: t.Any) -> None:
    """Right after ConnectClusterNodes a peer may be listed with hostname null: Garage learns it
    from the peer's next status broadcast (every 10 s). The local node always knows its own."""
    g = garage_factory(nodes=2, layout=False, connected="self")
    g.ok("ConnectClusterNodes", body=[g.nodes[1].peer])
    nodes = {n["id"]: n for n in g.ok("GetClusterStatus")["nodes"]}
    assert nodes[g.nodes[0].node_id]["hostname"] == "node1"
    assert nodes[g.nodes[1].node_id]["hostname"] in (None, "node2")
    g.cluster.wait_peers_up(timeout=30, hostnames=True)
    nodes = {n["id"]: n for n in g.ok("GetClusterStatus")["nodes"]}
    assert nodes[g.nodes[1].node_id]["hostname"] == "node2"
    assert nodes[g.nodes[1].node_id]["garageVersion"] == g.version
