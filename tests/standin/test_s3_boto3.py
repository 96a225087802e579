"""boto3 with default settings (request checksums on) against the S3 stand-in."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import time
import typing as t
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError
from test_s3_helpers import S3Server, random_name


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[S3Server]:
    s = S3Server(str(tmp_path_factory.mktemp("s3data")))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def key(server: S3Server) -> t.Any:
    return server.create_key("boto3-tests")


@pytest.fixture(scope="module")
def s3(server: S3Server, key: t.Any) -> t.Any:
    return server.client(key)


@pytest.fixture
def bucket(s3: t.Any) -> str:
    name = random_name()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "garage"})
    return name


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def test_put_get_head_list_delete(s3: t.Any, bucket: str) -> None:
    r = s3.put_object(Bucket=bucket, Key="dir/hello.txt", Body=b"hello", ContentType="text/plain", Metadata={"a": "b"})
    assert r["ETag"] == '"5d41402abc4b2a76b9719d911017c592"'
    h = s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert h["ContentLength"] == 5 and h["ContentType"] == "text/plain" and h["Metadata"] == {"a": "b"}
    o = s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert o["Body"].read() == b"hello"
    o = s3.get_object(Bucket=bucket, Key="dir/hello.txt", Range="bytes=1-3")
    assert o["Body"].read() == b"ell" and o["ContentRange"] == "bytes 1-3/5"
    lst = s3.list_objects_v2(Bucket=bucket)
    assert [c["Key"] for c in lst["Contents"]] == ["dir/hello.txt"]
    lst = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert lst["CommonPrefixes"] == [{"Prefix": "dir/"}] and "Contents" not in lst
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")
    s3.delete_object(Bucket=bucket, Key="dir/hello.txt")  # idempotent 204
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket=bucket, Key="dir/hello.txt")
    assert code(e)[0] == 404
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="dir/hello.txt")
    assert code(e) == (404, "NoSuchKey")


def test_odd_keys_roundtrip(s3: t.Any, bucket: str) -> None:
    keys = ["a b", "plus+sign", "ünïcødé/ключ", "semi;colon", "q?mark", "pct%20", "tilde~", "x/../y", "sp ace/"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == sorted(keys)
    listed_v1 = [c["Key"] for c in s3.list_objects(Bucket=bucket)["Contents"]]
    assert listed_v1 == sorted(keys)
    for k in keys:
        assert s3.get_object(Bucket=bucket, Key=k)["Body"].read() == k.encode()


def test_pagination_v2_and_v1(s3: t.Any, bucket: str) -> None:
    names = [f"p/{i:03d}" for i in range(25)] + [f"q{i}/x" for i in range(5)]
    for n in names:
        s3.put_object(Bucket=bucket, Key=n, Body=b"")
    pager = s3.get_paginator("list_objects_v2")
    got = [
        c["Key"] for page in pager.paginate(Bucket=bucket, PaginationConfig={"PageSize": 7}) for c in page["Contents"]
    ]
    assert got == sorted(names)
    got_prefixes: list[str] = []
    for page in pager.paginate(Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 2}):
        got_prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert got_prefixes == ["p/", "q0/", "q1/", "q2/", "q3/", "q4/"]
    pager1 = s3.get_paginator("list_objects")
    got1 = [
        c["Key"] for page in pager1.paginate(Bucket=bucket, PaginationConfig={"PageSize": 4}) for c in page["Contents"]
    ]
    assert got1 == sorted(names)
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="p/020", Prefix="p/")
    assert [c["Key"] for c in r["Contents"]] == [f"p/{i:03d}" for i in range(21, 25)]
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert r["MaxKeys"] == 1 and r["KeyCount"] == 1  # clamped to 1..1000, like Garage
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert r["MaxKeys"] == 1000


def test_copy_object_directives_and_preconditions(s3: t.Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="src", Body=b"data", ContentType="text/x-src", Metadata={"m": "1"})
    etag = s3.head_object(Bucket=bucket, Key="src")["ETag"]
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["CopyObjectResult"]["ETag"] == etag
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["Metadata"] == {"m": "1"} and h["ContentType"] == "text/x-src"
    s3.copy_object(
        Bucket=bucket,
        Key="dst2",
        CopySource={"Bucket": bucket, "Key": "src"},
        MetadataDirective="REPLACE",
        Metadata={"n": "2"},
        ContentType="text/plain",
    )
    h = s3.head_object(Bucket=bucket, Key="dst2")
    assert h["Metadata"] == {"n": "2"} and h["ContentType"] == "text/plain"
    with pytest.raises(ClientError) as e:
        s3.copy_object(
            Bucket=bucket, Key="dst3", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch='"nope"'
        )
    assert code(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.copy_object(
            Bucket=bucket, Key="dst3", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=etag
        )
    assert code(e) == (412, "PreconditionFailed")
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=bucket, Key="dst3", CopySource={"Bucket": bucket, "Key": "missing"})
    assert code(e) == (404, "NoSuchKey")


def test_conditional_get_and_put(s3: t.Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="c", Body=b"v1")
    etag = s3.head_object(Bucket=bucket, Key="c")["ETag"]
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert code(e)[0] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"other"')
    assert code(e) == (412, "PreconditionFailed")
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"v1"
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=bucket, Key="c", Body=b"v2", IfNoneMatch="*")
    assert code(e) == (412, "PreconditionFailed")
    s3.put_object(Bucket=bucket, Key="new", Body=b"v2", IfNoneMatch="*")
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="c", Range="bytes=10-20")
    assert code(e) == (416, "InvalidRange")


def test_multipart_upload_file_and_download(s3: t.Any, bucket: str, tmp_path: t.Any) -> None:
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(11 * 1024 * 1024 + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024, max_concurrency=4)
    s3.upload_file(str(src), bucket, "big.bin", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="big.bin")
    md5s = b"".join(hashlib.md5(data[i : i + 5 * 1024 * 1024]).digest() for i in range(0, len(data), 5 * 1024 * 1024))
    assert h["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    assert h["ContentLength"] == len(data)
    dst = tmp_path / "back.bin"
    s3.download_file(bucket, "big.bin", str(dst), Config=cfg)
    assert dst.read_bytes() == data
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_multipart_low_level_rules(s3: t.Any, bucket: str) -> None:
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="text/mp")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=3, Body=b"a")["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=7, Body=b"bc")["ETag"]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(3, 1), (7, 2)]
    ups = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert [(u["Key"], u["UploadId"]) for u in ups] == [("mp", up)]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": []})
    assert code(e)[0] == 400  # EntityTooSmall (boto3 may reject client-side as MalformedXML)
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket,
            Key="mp",
            UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 7, "ETag": e2}, {"PartNumber": 3, "ETag": e1}]},
        )
    assert code(e) == (400, "InvalidPartOrder")
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": '"00"'}]}
        )
    assert code(e) == (400, "InvalidPart")
    # no minimum part size, numbers need not start at 1
    r = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="mp",
        UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": 3, "ETag": e1}, {"PartNumber": 7, "ETag": e2}]},
    )
    assert r["ETag"].endswith('-2"')
    o = s3.get_object(Bucket=bucket, Key="mp")
    assert o["Body"].read() == b"abc" and o["ContentType"] == "text/mp"
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"x")
    assert code(e) == (404, "NoSuchUpload")
    up2 = s3.create_multipart_upload(Bucket=bucket, Key="mp2")["UploadId"]
    s3.upload_part_copy(
        Bucket=bucket,
        Key="mp2",
        UploadId=up2,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "mp"},
        CopySourceRange="bytes=1-2",
    )
    s3.abort_multipart_upload(Bucket=bucket, Key="mp2", UploadId=up2)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="mp2", UploadId=up2)
    assert code(e) == (404, "NoSuchUpload")


def test_delete_objects_garage_quirk(s3: t.Any, bucket: str) -> None:
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"k{i}", Body=b"x")
    objs = [{"Key": f"k{i}"} for i in range(3)] + [{"Key": "missing"}]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objs})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["k0", "k1", "k2"]
    assert [(x["Key"], x["Code"]) for x in r["Errors"]] == [("missing", "NoSuchKey")]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "missing"}], "Quiet": True})
    assert "Deleted" not in r and len(r["Errors"]) == 1
    # no 1000-key limit in Garage
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"n{i}"} for i in range(1001)], "Quiet": True})
    assert len(r["Errors"]) == 1001


def test_presigned_get_and_put(s3: t.Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="pre sign/é", Body=b"presigned!")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre sign/é"}, ExpiresIn=60)
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"presigned!"
    bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(bad[:-1], timeout=10)
    assert e.value.code == 403 and b"SignatureDoesNotMatch" in e.value.read()
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "via-put"}, ExpiresIn=60)
    req = urllib.request.Request(put_url, data=b"uploaded", method="PUT")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200
    assert s3.get_object(Bucket=bucket, Key="via-put")["Body"].read() == b"uploaded"
    short = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "via-put"}, ExpiresIn=1)
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(short, timeout=10)
    assert e.value.code == 400 and b"Date is too old" in e.value.read()
    too_long = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "via-put"}, ExpiresIn=604801)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(too_long, timeout=10)
    assert e.value.code == 400


def test_wrong_secret_and_region(server: S3Server, key: t.Any, bucket: str) -> None:
    bad = server.client(key, secret="0" * 64)
    with pytest.raises(ClientError) as e:
        bad.list_objects_v2(Bucket=bucket)
    assert code(e) == (403, "SignatureDoesNotMatch")
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=bucket, Key="x", Body=b"x")
    assert code(e) == (403, "SignatureDoesNotMatch")
    wrong_region = server.client(key, region="us-east-1")
    with pytest.raises(ClientError) as e:
        wrong_region.list_buckets()
    assert code(e) == (400, "AuthorizationHeaderMalformed")
    # On bucket requests botocore reads <Region> from the error body (Garage sends it too)
    # and retries once with the right region, so these succeed, as against a real Garage.
    wrong_region.list_objects_v2(Bucket=bucket)


def test_cors_roundtrip_and_preflight(s3: t.Any, server: S3Server, key: t.Any) -> None:
    bucket = random_name("cors")
    server.create_bucket(bucket, key)  # global alias: preflights resolve global aliases only
    # Garage: Get with no configuration is 204 with an empty body (botocore returns no CORSRules)
    assert "CORSRules" not in s3.get_bucket_cors(Bucket=bucket)
    rules = [
        {
            "AllowedMethods": ["GET", "PUT"],
            "AllowedOrigins": ["https://app.example"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 300,
        }
    ]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["AllowedOrigins"] == ["https://app.example"] and got[0]["AllowedMethods"] == ["GET", "PUT"]
    req = urllib.request.Request(
        f"{server.url}/{bucket}/obj",
        method="OPTIONS",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Access-Control-Allow-Origin"] == "https://app.example"
    req = urllib.request.Request(
        f"{server.url}/{bucket}/obj",
        method="OPTIONS",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 403
    s3.delete_bucket_cors(Bucket=bucket)
    assert "CORSRules" not in s3.get_bucket_cors(Bucket=bucket)


def test_website_config_and_endpoint(s3: t.Any, server: S3Server, key: t.Any) -> None:
    name = random_name("site")
    b = server.create_bucket(name, key)
    assert "IndexDocument" not in s3.get_bucket_website(Bucket=name)  # 204 when unset
    s3.put_bucket_website(
        Bucket=name,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}},
    )
    w = s3.get_bucket_website(Bucket=name)
    assert w["IndexDocument"] == {"Suffix": "index.html"} and w["ErrorDocument"] == {"Key": "err.html"}
    assert b.website_enabled and b.website_index == "index.html"
    s3.put_object(Bucket=name, Key="index.html", Body=b"<h1>home</h1>", ContentType="text/html")
    s3.put_object(Bucket=name, Key="docs/index.html", Body=b"docs", ContentType="text/html")
    s3.put_object(Bucket=name, Key="err.html", Body=b"oops", ContentType="text/html")

    def get(path: str, host: str) -> tuple[int, bytes, t.Any]:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", int(server.web_url.rsplit(":", 1)[1]), timeout=10)
        conn.request("GET", path, headers={"Host": host})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp.status, body, resp.headers

    assert get("/", name)[:2] == (200, b"<h1>home</h1>")
    assert get("/docs/", f"{name}.web.garage.localhost:3902")[:2] == (200, b"docs")
    st, _body, hdrs = get("/docs", name)
    assert st == 302 and hdrs["Location"] == "/docs/"
    assert get("/nothing", name)[:2] == (404, b"oops")
    assert get("/", "unknown-site")[0] == 404
    # CORS on the website endpoint uses the bucket's CORS rules
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["https://site.example"]}]},
    )
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(server.web_url.rsplit(":", 1)[1]), timeout=10)
    conn.request(
        "OPTIONS", "/", headers={"Host": name, "Origin": "https://site.example", "Access-Control-Request-Method": "GET"}
    )
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "https://site.example"
    conn.request("GET", "/", headers={"Host": name, "Origin": "https://site.example"})
    resp = conn.getresponse()
    assert resp.read() == b"<h1>home</h1>" and resp.headers["Access-Control-Allow-Origin"] == "https://site.example"
    conn.request(
        "OPTIONS", "/", headers={"Host": name, "Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
    )
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 403
    conn.close()
    with pytest.raises(ClientError) as e:
        s3.put_bucket_website(Bucket=name, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "x.example"}})
    assert code(e)[0] == 501
    s3.delete_bucket_website(Bucket=name)
    assert get("/", name)[0] == 404


def test_lifecycle_and_misc_bucket_calls(s3: t.Any, bucket: str) -> None:
    with pytest.raises(ClientError) as e:
        s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert code(e)[0] == 404
    cfg = {"Rules": [{"ID": "r1", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 3}}]}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=cfg)
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got[0]["Expiration"] == {"Days": 3} and got[0]["Filter"] == {"Prefix": "tmp/"}
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "garage"
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket=bucket)
    assert code(e) == (501, "NotImplemented")
    s3.head_bucket(Bucket=bucket)


def test_tls_trailer_checksums(tmp_path: t.Any) -> None:
    """Over HTTPS boto3 sends aws-chunked bodies with an unsigned CRC32 trailer."""
    cert, keyf = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(keyf), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    srv = S3Server(str(tmp_path / "data"), tls=(str(cert), str(keyf)))
    try:
        k = srv.create_key()
        c = srv.client(k, verify=str(cert))
        c.create_bucket(Bucket="tls-bucket")
        c.put_object(Bucket="tls-bucket", Key="a", Body=io.BytesIO(b"z" * 100_000))
        assert c.get_object(Bucket="tls-bucket", Key="a")["Body"].read() == b"z" * 100_000
        with srv.store.lock:
            b = next(iter(srv.store.buckets.values()))
            assert b.objects["a"].checksums  # the trailer checksum was read and checked
        from boto3.s3.transfer import TransferConfig

        big = os.urandom(6 * 1024 * 1024 + 7)
        cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
        c.upload_fileobj(io.BytesIO(big), "tls-bucket", "mp", Config=cfg)  # UploadPart with trailers
        assert c.get_object(Bucket="tls-bucket", Key="mp")["Body"].read() == big
        c.put_object(Bucket="tls-bucket", Key="s", Body=b"small", ChecksumAlgorithm="SHA256")
        assert c.get_object(Bucket="tls-bucket", Key="s", ChecksumMode="ENABLED")["Body"].read() == b"small"
    finally:
        srv.stop()
