"""garage-facts.md §9: the 50-item stand-in checklist, one test per item.

Each test asserts the HTTP status and Garage's error code (and the message
fragments the facts page gives). They run against the stand-in by default and
against real Garage with ``GARAGE_BIN`` (stand-in-only steps skip there).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import typing as t

from tests.conformance.conftest import assert_error, uniq
from tests.fixtures.garage import GarageCluster

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _bucket(g: GarageCluster, **body: t.Any) -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], g.ok("CreateBucket", body=body))


def _key(g: GarageCluster, name: str = "k") -> dict[str, t.Any]:
    return t.cast(dict[str, t.Any], g.ok("CreateKey", body={"name": uniq(name)}))


# ------------------------------------------------------------ auth & transport


def test_01_no_authorization_header(g: GarageCluster) -> None:
    assert_error(g.admin("ListBuckets", token=None), 403, "AccessDenied", "Bearer token must be provided")


def test_02_header_without_bearer_prefix(g: GarageCluster) -> None:
    r = g.admin("ListBuckets", token=None, headers={"Authorization": f"Token {g.admin_token}"})
    assert_error(r, 403, "AccessDenied", "Invalid Authorization header")
    r = g.admin("ListBuckets", token=None, headers={"Authorization": f"bearer {g.admin_token}"})
    assert_error(r, 403, "AccessDenied", "Invalid Authorization header")


def test_02b_authorization_header_not_ascii(g: GarageCluster) -> None:
    r = g.admin_raw("ListBuckets", token=None, headers={"Authorization": "Bearer caf\u00e9"})
    assert r.status == 400 and r.json()["code"] == "InvalidHeaderValue"


def test_03_invalid_tokens(g: GarageCluster) -> None:
    assert_error(g.admin("ListBuckets", token="wrong"), 403, "AccessDenied", "Invalid bearer token")
    unknown = secrets.token_hex(12) + ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    assert_error(g.admin("ListBuckets", token=unknown), 403, "AccessDenied", "Invalid bearer token")
    scoped = g.ok("CreateAdminToken", body={"name": uniq("scoped"), "scope": ["ListBuckets"]})
    assert g.admin("ListBuckets", token=scoped["secretToken"])[0] == 200
    r = g.admin("GetClusterStatus", token=scoped["secretToken"])
    assert_error(r, 403, "AccessDenied", "Invalid bearer token")
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = g.ok("CreateAdminToken", body={"name": uniq("expired"), "expiration": past})
    assert expired["expired"] is True
    assert_error(g.admin("ListBuckets", token=expired["secretToken"]), 403, "AccessDenied", "Invalid bearer token")
    # a right prefix with a wrong secret
    forged = scoped["id"] + "." + "A" * 43
    assert_error(g.admin("ListBuckets", token=forged), 403, "AccessDenied", "Invalid bearer token")


def test_04_health(garage_fresh: GarageCluster, garage_factory: t.Callable[..., GarageCluster]) -> None:
    st, text = garage_fresh.admin("/health", token=None)
    assert st == 503 and text.startswith("Quorum is not available"), text
    g = garage_factory(nodes=3, web=False)
    st, text = g.admin("/health", token=None)
    assert st == 200 and text.startswith("Garage is fully operational"), text
    if g.standin:
        g.set_node_up(g.node_ids[2], False)
        st, text = g.admin("/health", token=None)
        assert st == 200 and text.startswith("Garage is operational but some storage nodes are unavailable"), text
        g.set_node_up(g.node_ids[1], False)
        st, text = g.admin("/health", token=None)
        assert st == 503, text


def test_05_check_domain(g: GarageCluster) -> None:
    name = uniq("site")
    b = _bucket(g, globalAlias=name)
    assert_error(g.admin("/check", query={"domain": name}, token=None), 400, "InvalidRequest", "not managed by Garage")
    g.ok("UpdateBucket", query={"id": b["id"]}, body={"websiteAccess": {"enabled": True, "indexDocument": "i.html"}})
    st, text = g.admin("/check", query={"domain": name}, token=None)
    assert st == 200 and text == f"Domain '{name}' is managed by Garage", text
    assert_error(g.admin("/check", query={"domain": "nope.example"}, token=None), 400, "InvalidRequest")
    assert_error(g.admin("/check", token=None), 400, "InvalidRequest")


def test_06_metrics(g: GarageCluster, garage_factory: t.Callable[..., GarageCluster]) -> None:
    st, text = g.admin("/metrics", token=None)
    assert st == 200 and "cluster_healthy" in text
    m = garage_factory(layout=False, web=False, extra_args=["--metrics-token", "metricsecret"])
    assert_error(m.admin("/metrics", token=None), 403, "AccessDenied", "Bearer token must be provided")
    assert_error(m.admin("/metrics"), 403, "AccessDenied", "Invalid bearer token")  # admin_token refused
    assert m.admin("/metrics", token="metricsecret")[0] == 200
    dyn = m.ok("CreateAdminToken", body={"name": "m", "scope": ["Metrics"]})
    assert m.admin("/metrics", token=dyn["secretToken"])[0] == 200
    assert_error(m.admin("ListBuckets", token="metricsecret"), 403, "AccessDenied", "Invalid bearer token")


def test_07_options(g: GarageCluster) -> None:
    for path in ("/v2/ListBuckets", "/anything/at/all", "/health"):
        r = g.admin_raw(path, method="OPTIONS", token=None)
        assert r.status == 200 and r.body == b""
        assert r.headers.get("Access-Control-Allow-Origin") == "*"
        assert r.headers.get("Access-Control-Allow-Methods") == "OPTIONS,GET,POST"
        assert "authorization" in r.headers.get("Access-Control-Allow-Headers", "")


def test_08_unknown_endpoint_or_wrong_method(g: GarageCluster) -> None:
    r = g.admin("ListBuckets", method="POST")
    assert_error(r, 400, "InvalidRequest", "Unknown API endpoint: POST /v2/ListBuckets")
    r = g.admin("NoSuchThing", method="GET")
    assert_error(r, 400, "InvalidRequest", "Unknown API endpoint: GET /v2/NoSuchThing")
    assert_error(g.admin("/v2/listbuckets", method="GET"), 400, "InvalidRequest", "Unknown API endpoint")
    assert_error(g.admin("ListBuckets", method="DELETE"), 400, "InvalidRequest", "Unknown API endpoint")


def test_09_malformed_json_before_auth(g: GarageCluster) -> None:
    assert_error(g.admin("CreateKey", body=b"{not json", token=None), 400, "InvalidRequest", "Invalid JSON")
    assert_error(g.admin("CreateKey", body=b""), 400, "InvalidRequest", "Invalid JSON")
    assert_error(g.admin("CreateKey", token=None), 400, "InvalidRequest", "Invalid JSON")
    assert_error(g.admin("ApplyClusterLayout", body={"version": "1"}), 400, "InvalidRequest", "Invalid JSON")
    # mistyped or missing fields are JSON errors too, still before authentication
    for ep, body in [
        ("AllowBucketKey", {"bucketId": "x", "accessKeyId": "y"}),
        ("CreateBucket", {"globalAlias": 5}),
        ("UpdateBucket?id=" + "0" * 64, {"quotas": {"maxSize": -1}}),
        ("LaunchRepairOperation?node=self", {"repairType": "nope"}),
        ("ConnectClusterNodes", {"not": "a list"}),
    ]:
        name, _sep, q = ep.partition("?")
        assert_error(g.admin(name, query=q or None, body=body, token=None), 400, "InvalidRequest", "Invalid JSON")
    # unknown path beats a missing token too
    assert_error(g.admin("Nope", method="POST", token=None), 400, "InvalidRequest")


def test_10_missing_required_query_parameter(g: GarageCluster) -> None:
    assert_error(g.admin("DeleteBucket", token=None), 400, "InvalidRequest", "Missing argument `id`")
    assert_error(g.admin("DeleteBucket", query="id="), 400, "InvalidRequest", "Missing argument `id`")
    assert_error(g.admin("UpdateKey", body={}), 400, "InvalidRequest", "Missing argument `id`")
    assert_error(g.admin("GetNodeInfo"), 400, "InvalidRequest", "Missing argument `node`")


def test_11_error_body_shape(g: GarageCluster) -> None:
    r = g.admin_raw("GetBucketInfo", query={"id": "0" * 64})
    assert r.status == 404
    assert r.headers.get("Content-Type") == "application/json"
    assert "Access-Control-Allow-Origin" not in r.headers
    body = r.json()
    assert list(body) == ["code", "message", "region", "path"]
    assert body == {
        "code": "NoSuchBucket",
        "message": f"Bucket not found: {'0' * 64}",
        "region": g.region,
        "path": "/v2/GetBucketInfo",
    }
    assert b'\n  "code"' in r.body  # pretty-printed


def test_12_success_shape_and_delete_null(g: GarageCluster) -> None:
    r = g.admin_raw("ListBuckets")
    assert r.status == 200
    assert r.headers.get("Content-Type") == "application/json"
    assert r.headers.get("Access-Control-Allow-Origin") == "*"
    k = _key(g)
    r = g.admin_raw("DeleteKey", query={"id": k["accessKeyId"]})
    assert r.status == 200 and r.json() is None and r.body.strip() == b"null"
    b = _bucket(g)
    r = g.admin_raw("DeleteBucket", query={"id": b["id"]})
    assert r.status == 200 and r.body.strip() == b"null"
    tok = g.ok("CreateAdminToken", body={"name": uniq("t")})
    r = g.admin_raw("DeleteAdminToken", query={"id": tok["id"]})
    assert r.status == 200 and r.body.strip() == b"null"


# --------------------------------------------------------------------- buckets


def test_13_create_bucket_empty(g: GarageCluster) -> None:
    b = _bucket(g)
    assert HEX64.match(b["id"])
    assert b["globalAliases"] == [] and b["keys"] == []
    for c in (
        "objects",
        "bytes",
        "unfinishedUploads",
        "unfinishedMultipartUploads",
        "unfinishedMultipartUploadParts",
        "unfinishedMultipartUploadBytes",
    ):
        assert b[c] == 0
    assert b["quotas"] == {"maxSize": None, "maxObjects": None}
    assert b["websiteAccess"] is False and b["websiteConfig"] is None


def test_14_create_bucket_alias_taken(g: GarageCluster) -> None:
    name = uniq()
    _bucket(g, globalAlias=name)
    assert_error(g.admin("CreateBucket", body={"globalAlias": name}), 409, "BucketAlreadyExists")


def test_15_create_bucket_invalid_name(g: GarageCluster) -> None:
    r = g.admin("CreateBucket", body={"globalAlias": "Bad_Name"})
    assert_error(r, 400, "InvalidRequest", "Invalid bucket name")
    key = _key(g)
    body = {"localAlias": {"accessKeyId": key["accessKeyId"], "alias": "x"}}
    assert_error(g.admin("CreateBucket", body=body), 400, "InvalidRequest", "Invalid bucket name")


def test_16_create_bucket_unknown_key(g: GarageCluster) -> None:
    body = {"localAlias": {"accessKeyId": "GK" + "0" * 24, "alias": uniq()}}
    assert_error(g.admin("CreateBucket", body=body), 404, "NoSuchAccessKey")


def test_17_create_bucket_local_alias_with_allow(g: GarageCluster) -> None:
    key = _key(g)
    alias = uniq("loc")
    b = _bucket(g, localAlias={"accessKeyId": key["accessKeyId"], "alias": alias, "allow": {"read": True}})
    assert b["globalAliases"] == []
    (entry,) = [k for k in b["keys"] if k["accessKeyId"] == key["accessKeyId"]]
    assert entry["permissions"] == {"read": True, "write": False, "owner": False}
    assert entry["bucketLocalAliases"] == [alias]
    # the local-alias tombstone quirk: the same name again for this key is refused
    assert_error(
        g.admin("CreateBucket", body={"localAlias": {"accessKeyId": key["accessKeyId"], "alias": alias}}),
        400,
        "InvalidRequest",
        "Local alias already exists",
    )


def test_18_get_bucket_by_id(g: GarageCluster) -> None:
    unknown = secrets.token_hex(32)
    assert_error(g.admin("GetBucketInfo", query={"id": unknown}), 404, "NoSuchBucket", unknown)
    assert_error(g.admin("GetBucketInfo", query={"id": "abc"}), 400, "InvalidRequest", "Invalid bucket id")
    b = _bucket(g)
    assert g.ok("GetBucketInfo", query={"id": b["id"]})["id"] == b["id"]
    assert_error(g.admin("GetBucketInfo", query={"id": b["id"][:16]}), 400, "InvalidRequest", "Invalid bucket id")


def test_19_get_bucket_by_unknown_global_alias(g: GarageCluster) -> None:
    assert_error(g.admin("GetBucketInfo", query={"globalAlias": uniq("none")}), 404, "NoSuchBucket")


def test_20_get_bucket_search(g: GarageCluster) -> None:
    name = uniq("srch")
    b = _bucket(g, globalAlias=name)
    assert g.ok("GetBucketInfo", query={"search": name})["id"] == b["id"]
    assert g.ok("GetBucketInfo", query={"search": b["id"]})["id"] == b["id"]
    # a prefix long enough to be unique
    assert g.ok("GetBucketInfo", query={"search": b["id"][:16]})["id"] == b["id"]
    assert_error(g.admin("GetBucketInfo", query={"search": uniq("zz")}), 404, "NoSuchBucket")
    # several matches: create buckets until two share a 2-hex prefix (bounded)
    seen: dict[str, str] = {}
    dup = None
    for _attempt in range(300):
        bid = _bucket(g)["id"]
        if bid[:2] in seen:
            dup = bid[:2]
            break
        seen[bid[:2]] = bid
    assert dup is not None
    assert_error(g.admin("GetBucketInfo", query={"search": dup}), 400, "InvalidRequest")


def test_21_get_bucket_info_argument_combinations(g: GarageCluster) -> None:
    msg = "Either id, globalAlias or search must be provided"
    assert_error(g.admin("GetBucketInfo"), 400, "InvalidRequest", msg)
    b = _bucket(g, globalAlias=uniq())
    q = {"id": b["id"], "globalAlias": b["globalAliases"][0]}
    assert_error(g.admin("GetBucketInfo", query=q), 400, "InvalidRequest", msg)
    q2 = {"search": b["id"], "globalAlias": b["globalAliases"][0]}
    assert_error(g.admin("GetBucketInfo", query=q2), 400, "InvalidRequest", msg)


def test_22_list_buckets(g: GarageCluster) -> None:
    key = _key(g)
    alias = uniq("lst")
    b = _bucket(g, globalAlias=uniq("g"), localAlias={"accessKeyId": key["accessKeyId"], "alias": alias})
    gone = _bucket(g)
    g.ok("DeleteBucket", query={"id": gone["id"]})
    st, items = g.admin("ListBuckets")
    assert st == 200 and isinstance(items, list)
    ids = [x["id"] for x in items]
    assert ids == sorted(ids)
    assert gone["id"] not in ids
    (mine,) = [x for x in items if x["id"] == b["id"]]
    assert set(mine) == {"id", "created", "globalAliases", "localAliases"}
    assert mine["localAliases"] == [{"accessKeyId": key["accessKeyId"], "alias": alias}]


def test_23_delete_empty_bucket_frees_aliases(g: GarageCluster) -> None:
    name = uniq()
    key = _key(g)
    b = _bucket(g, globalAlias=name, localAlias={"accessKeyId": key["accessKeyId"], "alias": uniq("l")})
    st, body = g.admin("DeleteBucket", query={"id": b["id"]})
    assert st == 200 and body is None
    assert_error(g.admin("GetBucketInfo", query={"globalAlias": name}), 404, "NoSuchBucket")
    assert_error(g.admin("GetBucketInfo", query={"id": b["id"]}), 404, "NoSuchBucket")
    assert _bucket(g, globalAlias=name)["id"] != b["id"]
    info = g.ok("GetKeyInfo", query={"id": key["accessKeyId"]})
    assert all(x["id"] != b["id"] for x in info["buckets"])


def test_24_delete_non_empty_bucket(g: GarageCluster) -> None:
    name = uniq("full")
    key = _key(g)
    b = _bucket(g, globalAlias=name)
    g.ok(
        "AllowBucketKey",
        body={"bucketId": b["id"], "accessKeyId": key["accessKeyId"], "permissions": {"read": True, "write": True}},
    )
    s3 = g.s3_client(key["accessKeyId"], key["secretAccessKey"])
    s3.put_object(Bucket=name, Key="a.txt", Body=b"hello")
    assert g.ok("GetBucketInfo", query={"id": b["id"]})["objects"] == 1
    assert_error(g.admin("DeleteBucket", query={"id": b["id"]}), 409, "BucketNotEmpty")
    s3.delete_object(Bucket=name, Key="a.txt")
    # an in-progress multipart upload alone does not block deletion
    s3.create_multipart_upload(Bucket=name, Key="mpu")
    assert g.ok("GetBucketInfo", query={"id": b["id"]})["unfinishedMultipartUploads"] == 1
    assert g.admin("DeleteBucket", query={"id": b["id"]}) == (200, None)


def test_25_delete_unknown_or_deleted_bucket(g: GarageCluster) -> None:
    assert_error(g.admin("DeleteBucket", query={"id": secrets.token_hex(32)}), 404, "NoSuchBucket")
    b = _bucket(g)
    g.ok("DeleteBucket", query={"id": b["id"]})
    assert_error(g.admin("DeleteBucket", query={"id": b["id"]}), 404, "NoSuchBucket")


def test_26_website_enable_needs_index(g: GarageCluster) -> None:
    b = _bucket(g)
    r = g.admin("UpdateBucket", query={"id": b["id"]}, body={"websiteAccess": {"enabled": True}})
    assert_error(r, 400, "InvalidRequest", "indexDocument")
    site = {"enabled": True, "indexDocument": "index.html", "errorDocument": "e.html"}
    ok = g.ok("UpdateBucket", query={"id": b["id"]}, body={"websiteAccess": site})
    assert ok["websiteAccess"] is True
    assert ok["websiteConfig"] == {"indexDocument": "index.html", "errorDocument": "e.html"}


def test_27_website_disable_with_documents(g: GarageCluster) -> None:
    b = _bucket(g)
    body = {"websiteAccess": {"enabled": False, "indexDocument": "x"}}
    assert_error(g.admin("UpdateBucket", query={"id": b["id"]}, body=body), 400, "InvalidRequest")
    off = g.ok("UpdateBucket", query={"id": b["id"]}, body={"websiteAccess": {"enabled": False}})
    assert off["websiteAccess"] is False and off["websiteConfig"] is None


def test_28_quotas_replaced_not_merged(g: GarageCluster) -> None:
    b = _bucket(g)
    q = g.ok("UpdateBucket", query={"id": b["id"]}, body={"quotas": {"maxSize": 1000, "maxObjects": 10}})["quotas"]
    assert q == {"maxSize": 1000, "maxObjects": 10}
    q = g.ok("UpdateBucket", query={"id": b["id"]}, body={"quotas": {"maxSize": 5000}})["quotas"]
    assert q == {"maxSize": 5000, "maxObjects": None}


def test_29_update_unknown_bucket(g: GarageCluster) -> None:
    r = g.admin("UpdateBucket", query={"id": secrets.token_hex(32)}, body={"quotas": {}})
    assert_error(r, 404, "NoSuchBucket")


# --------------------------------------------------------------------- aliases


def test_30_add_global_alias_idempotent(g: GarageCluster) -> None:
    name = uniq()
    b = _bucket(g, globalAlias=name)
    st, info = g.admin("AddBucketAlias", body={"bucketId": b["id"], "globalAlias": name})
    assert st == 200 and info["globalAliases"] == [name]
    second = uniq()
    info = g.ok("AddBucketAlias", body={"bucketId": b["id"], "globalAlias": second})
    assert sorted(info["globalAliases"]) == sorted([name, second])


def test_31_add_global_alias_of_other_bucket(g: GarageCluster) -> None:
    name = uniq()
    _bucket(g, globalAlias=name)
    other = _bucket(g)
    r = g.admin("AddBucketAlias", body={"bucketId": other["id"], "globalAlias": name})
    assert_error(r, 400, "InvalidRequest", "already exists and points to different bucket")


def test_32_add_alias_invalid_name(g: GarageCluster) -> None:
    b = _bucket(g)
    r = g.admin("AddBucketAlias", body={"bucketId": b["id"], "globalAlias": "Bad_Name"})
    assert_error(r, 400, "InvalidBucketName", "Invalid bucket name")


def test_33_add_local_alias_unknown_key(g: GarageCluster) -> None:
    b = _bucket(g)
    r = g.admin("AddBucketAlias", body={"bucketId": b["id"], "localAlias": uniq(), "accessKeyId": "GK" + "1" * 24})
    assert_error(r, 404, "NoSuchAccessKey")


def test_34_remove_last_alias(g: GarageCluster) -> None:
    name = uniq()
    b = _bucket(g, globalAlias=name)
    r = g.admin("RemoveBucketAlias", body={"bucketId": b["id"], "globalAlias": name})
    assert_error(r, 400, "InvalidRequest", "doesn't have other aliases, please delete it instead of just unaliasing.")
    # a local alias counts as another alias: removing the global one is then fine
    key = _key(g)
    loc = uniq("l")
    g.ok("AddBucketAlias", body={"bucketId": b["id"], "localAlias": loc, "accessKeyId": key["accessKeyId"]})
    info = g.ok("RemoveBucketAlias", body={"bucketId": b["id"], "globalAlias": name})
    assert info["globalAliases"] == []
    r = g.admin("RemoveBucketAlias", body={"bucketId": b["id"], "localAlias": loc, "accessKeyId": key["accessKeyId"]})
    assert_error(r, 400, "InvalidRequest", "doesn't have other aliases")


def test_35_remove_alias_not_on_bucket(g: GarageCluster) -> None:
    b = _bucket(g, globalAlias=uniq())
    other = uniq()
    _bucket(g, globalAlias=other)
    r = g.admin("RemoveBucketAlias", body={"bucketId": b["id"], "globalAlias": other})
    assert_error(r, 500, "InternalError")
    r = g.admin("RemoveBucketAlias", body={"bucketId": b["id"], "globalAlias": uniq("never")})
    assert_error(r, 500, "InternalError")


# ----------------------------------------------------------------- permissions


def test_36_allow_deny_merge(g: GarageCluster) -> None:
    b = _bucket(g)
    key = _key(g)
    base = {"bucketId": b["id"], "accessKeyId": key["accessKeyId"]}
    g.ok("AllowBucketKey", body=base | {"permissions": {"read": True}})
    info = g.ok("DenyBucketKey", body=base | {"permissions": {"write": True}})
    (k,) = [x for x in info["keys"] if x["accessKeyId"] == key["accessKeyId"]]
    assert k["permissions"] == {"read": True, "write": False, "owner": False}
    info = g.ok("AllowBucketKey", body=base | {"permissions": {"owner": True, "read": False}})
    (k,) = [x for x in info["keys"] if x["accessKeyId"] == key["accessKeyId"]]
    assert k["permissions"] == {"read": True, "write": False, "owner": True}


def test_37_allow_deny_unknown_bucket_or_key(g: GarageCluster) -> None:
    b = _bucket(g)
    key = _key(g)
    for ep in ("AllowBucketKey", "DenyBucketKey"):
        r = g.admin(
            ep,
            body={"bucketId": secrets.token_hex(32), "accessKeyId": key["accessKeyId"], "permissions": {"read": True}},
        )
        assert_error(r, 404, "NoSuchBucket")
        r = g.admin(ep, body={"bucketId": b["id"], "accessKeyId": "GK" + "2" * 24, "permissions": {"read": True}})
        assert_error(r, 404, "NoSuchAccessKey")


def test_38_denied_key_still_listed(g: GarageCluster) -> None:
    b = _bucket(g)
    key = _key(g)
    base = {"bucketId": b["id"], "accessKeyId": key["accessKeyId"]}
    g.ok("AllowBucketKey", body=base | {"permissions": {"read": True, "write": True, "owner": True}})
    info = g.ok("DenyBucketKey", body=base | {"permissions": {"read": True, "write": True, "owner": True}})
    (k,) = [x for x in info["keys"] if x["accessKeyId"] == key["accessKeyId"]]
    assert k["permissions"] == {"read": False, "write": False, "owner": False}
    kinfo = g.ok("GetKeyInfo", query={"id": key["accessKeyId"]})
    assert [x["permissions"] for x in kinfo["buckets"] if x["id"] == b["id"]] == [
        {"read": False, "write": False, "owner": False}
    ]


# ------------------------------------------------------------------------ keys


def test_39_create_key(g: GarageCluster) -> None:
    k = g.ok("CreateKey", body={"name": "created-39"})
    assert re.match(r"^GK[0-9a-f]{24}$", k["accessKeyId"])
    assert HEX64.match(k["secretAccessKey"])
    assert k["permissions"] == {"createBucket": False}
    assert k["expired"] is False and k["name"] == "created-39"
    assert g.ok("CreateKey", body={})["name"] == "Unnamed key"


def test_40_get_key_info(g: GarageCluster) -> None:
    k = _key(g)
    info = g.ok("GetKeyInfo", query={"id": k["accessKeyId"]})
    assert "secretAccessKey" not in info
    info = g.ok("GetKeyInfo", query={"id": k["accessKeyId"], "showSecretKey": "true"})
    assert info["secretAccessKey"] == k["secretAccessKey"]
    r = g.admin("GetKeyInfo", query={"id": k["accessKeyId"], "showSecretKey": "yes"})
    assert_error(r, 400, "InvalidRequest")
    assert_error(g.admin("GetKeyInfo", query={"id": "GK" + "3" * 24}), 404, "NoSuchAccessKey")


def test_41_get_key_info_search(g: GarageCluster) -> None:
    k = _key(g, "srch")
    assert g.ok("GetKeyInfo", query={"search": k["name"].upper()})["accessKeyId"] == k["accessKeyId"]
    assert g.ok("GetKeyInfo", query={"search": k["accessKeyId"][:12]})["accessKeyId"] == k["accessKeyId"]
    assert_error(g.admin("GetKeyInfo", query={"search": uniq("zz")}), 400, "InvalidRequest", "0 matching keys")
    same = uniq("dup")
    g.ok("CreateKey", body={"name": same})
    g.ok("CreateKey", body={"name": same})
    assert_error(g.admin("GetKeyInfo", query={"search": same}), 400, "InvalidRequest", "2 matching keys")
    assert_error(g.admin("GetKeyInfo"), 400, "InvalidRequest")
    assert_error(g.admin("GetKeyInfo", query={"id": k["accessKeyId"], "search": "x"}), 400, "InvalidRequest")


def test_42_import_key(g: GarageCluster) -> None:
    kid = "GK" + secrets.token_hex(12)
    secret = secrets.token_hex(32)
    info = g.ok("ImportKey", body={"accessKeyId": kid, "secretAccessKey": secret})
    assert info["accessKeyId"] == kid and info["name"] == "Imported key" and "secretAccessKey" not in info
    assert_error(g.admin("ImportKey", body={"accessKeyId": kid, "secretAccessKey": secret}), 409, "KeyAlreadyExists")
    g.ok("DeleteKey", query={"id": kid})
    # even a deleted id, and the existence check comes before the format check
    assert_error(g.admin("ImportKey", body={"accessKeyId": kid, "secretAccessKey": "short"}), 409, "KeyAlreadyExists")
    r = g.admin("ImportKey", body={"accessKeyId": "GKnothex", "secretAccessKey": secret})
    assert_error(r, 400, "InvalidRequest", "Invalid key format")
    r = g.admin("ImportKey", body={"accessKeyId": "GK" + secrets.token_hex(12), "secretAccessKey": "abc"})
    assert_error(r, 400, "InvalidRequest", "Invalid key format")


def test_43_update_key(g: GarageCluster) -> None:
    k = _key(g)
    q = {"id": k["accessKeyId"]}
    assert g.ok("UpdateKey", query=q, body={"allow": {"createBucket": True}})["permissions"]["createBucket"] is True
    assert g.ok("UpdateKey", query=q, body={"allow": {"createBucket": False}})["permissions"]["createBucket"] is True
    assert g.ok("UpdateKey", query=q, body={"deny": {"createBucket": True}})["permissions"]["createBucket"] is False
    assert g.ok("UpdateKey", query=q, body={"name": "renamed"})["name"] == "renamed"
    r = g.admin("UpdateKey", query=q, body={"expiration": "2030-01-01T00:00:00Z", "neverExpires": True})
    assert_error(r, 400, "InvalidRequest", "expiration")
    info = g.ok("UpdateKey", query=q, body={"expiration": "2030-01-01T00:00:00Z"})
    assert info["expiration"].startswith("2030-01-01T00:00:00") and info["expired"] is False
    assert g.ok("UpdateKey", query=q, body={"neverExpires": True})["expiration"] is None
    assert_error(g.admin("UpdateKey", query={"id": "GK" + "4" * 24}, body={}), 404, "NoSuchAccessKey")


def test_44_delete_key(g: GarageCluster) -> None:
    k = _key(g)
    alias = uniq("only")
    b = _bucket(g, localAlias={"accessKeyId": k["accessKeyId"], "alias": alias, "allow": {"read": True}})
    assert g.admin("DeleteKey", query={"id": k["accessKeyId"]}) == (200, None)
    assert_error(g.admin("DeleteKey", query={"id": k["accessKeyId"]}), 404, "NoSuchAccessKey")
    assert all(x["id"] != k["accessKeyId"] for x in g.ok("ListKeys"))
    info = g.ok("GetBucketInfo", query={"id": b["id"]})  # still reachable by id, now alias-less
    assert info["keys"] == [] and info["globalAliases"] == []
    assert all(x["id"] != b["id"] or x["localAliases"] == [] for x in g.ok("ListBuckets"))


# ----------------------------------------------------------- layout & cluster


def test_45_fresh_layout(garage_fresh: GarageCluster) -> None:
    lay = garage_fresh.ok("GetClusterLayout")
    assert lay["version"] == 0 and lay["roles"] == [] and lay["stagedRoleChanges"] == []
    assert lay["parameters"] == {"zoneRedundancy": "maximum"}
    assert lay["partitionSize"] == 0


def test_46_update_layout_staging(garage_fresh: GarageCluster) -> None:
    g = garage_fresh
    nid = g.node_ids[0]
    lay = g.ok("UpdateClusterLayout", body={"roles": [{"id": nid, "zone": "dc1", "capacity": 10**9, "tags": []}]})
    assert lay["version"] == 0
    assert lay["stagedRoleChanges"] == [{"id": nid, "zone": "dc1", "tags": [], "capacity": 10**9}]
    bad = [
        {"id": nid[:16], "zone": "dc1", "capacity": 10**9, "tags": []},
        {"id": "z" * 64, "zone": "dc1", "capacity": 10**9, "tags": []},
    ]
    for role in bad:
        assert_error(g.admin("UpdateClusterLayout", body={"roles": [role]}), 400, "InvalidRequest", "node identifier")
    r = g.admin("UpdateClusterLayout", body={"roles": [{"id": nid, "zone": "dc1", "capacity": 1000, "tags": []}]})
    assert_error(r, 400, "InvalidRequest", "Capacity should be at least 1K (1024)")
    r = g.admin("UpdateClusterLayout", body={"roles": [{"id": nid, "remove": False}]})
    assert_error(r, 400, "InvalidRequest", "Invalid layout change")
    r = g.admin("UpdateClusterLayout", body={"roles": [{"id": nid, "zone": "dc1", "capacity": 10**9}]})
    assert_error(r, 400, "InvalidRequest", "Invalid JSON")  # tags are required
    r = g.admin("UpdateClusterLayout", body={"parameters": {"zoneRedundancy": {"atLeast": 4}}})
    assert_error(r, 400, "InvalidRequest", "zone redundancy must be smaller or equal to the replication factor (3)")
    r = g.admin("UpdateClusterLayout", body={"parameters": {"zoneRedundancy": {"atLeast": 0}}})
    assert_error(r, 400, "InvalidRequest", "at least 1")
    # nothing of the failed requests was staged
    assert len(g.ok("GetClusterLayout")["stagedRoleChanges"]) == 1


def test_47_apply_layout_version_rule(garage_fresh: GarageCluster) -> None:
    g = garage_fresh
    roles = [{"id": n, "zone": f"dc{i}", "capacity": 10**10, "tags": []} for i, n in enumerate(g.node_ids)]
    g.ok("UpdateClusterLayout", body={"roles": roles})
    for v in (0, 2, 5):
        r = g.admin("ApplyClusterLayout", body={"version": v})
        assert_error(r, 500, "InternalError", "Invalid new layout version")
    st, res = g.admin("ApplyClusterLayout", body={"version": 1})
    assert st == 200 and isinstance(res["message"], list)
    assert res["layout"]["version"] == 1 and res["layout"]["stagedRoleChanges"] == []
    assert all(r["storedPartitions"] == 256 for r in res["layout"]["roles"])
    assert_error(g.admin("ApplyClusterLayout", body={"version": 1}), 500, "InternalError", "Invalid new layout version")


def test_48_revert_layout(garage_fresh: GarageCluster) -> None:
    g = garage_fresh
    g.ok(
        "UpdateClusterLayout",
        body={
            "roles": [{"id": g.node_ids[1], "zone": "z", "capacity": 2048, "tags": ["a"]}],
            "parameters": {"zoneRedundancy": {"atLeast": 1}},
        },
    )
    lay = g.ok("RevertClusterLayout")
    assert lay["stagedRoleChanges"] == [] and lay["stagedParameters"] is None and lay["version"] == 0


def test_49_cluster_health(g: GarageCluster, garage_fresh: GarageCluster) -> None:
    h = g.ok("GetClusterHealth")
    keys = {
        "status",
        "knownNodes",
        "connectedNodes",
        "storageNodes",
        "storageNodesOk",
        "partitions",
        "partitionsQuorum",
        "partitionsAllOk",
    }
    assert set(h) == keys
    assert h["status"] == "healthy" and h["partitions"] == 256 and h["partitionsAllOk"] == 256
    assert h["storageNodes"] == h["storageNodesOk"] == 3
    f = garage_fresh.ok("GetClusterHealth")
    assert f["status"] == "unavailable" and f["partitions"] == 256 and f["storageNodes"] == 0


def test_50_connect_cluster_nodes(g: GarageCluster) -> None:
    specs = [
        f"{g.node_ids[1]}@127.0.0.1:3911",
        "not-a-node-spec",
        f"{secrets.token_hex(32)}@127.0.0.1:1",
    ]
    st, res = g.admin("ConnectClusterNodes", body=specs)
    assert st == 200 and isinstance(res, list) and len(res) == 3
    assert all(set(x) >= {"success", "error"} for x in res)
    assert res[1]["success"] is False and "Unable to parse or resolve node specification" in res[1]["error"]
    assert res[2]["success"] is False and res[2]["error"]
    if g.standin:
        assert res[0] == {"success": True, "error": None}
