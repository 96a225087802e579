"""Garage-specific S3 semantics of the stand-in: auth, buckets, aliases, permissions, quotas, robustness."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import socket
import time
import typing as t
import zlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from garage_standin.state import Permission
from test_s3_helpers import S3Server, random_name


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[S3Server]:
    s = S3Server(str(tmp_path_factory.mktemp("s3sem")))
    yield s
    s.stop()


def code(exc: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    r = exc.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def raw(
    server: S3Server, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, bytes, http.client.HTTPMessage]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read(), resp.headers
    finally:
        conn.close()


def signed(
    server: S3Server,
    key: t.Any,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    payload_hash: str | None = None,
    amz_date: str | None = None,
) -> tuple[int, bytes, http.client.HTTPMessage]:
    """Sign with botocore's SigV4Auth (an independent signer) and send over http.client."""
    h = {"host": f"127.0.0.1:{server.port}", **(headers or {})}
    h["x-amz-content-sha256"] = payload_hash or hashlib.sha256(body).hexdigest()
    req = AWSRequest(method=method, url=f"{server.url}{path}", data=body, headers=h)
    auth = SigV4Auth(Credentials(key.id, key.secret), "s3", "garage")
    if amz_date is not None:
        req.context["timestamp"] = amz_date
        orig = auth._modify_request_before_signing

        def keep_date(r: AWSRequest) -> None:
            orig(r)
            r.headers.replace_header("X-Amz-Date", amz_date)

        auth._modify_request_before_signing = keep_date  # type: ignore[method-assign]
    auth.add_auth(req)
    return raw(server, method, path, body, dict(req.headers.items()))


# ------------------------------------------------------------------ auth


def test_anonymous_unknown_and_expired_keys(server: S3Server) -> None:
    st, body, _headers = raw(server, "GET", "/")
    assert st == 403 and b"<Code>AccessDenied</Code>" in body and b"anonymous access" in body
    ghost = server.create_key("ghost")
    with server.store.lock:
        del server.store.keys[ghost.id]
    with pytest.raises(ClientError) as e:
        server.client(ghost).list_buckets()
    assert code(e)[0] == 403 and code(e)[1] in ("AccessDenied", "InvalidAccessKeyId")
    old = server.create_key("old")
    with server.store.lock:
        old.expiration = time.time() - 10
    with pytest.raises(ClientError) as e:
        server.client(old).list_buckets()
    assert code(e) == (403, "AccessDenied") and f"Access key {old.id} has expired" in str(e.value)


def test_date_too_old_and_payload_hash_mismatch(server: S3Server) -> None:
    k = server.create_key()
    server.create_bucket("dates", k)
    old = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 25 * 3600))
    st, body, _headers = signed(server, k, "GET", "/dates", amz_date=old)
    assert st == 400 and b"Date is too old" in body
    st, body, _headers = signed(
        server, k, "PUT", "/dates/x", body=b"abc", payload_hash=hashlib.sha256(b"abd").hexdigest()
    )
    assert st == 400 and b"XAmzContentSHA256Mismatch" in body
    st, body, _headers = signed(
        server, k, "PUT", "/dates/x", body=b"abc", headers={"Content-MD5": "AAAAAAAAAAAAAAAAAAAAAA=="}
    )
    assert st == 400 and b"InvalidDigest" in body
    st, body, _headers = signed(server, k, "PUT", "/dates/x", body=b"abc", headers={"x-amz-checksum-crc32": "AAAAAA=="})
    assert st == 400 and b"InvalidDigest" in body
    # CRC check values of b"123456789" (CRC-32C e3069283, CRC-64/NVME ae8b14860a799888) and a stdlib SHA-1
    vectors = (
        ("crc32c", base64.b64encode(bytes.fromhex("e3069283")).decode()),
        ("crc64nvme", base64.b64encode(bytes.fromhex("ae8b14860a799888")).decode()),
        ("sha1", base64.b64encode(hashlib.sha1(b"123456789").digest()).decode()),
    )
    for alg, good in vectors:
        st, body, _headers = signed(
            server, k, "PUT", "/dates/y", body=b"123456789", headers={f"x-amz-checksum-{alg}": good}
        )
        assert st == 200, (alg, body)
        st, body, _headers = signed(
            server, k, "PUT", "/dates/y", body=b"123456780", headers={f"x-amz-checksum-{alg}": good}
        )
        assert st == 400 and b"InvalidDigest" in body
    with server.store.lock:
        assert not any("x" == o for b in server.store.buckets.values() for o in b.objects)


