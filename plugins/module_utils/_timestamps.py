# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""RFC 3339 timestamps as Garage stores them (expirations of keys and admin tokens).

Garage keeps an expiration as milliseconds since the epoch and prints it as an
RFC 3339 UTC string (``2025-06-14T12:00:00.123Z``). Users write any RFC 3339 /
ISO 8601 datetime with an offset. To compare both we normalise to one canonical
UTC string at millisecond precision. No Ansible here; valid on Python >= 3.9.
"""

from __future__ import annotations

import datetime as _dt
import re
import typing as t

_RFC3339_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d+))?)?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}(?::?\d{2})?)$"
)


class TimestampError(ValueError):
    """The value is not an RFC 3339 datetime with a UTC offset."""


def parse_timestamp(value: str) -> _dt.datetime:
    """Parse an RFC 3339 / ISO 8601 datetime that carries an offset (``Z`` or ``+02:00``).

    Returns an aware UTC datetime truncated to milliseconds (Garage's precision).
    A value without an offset is refused: it would be ambiguous.
    """
    text = value.strip() if isinstance(value, str) else ""
    match = _RFC3339_RE.match(text)
    if not match:
        raise TimestampError(
            f"'{value}' is not an RFC 3339 datetime with a UTC offset (e.g. 2030-01-31T00:00:00Z "
            "or 2030-01-31T01:00:00+01:00)"
        )
    tz = match.group("tz")
    if tz in ("Z", "z"):
        offset = _dt.timedelta(0)
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise TimestampError(f"'{value}' has an invalid UTC offset")
        offset = sign * _dt.timedelta(hours=hours, minutes=minutes)
    frac = (match.group("frac") or "")[:6].ljust(6, "0")
    try:
        year, month, day = (int(p) for p in match.group("date").split("-"))
        parsed = _dt.datetime(
            year,
            month,
            day,
            int(match.group("h")),
            int(match.group("m")),
            int(match.group("s") or 0),
            int(frac) // 1000 * 1000,
            tzinfo=_dt.timezone(offset),
        )
    except ValueError as exc:
        raise TimestampError(f"'{value}' is not a valid datetime: {exc}") from None
    return parsed.astimezone(_dt.timezone.utc)


def format_timestamp(when: _dt.datetime) -> str:
    """Canonical form: UTC, ``Z`` suffix, milliseconds only when not zero."""
    when = when.astimezone(_dt.timezone.utc)
    text = when.strftime("%Y-%m-%dT%H:%M:%S")
    millis = when.microsecond // 1000
    if millis:
        text += f".{millis:03d}"
    return text + "Z"


def normalize_timestamp(value: str | None) -> str | None:
    """``None`` stays ``None``; any accepted datetime becomes its canonical UTC string."""
    if value is None:
        return None
    return format_timestamp(parse_timestamp(value))


def normalize_lenient(value: str | None) -> str | None:
    """Garage's own expiration string, normalised; left as is if it cannot be parsed."""
    try:
        return normalize_timestamp(value)
    except TimestampError:
        return value


def is_expired(expiration: str | None, now: _dt.datetime | None = None) -> bool:
    """Whether Garage would call this expiration passed (``now >= expiration``)."""
    if expiration is None:
        return False
    try:
        return parse_timestamp(expiration) <= (now or _dt.datetime.now(_dt.timezone.utc))
    except TimestampError:
        return False


def desired_expiration(params: t.Mapping[str, t.Any]) -> tuple[bool, str | None]:
    """``(managed, value)`` from the ``expiration`` / ``never_expires`` options of keys and tokens."""
    if params.get("expiration") is not None:
        return True, normalize_timestamp(params["expiration"])
    if params.get("never_expires"):
        return True, None
    return False, None


def expiration_body(expiration: str | None) -> dict[str, t.Any]:
    """The Create/Update body part that sets ``expiration`` (``None``: never expires)."""
    return {"neverExpires": True} if expiration is None else {"expiration": expiration}


def timestamp_problem(value: str) -> str | None:
    """Why ``value`` is not an acceptable timestamp, or None."""
    try:
        parse_timestamp(value)
    except TimestampError as exc:
        return str(exc)
    return None


_DURATION_RE = re.compile(r"(\d+)\s*(w|d|h|m|s)?", re.IGNORECASE)
_DURATION_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, None: 1}


def parse_duration(value: str | int) -> int:
    """``"36h"``, ``"7d"``, ``"1w 2d"``, ``"90m"``, ``"45s"`` or a number of seconds -> seconds.

    Raises :class:`TimestampError` for anything else (negative values included)."""
    if isinstance(value, bool):
        raise TimestampError(f"'{value}' is not a duration")
    if isinstance(value, int):
        if value < 0:
            raise TimestampError(f"'{value}' is not a duration: it is negative")
        return value
    text = str(value).strip()
    total, position = 0, 0
    for match in _DURATION_RE.finditer(text):
        if text[position : match.start()].strip():
            break
        total += int(match.group(1)) * _DURATION_UNITS[(match.group(2) or "").lower() or None]
        position = match.end()
    if not text or position == 0 or text[position:].strip():
        raise TimestampError(f"'{value}' is not a duration such as 36h, 7d, 1w, 90m or a number of seconds")
    return total
