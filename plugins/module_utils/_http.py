# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""JSON over HTTP, shared by the Garage Admin API client and the OpenBao client.

No Ansible module machinery here, only ``ansible.module_utils.urls`` (so nothing beyond
ansible-core is needed on the target). What every client of the collection gets:

- one ``Request`` and one TLS context per client (``open_url`` would load the CA store per call);
- bounded retries with jittered exponential backoff, honouring ``Retry-After`` (capped);
- a replay policy: a call that is not replayable is retried only when the server cannot have
  acted on it (connection refused, name not resolved, or the server itself answered 429/503);
  when a non-GET call gets no answer (timeout, reset, proxy 502/504) the error says that its
  outcome is unknown (``failure_reason='outcome_unknown'``), so the caller can re-read;
- typed errors (:class:`HttpError`, part of the :class:`OperationError` family) built by hooks
  that each client overrides to parse its server's error bodies;
- a call counter per call name (``calls``) and an optional ``on_request(name)`` hook.

Secrets (tokens) live in the subclass's :meth:`HttpClient.auth_headers`; they never appear in
exception text, ``repr()`` or retry messages.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import ssl
import time
import typing as t
from collections import Counter
from email.utils import parsedate_to_datetime
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode

from ansible.module_utils.urls import Request, make_context

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    ACCESS_DENIED,
    BAD_REQUEST,
    CONFLICT,
    CONNECTION_FAILED,
    HTTP_ERROR,
    INVALID_RESPONSE,
    NOT_FOUND,
    OUTCOME_UNKNOWN,
    SERVER_ERROR,
    OperationError,
)

JSON = t.Any
Query = t.Mapping[str, t.Union[str, int, bool, None]]

#: HTTP statuses that are worth retrying (transient by nature).
RETRY_STATUSES = frozenset((429, 502, 503, 504))
#: Statuses that prove the server itself refused the call (so even a non-replayable call may be retried).
SAFE_RETRY_STATUSES = frozenset((429, 503))
#: Statuses from a proxy that may hide a call that landed.
UNKNOWN_OUTCOME_STATUSES = frozenset((502, 504))
#: Cap on any single wait between attempts, including a server's Retry-After.
MAX_RETRY_WAIT = 30.0
BACKOFF_BASE = 0.5


def reason_for_status(status: int | None) -> str:
    """The generic ``failure_reason`` of an HTTP error status."""
    if status == 400:
        return BAD_REQUEST
    if status in (401, 403):
        return ACCESS_DENIED
    if status == 404:
        return NOT_FOUND
    if status == 409:
        return CONFLICT
    if status is not None and status >= 500:
        return SERVER_ERROR
    return HTTP_ERROR


class HttpError(OperationError):
    """An HTTP call failed with an error answer (or none at all, see :class:`HttpConnectionError`).

    ``status`` is the HTTP status, ``code`` the server's error code when it gives one,
    ``endpoint`` the call's name (``CreateBucket``, ``kv read``). The result keys ``status``
    and ``garage_code`` (Admin API) / ``code`` are added by :meth:`result_details`.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        endpoint: str | None = None,
        failure_reason: str | None = None,
        changed: bool = False,
        hint: str | None = None,
    ) -> None:
        super().__init__(
            message,
            failure_reason=failure_reason or self.default_reason(status),
            changed=changed,
        )
        self.status = status
        self.code = code
        self.endpoint = endpoint
        #: Advice shown after the server's message in ``detail`` (e.g. what a 403 may mean).
        self.hint = hint
        self.details.update(self.result_details())

    @classmethod
    def default_reason(cls, status: int | None) -> str:
        return reason_for_status(status)

    def result_details(self) -> dict[str, t.Any]:
        """Result keys describing the answer (overridden per service)."""
        return {"status": self.status, "code": self.code}

    @property
    def detail(self) -> str:
        text = f"{self.code}: {self.message}" if self.code else self.message
        return f"{text} ({self.hint})" if self.hint else text

    def __str__(self) -> str:
        prefix = f"{self.code}: " if self.code else ""
        where = f" ({self.endpoint}, HTTP {self.status})" if self.endpoint and self.status else ""
        if self.endpoint and not self.status:
            where = f" ({self.endpoint})"
        return f"{prefix}{self.message}{where}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"code={self.code!r}, endpoint={self.endpoint!r})"
        )


class HttpConnectionError(HttpError):
    """The call never got an HTTP answer: refused, unreachable, timeout, TLS failure.

    ``may_have_landed`` is true when the request may have reached the server (a timeout or a
    reset after sending): its ``failure_reason`` is then ``outcome_unknown``.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        may_have_landed: bool = False,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(
            message,
            status=status,
            code=code,
            endpoint=endpoint,
            failure_reason=OUTCOME_UNKNOWN if may_have_landed else CONNECTION_FAILED,
        )
        self.may_have_landed = may_have_landed


class Response(t.NamedTuple):
    status: int
    headers: t.Mapping[str, str]
    body: bytes