def _chunk_sig(skey: bytes, amz_date: str, scope: str, prev: str, data: bytes) -> str:
    sts = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            amz_date,
            scope,
            prev,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(data).hexdigest(),
        ]
    )
    return hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()


def _skey(secret: str, date: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in ("garage", "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


@pytest.mark.parametrize(
    ("trailer", "tamper"), [(False, False), (False, True), (True, False), (True, True), (True, "trailer")]
)
def test_streaming_signed_payload(server: S3Server, trailer: bool, tamper: bool | str) -> None:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: seed signature by botocore, chunk signatures per AWS docs."""
    k = server.create_key()
    if "streaming" not in server.store.global_aliases:
        server.create_bucket("streaming", k)
    with server.store.lock:
        bucket = server.store.buckets[server.store.global_aliases["streaming"]]
        bucket.authorized_keys[k.id] = Permission(True, True, True)
    chunks = [b"a" * 65536, b"b" * 1000, b""]
    payload = b"".join(chunks)
    amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer else "")
    headers = {
        "host": f"127.0.0.1:{server.port}",
        "x-amz-content-sha256": mode,
        "x-amz-decoded-content-length": str(len(payload)),
        "content-encoding": "aws-chunked",
        "x-amz-date": amz_date,
    }
    if trailer:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    req = AWSRequest(method="PUT", url=f"{server.url}/streaming/obj", data=b"", headers=headers)
    req.context["timestamp"] = amz_date
    SigV4Auth(Credentials(k.id, k.secret), "s3", "garage").add_auth(req)
    seed = req.headers["Authorization"].rsplit("Signature=", 1)[1]
    scope = f"{amz_date[:8]}/garage/s3/aws4_request"
    skey = _skey(k.secret, amz_date[:8])
    body = b""
    prev = seed
    for c in chunks:
        sig = _chunk_sig(skey, amz_date, scope, prev, c)
        if tamper is True and c.startswith(b"b"):
            sig = "0" * 64
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + (b"\r\n" if c or not trailer else b"")
        prev = sig
    if trailer:
        crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
        canon = f"x-amz-checksum-crc32:{crc}\n"
        sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", amz_date, scope, prev, hashlib.sha256(canon.encode()).hexdigest()])
        tsig = hmac.new(skey, sts.encode(), hashlib.sha256).hexdigest()
        if tamper == "trailer":
            tsig = "1" * 64
        body += f"x-amz-checksum-crc32:{crc}\r\nx-amz-trailer-signature:{tsig}\r\n\r\n".encode()
    hdrs = dict(req.headers.items())
    hdrs["Content-Length"] = str(len(body))
    st, resp, _headers = raw(server, "PUT", "/streaming/obj", body, hdrs)
    if tamper:
        assert st == 403 and b"SignatureDoesNotMatch" in resp
    else:
        assert st == 200, resp
        with server.store.lock:
            assert bucket.objects["obj"].size == len(payload)
            if trailer:
                assert bucket.objects["obj"].checksums == {"CRC32": crc}


# ------------------------------------------------------------- buckets


def test_create_bucket_rules(server: S3Server) -> None:
    k = server.create_key("creator")
    other = server.create_key("other")
    s3 = server.client(k)
    name = random_name()
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # idempotent for a key with write/owner
    with server.store.lock:
        bid = k.local_aliases[name]
        b = server.store.buckets[bid]
        assert b.global_aliases == [] and (k.id, name) in b.local_aliases  # LOCAL alias
        assert b.authorized_keys[k.id] == Permission(True, True, True)
    # other key: the name is not in its namespace, so it would create its own bucket
    no_create = server.create_key("nocreate", allow_create_bucket=False)
    with pytest.raises(ClientError) as e:
        server.client(no_create).create_bucket(Bucket=random_name())
    assert code(e) == (403, "AccessDenied") and "not allowed to create buckets" in str(e.value)
    glob = random_name("glob")
    server.create_bucket(glob, None)
    with pytest.raises(ClientError) as e:
        server.client(other).create_bucket(Bucket=glob)
    assert code(e) == (409, "BucketAlreadyExists")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket=random_name(), CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert code(e)[0] == 400
    st, body, _headers = signed(server, k, "PUT", "/Bad_Name")
    assert st == 400 and b"InvalidRequest" in body
    # local alias shadows a global alias of the same name
    shadow = random_name("shadow")
    g = server.create_bucket(shadow, k)
    s3.put_object(Bucket=shadow, Key="in-global", Body=b"g")
    with server.store.lock:
        from garage_standin import model

        mine = model.create_bucket(
            server.store, local_key=k, local_alias=shadow, permission=Permission(True, True, True)
        )
    s3.put_object(Bucket=shadow, Key="in-local", Body=b"l")
    assert "in-local" in mine.objects and "in-local" not in g.objects
    # full 64-hex id works as a bucket name
    assert s3.get_object(Bucket=g.id, Key="in-global")["Body"].read() == b"g"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert name in names and shadow in names


def test_delete_bucket_alias_rules(server: S3Server) -> None:
    k = server.create_key()
    s3 = server.client(k)
    name = random_name()
    b = server.create_bucket(name, k)
    second = random_name("second")
    with server.store.lock:
        from garage_standin import model

        model.set_global_alias(server.store, b, second)
    s3.put_object(Bucket=name, Key="x", Body=b"x")
    s3.delete_bucket(Bucket=second)  # other aliases remain: only the alias goes
    assert second not in server.store.global_aliases and not b.deleted
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket=name)
    assert code(e) == (409, "BucketNotEmpty")
    s3.delete_object(Bucket=name, Key="x")
    s3.delete_bucket(Bucket=name)
    assert b.deleted and name not in server.store.global_aliases
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=name)
    assert code(e)[0] == 404


def test_permissions(server: S3Server) -> None:
    owner = server.create_key("owner")
    reader = server.create_key("reader")
    writer = server.create_key("writer")
    name = random_name()
    b = server.create_bucket(name, owner)
    with server.store.lock:
        b.authorized_keys[reader.id] = Permission(read=True)
        b.authorized_keys[writer.id] = Permission(write=True)
    server.client(owner).put_object(Bucket=name, Key="k", Body=b"v")
    r, w = server.client(reader), server.client(writer)
    assert r.get_object(Bucket=name, Key="k")["Body"].read() == b"v"
    r.list_objects_v2(Bucket=name)
    r.head_bucket(Bucket=name)
    for call in (
        lambda: r.put_object(Bucket=name, Key="k2", Body=b"x"),
        lambda: r.delete_object(Bucket=name, Key="k"),
        lambda: w.get_object(Bucket=name, Key="k"),
        lambda: w.put_bucket_cors(
            Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
        ),
        lambda: w.delete_bucket(Bucket=name),
        lambda: w.copy_object(Bucket=name, Key="c", CopySource={"Bucket": name, "Key": "k"}),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == (403, "AccessDenied")
    w.put_object(Bucket=name, Key="k3", Body=b"x")
    assert name not in [x["Name"] for x in server.client(server.create_key()).list_buckets()["Buckets"]]


def test_quotas(server: S3Server) -> None:
    k = server.create_key()
    s3 = server.client(k)
    name = random_name()
    b = server.create_bucket(name, k)
    with server.store.lock:
        b.quota_max_objects = 2
    s3.put_object(Bucket=name, Key="a", Body=b"1")
    s3.put_object(Bucket=name, Key="b", Body=b"2")
    s3.put_object(Bucket=name, Key="a", Body=b"overwrite is fine")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket=name, Key="c", Body=b"3")
    assert code(e) == (403, "AccessDenied") and "Object quota is reached" in str(e.value)
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket=name, Key="c", CopySource={"Bucket": name, "Key": "a"})
    assert code(e) == (403, "AccessDenied")
    with server.store.lock:
        b.quota_max_objects = None
        b.quota_max_size = 30
    up = s3.create_multipart_upload(Bucket=name, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=name, Key="mp", UploadId=up, PartNumber=1, Body=b"x" * 20)["ETag"]
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket=name, Key="mp", UploadId=up, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]}
        )
    assert code(e) == (403, "AccessDenied") and "Bucket size quota is reached" in str(e.value)
    assert set(b.objects) == {"a", "b"} and len(b.uploads) == 1


# ------------------------------------------------------------ robustness


def test_malformed_and_truncated_requests(server: S3Server) -> None:
    k = server.create_key()
    name = random_name()
    server.create_bucket(name, k)
    for doc in (b"<Delete><Object><Key>a</Key>", b"not xml at all", b'<!DOCTYPE x [<!ENTITY a "b">]><Delete/>'):
        st, body, _headers = signed(server, k, "POST", f"/{name}?delete", body=doc)
        assert st == 400 and b"MalformedXML" in body
    st, body, _headers = signed(
        server, k, "PUT", f"/{name}?cors", body=b"<CORSConfiguration><CORSRule/></CORSConfiguration>"
    )
    assert st == 400
    # truncated body: Content-Length larger than what is sent, then the client closes
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"PUT /" + name.encode() + b"/t HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=" + k.id.encode() + b"/20250101/garage/s3/aws4_request, "
            b"SignedHeaders=host, Signature=00\r\nx-amz-date: 20250101T000000Z\r\n\r\nshort"
        )
        sock.shutdown(socket.SHUT_WR)
        data = sock.recv(65536)
        assert data.startswith(b"HTTP/1.1 4")
    # huge header and too many headers
    st, body, _headers = raw(server, "GET", "/", headers={"X-Big": "a" * 70000})
    assert st in (400, 431)
    st, body, _headers = raw(server, "GET", "/", headers={f"X-H{i}": "v" for i in range(150)})
    assert st == 431
    # garbage request line
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01garbage\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.")
    st, body, _headers = signed(server, k, "GET", f"/{name}?list-type=3")
    assert st == 400
    st, body, _headers = signed(server, k, "GET", f"/{name}?list-type=2&continuation-token=%21%21%21")
    assert st == 400
    st, body, _headers = signed(server, k, "DELETE", f"/{name}/nope?uploadId=zzz")
    assert st == 404 and b"NoSuchUpload" in body
    # the server still answers normally
    st, _body, _headers = signed(server, k, "GET", f"/{name}?list-type=2")
    assert st == 200


def test_error_document_shape(server: S3Server) -> None:
    k = server.create_key()
    st, body, hdrs = signed(server, k, "GET", "/no-such-bucket-here?list-type=2")
    assert st == 404 and hdrs["Content-Type"] == "application/xml"
    for tag in (
        b"<Code>NoSuchBucket</Code>",
        b"<Message>",
        b"<Resource>/no-such-bucket-here</Resource>",
        b"<Region>garage</Region>",
    ):
        assert tag in body


def test_vhost_style_with_root_domain(server: S3Server) -> None:
    k = server.create_key()
    name = random_name("vh")
    server.create_bucket(name, k)
    host = {"host": f"{name}.s3.garage.localhost:{server.port}"}
    st, body, _headers = signed(server, k, "PUT", "/dir/obj", body=b"vhost!", headers=host)
    assert st == 200, body
    st, body, _headers = signed(server, k, "GET", "/dir/obj", headers=host)
    assert (st, body) == (200, b"vhost!")
    st, body, _headers = signed(server, k, "GET", "/?list-type=2", headers=host)
    assert st == 200 and b"<Key>dir/obj</Key>" in body and f"<Name>{name}</Name>".encode() in body
    st, body, _headers = signed(server, k, "GET", f"/{name}/dir/obj")  # path style still works
    assert (st, body) == (200, b"vhost!")
