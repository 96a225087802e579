# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""botocore errors and canned Garage answers for the _s3 unit tests (no network)."""

from __future__ import annotations

import typing as t

from botocore.exceptions import ClientError, EndpointConnectionError


def client_error(code: str, status: int, message: str = "", operation: str = "Op") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        operation,
    )


def connection_error() -> EndpointConnectionError:
    return EndpointConnectionError(endpoint_url="http://127.0.0.1:1/bucket")


def list_xml(
    keys: t.Sequence[tuple[str, int]],
    *,
    token: str | None = None,
    prefixes: t.Sequence[str] = (),
    url_encoded: bool = True,
) -> bytes:
    """A ListObjectsV2 answer the way Garage 2.4 writes it (one line, no spaces)."""
    from urllib.parse import quote

    def enc(value: str) -> str:
        text = quote(value, safe="-_.~") if url_encoded else value
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    contents = "".join(
        f"<Contents><Key>{enc(k)}</Key><LastModified>2025-06-14T12:00:00.123Z</LastModified>"
        f"<ETag>&quot;{i:032x}&quot;</ETag><Size>{size}</Size><StorageClass>STANDARD</StorageClass></Contents>"
        for i, (k, size) in enumerate(keys)
    )
    common = "".join(f"<CommonPrefixes><Prefix>{enc(p)}</Prefix></CommonPrefixes>" for p in prefixes)
    next_token = f"<NextContinuationToken>{token}</NextContinuationToken>" if token else ""
    encoding = "<EncodingType>url</EncodingType>" if url_encoded else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>b</Name><Prefix></Prefix>{next_token}<KeyCount>{len(keys) + len(prefixes)}</KeyCount>"
        f"<MaxKeys>1000</MaxKeys>{encoding}<IsTruncated>{'true' if token else 'false'}</IsTruncated>"
        f"{contents}{common}</ListBucketResult>"
    ).encode()


class FakeBucket:
    """``list_objects_v2`` of a test double over a sorted key list (Prefix, Delimiter, MaxKeys,
    ContinuationToken = the last key returned), recording every call."""

    def __init__(self, keys: t.Iterable[str], page_size: int = 1000) -> None:
        self.keys = sorted(keys)
        self.page_size = page_size
        self.calls: list[dict[str, t.Any]] = []

    def __call__(self, **params: t.Any) -> dict[str, t.Any]:
        self.calls.append(params)
        prefix, delimiter = params.get("Prefix", ""), params.get("Delimiter")
        after = params.get("ContinuationToken") or params.get("StartAfter") or ""
        limit = min(int(params.get("MaxKeys", 1000)), self.page_size)
        contents: list[dict[str, t.Any]] = []
        prefixes: list[str] = []
        last = ""
        for key in self.keys:
            if not key.startswith(prefix) or key <= after:
                continue
            if delimiter and delimiter in key[len(prefix) :]:
                folder = key[: key.index(delimiter, len(prefix)) + len(delimiter)]
                if (prefixes and prefixes[-1] == folder) or folder <= after:
                    continue
                if len(contents) + len(prefixes) == limit:
                    return self._answer(contents, prefixes, last)
                prefixes.append(folder)
                last = folder + "\U0010ffff"
                continue
            if len(contents) + len(prefixes) == limit:
                return self._answer(contents, prefixes, last)
            contents.append({"Key": key, "Size": len(key), "ETag": '"e"', "LastModified": "t"})
            last = key
        return self._answer(contents, prefixes, None)

    @staticmethod
    def _answer(contents: list[dict[str, t.Any]], prefixes: list[str], token: str | None) -> dict[str, t.Any]:
        answer: dict[str, t.Any] = {
            "Contents": contents,
            "CommonPrefixes": [{"Prefix": p} for p in prefixes],
            "IsTruncated": token is not None,
        }
        if token is not None:
            answer["NextContinuationToken"] = token
        return answer
