# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""``pgbackrest.conf``: a pure merge of the options a task manages, preserving everything else.

No Ansible and no I/O here. pgBackRest's configuration is an ini file read line by line
(``[section]``, ``key=value``, ``#`` comments; a key may repeat for list options such as
``recovery-option``). :func:`merge` sets or removes the managed keys and keeps every other line
-- comments, blank lines, unknown sections and keys, their order -- byte for byte:

- a managed key that is present is rewritten where it stands (its first occurrence; the other
  occurrences are dropped, or rewritten in place for a list value);
- a managed key that is missing is added after the last option of its section, or in a new
  section at the end of the file;
- a managed key whose value is ``None`` is removed.

:func:`view` reads the managed keys back for a diff, with secret options masked
(:func:`is_secret_option`): a secret never leaves as a value, and a changed secret shows as
:data:`MASK_CHANGED` in the ``after`` view, so the diff and ``changed`` still agree.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

#: What a view shows instead of a secret value.
MASK = "********"
#: What the ``after`` view shows for a secret that this run writes (new or different value).
MASK_CHANGED = "******** (changed)"

#: A value to write: one value, several (a list option), or ``None`` to remove the key.
Value = t.Union[str, t.Sequence[str], None]
#: ``{section: {key: value}}``, in the order keys are to be added.
Changes = t.Mapping[str, t.Mapping[str, Value]]

_SECTION_RE = re.compile(r"^\[([^\[\]]+)\]$")
_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
# Options pgBackRest treats as secure (never on the command line) that hold a secret. The
# access key id (``repoN-s3-key``) is secure for pgBackRest but is an identifier, not a secret.
_SECRET_SUFFIXES = (
    "-s3-key-secret",
    "-s3-token",
    "-cipher-pass",
    "-azure-key",
    "-gcs-key",
    "-sftp-private-key-passphrase",
    "-host-key-passphrase",
)


def is_secret_option(key: str) -> bool:
    """Whether ``key`` (``repo1-s3-key-secret``, ``cipher-pass``...) holds a secret."""
    name = key.strip().lower()
    return any(name.endswith(suffix) or name == suffix[1:] for suffix in _SECRET_SUFFIXES)


def valid_key(key: str) -> bool:
    """pgBackRest option names: lowercase letters, digits and hyphens."""
    return bool(_KEY_RE.match(key))


def valid_section(section: str) -> bool:
    """``global``, a stanza name, or ``<global|stanza>:<command>``."""
    return bool(section) and "[" not in section and "]" not in section and section.strip() == section


@dataclasses.dataclass(frozen=True)
class Line:
    """One line of the file: ``raw`` as read (without its newline), and what it is."""

    raw: str
    section: str | None  # the section the line is in (its own name for a header)
    key: str | None = None  # set for ``key=value`` lines
    value: str | None = None
    header: bool = False


def parse(text: str) -> list[Line]:
    """The lines of ``text`` with the section each belongs to (lines before any header: ``None``)."""
    lines: list[Line] = []
    section: str | None = None
    for raw in text.splitlines():
        stripped = raw.strip()
        match = _SECTION_RE.match(stripped)
        if match:
            section = match.group(1).strip()
            lines.append(Line(raw, section, header=True))
        elif stripped and not stripped.startswith("#") and "=" in stripped:
            key, value = stripped.split("=", 1)
            lines.append(Line(raw, section, key.strip(), value.strip()))
        else:
            lines.append(Line(raw, section))
    return lines


def sections(text: str) -> dict[str, dict[str, list[str]]]:
    """``{section: {key: [values...]}}`` as pgBackRest reads the file (every value of a key)."""
    found: dict[str, dict[str, list[str]]] = {}
    for line in parse(text):
        if line.header and line.section is not None:
            found.setdefault(line.section, {})
        elif line.key is not None and line.section is not None:
            found.setdefault(line.section, {}).setdefault(line.key, []).append(t.cast(str, line.value))
    return found


