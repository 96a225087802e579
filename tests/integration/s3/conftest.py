# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the S3 data-plane integration tests (real Garage, real ansible-playbook).

- ``s3env``: a fresh bucket on the session cluster and an access key with read, write and owner
  on it (:class:`tests.integration.s3.s3_helpers.S3Env`): ``s3env.creds()`` for
  ``run_playbook(..., s3=...)``, ``s3env.client`` (boto3, out of band), ``put_many``, ``keys``.
- ``s3proxy``: the session cluster's S3 fault proxy, its faults and counts cleared before and
  after the test.
"""

from __future__ import annotations

import typing as t

import pytest

from tests.integration.s3.s3_helpers import S3Env, make_env


@pytest.fixture
def s3env(garage: t.Any) -> S3Env:
    return make_env(garage)


@pytest.fixture
def s3proxy(garage: t.Any) -> t.Iterator[t.Any]:
    proxy = garage.s3_proxy()
    proxy.clear_faults()
    proxy.reset_calls()
    yield proxy
    proxy.clear_faults()
    proxy.reset_calls()
