# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure merge of pgbackrest.conf: managed keys set or removed, everything else kept byte for byte."""

from __future__ import annotations

import pytest

from ansible_collections.cellar.garage.plugins.module_utils._pgbackrest import config

ORIGINAL = """\
# pgBackRest configuration -- edited by hand too
[global]
repo1-type=posix
log-level-file = detail
process-max=4

# the database
[main]
pg1-path=/var/lib/postgresql/15/main
recovery-option=primary_conninfo=host=a
recovery-option=recovery_target_timeline=latest

[global:archive-push]
compress-level=3
"""


def test_unmanaged_lines_are_kept_and_managed_keys_rewritten_in_place() -> None:
    merged = config.merge(ORIGINAL, {"global": {"repo1-type": "s3", "repo1-s3-bucket": "b"},
                                     "main": {"pg1-port": "5433"}})  # fmt: skip
    assert merged == """\
# pgBackRest configuration -- edited by hand too
[global]
repo1-type=s3
log-level-file = detail
process-max=4
repo1-s3-bucket=b

# the database
[main]
pg1-path=/var/lib/postgresql/15/main
recovery-option=primary_conninfo=host=a
recovery-option=recovery_target_timeline=latest
pg1-port=5433

[global:archive-push]
compress-level=3
"""


def test_none_removes_and_new_sections_go_at_the_end() -> None:
    merged = config.merge(ORIGINAL, {"global": {"process-max": None}, "other": {"pg1-path": "/x"}})
    assert "process-max" not in merged
    assert merged.endswith("compress-level=3\n\n[other]\npg1-path=/x\n")


def test_list_values_replace_every_occurrence() -> None:
    merged = config.merge(ORIGINAL, {"main": {"recovery-option": ["a=1"]}})
    assert merged.count("recovery-option=") == 1 and "recovery-option=a=1\n" in merged
    assert config.sections(merged)["main"]["recovery-option"] == ["a=1"]


@pytest.mark.parametrize(
    "changes",
    [
        {"global": {"repo1-type": "s3", "repo1-path": "/r"}, "main": {"pg1-port": "1"}},
        {"global": {"process-max": None}},
        {"main": {"recovery-option": ["x=1", "y=2"]}},
        {"new": {"a": "b"}},
    ],
)
def test_merging_twice_changes_nothing_more(changes: dict) -> None:
    once = config.merge(ORIGINAL, changes)
    assert config.merge(once, changes) == once


def test_nothing_to_do_returns_the_text_as_it_is() -> None:
    text = "[global]\nrepo1-type = s3\nlog-level-file=info"  # no final newline, spaces around '='
    assert config.merge(text, {"global": {"repo1-type": "s3"}}) is text
    assert config.merge("", {}) == ""


def test_a_repeated_single_key_is_collapsed() -> None:
    merged = config.merge("[global]\nrepo1-path=/a\nrepo1-path=/b\n", {"global": {"repo1-path": "/c"}})
    assert merged == "[global]\nrepo1-path=/c\n"


def test_empty_file_gets_its_sections() -> None:
    assert config.merge("", {"global": {"a": "1"}, "s": {"b": "2"}}) == "[global]\na=1\n\n[s]\nb=2\n"


@pytest.mark.parametrize(
    ("key", "secret"),
    [("repo1-s3-key-secret", True), ("repo2-cipher-pass", True), ("cipher-pass", True), ("repo1-s3-token", True),
     ("repo1-s3-key", False), ("repo1-s3-bucket", False), ("pg1-path", False)],
)  # fmt: skip
def test_secret_options(key: str, secret: bool) -> None:
    assert config.is_secret_option(key) is secret


def test_view_masks_secrets_and_marks_a_secret_this_run_writes() -> None:
    before = "[global]\nrepo1-s3-key-secret=old\nrepo1-s3-key=GK1\n"
    after = config.merge(before, {"global": {"repo1-s3-key-secret": "new"}})
    keys = {"global": ["repo1-s3-key-secret", "repo1-s3-key", "repo1-path"]}
    assert config.view(before, keys) == {"global": {"repo1-s3-key-secret": config.MASK, "repo1-s3-key": "GK1"}}
    assert config.view(after, keys, previous=before)["global"]["repo1-s3-key-secret"] == config.MASK_CHANGED
    assert config.view(before, keys, previous=before)["global"]["repo1-s3-key-secret"] == config.MASK
    assert "new" not in repr(config.view(after, keys, previous=before))
    assert config.view(after, keys, previous="")["global"]["repo1-s3-key-secret"] == config.MASK_CHANGED


def test_repo_endpoint_reads_global_and_the_stanza_override() -> None:
    text = ("[global]\nrepo1-type=s3\nrepo1-s3-endpoint=a.example\nrepo1-storage-port=3443\n"
            "[main]\nrepo1-s3-endpoint=b\n")
    assert config.repo_endpoint(text, 1) == ("a.example", 3443)
    assert config.repo_endpoint(text, 1, "main") == ("b", 3443)
    assert config.repo_endpoint(text, 2) is None
    assert config.repo_endpoint("[global]\nrepo1-type=posix\n", 1) is None
    assert config.repo_endpoint("[global]\nrepo1-type=s3\nrepo1-s3-endpoint=h\n", 1) == ("h", 443)