def _values(value: Value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def merge(text: str, changes: Changes) -> str:
    """``text`` with the keys of ``changes`` set (or removed for ``None``); see the module doc.

    ``text`` is returned as it is when no managed key needs a change (even when, say, it does not
    end with a newline); otherwise the result ends with a newline. Merging the result again with
    the same changes returns it unchanged.
    """
    lines = parse(text)
    pending: dict[str, dict[str, list[str] | None]] = {
        section: {key: (None if value is None else _values(value)) for key, value in keys.items()}
        for section, keys in changes.items()
    }
    out: list[str] = []
    written: set[tuple[str, str]] = set()
    modified = False
    # Where to add missing keys of a section: after its last option line (or its header).
    last_option_at: dict[str, int] = {}
    for line in lines:
        wanted = pending.get(line.section or "", {}) if line.section is not None else {}
        if line.key is not None and line.section is not None and line.key in wanted:
            values = wanted[line.key]
            ident = (line.section, line.key)
            if values is not None and ident not in written:
                new_lines = [f"{line.key}={v}" for v in values]
                existing = [o.value for o in lines if o.section == line.section and o.key == line.key]
                modified = modified or existing != values
                out.extend(new_lines)
                written.add(ident)
                last_option_at[line.section] = len(out)
            elif values is None:
                modified = True
            continue  # removed, or a further occurrence of a key already written
        out.append(line.raw)
        if line.section is not None and (line.header or line.key is not None):
            last_option_at[line.section] = len(out)
    # Missing keys of existing sections, inserted from the bottom so indexes stay valid.
    inserts: list[tuple[int, list[str]]] = []
    new_sections: list[tuple[str, list[str]]] = []
    for section, keys in pending.items():
        missing = [
            f"{key}={v}"
            for key, values in keys.items()
            if values is not None and (section, key) not in written
            for v in values
        ]
        if not missing:
            continue
        if section in last_option_at:
            inserts.append((last_option_at[section], missing))
        else:
            new_sections.append((section, missing))
    if not modified and not inserts and not new_sections:
        return text
    for index, new_lines in sorted(inserts, key=lambda item: item[0], reverse=True):
        out[index:index] = new_lines
    for section, new_lines in new_sections:
        while out and not out[-1].strip():
            out.pop()
        if out:
            out.append("")
        out.append(f"[{section}]")
        out.extend(new_lines)
    return "\n".join(out) + "\n" if out else ""


def view(
    text: str | None, keys: t.Mapping[str, t.Iterable[str]], *, previous: str | None = None
) -> dict[str, dict[str, t.Any]]:
    """The managed ``keys`` (``{section: [key, ...]}``) as set in ``text``, secrets masked.

    A key appears only when it is set; a list option as a list. With ``previous`` (the file
    before this run), a secret whose value differs from the one in ``previous`` is shown as
    :data:`MASK_CHANGED`: use it for the ``after`` view.
    """
    current = sections(text or "")
    before = sections(previous) if previous is not None else None
    result: dict[str, dict[str, t.Any]] = {}
    for section, names in keys.items():
        shown: dict[str, t.Any] = {}
        for key in names:
            values = current.get(section, {}).get(key)
            if values is None:
                continue
            if is_secret_option(key):
                old = before.get(section, {}).get(key) if before is not None else values
                shown[key] = MASK if old == values else MASK_CHANGED
            else:
                shown[key] = values[0] if len(values) == 1 else list(values)
        if shown:
            result[section] = shown
    return result


def repo_endpoint(text: str, repo: int, stanza: str | None = None) -> tuple[str, int] | None:
    """``(host, port)`` of S3 repository ``repo`` as pgBackRest would read ``text`` (a stanza's
    section overrides ``[global]``); None when the repository is not an S3 one."""
    found = sections(text)
    merged: dict[str, list[str]] = {**found.get("global", {}), **(found.get(stanza, {}) if stanza else {})}

    def one(name: str) -> str | None:
        values = merged.get(f"repo{repo}-{name}")
        return values[-1] if values else None

    host = one("s3-endpoint")
    if one("type") != "s3" or not host:
        return None
    port = one("storage-port") or one("s3-port") or "443"
    try:
        return host, int(port)
    except ValueError:
        return None
