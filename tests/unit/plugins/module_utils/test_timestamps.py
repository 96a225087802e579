# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure tests of _timestamps: RFC 3339 parsing and Garage's canonical millisecond UTC form."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils import _timestamps as _ts
from ansible_collections.cellar.garage.plugins.module_utils._timestamps import (
    TimestampError,
    format_timestamp,
    normalize_timestamp,
    parse_timestamp,
    timestamp_problem,
)


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        ("2030-01-31T00:00:00Z", "2030-01-31T00:00:00Z"),
        ("2030-01-31t00:00:00z", "2030-01-31T00:00:00Z"),
        ("2030-01-31 00:00:00Z", "2030-01-31T00:00:00Z"),
        ("2030-01-31T01:00:00+01:00", "2030-01-31T00:00:00Z"),
        ("2030-01-30T19:00:00-0500", "2030-01-31T00:00:00Z"),
        ("2030-01-31T05:30+05:30", "2030-01-31T00:00:00Z"),
        ("2030-01-31T00:00:00.123Z", "2030-01-31T00:00:00.123Z"),
        ("2030-01-31T00:00:00.1239999Z", "2030-01-31T00:00:00.123Z"),  # truncated to Garage's ms
        ("2030-01-31T00:00:00.000+00:00", "2030-01-31T00:00:00Z"),
        ("2030-01-31T00:00:00,5Z", "2030-01-31T00:00:00.500Z"),
        ("  2030-01-31T00:00:00Z  ", "2030-01-31T00:00:00Z"),
        ("2030-01-01T00:30:00+01:00", "2029-12-31T23:30:00Z"),
    ],
)
def test_normalize(value: str, canonical: str) -> None:
    assert normalize_timestamp(value) == canonical
    assert timestamp_problem(value) is None
    # canonical forms are fixed points
    assert normalize_timestamp(canonical) == canonical


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2030-01-31T00:00:00", "with a UTC offset"),
        ("2030-01-31", "with a UTC offset"),
        ("tomorrow", "is not an RFC 3339"),
        ("", "is not an RFC 3339"),
        ("2030-13-01T00:00:00Z", "not a valid datetime"),
        ("2030-02-30T00:00:00Z", "not a valid datetime"),
        ("2030-01-01T25:00:00Z", "not a valid datetime"),
        ("2030-01-01T00:00:00+24:00", "invalid UTC offset"),
    ],
)
def test_refused(value: str, fragment: str) -> None:
    with pytest.raises(TimestampError, match=fragment):
        parse_timestamp(value)
    problem = timestamp_problem(value)
    assert problem is not None and fragment in problem


def test_none_passes_through() -> None:
    assert normalize_timestamp(None) is None


def test_parse_is_aware_utc() -> None:
    parsed = parse_timestamp("2030-01-31T01:00:00+01:00")
    assert parsed == dt.datetime(2030, 1, 31, tzinfo=dt.timezone.utc)
    assert parsed.utcoffset() == dt.timedelta(0)


def test_format_converts_to_utc() -> None:
    when = dt.datetime(2030, 1, 31, 2, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert format_timestamp(when) == "2030-01-31T00:00:00.250Z"


# --------------------------------------------------------------------------- shared expiration helpers


def test_normalize_lenient_keeps_what_it_cannot_parse() -> None:
    assert _ts.normalize_lenient("2030-01-01T00:00:00+01:00") == "2029-12-31T23:00:00Z"
    assert _ts.normalize_lenient("not a date") == "not a date"
    assert _ts.normalize_lenient(None) is None


@pytest.mark.parametrize(
    ("expiration", "expired"),
    [(None, False), ("2000-01-01T00:00:00Z", True), ("2999-01-01T00:00:00Z", False), ("garbage", False)],
)
def test_is_expired(expiration: str | None, expired: bool) -> None:
    assert _ts.is_expired(expiration) is expired


def test_is_expired_at_the_instant_itself() -> None:
    """Garage: a key is expired when now >= expiration."""
    now = dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)
    assert _ts.is_expired("2030-01-01T00:00:00Z", now=now) is True
    assert _ts.is_expired("2030-01-01T00:00:00.001Z", now=now) is False


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({}, (False, None)),
        ({"expiration": None, "never_expires": None}, (False, None)),
        ({"never_expires": True}, (True, None)),
        ({"never_expires": False}, (False, None)),
        ({"expiration": "2030-01-01T01:00:00+01:00"}, (True, "2030-01-01T00:00:00Z")),
    ],
)
def test_desired_expiration(params: dict[str, t.Any], wanted: tuple[bool, str | None]) -> None:
    assert _ts.desired_expiration(params) == wanted


def test_expiration_body() -> None:
    assert _ts.expiration_body(None) == {"neverExpires": True}
    assert _ts.expiration_body("2030-01-01T00:00:00Z") == {"expiration": "2030-01-01T00:00:00Z"}
