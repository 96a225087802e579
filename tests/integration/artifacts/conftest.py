# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the artifact-store integration tests (real Garage 2.4.1, real ansible-playbook).

- ``s3env``: a fresh bucket and a key with read/write/owner on it (see tests/integration/s3).
- ``art``: the same, plus helpers to read the store out of band and to call the operations
  directly (for the concurrency test, where one ansible-playbook per step would be too slow).
"""

from __future__ import annotations

import typing as t

import pytest

from tests.integration.artifacts.helpers import ArtifactEnv
from tests.integration.s3.s3_helpers import make_env


@pytest.fixture
def art(garage: t.Any) -> ArtifactEnv:
    return ArtifactEnv(make_env(garage))
