"""Root conftest: registers the shared fixtures for every suite.

``garage``, ``garage_fresh`` and ``garage_factory`` come from
``tests/fixtures/garage.py`` (the Garage stand-in, or real Garage when
``GARAGE_BIN`` is set).
"""

from __future__ import annotations

pytest_plugins = ["tests.fixtures.garage"]
