"""Unit tests of the S3 front end's building blocks (no server)."""

from __future__ import annotations

import base64
import io
import random
import zlib

import pytest
from garage_standin import blobstore, s3xml, sigv4
from garage_standin.s3 import S3Error, S3Handler, _Body, parse_range


def http_chunked(data: bytes, sizes: list[int]) -> bytes:
    out = b""
    i = 0
    for n in sizes:
        piece = data[i : i + n]
        if not piece:
            break
        out += b"%x\r\n%b\r\n" % (len(piece), piece)
        i += len(piece)
    if i < len(data):
        out += b"%x\r\n%b\r\n" % (len(data) - i, data[i:])
    return out + b"0\r\n\r\n"


def aws_unsigned_trailer(data: bytes, chunk: int) -> bytes:
    out = b""
    for i in range(0, len(data), chunk):
        piece = data[i : i + chunk]
        out += b"%x\r\n%b\r\n" % (len(piece), piece)
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big"))
    return out + b"0\r\nx-amz-checksum-crc32:" + crc + b"\r\n\r\n"


@pytest.mark.parametrize("seed", range(5))
def test_aws_chunked_inside_http_chunked_any_boundaries(seed: int) -> None:
    rnd = random.Random(seed)
    data = rnd.randbytes(rnd.randint(0, 200_000))
    inner = aws_unsigned_trailer(data, rnd.choice([7, 8192, 65536]))
    outer = http_chunked(inner, [rnd.randint(1, 70_000) for _i in range(400)])
    body = _Body(io.BufferedReader(io.BytesIO(outer), 1024), None, True)  # type: ignore[arg-type]
    reader = sigv4.AwsChunkedReader(body, sigv4.STREAMING_UNSIGNED_TRAILER, None)
    got = b"".join(iter(lambda: reader.read(rnd.randint(1, 100_000)), b""))
    assert got == data
    assert reader.trailers["x-amz-checksum-crc32"] == base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    assert body.read(10) == b"" and body.pending() == 0  # the HTTP terminator is consumed


def test_truncated_aws_chunked_is_an_error() -> None:
    inner = aws_unsigned_trailer(b"x" * 1000, 100)[:-400]
    body = _Body(io.BufferedReader(io.BytesIO(inner)), len(inner), False)  # type: ignore[arg-type]
    reader = sigv4.AwsChunkedReader(body, sigv4.STREAMING_UNSIGNED_TRAILER, None)
    with pytest.raises((sigv4.SigError, S3Error)):
        b"".join(iter(lambda: reader.read(64), b""))


def test_checksum_vectors() -> None:
    expect = {"crc32": "cbf43926", "crc32c": "e3069283", "crc64nvme": "ae8b14860a799888"}
    for alg, hexval in expect.items():
        h = blobstore.new_checksum(alg)
        h.update(b"1234")
        h.update(b"56789")
        assert h.digest().hex() == hexval


def test_walk_listing() -> None:
    keys = sorted(["a/1", "a/2", "b", "c/x/1", "c/y", "d"])
    walk = S3Handler._walk
    assert walk(keys, "", "/", None, 1000) == (["b", "d"], ["a/", "c/"], False, "d")
    assert walk(keys, "", "/", None, 2) == (["b"], ["a/"], True, "b")
    assert walk(keys, "", "/", "b", 2) == (["d"], ["c/"], False, "d")
    assert walk(keys, "", "/", "a/", 1) == (["b"], [], True, "b")  # marker on a common prefix skips it
    assert walk(keys, "c/", "/", None, 10) == (["c/y"], ["c/x/"], False, "c/y")
    assert walk(keys, "zz", "", None, 10) == ([], [], False, None)


def test_parse_range() -> None:
    assert parse_range("bytes=0-4", 10) == (0, 5)
    assert parse_range("bytes=5-", 10) == (5, 5)
    assert parse_range("bytes=-3", 10) == (7, 3)
    assert parse_range("bytes=8-100", 10) == (8, 2)
    assert parse_range("items=1-2", 10) is None
    with pytest.raises(S3Error):
        parse_range("bytes=10-12", 10)


def test_xml_rejects_entities_and_depth() -> None:
    with pytest.raises(s3xml.XmlError):
        s3xml.parse(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    with pytest.raises(s3xml.XmlError):
        s3xml.parse(b"<a>" * 100 + b"</a>" * 100)
    assert s3xml.render("R", [("K", "a<b&c")]).endswith(b"<K>a&lt;b&amp;c</K></R>")


def test_canonical_uri_and_query() -> None:
    assert sigv4.canonical_uris("/b/a%20b") == ["/b/a%20b"]
    assert sigv4.canonical_uris("/b/a+b") == ["/b/a%2Bb", "/b/a+b"]
    pairs = sigv4.parse_query_pairs("prefix=a%2Fb&list-type=2&delete")
    assert sigv4.canonical_query(pairs) == "delete=&list-type=2&prefix=a%2Fb"
