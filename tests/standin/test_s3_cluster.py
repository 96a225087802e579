"""End to end through the launcher (shared ``garage`` fixtures): admin API and S3 front end on one state."""

from __future__ import annotations

import typing as t

import pytest
from botocore.exceptions import ClientError


def _key_with_bucket(g: t.Any, alias: str) -> tuple[t.Any, str]:
    kid, secret = g.create_key(f"k-{alias}")
    info = g.ok("CreateBucket", body={"globalAlias": alias})
    g.ok(
        "AllowBucketKey",
        body={"bucketId": info["id"], "accessKeyId": kid, "permissions": {"read": True, "write": True, "owner": True}},
    )
    return g.s3_client(kid, secret), info["id"]


def test_counters_quotas_and_website_through_admin(garage: t.Any) -> None:
    s3, bid = _key_with_bucket(garage, "e2e-counters")
    s3.put_object(Bucket="e2e-counters", Key="a", Body=b"12345")
    s3.put_object(Bucket="e2e-counters", Key="b", Body=b"678")
    up = s3.create_multipart_upload(Bucket="e2e-counters", Key="mp")["UploadId"]
    s3.upload_part(Bucket="e2e-counters", Key="mp", UploadId=up, PartNumber=1, Body=b"xy")
    info = garage.ok("GetBucketInfo", query={"id": bid})
    assert (info["objects"], info["bytes"], info["unfinishedUploads"]) == (2, 8, 1)
    assert info["unfinishedMultipartUploadParts"] == 1 and info["unfinishedMultipartUploadBytes"] == 2
    s3.abort_multipart_upload(Bucket="e2e-counters", Key="mp", UploadId=up)
    garage.ok("UpdateBucket", query={"id": bid}, body={"quotas": {"maxObjects": 2}})
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="e2e-counters", Key="c", Body=b"x")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    garage.ok("UpdateBucket", query={"id": bid}, body={"quotas": {}})
    s3.put_object(Bucket="e2e-counters", Key="c", Body=b"x")
    # admin-side website config shows through the S3 GetBucketWebsite
    garage.ok(
        "UpdateBucket",
        query={"id": bid},
        body={"websiteAccess": {"enabled": True, "indexDocument": "index.html", "errorDocument": "e.html"}},
    )
    w = s3.get_bucket_website(Bucket="e2e-counters")
    assert w["IndexDocument"]["Suffix"] == "index.html" and w["ErrorDocument"]["Key"] == "e.html"
    # and S3 DeleteBucket of a non-empty bucket with a single alias is refused
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="e2e-counters")
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"


def test_s3_faults_and_call_counts(garage_factory: t.Any) -> None:
    g = garage_factory()
    if not g.standin:
        pytest.skip("stand-in only")
    s3, _bid = _key_with_bucket(g, "e2e-faults")
    g.reset_calls()
    # times=5: botocore retries a 503 (the fixture's client allows one retry)
    g.fault("S3:PutObject", status=503, code="ServiceUnavailable", message="injected", times=5)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="e2e-faults", Key="a", Body=b"x")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    g.clear_faults()
    s3.put_object(Bucket="e2e-faults", Key="a", Body=b"x")
    s3.get_object(Bucket="e2e-faults", Key="a")
    calls = g.calls()
    assert calls.get("S3:PutObject", 0) >= 2 and calls.get("S3:GetObject") == 1
