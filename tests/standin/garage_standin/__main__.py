"""``python -m garage_standin`` (with ``tests/standin`` on sys.path)."""

from __future__ import annotations

import sys

from .server import main

if __name__ == "__main__":
    sys.exit(main())