#: ``transport(method, url, headers, data, timeout)`` -> Response; raises HTTPError/URLError/OSError.
Transport = t.Callable[[str, str, dict[str, str], t.Optional[bytes], float], Response]


class HttpClient:
    """Base of the collection's JSON-over-HTTP clients.

    Subclasses set :attr:`service` / :attr:`server` (used in messages) and the error classes, and
    override :meth:`auth_headers` and :meth:`error_for_status` to speak their server's dialect.

    :param base_url: scheme, host, port and optional path prefix, without a trailing ``/``.
    :param token: the secret :meth:`auth_headers` sends (kept private: never in repr or errors).
    :param retries: extra attempts for retryable failures (0 = no retry).
    :param on_retry: called as ``on_retry(message)`` before each retry sleep.
    :param on_request: called as ``on_request(name)`` before each HTTP attempt.
    :param sleep: injectable sleep (tests pass a recorder).
    :param transport: injectable transport (tests); default: ansible-core's ``Request``.
    """

    #: The API's name in messages (``Cannot reach <service> at <url>``).
    service = "HTTP API"
    #: The server's name in messages (``the request may have reached <server>``).
    server = "the server"
    #: Error class of answers that are not JSON; of calls without an answer.
    error_class: type[HttpError] = HttpError
    connection_error_class: type[HttpConnectionError] = HttpConnectionError

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 30,
        retries: int = 3,
        validate_certs: bool = True,
        ca_path: str | None = None,
        on_retry: t.Callable[[str], None] | None = None,
        on_request: t.Callable[[str], None] | None = None,
        sleep: t.Callable[[float], None] | None = None,
        transport: Transport | None = None,
        user_agent: str = "cellar.garage",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.__token = token
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.on_retry = on_retry
        self.on_request = on_request
        self.sleep = sleep or time.sleep
        self.user_agent = user_agent
        self._transport: Transport = transport or self._open_url_transport
        self._request: t.Any = None
        self._context: ssl.SSLContext | None = None
        #: Number of HTTP attempts per call name (retries included).
        self.calls: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, token={'<set>' if self.__token else None})"

    @property
    def has_token(self) -> bool:
        return bool(self.__token)

    def set_token(self, token: str | None) -> None:
        self.__token = token

    def _token(self) -> str | None:
        """For :meth:`auth_headers` only."""
        return self.__token

    # ------------------------------------------------------------------ hooks

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate a call (secrets: never logged). Default: a bearer token."""
        token = self._token()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def error_for_status(self, status: int, body: bytes, *, name: str, reason: str | None = None) -> HttpError:
        """The typed error of an HTTP error answer. The default reads ``{"message": ...}`` bodies."""
        message = parse_error_body(body).get("message") or reason or f"HTTP {status}"
        return HttpError(message, status=status, endpoint=name)

    def invalid_answer(self, body: bytes, *, name: str, status: int) -> HttpError:
        """The typed error of a success answer that is not JSON."""
        return self.error_class(
            f"{self.server.capitalize()} answered with invalid JSON: {body[:200]!r}",
            status=status,
            endpoint=name,
            failure_reason=INVALID_RESPONSE,
        )

    def connection_error(self, description: str, *, name: str, may_have_landed: bool) -> HttpError:
        """The typed error of a call that got no HTTP answer."""
        if may_have_landed:
            return self.connection_error_class(
                f"No answer from {self.service} at {self.base_url} to {name} ({description}); the request "
                f"may have reached {self.server}, so its outcome is unknown",
                endpoint=name,
                may_have_landed=True,
            )
        return self.connection_error_class(
            f"Cannot reach {self.service} at {self.base_url}: {description}", endpoint=name
        )

    # ------------------------------------------------------------------ transport

    def _tls_context(self) -> ssl.SSLContext:
        if self._context is None:
            if self.base_url.lower().startswith("https:"):
                self._context = make_context(cafile=self.ca_path, validate_certs=self.validate_certs)
            else:
                # Plain HTTP never uses it (redirects are not followed); skip loading the CA store.
                self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        return self._context

    def _open_url_transport(
        self, method: str, url: str, headers: dict[str, str], data: bytes | None, timeout: float
    ) -> Response:
        if self._request is None:
            self._request = Request(
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                http_agent=self.user_agent,
                follow_redirects="none",
                use_proxy=True,
                context=self._tls_context(),
            )
        resp = self._request.open(method, url, data=data, headers=headers, timeout=timeout)
        try:
            body = resp.read()
            status = resp.getcode() or 200
            resp_headers = {k.lower(): v for k, v in resp.headers.items()}
        finally:
            resp.close()
        return Response(status, resp_headers, body)

    def url_for(self, path: str, query: Query | None = None) -> str:
        """``base_url + path`` (path starts with ``/``) plus the encoded query."""
        url = f"{self.base_url}{path}"
        params = encode_query(query)
        if params:
            url += "?" + urlencode(params, safe="*")
        return url

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_WAIT)
        ceiling = min(BACKOFF_BASE * (2**attempt), MAX_RETRY_WAIT)
        return random.uniform(ceiling / 2, ceiling)

    # ------------------------------------------------------------------ core

    def request(
        self,
        method: str,
        path: str,
        *,
        name: str,
        query: Query | None = None,
        body: JSON = None,
        replayable: bool = True,
        empty_body: bool = False,
        headers: t.Mapping[str, str] | None = None,
    ) -> JSON:
        """Send one call (with retries) and return the parsed JSON answer (``None`` if empty).

        :param name: the call's name in counters, messages and errors (e.g. ``CreateBucket``).
        :param replayable: whether repeating the call after it may have landed is harmless.
        :param empty_body: send an empty body (``Content-Length: 0``) when ``body`` is None.
        """
        url = self.url_for(path, query)
        all_headers = {"Accept": "application/json", **(headers or {}), **self.auth_headers()}
        data: bytes | None = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        elif empty_body:
            data = b""
        retry_statuses = RETRY_STATUSES if replayable else SAFE_RETRY_STATUSES
        writes = method.upper() not in ("GET", "HEAD")

        attempt = 0
        while True:
            self.calls[name] += 1
            if self.on_request is not None:
                self.on_request(name)
            retry_after: float | None = None
            try:
                resp = self._transport(method, url, all_headers, data, self.timeout)
            except HTTPError as exc:
                status, err_body = exc.code, _read_error_body(exc)
                error = self._status_error(status, err_body, name, str(exc.reason), writes)
                if status not in retry_statuses:
                    raise error from None
                retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, TLS, resets
                delivered = not never_delivered(exc)
                error = self.connection_error(describe_connection_error(exc), name=name, may_have_landed=False)
                if delivered and (not replayable or attempt >= self.retries) and writes:
                    error = self.connection_error(describe_connection_error(exc), name=name, may_have_landed=True)
                if delivered and not replayable:
                    raise error from None
            else:
                if resp.status >= 400:
                    error = self._status_error(resp.status, resp.body, name, None, writes)
                    if resp.status not in retry_statuses:
                        raise error
                    retry_after = parse_retry_after(resp.headers.get("retry-after"))
                else:
                    try:
                        return parse_json(resp.body)
                    except ValueError:  # UnicodeDecodeError is a ValueError too
                        raise self.invalid_answer(resp.body, name=name, status=resp.status) from None

            if attempt >= self.retries:
                raise error
            wait = self._backoff(attempt, retry_after)
            attempt += 1
            if self.on_retry is not None:
                what = f"HTTP {error.status}" if error.status else "connection error"
                self.on_retry(
                    f"{self.service} {name}: {what} ({error.message}); retry {attempt}/{self.retries} in {wait:.1f}s"
                )
            self.sleep(wait)

    def _status_error(self, status: int, body: bytes, name: str, reason: str | None, writes: bool) -> HttpError:
        error = self.error_for_status(status, body, name=name, reason=reason)
        if writes and status in UNKNOWN_OUTCOME_STATUSES:
            # A proxy's 502/504 may hide a write that landed.
            error.failure_reason = OUTCOME_UNKNOWN
        return error


# --------------------------------------------------------------------------- helpers


def path_quote(segment: str) -> str:
    """Quote one user-supplied URL path part (keeps ``/`` for nested paths like KV secrets)."""
    return quote(segment, safe="/")


def encode_query(query: Query | None) -> list[tuple[str, str]]:
    if not query:
        return []
    params: list[tuple[str, str]] = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params.append((key, "true" if value else "false"))
        else:
            params.append((key, str(value)))
    return params


def parse_json(body: bytes) -> JSON:
    """The parsed JSON of a success answer (``None`` when empty); raises ``ValueError``."""
    if not body or not body.strip():
        return None
    return json.loads(body.decode("utf-8"))


def parse_error_body(body: bytes | str | None) -> dict[str, t.Any]:
    """An error body as a dict: the parsed JSON object, or ``{"message": <text>}`` (maybe empty)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    return {"message": text.strip()[:500]}


def _read_error_body(exc: HTTPError) -> bytes:
    try:
        data = exc.read()
    except (OSError, ValueError, http.client.HTTPException):
        return b""
    return data if isinstance(data, bytes) else b""


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value.strip())
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def never_delivered(exc: BaseException) -> bool:
    """True when the request cannot have reached the server (refused connection, unresolvable name)."""
    if isinstance(exc, URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    return isinstance(exc, (ConnectionRefusedError, socket.gaierror))


def describe_connection_error(exc: BaseException) -> str:
    """A short, secret-free description of a transport failure."""
    if isinstance(exc, URLError) and not isinstance(exc, HTTPError):
        reason = exc.reason
        if not isinstance(reason, BaseException):
            return str(reason)
        exc = reason
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc}"
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    return str(exc) or type(exc).__name__
