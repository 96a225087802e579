# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""KV v2 operations (_openbao/kv.py) with a MagicMock client: input checks, generate-once,
write-if-changed with check-and-set, masked views, outcome-unknown writes, undo, the check.
(The same against a real OpenBao: tests/integration/test_openbao_kv.py.)"""

from __future__ import annotations

import re
import typing as t
from unittest.mock import MagicMock

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError
from ansible_collections.cellar.garage.plugins.module_utils._openbao import kv
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import (
    KvMetadata,
    KvSecret,
    KvVersion,
    OpenBaoCasMismatch,
    OpenBaoConnectionError,
    OpenBaoPermissionDenied,
)


def secret(data: dict[str, t.Any], version: int) -> KvSecret:
    return KvSecret(data=dict(data), version=KvVersion(version))


def client_with(stored: dict[str, t.Any] | None, version: int = 1) -> MagicMock:
    client = MagicMock(name="OpenBaoClient")
    client.kv_read.return_value = secret(stored, version) if stored is not None else None
    client.kv_metadata.return_value = None
    client.kv_write.side_effect = lambda mount, path, data, cas: KvVersion(cas + 1)
    return client


def spec(**params: t.Any) -> kv.KvSpec:
    return kv.spec_from_params({"path": "app/db", **params})


@pytest.mark.parametrize(
    ("text", "kind", "size", "pattern"),
    [
        ("hex32", "hex", 32, r"[0-9a-f]{64}"),
        ("base64url32", "base64url", 32, r"[A-Za-z0-9_-]{43}"),
        ("base64 16", None, None, None),
        ("base6416", "base64", 16, r"[A-Za-z0-9+/]{22}=="),
        ("alnum12", "alnum", 12, r"[A-Za-z0-9]{12}"),
        ("hex4", None, None, None),
        ("hex513", None, None, None),
        ("sha32", None, None, None),
        (32, None, None, None),
    ],
)
def test_value_formats(text: t.Any, kind: str | None, size: int | None, pattern: str | None) -> None:
    if kind is None:
        with pytest.raises(InputError):
            kv.parse_generator("f", text)
        return
    assert kv.parse_generator("f", text) == (kind, size)
    values = {kv.generate_value(kind, t.cast(int, size)) for n in range(5)}
    assert len(values) == 5 and all(re.fullmatch(t.cast(str, pattern), v) for v in values)


@pytest.mark.parametrize(
    "params",
    [
        {"state": "absent", "data": {"a": "b"}},
        {"state": "absent", "generate": {"a": "hex16"}},
        {},
        {"data": {"a": "1"}, "generate": {"a": "hex16"}},
        {"data": {"a": "1"}, "path": "a/../b"},
        {"data": {"a": "1"}, "path": "/"},
        {"data": {"a": "1"}, "mount": "//"},
    ],
)
def test_bad_input_is_refused_before_any_call(params: dict[str, t.Any]) -> None:
    with pytest.raises(InputError):
        kv.spec_from_params({"path": "app/db", **params})


def test_generated_fields_are_kept_and_purge_decides_the_others() -> None:
    stored = kv.Stored({"token": "kept", "empty": "", "other": "x"}, 3)
    plan = kv.plan_present(stored, spec(generate={"token": "hex16", "empty": "hex16"}, data={"a": 1}))
    assert plan.desired["token"] == "kept" and len(plan.desired["empty"]) == 32 and plan.generated == ("empty",)
    assert "other" not in plan.desired
    keep = kv.plan_present(stored, spec(generate={"token": "hex16"}, purge=False))
    assert keep.desired == {"token": "kept", "empty": "", "other": "x"} and not keep.changes(stored)


def test_unchanged_secret_is_not_written() -> None:
    client = client_with({"user": "u", "password": "p"}, 4)
    seen: list[str] = []
    outcome = kv.ensure(client, spec(data={"user": "u", "password": "p"}), dry_run=False, on_secret=seen.append)
    assert not outcome.changed and outcome.result["version"] == 4 and outcome.undo is None
    client.kv_write.assert_not_called()
    assert sorted(seen) == ["p", "p", "u", "u"] and "data" not in outcome.result


def test_a_new_secret_is_created_only_if_absent() -> None:
    client = client_with(None)
    outcome = kv.ensure(client, spec(generate={"token": "hex16"}), dry_run=False)
    written = client.kv_write.call_args
    assert written.kwargs["cas"] == 0 and set(written.args[2]) == {"token"}
    assert outcome.result == {"mount": "secret", "path": "app/db", "version": 1, "created": True,
                              "fields": ["token"], "generated": ["token"]}  # fmt: skip
    assert outcome.diff()["after"]["fields"] == {"token": kv.MASK_CHANGED}


def test_change_writes_with_check_and_set_and_masks_the_diff() -> None:
    client = client_with({"user": "u", "password": "old"}, 7)
    outcome = kv.ensure(client, spec(data={"user": "u", "password": "new"}), dry_run=False)
    assert client.kv_write.call_args.kwargs["cas"] == 7 and outcome.result["version"] == 8
    assert outcome.diff()["before"] == {"state": "present", "version": 7,
                                        "fields": {"password": kv.MASK, "user": kv.MASK}}  # fmt: skip
    assert outcome.diff()["after"]["fields"] == {"password": kv.MASK_CHANGED, "user": kv.MASK}
    assert "old" not in repr(outcome.diff()) and "new" not in repr(outcome.diff())


def test_check_mode_predicts_the_version_and_writes_nothing() -> None:
    client = client_with({"a": "1"}, 2)
    outcome = kv.ensure(client, spec(data={"a": "2"}, return_values=True), dry_run=True)
    client.kv_write.assert_not_called()
    assert outcome.changed and outcome.result["version"] == 3 and outcome.result["data"] == {"a": "2"}
    planned = kv.ensure(client_with(None), spec(generate={"g": "hex16"}, return_values=True), dry_run=True)
    assert planned.result["data"] == {} and planned.result["generated"] == ["g"]


def test_deleted_latest_version_is_written_with_its_version_number() -> None:
    client = client_with(None)
    client.kv_metadata.return_value = KvMetadata(current_version=5, oldest_version=1, max_versions=0,
                                                 cas_required=False, versions={})  # fmt: skip
    outcome = kv.ensure(client, spec(data={"a": "1"}), dry_run=False)
    assert client.kv_write.call_args.kwargs["cas"] == 5 and outcome.result["created"]


def test_conflict_and_denial_have_their_own_reasons() -> None:
    client = client_with({"a": "1"}, 2)
    client.kv_write.side_effect = OpenBaoCasMismatch("check-and-set parameter did not match", status=400)
    with pytest.raises(OperationError) as conflict:
        kv.ensure(client, spec(data={"a": "2"}), dry_run=False)
    assert conflict.value.failure_reason == "cas_mismatch" and conflict.value.details["read_version"] == 2
    client.kv_write.side_effect = OpenBaoPermissionDenied("permission denied", status=403)
    with pytest.raises(OperationError) as denied:
        kv.ensure(client, spec(data={"a": "2"}), dry_run=False)
    assert denied.value.failure_reason == "secret_write_failed" and denied.value.details["cause"] == "access_denied"
    assert "'create' and 'update' on secret/data/app/db" in denied.value.message


def test_a_write_without_answer_is_learnt_by_reading_again() -> None:
    lost = OpenBaoConnectionError("timed out", endpoint="kv write", may_have_landed=True)
    client = client_with({"a": "1"}, 2)
    client.kv_write.side_effect = lost
    client.kv_read.side_effect = [secret({"a": "1"}, 2), secret({"a": "2"}, 3)]
    assert kv.ensure(client, spec(data={"a": "2"}), dry_run=False).result["version"] == 3  # it landed
    client.kv_read.side_effect = [secret({"a": "1"}, 2), secret({"a": "1"}, 2)]
    with pytest.raises(OperationError) as failed:
        kv.ensure(client, spec(data={"a": "2"}), dry_run=False)
    assert failed.value.failure_reason == "secret_write_failed" and "running again is safe" in failed.value.message


def test_undo_restores_the_previous_data_or_deletes_the_version() -> None:
    client = client_with({"a": "1"}, 2)
    kv.ensure(client, spec(data={"a": "2"}), dry_run=False).undo.run()  # type: ignore[union-attr]
    assert client.kv_write.call_args.args[2] == {"a": "1"} and client.kv_write.call_args.kwargs["cas"] == 3
    fresh = client_with(None)
    kv.ensure(fresh, spec(data={"a": "2"}), dry_run=False).undo.run()  # type: ignore[union-attr]
    fresh.kv_delete.assert_called_once_with("secret", "app/db", versions=[1])


def test_absent_soft_deletes_once() -> None:
    client = client_with({"a": "1"}, 2)
    assert kv.ensure(client, spec(state="absent"), dry_run=False).changed
    client.kv_delete.assert_called_once_with("secret", "app/db")
    gone = client_with(None)
    assert not kv.ensure(gone, spec(state="absent"), dry_run=False).changed
    gone.kv_delete.assert_not_called()


def test_check_lists_every_problem_at_once() -> None:
    client = MagicMock(name="OpenBaoClient")
    client.kv_metadata.return_value = None
    answers = {"ok": secret({"a": "1", "b": "2"}, 1), "partial": secret({"a": ""}, 4), "absent": None}

    def read(mount: str, path: str) -> KvSecret | None:
        if path == "denied":
            raise OpenBaoPermissionDenied("permission denied", status=403)
        return answers[path]

    client.kv_read.side_effect = read
    required = kv.required_from_params([{"path": p, "fields": ["a"]} for p in ("ok", "partial", "absent", "denied")])
    with pytest.raises(OperationError) as failed:
        kv.check(client, required)
    missing = failed.value.details["missing"]
    assert [(m["path"], m["problem"]) for m in missing] == [
        ("partial", "fields_missing"), ("absent", "absent"), ("denied", "unreadable")]  # fmt: skip
    assert failed.value.failure_reason == "secrets_missing" and "3 of 4" in failed.value.message
    assert kv.check(client, required[:1]) == {"secrets": [{"mount": "secret", "path": "ok", "version": 1,
                                                           "fields": ["a", "b"]}]}  # fmt: skip
