# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import typing as t
from pathlib import Path

from ansible_collections.cellar.garage.plugins.modules import oci_image_archive


def args(tmp_path: Path) -> dict[str, t.Any]:
    src = tmp_path / "tool"
    src.write_text("#!/bin/sh\n")
    return {"dest": str(tmp_path / "img.tar"), "ref": "localhost/cellar/tool:1",
            "files": [{"src": str(src), "dest": "/tool"}], "entrypoint": ["/tool"]}


def test_check_mode_then_build_then_no_change(run_module: t.Any, tmp_path: Path) -> None:
    check = run_module(oci_image_archive, args(tmp_path), check_mode=True, diff=True)
    assert check["changed"] and not (tmp_path / "img.tar").exists()
    assert check["diff"]["before"] == {"state": "absent"}
    first = run_module(oci_image_archive, args(tmp_path))
    assert first["changed"] and (tmp_path / "img.tar").exists()
    assert first["image"]["image_id"] == check["image"]["image_id"]
    assert first["image"]["ref"] == "localhost/cellar/tool:1"
    second = run_module(oci_image_archive, args(tmp_path))
    assert not second["changed"]


def test_bad_ref_fails_before_writing(run_module: t.Any, tmp_path: Path) -> None:
    result = run_module(oci_image_archive, {**args(tmp_path), "ref": "NoTag"})
    assert result["failed"] and result["failure_reason"] == "invalid_input"
    assert not (tmp_path / "img.tar").exists()
