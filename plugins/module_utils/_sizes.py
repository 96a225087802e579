# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""Human sizes <-> bytes, the way Garage users write them (``10G``, ``512MiB``, ``1.5T``).

Decimal units (K, M, G, T, P and KB, MB, GB, TB, PB) are powers of 1000, binary
units (KiB, MiB, GiB, TiB, PiB) powers of 1024; a bare number is bytes. Units are
case-insensitive, so ``10g`` == ``10G`` == ``10GB`` == 10 * 1000**3.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_PREFIXES = "KMGTP"
_SIZE_RE = re.compile(r"^\s*(?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<unit>[A-Za-z]*)\s*$")


def _unit_factor(unit: str) -> int | None:
    u = unit.lower()
    if u in ("", "b"):
        return 1
    prefix = u[0].upper()
    if prefix not in _PREFIXES:
        return None
    power = _PREFIXES.index(prefix) + 1
    rest = u[1:]
    if rest in ("", "b"):
        return 1000**power
    if rest in ("i", "ib"):
        return 1024**power
    return None


def parse_size(value: str | int) -> int:
    """Return ``value`` in bytes. Raises ``ValueError`` naming the input when it is not a size."""
    if isinstance(value, bool):
        raise ValueError(f"Invalid size {value!r}: expected a number of bytes or a string like '10G' or '512MiB'")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"Invalid size {value!r}: must not be negative")
        return value
    if isinstance(value, float):
        if value < 0 or value != int(value):
            raise ValueError(f"Invalid size {value!r}: must be a whole, non-negative number of bytes")
        return int(value)
    if not isinstance(value, str):
        raise ValueError(f"Invalid size {value!r}: expected a number of bytes or a string like '10G' or '512MiB'")
    match = _SIZE_RE.match(value)
    if not match:
        raise ValueError(f"Invalid size {value!r}: expected a number with an optional unit, like '10G' or '512MiB'")
    factor = _unit_factor(match.group("unit"))
    if factor is None:
        raise ValueError(
            f"Invalid size {value!r}: unknown unit {match.group('unit')!r} "
            "(use K, M, G, T, P, KB..PB for powers of 1000 or KiB..PiB for powers of 1024)"
        )
    try:
        number = Decimal(match.group("num"))
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a number
        raise ValueError(f"Invalid size {value!r}") from None
    total = number * factor
    if total != total.to_integral_value():
        raise ValueError(f"Invalid size {value!r}: is not a whole number of bytes")
    return int(total)


def format_size(size: int) -> str:
    """Shortest exact human form of ``size`` bytes: ``10G``, ``512MiB``, ``1500K``, ``123``.

    Round-trips: ``parse_size(format_size(n)) == n``.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"Invalid size {size!r}: must be a non-negative integer")
    if size == 0:
        return "0"
    for power in range(len(_PREFIXES), 0, -1):
        prefix = _PREFIXES[power - 1]
        if size % (1024**power) == 0:
            return f"{size // 1024**power}{prefix}iB"
        if size % (1000**power) == 0:
            return f"{size // 1000**power}{prefix}"
    return str(size)
