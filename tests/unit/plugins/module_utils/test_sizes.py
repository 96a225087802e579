# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import typing as t

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._sizes import format_size, parse_size

K, M, G, T, P = (1000**n for n in range(1, 6))
KI, MI, GI, TI, PI = (1024**n for n in range(1, 6))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (0, 0),
        (1024, 1024),
        ("0", 0),
        ("123", 123),
        ("  42  ", 42),
        ("1B", 1),
        ("1k", K),
        ("1K", K),
        ("1KB", K),
        ("1kb", K),
        ("10G", 10 * G),
        ("10g", 10 * G),
        ("10GB", 10 * G),
        ("10 GB", 10 * G),
        ("2T", 2 * T),
        ("3P", 3 * P),
        ("5M", 5 * M),
        ("512MiB", 512 * MI),
        ("512mib", 512 * MI),
        ("512Mi", 512 * MI),
        ("1KiB", KI),
        ("1GiB", GI),
        ("1TiB", TI),
        ("1PiB", PI),
        ("1.5T", 1500 * G),
        ("1.5TiB", 3 * TI // 2),
        ("0.5K", 500),
        (".5K", 500),
        ("2.25GiB", 9 * GI // 4),
    ],
)
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    "bad", ["", "   ", "10X", "10XB", "-1", "-10G", "G", "1.2.3G", "10 G B", "1.0001K", "0.3B", "ten", "1e3", "10Gib!"]
)
def test_parse_size_rejects_with_input_named(bad: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_size(bad)
    assert repr(bad) in str(info.value)


@pytest.mark.parametrize("bad", [-1, True, None, [1], 1.5])
def test_parse_size_rejects_non_sizes(bad: t.Any) -> None:
    with pytest.raises(ValueError, match="Invalid size"):
        parse_size(bad)


def test_parse_size_whole_float() -> None:
    assert parse_size(2048.0) == 2048  # type: ignore[arg-type]  # YAML may give floats


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0"),
        (1, "1"),
        (999, "999"),
        (K, "1K"),
        (1500, "1500"),
        (1500 * K, "1500K"),
        (10 * G, "10G"),
        (512 * MI, "512MiB"),
        (KI, "1KiB"),
        (3 * TI, "3TiB"),
        (1500 * G, "1500G"),
        (2 * P, "2P"),
    ],
)
def test_format_size(size: int, text: str) -> None:
    assert format_size(size) == text


@pytest.mark.parametrize("size", [0, 1, 1023, 1024, 1000, 10**12, 7 * 1024**3, 123456789, 5 * 10**15, 1024**5 * 3])
def test_format_parse_round_trip(size: int) -> None:
    assert parse_size(format_size(size)) == size


@pytest.mark.parametrize("bad", [-1, True, "10G", 1.0])
def test_format_size_rejects(bad: t.Any) -> None:
    with pytest.raises(ValueError):
        format_size(bad)
