"""Test-only control plane state: injected faults and per-endpoint call counters.

Not part of Garage. Served under ``/__standin/`` on the admin port and only
when the server runs with ``--allow-faults``. The S3 front end may use the same
table with endpoint names such as ``S3:PutObject``.
"""

from __future__ import annotations

import dataclasses
import threading
import typing as t

MAX_LATENCY_MS = 30_000
MAX_FAULTS = 1000


@dataclasses.dataclass
class Fault:
    endpoint: str  # endpoint name, or "*" for any admin endpoint
    skip: int  # matching calls to let through before failing (nth - 1)
    remaining: int  # how many calls fail (times)
    status: int | None  # None/0: latency only
    code: str
    message: str
    latency_ms: int

    def as_json(self) -> dict[str, t.Any]:
        return {
            "endpoint": self.endpoint,
            "skip": self.skip,
            "remaining": self.remaining,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "latencyMs": self.latency_ms,
        }


class FaultSpecError(ValueError):
    pass


def parse_fault(body: t.Any) -> Fault:
    if not isinstance(body, dict):
        raise FaultSpecError("fault spec must be a JSON object")
    endpoint = body.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise FaultSpecError("`endpoint` (string) is required")

    def _int(name: str, default: int, lo: int, hi: int) -> int:
        v = body.get(name, default)
        if v is None:
            v = default
        if isinstance(v, bool) or not isinstance(v, int) or not (lo <= v <= hi):
            raise FaultSpecError(f"`{name}` must be an integer in [{lo}, {hi}]")
        return v

    nth = _int("nth", 1, 1, 1_000_000)
    times = _int("times", 1, 1, 1_000_000)
    latency = _int("latency_ms", 0, 0, MAX_LATENCY_MS)
    status_raw = body.get("status", 500)
    if status_raw in (None, 0):
        status: int | None = None
    else:
        status = _int("status", 500, 100, 599)
    code = body.get("code", "InternalError")
    message = body.get("message", "injected fault")
    if not isinstance(code, str) or not isinstance(message, str):
        raise FaultSpecError("`code` and `message` must be strings")
    return Fault(endpoint, nth - 1, times, status, code, message, latency)


class Control:
    """Thread-safe fault table and call counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._calls: dict[str, int] = {}

    # faults
    def add_fault(self, f: Fault) -> None:
        with self._lock:
            if len(self._faults) >= MAX_FAULTS:
                raise FaultSpecError("too many faults registered")
            self._faults.append(f)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, t.Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]

    def take(self, endpoint: str) -> Fault | None:
        """Register a call to ``endpoint``; return the fault to apply, if any.

        Every matching fault sees the call (so ``nth`` counts calls from the
        moment it was registered); the first one that fires is returned.
        """
        fired: Fault | None = None
        with self._lock:
            for f in self._faults:
                if f.endpoint not in (endpoint, "*"):
                    continue
                if f.skip > 0:
                    f.skip -= 1
                    continue
                if f.remaining > 0:
                    f.remaining -= 1
                    if fired is None:
                        fired = dataclasses.replace(f)
            self._faults = [f for f in self._faults if f.remaining > 0]
        return fired

    # calls
    def count(self, endpoint: str) -> None:
        with self._lock:
            self._calls[endpoint] = self._calls.get(endpoint, 0) + 1

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._calls.items()))

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()
