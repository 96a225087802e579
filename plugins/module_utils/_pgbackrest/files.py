# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""The configuration file on disk: read with its owner and mode, written atomically, and a
private copy for probing a configuration before it replaces the real one. No Ansible here.

A file that holds a secret is never world-readable at any moment: the new content is written to
a temporary file in the same directory, created 0600, given its owner, group and mode, then
renamed over the old file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import os
import pwd
import shutil
import stat
import tempfile
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import InputError, OperationError

CONFIG_UNREADABLE = "config_unreadable"
CONFIG_WRITE_FAILED = "config_write_failed"


@dataclasses.dataclass(frozen=True)
class FileState:
    path: str
    text: str | None  # None: the file does not exist
    mode: int | None = None
    owner: str | None = None
    group: str | None = None

    @property
    def exists(self) -> bool:
        return self.text is not None

    def attributes(self) -> dict[str, t.Any]:
        return {"owner": self.owner, "group": self.group, "mode": format_mode(self.mode)}


def format_mode(mode: int | None) -> str | None:
    return None if mode is None else f"{stat.S_IMODE(mode):04o}"


def parse_mode(value: t.Any, *, option: str = "mode") -> int:
    """``"0640"``/``"640"``/``0o640`` -> ``0o640``; :class:`InputError` otherwise."""
    text = str(value).strip()
    try:
        mode = int(text, 8) if isinstance(value, str) else int(value)
    except ValueError:
        raise InputError(f"{option} must be an octal file mode such as '0640', got {value!r}") from None
    if not 0 <= mode <= 0o7777:
        raise InputError(f"{option} must be an octal file mode such as '0640', got {value!r}")
    return mode


def _name(lookup: t.Callable[[int], t.Any], ident: int) -> str:
    try:
        return str(lookup(ident)[0])
    except KeyError:
        return str(ident)


def read_state(path: str) -> FileState:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return FileState(path, None)
    except OSError as exc:
        raise OperationError(f"Cannot read {path}: {exc.strerror}", failure_reason=CONFIG_UNREADABLE) from None
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise OperationError(f"Cannot read {path}: {exc}", failure_reason=CONFIG_UNREADABLE) from None
    return FileState(path, text, info.st_mode, _name(pwd.getpwuid, info.st_uid), _name(grp.getgrgid, info.st_gid))


def user_ids(owner: str, group: str | None) -> tuple[int, int]:
    """uid and gid of ``owner`` and ``group`` (the owner's primary group when ``group`` is None)."""
    try:
        user = pwd.getpwnam(owner)
    except KeyError:
        raise InputError(f"No user '{owner}' on this host (owner / run_as)") from None
    if group is None:
        return user.pw_uid, user.pw_gid
    try:
        return user.pw_uid, grp.getgrnam(group).gr_gid
    except KeyError:
        raise InputError(f"No group '{group}' on this host (group)") from None


def primary_group(owner: str) -> str:
    uid, gid = user_ids(owner, None)
    del uid
    return _name(grp.getgrgid, gid)


def write(path: str, text: str, *, mode: int, owner: str, group: str) -> None:
    """Replace ``path`` with ``text`` atomically, owned by ``owner:group`` with ``mode``.

    A missing directory is created (0750, same owner and group)."""
    uid, gid = user_ids(owner, group)
    directory = os.path.dirname(os.path.abspath(path))
    tmp = None
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o750)
            with contextlib.suppress(PermissionError):
                os.chown(directory, uid, gid)
        fd, tmp = tempfile.mkstemp(prefix=".pgbackrest.", dir=directory)  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        _chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise OperationError(f"Failed to write {path}: {exc}", failure_reason=CONFIG_WRITE_FAILED) from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def set_attributes(path: str, *, mode: int, owner: str, group: str) -> None:
    uid, gid = user_ids(owner, group)
    try:
        _chown(path, uid, gid)
        os.chmod(path, mode)
    except OSError as exc:
        raise OperationError(f"Failed to set owner and mode of {path}: {exc}",
                             failure_reason=CONFIG_WRITE_FAILED) from None  # fmt: skip


def _chown(path: str, uid: int, gid: int) -> None:
    info = os.stat(path)
    if (info.st_uid, info.st_gid) != (uid, gid):
        os.chown(path, uid, gid)


@contextlib.contextmanager
def private_copy(text: str, *, owner: str | None) -> t.Iterator[str]:
    """A file holding ``text`` that only ``owner`` (and root) can read, removed afterwards.

    For running pgBackRest with a configuration before it replaces the real one (``--config``)."""
    directory = tempfile.mkdtemp(prefix="cellar-pgbackrest-")  # 0700
    try:
        path = os.path.join(directory, "pgbackrest.conf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if owner and os.geteuid() == 0:
            uid, gid = user_ids(owner, None)
            os.chown(directory, uid, gid)
            os.chown(path, uid, gid)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)
