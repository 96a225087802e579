# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_s3.objects and _s3.transfer: decisions of put/get/delete, multipart in bounded memory,
aborts, atomic downloads."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import typing as t
from pathlib import Path
from unittest import mock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._s3 import checksums, objects, transfer
from tests.unit.plugins.module_utils.s3_fakes import client_error

MIB = 1024 * 1024


def spec(**params: t.Any) -> objects.ObjectSpec:
    return objects.spec_from_params({"bucket": "b", "key": "k", **params})


def remote(body: bytes, **extra: t.Any) -> dict[str, t.Any]:
    return {"ContentLength": len(body), "ETag": f'"{hashlib.md5(body).hexdigest()}"', "ContentType": "text/plain",
            "Metadata": {}, **extra}  # fmt: skip


# --------------------------------------------------------------------------- input


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"mode": "put"}, "exactly one of src and content"),
        ({"mode": "put", "src": "/nonexistent/file"}, "not a readable file"),
        ({"mode": "get"}, "needs dest"),
        ({"mode": "get", "dest": "/nonexistent-dir/f"}, "does not exist"),
        ({"mode": "geturl", "expires": 604801}, "between 1 and 604800"),
        ({"mode": "put", "content": "x", "part_size": "512KiB"}, "at least 1048576"),
        ({"mode": "put", "content": "x", "part_size": "lots"}, "part_size"),
        ({"mode": "put", "content": "x", "metadata": {"bad name": "v"}}, "metadata name"),
        ({"mode": "put", "content": "x", "workers": 0}, "workers"),
    ],
)
def test_bad_input(params: dict[str, t.Any], fragment: str) -> None:
    with pytest.raises(InputError) as info:
        spec(**params)
    assert fragment in info.value.message


# --------------------------------------------------------------------------- put


def test_put_new_content_predicts_the_etag_and_guesses_the_type() -> None:
    client = mock.MagicMock()
    client.head_object.side_effect = client_error("404", 404)
    s = objects.spec_from_params({"bucket": "b", "key": "notes/a.json", "mode": "put", "content": "{}"})
    outcome = objects.put(client, s, dry_run=True)
    assert outcome.changed
    etag = hashlib.md5(b"{}").hexdigest()
    assert outcome.after == {
        "state": "present",
        "key": "notes/a.json",
        "size": 2,
        "etag": etag,
        "content_type": "application/json",
        "metadata": {},
    }
    client.put_object.assert_not_called()
    client.put_object.return_value = {"ETag": f'"{hashlib.md5(b"{}").hexdigest()}"'}
    assert objects.put(client, s, dry_run=False).diff() == outcome.diff()
    client.put_object.assert_called_once_with(
        Bucket="b", Key="notes/a.json", Body=b"{}", ContentType="application/json", Metadata={}
    )


def test_put_same_content_is_unchanged_and_never_keeps_anything() -> None:
    client = mock.MagicMock()
    client.head_object.return_value = remote(b"hello")
    assert not objects.put(client, spec(mode="put", content="hello"), dry_run=False).changed
    assert not objects.put(client, spec(mode="put", content="other", overwrite="never"), dry_run=False).changed
    client.put_object.assert_not_called()


def test_put_always_writes_and_says_so() -> None:
    client = mock.MagicMock()
    client.head_object.return_value = remote(b"hello")
    client.put_object.return_value = {}
    outcome = objects.put(client, spec(mode="put", content="hello", overwrite="always"), dry_run=False)
    assert outcome.changed and outcome.after["written"] is True
    assert "written" not in outcome.result["object"]


def test_put_metadata_only_copies_in_place_keeping_unset_options() -> None:
    client = mock.MagicMock()
    client.head_object.return_value = remote(b"hello", Metadata={"a": "1"})
    outcome = objects.put(client, spec(mode="put", content="hello", metadata={"A": "2"}), dry_run=False)
    assert outcome.result["action"] == "metadata"
    client.copy_object.assert_called_once_with(
        Bucket="b", Key="k", CopySource={"Bucket": "b", "Key": "k"}, MetadataDirective="REPLACE",
        ContentType="text/plain", Metadata={"a": "2"},
    )  # fmt: skip
    client.put_object.assert_not_called()


def test_put_checksum_mismatch_is_reported() -> None:
    client = mock.MagicMock()
    client.head_object.side_effect = client_error("404", 404)
    client.put_object.return_value = {"ETag": '"00000000000000000000000000000000"'}
    with pytest.raises(OperationError) as info:
        objects.put(client, spec(mode="put", content="hello"), dry_run=False)
    assert info.value.failure_reason == "checksum_mismatch" and info.value.changed


def test_put_compares_a_multipart_etag_with_the_remote_part_size(tmp_path: Path) -> None:
    data = os.urandom(3 * MIB + 5)
    path = tmp_path / "f"
    path.write_bytes(data)
    etag = checksums.digest_bytes(data, part_size=MIB).multipart_etag
    client = mock.MagicMock()
    client.head_object.side_effect = lambda **kw: (
        {"ContentLength": MIB} if kw.get("PartNumber") == 1 else remote(data, ETag=f'"{etag}"')
    )
    assert not objects.put(client, spec(mode="put", src=str(path)), dry_run=False).changed
    assert client.head_object.call_args_list[-1].kwargs == {"Bucket": "b", "Key": "k", "PartNumber": 1}


