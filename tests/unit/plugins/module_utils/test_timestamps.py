# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure tests of _timestamps: RFC 3339 parsing and Garage's canonical millisecond UTC form."""

from __future__ import annotations

import datetime as dt

import pytest

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
