# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.batch: DeleteObjects batches, per-key and per-batch failures, bounded concurrency."""

from __future__ import annotations

import threading
import time
import typing as t
from unittest import mock

from ansible_collections.cellar.garage.plugins.module_utils._s3 import batch
from ansible_collections.cellar.garage.plugins.module_utils._s3.listing import UploadEntry
from tests.unit.plugins.module_utils.s3_fakes import client_error


def _keys(n: int, prefix: str = "k") -> list[str]:
    return [f"{prefix}{i:05d}" for i in range(n)]


def test_pages_of_any_size_become_groups_of_1000_cut_for_the_workers() -> None:
    client = mock.MagicMock()
    client.delete_objects.return_value = {}
    report = batch.delete_keys(client, "b", [_keys(700, "a"), _keys(700, "b"), _keys(1, "c")], workers=2)
    sizes = sorted(len(c.kwargs["Delete"]["Objects"]) for c in client.delete_objects.call_args_list)
    assert sizes == [200, 201, 500, 500]
    assert (report.done, report.failed, report.requests, report.errors) == (1401, 0, 4, [])
    sent = [o["Key"] for c in client.delete_objects.call_args_list for o in c.kwargs["Delete"]["Objects"]]
    assert sorted(sent) == sorted(_keys(700, "a") + _keys(700, "b") + _keys(1, "c"))
    assert all(
        c.kwargs["Delete"]["Quiet"] is True and c.kwargs["Bucket"] == "b" for c in client.delete_objects.call_args_list
    )


def test_a_small_clear_keeps_every_worker_busy() -> None:
    assert [len(c) for c in batch.spread([_keys(300)], 1000, 8)] == [38] * 7 + [34]
    assert [len(c) for c in batch.spread([_keys(5)], 1000, 8)] == [1] * 5
    assert [len(c) for c in batch.spread([_keys(2500)], 1000, 1)] == [1000, 1000, 500]


def test_per_key_errors_are_counted_and_capped_and_missing_keys_count_as_deleted() -> None:
    client = mock.MagicMock()
    errors = [{"Key": f"k{i:05d}", "Code": "InternalError", "Message": "boom"} for i in range(12)]
    errors.append({"Key": "k00099", "Code": "NoSuchKey", "Message": "gone"})
    client.delete_objects.return_value = {"Errors": errors}
    report = batch.delete_keys(client, "b", [_keys(100)], workers=1)
    assert (report.done, report.failed) == (88, 12)
    assert len(report.errors) == batch.MAX_ERRORS
    assert report.errors[0] == {"key": "k00000", "code": "InternalError", "message": "boom"}


def test_a_failed_request_fails_its_keys_and_the_next_batches_still_run() -> None:
    client = mock.MagicMock()
    client.delete_objects.side_effect = [client_error("InternalError", 500, "down"), {}]
    report = batch.delete_keys(client, "b", [_keys(1500)], workers=1)  # one worker: whole groups
    assert (report.done, report.failed, report.requests) == (500, 1000, 2)
    assert report.errors[0] == {"key": "k00000", "code": "InternalError", "message": "InternalError: down"}
    assert report.source_error is None


def test_a_failing_source_stops_submitting_and_is_reported() -> None:
    client = mock.MagicMock()
    client.delete_objects.return_value = {}
    failure = client_error("AccessDenied", 403, "revoked")

    def source() -> t.Iterator[list[str]]:
        yield _keys(1000)
        raise failure

    report = batch.delete_keys(client, "b", source())
    assert report.done == 1000
    assert report.source_error is failure


def test_in_flight_batches_are_bounded() -> None:
    client = mock.MagicMock()
    lock = threading.Lock()
    state = {"running": 0, "peak": 0, "produced": 0}

    def slow_delete(**kwargs: t.Any) -> dict[str, t.Any]:
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        time.sleep(0.01)
        with lock:
            state["running"] -= 1
        return {}

    client.delete_objects.side_effect = slow_delete
    produced_while_slow: list[int] = []

    def source() -> t.Iterator[list[str]]:
        for i in range(40):
            state["produced"] += 1
            produced_while_slow.append(state["produced"] - client.delete_objects.call_count)
            yield [f"k{i}"] * 1000

    report = batch.delete_keys(client, "b", source(), workers=3)
    assert report.done == 40000
    assert state["peak"] <= 3
    # never more than 2 * workers batches submitted and not yet started, plus the one being built
    assert max(produced_while_slow) <= 2 * 3 + 1


def test_abort_uploads_counts_gone_uploads_as_aborted() -> None:
    client = mock.MagicMock()
    client.abort_multipart_upload.side_effect = [
        None,
        client_error("NoSuchUpload", 404),
        client_error("AccessDenied", 403, "no"),
    ]
    uploads = [UploadEntry("a", "u1", ""), UploadEntry("b", "u2", ""), UploadEntry("c", "u3", "")]
    report = batch.abort_uploads(client, "b", uploads, workers=1)
    assert (report.done, report.failed) == (2, 1)
    assert report.errors == [{"key": "c", "code": "AccessDenied", "message": "AccessDenied: no"}]


def test_chunks() -> None:
    assert list(batch.chunks(iter("abcde"), 2)) == [["a", "b"], ["c", "d"], ["e"]]
    assert list(batch.chunks([], 2)) == []