# --------------------------------------------------------------------------- transfer


def test_multipart_upload_is_bounded_verified_and_completed(tmp_path: Path) -> None:
    data = os.urandom(5 * MIB + 3)
    path = tmp_path / "f"
    path.write_bytes(data)
    client = mock.MagicMock()
    client.create_multipart_upload.return_value = {"UploadId": "up"}
    lock = threading.Lock()
    state = {"running": 0, "peak": 0}

    def upload_part(**kw: t.Any) -> dict[str, str]:
        with lock:
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        md5 = hashlib.md5(kw["Body"]).hexdigest()
        with lock:
            state["running"] -= 1
        return {"ETag": f'"{md5}"'}

    client.upload_part.side_effect = upload_part
    expected = checksums.digest_bytes(data, part_size=MIB).multipart_etag
    client.complete_multipart_upload.return_value = {"ETag": f'"{expected}"'}
    done = transfer.upload_file(client, "b", "k", str(path), extra={}, part_size=MIB, threshold=MIB, workers=2)
    assert (done.etag, done.size, done.parts) == (expected, len(data), 6)
    parts = client.complete_multipart_upload.call_args.kwargs["MultipartUpload"]["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2, 3, 4, 5, 6]
    assert state["peak"] <= 2
    client.abort_multipart_upload.assert_not_called()


def test_a_failed_part_aborts_the_upload(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(3 * MIB))
    client = mock.MagicMock()
    client.create_multipart_upload.return_value = {"UploadId": "up"}
    client.upload_part.side_effect = client_error("InternalError", 500, "disk")
    with pytest.raises(OperationError) as info:
        transfer.upload_file(client, "b", "k", str(path), extra={}, part_size=MIB, threshold=MIB, workers=1)
    assert info.value.failure_reason == "object_put_failed"
    client.abort_multipart_upload.assert_called_once_with(Bucket="b", Key="k", UploadId="up")
    client.complete_multipart_upload.assert_not_called()


def test_a_failed_abort_is_left_for_manual_cleanup(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(2 * MIB + 1))
    client = mock.MagicMock()
    client.create_multipart_upload.return_value = {"UploadId": "up"}
    client.upload_part.side_effect = client_error("InternalError", 500, "disk")
    client.abort_multipart_upload.side_effect = client_error("InternalError", 500, "still down")
    with pytest.raises(OperationError) as info:
        transfer.upload_file(client, "b", "k", str(path), extra={}, part_size=MIB, threshold=MIB, workers=1)
    leftover = info.value.manual_cleanup_required
    assert leftover and leftover[0]["upload_id"] == "up" and leftover[0]["resource"] == "multipart_upload"


def test_effective_part_size_keeps_under_10000_parts() -> None:
    assert transfer.effective_part_size(10 * MIB, 8 * MIB) == 8 * MIB
    grown = transfer.effective_part_size(200_000 * MIB, 8 * MIB)
    assert grown % MIB == 0 and checksums.part_count(200_000 * MIB, grown) <= 10000


class _Body(io.BytesIO):
    pass


def test_download_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    dest.chmod(0o600)
    client = mock.MagicMock()
    client.get_object.return_value = {**remote(b"new content"), "Body": _Body(b"new content")}
    done = transfer.download(client, "b", "k", str(dest))
    assert dest.read_bytes() == b"new content" and done.size == 11
    assert dest.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_download_with_a_bad_checksum_leaves_dest_untouched(tmp_path: Path) -> None:
    dest = tmp_path / "out"
    dest.write_bytes(b"old")
    client = mock.MagicMock()
    client.get_object.return_value = {**remote(b"what was stored"), "Body": _Body(b"what arrived!!!")}
    with pytest.raises(OperationError) as info:
        transfer.download(client, "b", "k", str(dest))
    assert info.value.failure_reason == "checksum_mismatch"
    assert dest.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# --------------------------------------------------------------------------- get / delete / geturl


def test_get_unchanged_when_dest_has_the_content(tmp_path: Path) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"hello")
    client = mock.MagicMock()
    client.head_object.return_value = remote(b"hello")
    assert not objects.get(client, spec(mode="get", dest=str(dest)), dry_run=False).changed
    client.get_object.assert_not_called()


def test_get_missing_object(tmp_path: Path) -> None:
    client = mock.MagicMock()
    client.head_object.side_effect = client_error("404", 404)
    with pytest.raises(OperationError) as info:
        objects.get(client, spec(mode="get", dest=str(tmp_path / "f")), dry_run=False)
    assert info.value.failure_reason == "object_not_found"


def test_delete_and_geturl() -> None:
    client = mock.MagicMock()
    client.head_object.return_value = remote(b"x")
    deleted = objects.delete(client, spec(mode="delete"), dry_run=True)
    assert deleted.changed and deleted.after == {"state": "absent"}
    client.delete_object.assert_not_called()
    client.generate_presigned_url.return_value = "http://s3/b/k?sig"
    url = objects.presign(client, spec(mode="geturl", expires=60))
    assert url["url"] == "http://s3/b/k?sig" and url["expires_in"] == 60
    client.generate_presigned_url.assert_called_once_with(
        "get_object", Params={"Bucket": "b", "Key": "k"}, ExpiresIn=60
    )
    client.head_object.side_effect = client_error("404", 404)
    assert not objects.delete(client, spec(mode="delete"), dry_run=False).changed
