"""AWS Signature Version 4 verification for the stand-in's S3 front end.

Garage semantics (garage-facts §6, ``src/api/common/signature/*``):
- SigV4 only, in the ``Authorization`` header or in the query (presigned URLs);
- the signing region must equal the configured ``s3_region`` (400
  ``AuthorizationHeaderMalformed`` otherwise);
- a request date older than 24 h gives 400 ``Date is too old``, and so does an
  expired presigned URL; ``X-Amz-Expires`` is at most 604800;
- streaming payloads (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` and the
  ``-TRAILER`` / ``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` variants) are decoded by
  :class:`AwsChunkedReader`, which checks every chunk signature.

Standard library only. Secrets and signatures are never logged.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import email.utils
import hashlib
import hmac
import typing as t
import urllib.parse

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MODES = (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_PRESIGN_EXPIRES = 604800
MAX_AGE_SECONDS = 24 * 3600
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"


class SigError(Exception):
    """An authentication failure mapped to an S3 error (status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclasses.dataclass
class AuthInfo:
    """What a verified request carries forward."""

    access_key: str
    signing_key: bytes
    signature: str
    amz_date: str  # yyyymmddThhmmssZ
    scope: str  # date/region/s3/aws4_request
    content_sha256: str  # header value (hex, UNSIGNED-PAYLOAD or a STREAMING-* mode)
    presigned: bool


def uri_encode(value: str, *, keep_slash: bool) -> str:
    safe = _UNRESERVED + ("/" if keep_slash else "")
    return urllib.parse.quote(value, safe=safe)


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, region.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    return hmac.new(k, b"aws4_request", hashlib.sha256).digest()


def hmac_hex(key: bytes, msg: str) -> str:
    return hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()


def parse_query_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode ``a=b&c`` into pairs (``+`` stays a plus, as AWS signers do)."""
    pairs: list[tuple[str, str]] = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if not part:
            continue
        k, _sep, v = part.partition("=")
        pairs.append((urllib.parse.unquote(k), urllib.parse.unquote(v)))
    return pairs


def canonical_query(pairs: list[tuple[str, str]], *, exclude: str | None = None) -> str:
    enc = [(uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in pairs if k != exclude]
    enc.sort()
    return "&".join(f"{k}={v}" for k, v in enc)


def canonical_header_value(values: list[str]) -> str:
    return ",".join(" ".join(v.strip().split()) for v in values)


def parse_amz_date(value: str) -> float:
    try:
        d = _dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=_dt.UTC)
    except ValueError:
        raise SigError(400, "InvalidRequest", "Bad request: Invalid date") from None
    return d.timestamp()


def _parse_credential(cred: str, region: str) -> tuple[str, str, str]:
    parts = cred.split("/")
    if len(parts) != 5 or parts[3] != "s3" or parts[4] != "aws4_request":
        raise SigError(400, "AuthorizationHeaderMalformed", "Authorization header malformed, invalid credential scope")
    access_key, date, cred_region = parts[0], parts[1], parts[2]
    if cred_region != region:
        raise SigError(
            400,
            "AuthorizationHeaderMalformed",
            f"Authorization header malformed, unexpected scope: {date}/{cred_region}/s3/aws4_request "
            f"(the region must be '{region}')",
        )
    return access_key, date, "/".join(parts[1:])


def parse_authorization(value: str, region: str) -> tuple[str, str, str, list[str], str]:
    """Return (access key, date, scope, signed headers, signature)."""
    if not value.startswith(ALGORITHM + " "):
        raise SigError(400, "AuthorizationHeaderMalformed", "Authorization header malformed, unsupported algorithm")
    fields: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        k, _sep, v = item.strip().partition("=")
        fields[k.strip()] = v.strip()
    try:
        cred, signed, sig = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
    except KeyError:
        raise SigError(400, "AuthorizationHeaderMalformed", "Authorization header malformed") from None
    access_key, date, scope = _parse_credential(cred, region)
    return access_key, date, scope, [h for h in signed.lower().split(";") if h], sig.lower()


def canonical_uris(raw_path: str) -> list[str]:
    """Candidates for the canonical URI: the re-encoded decoded path, then the raw path."""
    decoded = urllib.parse.unquote(raw_path)
    first = uri_encode(decoded, keep_slash=True)
    return [first] if first == raw_path else [first, raw_path]


def string_to_sign(amz_date: str, scope: str, creq: str) -> str:
    return "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])


def verify_request(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: t.Callable[[str], list[str]],
    region: str,
    lookup_secret: t.Callable[[str], str],
    now: float,
) -> AuthInfo | None:
    """Verify the SigV4 signature of a request.

    ``headers(name)`` returns every value of a (lowercase) header name.
    ``lookup_secret(access_key)`` returns the secret or raises SigError.
    Returns None for an anonymous request (the caller decides).
    """
    pairs = parse_query_pairs(raw_query)
    qd = dict(pairs)
    auth_values = headers("authorization")
    if auth_values:
        access_key, date, scope, signed, sig = parse_authorization(auth_values[0], region)
        amz_date = (headers("x-amz-date") or [""])[0].strip()
        if not amz_date and headers("date"):  # SigV4 allows the Date header instead
            try:
                d = email.utils.parsedate_to_datetime(headers("date")[0])
                amz_date = d.astimezone(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            except (TypeError, ValueError, IndexError):
                amz_date = ""
        if not amz_date:
            raise SigError(400, "InvalidRequest", "Bad request: Missing X-Amz-Date field")
        ts = parse_amz_date(amz_date)
        if now - ts > MAX_AGE_SECONDS:
            raise SigError(400, "InvalidRequest", "Bad request: Date is too old")
        content_sha = (headers("x-amz-content-sha256") or [""])[0].strip()
        payload = content_sha or UNSIGNED_PAYLOAD
        presigned = False
        query_for_sig = canonical_query(pairs)
    elif "X-Amz-Algorithm" in qd or "X-Amz-Signature" in qd:
        if qd.get("X-Amz-Algorithm") != ALGORITHM:
            raise SigError(400, "AuthorizationQueryParametersError", "Unsupported signature algorithm")
        try:
            cred = qd["X-Amz-Credential"]
            amz_date = qd["X-Amz-Date"]
            expires_s = qd["X-Amz-Expires"]
            signed = [h for h in qd["X-Amz-SignedHeaders"].lower().split(";") if h]
            sig = qd["X-Amz-Signature"].lower()
        except KeyError as e:
            raise SigError(400, "AuthorizationQueryParametersError", f"Missing query parameter {e}") from None
        access_key, date, scope = _parse_credential(cred, region)
        try:
            expires = int(expires_s)
        except ValueError:
            raise SigError(400, "AuthorizationQueryParametersError", "X-Amz-Expires is not a number") from None
        if expires < 0 or expires > MAX_PRESIGN_EXPIRES:
            raise SigError(
                400, "AuthorizationQueryParametersError", "X-Amz-Expires may not exceed a week (604800 seconds)"
            )
        ts = parse_amz_date(amz_date)
        if now - ts > expires:
            raise SigError(400, "InvalidRequest", "Bad request: Date is too old")
        payload = UNSIGNED_PAYLOAD
        content_sha = (headers("x-amz-content-sha256") or [""])[0].strip()
        presigned = True
        query_for_sig = canonical_query(pairs, exclude="X-Amz-Signature")
    else:
        return None

    if amz_date[:8] != date:
        raise SigError(400, "AuthorizationHeaderMalformed", "Date in credential scope does not match X-Amz-Date")
    if "host" not in signed:
        raise SigError(400, "AuthorizationHeaderMalformed", "Header `Host` should be signed")
    secret = lookup_secret(access_key)
    skey = signing_key(secret, date, scope.split("/")[1])
    canon_headers = "".join(f"{h}:{canonical_header_value(headers(h))}\n" for h in signed)
    signed_str = ";".join(signed)
    payload_for_sig = content_sha if (presigned and content_sha) else payload
    for uri in canonical_uris(raw_path):
        creq = "\n".join([method, uri, query_for_sig, canon_headers, signed_str, payload_for_sig])
        expect = hmac_hex(skey, string_to_sign(amz_date, scope, creq))
        if hmac.compare_digest(expect, sig):
            return AuthInfo(access_key, skey, sig, amz_date, scope, content_sha or payload, presigned)
    raise SigError(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    )


# ------------------------------------------------------------ aws-chunked bodies


class RawReader(t.Protocol):
    def read(self, n: int) -> bytes: ...

    def readline(self, limit: int) -> bytes: ...


class AwsChunkedReader:
    """Decode an ``aws-chunked`` body, verifying chunk and trailer signatures.

    ``read(n)`` returns decoded bytes (b"" at the end). After the end,
    ``trailers`` holds the trailing headers (lowercase names).
    """

    MAX_LINE = 8192
    MAX_TRAILERS = 32

    def __init__(self, raw: RawReader, mode: str, auth: AuthInfo | None) -> None:
        self.raw = raw
        self.mode = mode
        self.auth = auth
        self.signed = mode in (STREAMING_SIGNED, STREAMING_SIGNED_TRAILER)
        self.has_trailer = mode in (STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER)
        self.prev_sig = auth.signature if auth else ""
        self.left = 0  # bytes left in the current chunk
        self.chunk_sig = ""
        self.chunk_hash: t.Any = None
        self.done = False
        self.trailers: dict[str, str] = {}

    def _line(self) -> bytes:
        line = self.raw.readline(self.MAX_LINE)
        if not line.endswith(b"\n"):
            raise SigError(400, "IncompleteBody", "Bad request: truncated or malformed aws-chunked body")
        return line.rstrip(b"\r\n")

    def _check_chunk(self) -> None:
        if not self.signed or self.auth is None:
            return
        digest = self.chunk_hash.hexdigest()
        sts = "\n".join(
            ["AWS4-HMAC-SHA256-PAYLOAD", self.auth.amz_date, self.auth.scope, self.prev_sig, EMPTY_SHA256, digest]
        )
        expect = hmac_hex(self.auth.signing_key, sts)
        if not hmac.compare_digest(expect, self.chunk_sig):
            raise SigError(403, "SignatureDoesNotMatch", "Invalid signature in aws-chunked body (chunk signature)")
        self.prev_sig = expect

    def _next_chunk(self) -> None:
        header = self._line()
        size_s, _sep, ext = header.partition(b";")
        try:
            size = int(size_s.strip(), 16)
        except ValueError:
            raise SigError(400, "IncompleteBody", "Bad request: invalid aws-chunked chunk header") from None
        sig = ""
        if ext:
            k, _sep, v = ext.decode("latin-1").partition("=")
            if k.strip() == "chunk-signature":
                sig = v.strip().lower()
        if self.signed and not sig:
            raise SigError(403, "SignatureDoesNotMatch", "Missing chunk signature in aws-chunked body")
        self.chunk_sig = sig
        self.chunk_hash = hashlib.sha256()
        self.left = size
        if size == 0:
            self._check_chunk()
            self._finish()

    def _finish(self) -> None:
        self.done = True
        lines: list[bytes] = []
        for _trailer in range(self.MAX_TRAILERS + 1):
            line = self.raw.readline(self.MAX_LINE)
            if not line:
                break  # tolerate a missing final CRLF
            line = line.rstrip(b"\r\n")
            if not line:
                break
            lines.append(line)
        else:
            raise SigError(400, "InvalidRequest", "Bad request: too many trailing headers")
        trailer_sig = ""
        canon = ""
        for raw in lines:
            name, _sep, value = raw.decode("latin-1").partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "x-amz-trailer-signature":
                trailer_sig = value.lower()
                continue
            self.trailers[name] = value
            canon += f"{name}:{value}\n"
        if self.mode == STREAMING_SIGNED_TRAILER and self.auth is not None:
            sts = "\n".join(
                [
                    "AWS4-HMAC-SHA256-TRAILER",
                    self.auth.amz_date,
                    self.auth.scope,
                    self.prev_sig,
                    hashlib.sha256(canon.encode()).hexdigest(),
                ]
            )
            if not hmac.compare_digest(hmac_hex(self.auth.signing_key, sts), trailer_sig):
                raise SigError(403, "SignatureDoesNotMatch", "Invalid signature in aws-chunked body (trailer)")

    def read(self, n: int) -> bytes:
        while not self.done and self.left == 0:
            self._next_chunk()
        if self.done:
            return b""
        data = self.raw.read(min(n, self.left))  # may be short (e.g. at an HTTP chunk boundary)
        if not data:
            raise SigError(400, "IncompleteBody", "Bad request: truncated aws-chunked body")
        self.left -= len(data)
        if self.chunk_hash is not None:
            self.chunk_hash.update(data)
        if self.left == 0:
            crlf = self.raw.readline(self.MAX_LINE)
            if crlf.strip(b"\r\n"):
                raise SigError(400, "IncompleteBody", "Bad request: malformed aws-chunked body")
            self._check_chunk()
        return data
