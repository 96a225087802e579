# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Streaming, paginated listings of a bucket, in bounded memory. No Ansible here.

Reusable by any S3 operation (bucket clear, usage, the artifact store)::

    for page in listing.pages(client, "photos", prefix="2024/"):      # one page = <= 1000 objects
        for obj in page.objects:                                       # ObjectEntry(key, size, etag, last_modified)
            ...
    for obj in listing.objects(client, "photos", prefix="2024/"):     # the same, flattened
        ...
    for upload in listing.multipart_uploads(client, "photos"):         # UploadEntry(key, upload_id, initiated)
        ...

Only one page is held at a time, whatever the size of the bucket: a caller that keeps nothing
per object runs in constant memory.

Speed. ``ListObjectsV2`` through botocore spends most of its time turning XML into dicts
(and, without :func:`.client.keep_timestamps_as_text`, parsing timestamps). With a real boto3
client, :func:`pages` therefore signs the request with the client (a presigned URL: the
client's credentials, region, endpoint and addressing), sends it through the client's own HTTP
session (same TLS settings, proxies and connection pool, see :func:`.client.http_session`) and
reads the answer with a few regular expressions tuned to Garage's output. Every page is
checked against the ``KeyCount`` Garage reports; a page the expressions do not fully account
for is parsed again with ElementTree, so an unexpected format costs time, never correctness.
Errors are raised as botocore ``ClientError`` / connection errors, like the client's own, and
server errors / dropped connections are retried like the client's standard retry mode does.
A test double (anything that is not a botocore client) gets the plain ``list_objects_v2`` path.
"""

from __future__ import annotations

import dataclasses
import queue
import random
import re
import threading
import time
import typing as t
import xml.etree.ElementTree as ET
from urllib.parse import unquote
from xml.sax.saxutils import unescape

from ansible_collections.cellar.garage.plugins.module_utils._errors import INVALID_RESPONSE, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3.client import DEFAULT_MAX_ATTEMPTS, http_session
from ansible_collections.cellar.garage.plugins.module_utils._s3.errors import is_connection_error

#: S3 (and Garage) never return more than 1000 entries per listing page.
MAX_PAGE_SIZE = 1000
_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_ENTITIES = {"&quot;": '"', "&apos;": "'"}
_RETRY_STATUSES = frozenset((500, 502, 503, 504))
_PRESIGN_SECONDS = 900

_CONTENTS_RE = re.compile(
    rb"<Contents><Key>([^<]*)</Key><LastModified>([^<]*)</LastModified><ETag>([^<]*)</ETag>"
    rb"<Size>(\d+)</Size>"
)
_PREFIX_RE = re.compile(rb"<CommonPrefixes><Prefix>([^<]*)</Prefix></CommonPrefixes>")
_TOKEN_RE = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")
_KEYCOUNT_RE = re.compile(rb"<KeyCount>(\d+)</KeyCount>")
_TRUNCATED_RE = re.compile(rb"<IsTruncated>(true|false)</IsTruncated>")
_URL_ENCODED = b"<EncodingType>url</EncodingType>"


class ObjectEntry(t.NamedTuple):
    """One object of a listing. ``etag`` has no quotes; ``last_modified`` is the server's text."""

    key: str
    size: int
    etag: str
    last_modified: str


class UploadEntry(t.NamedTuple):
    """One unfinished multipart upload."""

    key: str
    upload_id: str
    initiated: str


@dataclasses.dataclass
class Page:
    """One listing page: at most 1000 objects and common prefixes together."""

    objects: list[ObjectEntry]
    common_prefixes: list[str]
    next_token: str | None


def pages(
    client: t.Any,
    bucket: str,
    prefix: str = "",
    *,
    delimiter: str | None = None,
    start_after: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
) -> t.Iterator[Page]:
    """The listing of ``bucket`` under ``prefix``, page by page (see the module docstring).

    Stop iterating whenever you like: nothing is fetched ahead.

    :param delimiter: group keys into ``common_prefixes`` up to the next ``delimiter``.
    :param start_after: list keys after this one (to resume).
    :param page_size: entries per request, 1 to 1000.
    """
    params: dict[str, t.Any] = {
        "Bucket": bucket,
        "Prefix": prefix or "",
        "MaxKeys": max(1, min(int(page_size), MAX_PAGE_SIZE)),
    }
    if delimiter:
        params["Delimiter"] = delimiter
    if start_after:
        params["StartAfter"] = start_after
    fetch = _fast_fetcher(client) or _botocore_fetcher(client)
    token: str | None = None
    while True:
        page = fetch({**params, "ContinuationToken": token} if token else params)
        yield page
        if page.next_token == token:  # a server that does not advance would loop forever
            if token:
                raise OperationError(
                    f"The listing of bucket '{bucket}' does not advance (continuation token {token!r} repeated)",
                    failure_reason=INVALID_RESPONSE,
                )
            return
        token = page.next_token
        if not token:
            return


def objects(client: t.Any, bucket: str, prefix: str = "", **kwargs: t.Any) -> t.Iterator[ObjectEntry]:
    """Every object under ``prefix``, one at a time (keyword arguments as :func:`pages`)."""
    for page in pages(client, bucket, prefix, **kwargs):
        yield from page.objects


def key_pages(client: t.Any, bucket: str, prefix: str = "", **kwargs: t.Any) -> t.Iterator[list[str]]:
    """The keys under ``prefix``, one list per page (what :func:`.batch.delete_keys` takes)."""
    for page in pages(client, bucket, prefix, **kwargs):
        if page.objects:
            yield [obj.key for obj in page.objects]


#: :func:`scan` splits a prefix into at most this many folders, at most this many levels deep.
MAX_SPLIT = 256
MAX_SPLIT_DEPTH = 3


def scan(
    client: t.Any,
    bucket: str,
    prefix: str = "",
    *,
    workers: int = 4,
    delimiter: str = "/",
) -> t.Iterator[Page]:
    """Every object under ``prefix``, as pages in **no particular order**, several sub-prefixes
    ("folders") listed at the same time. For callers that only aggregate (usage, counts).

    Listings with ``delimiter`` split the prefix into folders, level by level (at most
    :data:`MAX_SPLIT_DEPTH` levels, until there are ``workers`` folders): a level whose listing
    fits in one page is replaced by the objects found directly in it (yielded at once) and its
    folders. Then ``workers`` threads list the folders, each in full, page by page. A level
    that does not fit in one page, or that would make more than :data:`MAX_SPLIT` folders, is
    listed as it is -- a flat bucket of many objects costs one extra request, a bucket of
    thousands of small folders is not split into thousands of requests.

    Memory: at most ``2 * workers`` pages wait in the queue. Stopping the iteration early stops
    the threads.
    """
    frontier = [prefix]
    for _depth in range(MAX_SPLIT_DEPTH if workers > 1 else 0):
        if len(frontier) >= workers:
            break
        expanded: list[str] = []
        for index, level in enumerate(frontier):
            first = next(pages(client, bucket, level, delimiter=delimiter), None)
            if first is None:  # pages() yields at least one page; be safe inside this generator
                expanded.append(level)
                continue
            room = MAX_SPLIT - len(expanded) - (len(frontier) - index - 1)
            if first.next_token or len(first.common_prefixes) > room:
                expanded.append(level)  # listed as it is
                continue
            if first.objects:
                yield Page(first.objects, [], None)
            expanded.extend(first.common_prefixes)
        if expanded == frontier:
            break
        frontier = expanded
    if len(frontier) == 1:
        yield from pages(client, bucket, frontier[0])
    elif frontier:
        yield from _parallel(client, bucket, frontier, workers)


_DONE = object()


def _parallel(client: t.Any, bucket: str, folders: list[str], workers: int) -> t.Iterator[Page]:
    results: queue.Queue[t.Any] = queue.Queue(maxsize=2 * workers)
    stop = threading.Event()
    todo: queue.Queue[str] = queue.Queue()
    for folder in folders:
        todo.put(folder)

    def put(item: t.Any) -> bool:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    folder = todo.get_nowait()
                except queue.Empty:
                    return
                for page in pages(client, bucket, folder):
                    if not put(page):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(exc)
        finally:
            put(_DONE)

    threads = [
        threading.Thread(target=work, name=f"cellar-scan-{i}", daemon=True) for i in range(min(workers, len(folders)))
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = results.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def multipart_uploads(client: t.Any, bucket: str, prefix: str = "") -> t.Iterator[UploadEntry]:
    """Every unfinished multipart upload under ``prefix``, page by page (botocore paginator)."""
    paginator = client.get_paginator("list_multipart_uploads")
    for response in paginator.paginate(Bucket=bucket, Prefix=prefix or ""):
        for upload in response.get("Uploads") or []:
            yield UploadEntry(str(upload["Key"]), str(upload["UploadId"]), str(upload.get("Initiated") or ""))


# --------------------------------------------------------------------------- botocore path


def _botocore_fetcher(client: t.Any) -> t.Callable[[dict[str, t.Any]], Page]:
    def fetch(params: dict[str, t.Any]) -> Page:
        response = client.list_objects_v2(**params)
        entries = [
            ObjectEntry(
                str(item["Key"]),
                int(item.get("Size") or 0),
                str(item.get("ETag") or "").strip('"'),
                str(item.get("LastModified") or ""),
            )
            for item in response.get("Contents") or []
        ]
        prefixes = [str(p["Prefix"]) for p in response.get("CommonPrefixes") or []]
        token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        return Page(entries, prefixes, token or None)

    return fetch


# --------------------------------------------------------------------------- fast path


def _fast_fetcher(client: t.Any) -> t.Callable[[dict[str, t.Any]], Page] | None:
    session = http_session(client)
    if session is None:
        return None
    from botocore.awsrequest import AWSRequest

    def fetch(params: dict[str, t.Any]) -> Page:
        for attempt in range(DEFAULT_MAX_ATTEMPTS):
            last = attempt == DEFAULT_MAX_ATTEMPTS - 1
            url = client.generate_presigned_url("list_objects_v2", Params=params, ExpiresIn=_PRESIGN_SECONDS)
            try:
                response = session.send(AWSRequest(method="GET", url=url).prepare())
                body = response.content
            except Exception as exc:
                if last or not is_connection_error(exc):
                    raise
                _backoff(attempt)
                continue
            if response.status_code == 200:
                return parse_list_objects_v2(body)
            if last or response.status_code not in _RETRY_STATUSES:
                raise client_error(response.status_code, body, "ListObjectsV2")
            _backoff(attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return fetch


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.1 * (2**attempt)) * (0.5 + random.random() / 2))


def client_error(status: int, body: bytes, operation: str) -> Exception:
    """A botocore ``ClientError`` for an S3 error answer (XML ``<Error><Code/><Message/>``)."""
    from botocore.exceptions import ClientError

    code, message = str(status), ""
    try:
        root = ET.fromstring(body) if body else None
    except ET.ParseError:
        root = None
    if root is not None:
        code = (root.findtext("Code") or root.findtext(f"{_NS}Code") or code).strip()
        message = (root.findtext("Message") or root.findtext(f"{_NS}Message") or "").strip()
    error = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(error, operation)


def _text(raw: bytes, url_encoded: bool) -> str:
    value = unescape(raw.decode("utf-8"), _ENTITIES)
    return unquote(value) if url_encoded else value


def parse_list_objects_v2(body: bytes) -> Page:
    """A ``ListObjectsV2`` answer as a :class:`Page` (regular expressions, ElementTree fallback)."""
    url_encoded = _URL_ENCODED in body
    entries = [
        ObjectEntry(
            _text(m.group(1), url_encoded),
            int(m.group(4)),
            unescape(m.group(3).decode("utf-8"), _ENTITIES).strip('"'),
            m.group(2).decode("ascii"),
        )
        for m in _CONTENTS_RE.finditer(body)
    ]
    prefixes = [_text(m.group(1), url_encoded) for m in _PREFIX_RE.finditer(body)]
    count = _KEYCOUNT_RE.search(body)
    truncated = _TRUNCATED_RE.search(body)
    complete = (
        count is not None
        and truncated is not None
        and int(count.group(1)) == len(entries) + len(prefixes)
        and body.count(b"<Contents>") == len(entries)
        and body.count(b"<CommonPrefixes>") == len(prefixes)
    )
    if not complete:
        return _parse_list_objects_v2_tree(body)
    token_match = _TOKEN_RE.search(body)
    token = unescape(token_match.group(1).decode("utf-8"), _ENTITIES) if token_match else None
    if t.cast("re.Match[bytes]", truncated).group(1) != b"true":
        token = None
    return Page(entries, prefixes, token or None)


def _parse_list_objects_v2_tree(body: bytes) -> Page:
    root = ET.fromstring(body)

    def find(node: ET.Element, name: str) -> str:
        return node.findtext(f"{_NS}{name}") or node.findtext(name) or ""

    def each(name: str) -> list[ET.Element]:
        return root.findall(f"{_NS}{name}") or root.findall(name)

    url_encoded = find(root, "EncodingType") == "url"

    def decode(value: str) -> str:
        return unquote(value) if url_encoded else value

    entries = [
        ObjectEntry(
            decode(find(item, "Key")),
            int(find(item, "Size") or 0),
            find(item, "ETag").strip('"'),
            find(item, "LastModified"),
        )
        for item in each("Contents")
    ]
    prefixes = [decode(find(item, "Prefix")) for item in each("CommonPrefixes")]
    token = find(root, "NextContinuationToken") if find(root, "IsTruncated") == "true" else ""
    return Page(entries, prefixes, token or None)
