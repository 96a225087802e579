# Copyright (c) cellar.garage contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# PRIVATE: may change in any release.

"""KV version 2 operations: read with version, write-if-changed with check-and-set, generate-once,
and a check of required secrets. No Ansible here.

- :func:`ensure` converges one secret (``state`` present or absent) and returns an
  :class:`Outcome` whose views hold the field names, values masked, and the version, so
  ``changed`` and the diff never need a secret: a write is visible as a new version.
- A write always carries check-and-set: ``cas=0`` for a secret that does not exist, the version
  read otherwise. Someone writing in between makes the write fail with ``cas_mismatch``; it is
  never silently overwritten.
- ``generate`` fields are created once (random values from :func:`generate_value`) and kept
  as stored on later runs.
- :func:`check` reads a list of required secrets and reports every missing path and field at
  once.

Secret values leave these functions only in ``result["data"]`` when the caller asked for them
(``return_values``); every value read or generated is passed to ``on_secret`` so the module can
mask it in all output.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import secrets
import string
import typing as t

from ansible_collections.cellar.garage.plugins.module_utils._errors import (
    ACCESS_DENIED,
    NOT_FOUND,
    OUTCOME_UNKNOWN,
    InputError,
    OperationError,
    api_context,
)
from ansible_collections.cellar.garage.plugins.module_utils._openbao.client import (
    CAS_MISMATCH,
    OpenBaoCasMismatch,
    OpenBaoClient,
    OpenBaoPermissionDenied,
)
from ansible_collections.cellar.garage.plugins.module_utils._outcome import ABSENT, Outcome, Undo, present

#: What the views show instead of a value.
MASK = "********"
#: What the ``after`` view shows for a field whose value this run writes (new or different).
MASK_CHANGED = "******** (changed)"

SECRET_READ_FAILED = "secret_read_failed"
SECRET_WRITE_FAILED = "secret_write_failed"
SECRET_DELETE_FAILED = "secret_delete_failed"
SECRETS_MISSING = "secrets_missing"
SECRETS_UNREADABLE = "secrets_unreadable"

OnSecret = t.Callable[[str], None]


def _ignore(value: str) -> None:
    del value


# --------------------------------------------------------------------------- generators

_GENERATOR_RE = re.compile(r"^(hex|base64|base64url|alnum)([0-9]+)$")
MIN_GENERATE_SIZE = 8
MAX_GENERATE_SIZE = 512
_ALNUM = string.ascii_letters + string.digits


def parse_generator(field: str, spec: t.Any) -> tuple[str, int]:
    """``"hex32"`` -> ``("hex", 32)``; raises :class:`InputError` for anything else."""
    match = _GENERATOR_RE.match(str(spec).strip()) if isinstance(spec, str) else None
    if match is None:
        raise InputError(
            f"generate.{field}: '{spec}' is not a value format; use hex<N>, base64<N>, base64url<N> "
            "(N random bytes) or alnum<N> (N letters and digits), e.g. hex32"
        )
    kind, size = match.group(1), int(match.group(2))
    if not MIN_GENERATE_SIZE <= size <= MAX_GENERATE_SIZE:
        raise InputError(f"generate.{field}: size {size} is out of range ({MIN_GENERATE_SIZE} to {MAX_GENERATE_SIZE})")
    return kind, size


def generate_value(kind: str, size: int) -> str:
    """A random value: ``hex``/``base64``/``base64url`` encode ``size`` random bytes (hex32 gives 64
    hex digits, like ``openssl rand -hex 32``; base64url has no padding); ``alnum`` gives ``size``
    letters and digits."""
    if kind == "hex":
        return secrets.token_hex(size)
    if kind == "base64":
        return base64.b64encode(secrets.token_bytes(size)).decode("ascii")
    if kind == "base64url":
        return base64.urlsafe_b64encode(secrets.token_bytes(size)).decode("ascii").rstrip("=")
    if kind == "alnum":
        return "".join(secrets.choice(_ALNUM) for position in range(size))
    raise ValueError(f"unknown value format {kind!r}")


# --------------------------------------------------------------------------- spec


def _clean_segment(option: str, value: t.Any) -> str:
    text = str(value or "").strip().strip("/")
    if not text:
        raise InputError(f"{option} must not be empty")
    parts = text.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise InputError(f"{option} '{value}' must not contain empty, '.' or '..' segments")
    return text


@dataclasses.dataclass(frozen=True)
class KvSpec:
    """What :func:`ensure` converges, built by :func:`spec_from_params`."""

    mount: str
    path: str
    state: str = "present"
    data: t.Mapping[str, t.Any] | None = None
    generate: t.Mapping[str, tuple[str, int]] = dataclasses.field(default_factory=dict)
    purge: bool = True
    return_values: bool = False

    @property
    def label(self) -> str:
        return f"{self.mount}/{self.path}"


def spec_from_params(params: t.Mapping[str, t.Any]) -> KvSpec:
    """Validate the module's options (before any call)."""
    mount = _clean_segment("mount", params.get("mount") or "secret")
    path = _clean_segment("path", params.get("path"))
    state = params.get("state") or "present"
    data = params.get("data")
    generate_raw = params.get("generate") or {}
    if state == "absent":
        if data is not None or generate_raw:
            raise InputError("data and generate apply to state=present only; remove them for state=absent")
        return KvSpec(mount=mount, path=path, state=state)
    if data is None and not generate_raw:
        raise InputError("state=present needs data, generate or both")
    generate = {str(f): parse_generator(str(f), spec) for f, spec in generate_raw.items()}
    both = sorted(set(generate) & set(data or {}))
    if both:
        raise InputError(f"fields in both data and generate: {', '.join(both)}; give each field once")
    empty = sorted(f for f in list(generate) + list(data or {}) if not str(f).strip())
    if empty:
        raise InputError("field names must not be empty")
    return KvSpec(
        mount=mount,
        path=path,
        state=state,
        data=dict(data) if data is not None else None,
        generate=generate,
        purge=bool(params.get("purge", True)),
        return_values=bool(params.get("return_values", False)),
    )


# --------------------------------------------------------------------------- read


@dataclasses.dataclass(frozen=True)
class Stored:
    """What OpenBao holds at a path: the latest readable data (``None`` when there is none) and
    the current version (``0`` when the secret never existed or its metadata is gone)."""

    data: dict[str, t.Any] | None
    version: int

    @property
    def exists(self) -> bool:
        return self.data is not None


def read(client: OpenBaoClient, mount: str, path: str) -> Stored:
    """The latest version of a secret; a deleted or destroyed latest version reads as no data
    (with its version number, which a check-and-set write must name)."""
    with api_context("read", "secret", f"{mount}/{path}", failure_reason=SECRET_READ_FAILED):
        secret = client.kv_read(mount, path)
        if secret is not None:
            return Stored(dict(secret.data), secret.version.version)
        meta = client.kv_metadata(mount, path)
    return Stored(None, meta.current_version if meta is not None else 0)


def _register(on_secret: OnSecret, data: t.Mapping[str, t.Any], fields: t.Collection[str] | None = None) -> None:
    """Pass the string values of ``data`` (only those of ``fields`` when given) to ``on_secret``."""
    for field, value in data.items():
        if isinstance(value, str) and value and (fields is None or field in fields):
            on_secret(value)


# --------------------------------------------------------------------------- views


def view(stored: Stored) -> t.Mapping[str, t.Any]:
    """The managed view of a stored secret: field names with masked values, and the version."""
    if stored.data is None:
        return ABSENT
    return present({"version": stored.version, "fields": {f: MASK for f in sorted(stored.data)}})


def _planned_view(stored: Stored, desired: t.Mapping[str, t.Any], version: int) -> dict[str, t.Any]:
    old = stored.data or {}
    fields = {f: MASK if f in old and old[f] == desired[f] else MASK_CHANGED for f in sorted(desired)}
    return present({"version": version, "fields": fields})


# --------------------------------------------------------------------------- ensure


@dataclasses.dataclass(frozen=True)
class Plan:
    desired: dict[str, t.Any]
    generated: tuple[str, ...]

    def changes(self, stored: Stored) -> bool:
        return stored.data is None or self.desired != stored.data


def plan_present(stored: Stored, spec: KvSpec) -> Plan:
    """What the secret must hold. Generated fields keep a non-empty stored value."""
    old = stored.data or {}
    desired: dict[str, t.Any] = {} if spec.purge else dict(old)
    desired.update(spec.data or {})
    generated: list[str] = []
    for field, (kind, size) in spec.generate.items():
        if old.get(field) not in (None, ""):
            desired[field] = old[field]
        else:
            desired[field] = generate_value(kind, size)
            generated.append(field)
    return Plan(desired, tuple(generated))


def ensure(
    client: OpenBaoClient,
    spec: KvSpec,
    *,
    dry_run: bool,
    on_secret: OnSecret = _ignore,
    secret_fields: t.Collection[str] | None = None,
) -> Outcome:
    """Converge one secret (see the module docstring). Values read or written are passed to
    ``on_secret`` (only those of ``secret_fields`` when given), unless ``spec.return_values``."""
    stored = read(client, spec.mount, spec.path)
    if not spec.return_values:
        _register(on_secret, stored.data or {}, secret_fields)
    if spec.state == "absent":
        return _absent(client, spec, stored, dry_run=dry_run)
    plan = plan_present(stored, spec)
    if not spec.return_values:
        _register(on_secret, plan.desired, secret_fields)
    base = {"mount": spec.mount, "path": spec.path}
    if not plan.changes(stored):
        result = {**base, "version": stored.version, "created": False, "fields": sorted(stored.data or {}),
                  "generated": []}  # fmt: skip
        if spec.return_values:
            result["data"] = dict(stored.data or {})
        return Outcome.unchanged(view(stored), **result)
    version = stored.version + 1
    if not dry_run:
        version = _write(client, spec, stored, plan.desired)
    after = _planned_view(stored, plan.desired, version)
    result = {
        **base,
        "version": version,
        "created": stored.data is None,
        "fields": sorted(plan.desired),
        "generated": sorted(plan.generated),
    }
    if spec.return_values:
        values = dict(plan.desired)
        if dry_run:  # nothing was generated for real: do not show values that will never exist
            for field in plan.generated:
                values.pop(field, None)
        result["data"] = values
    outcome = Outcome(before=view(stored), after=after, result=result)
    if dry_run:
        return outcome
    return outcome.with_undo(_undo_write(client, spec, stored, version))


def _write(client: OpenBaoClient, spec: KvSpec, stored: Stored, desired: t.Mapping[str, t.Any]) -> int:
    """Write with check-and-set on the version read; returns the new version."""
    try:
        return client.kv_write(spec.mount, spec.path, desired, cas=stored.version).version
    except OpenBaoCasMismatch as exc:
        raise OperationError(
            f"Failed to write secret '{spec.label}': it changed since it was read at version "
            f"{stored.version} (check-and-set conflict: someone else wrote it in between); "
            "nothing was written, run again to converge on the new version",
            failure_reason=CAS_MISMATCH,
            details={"status": exc.status, "cause": CAS_MISMATCH, "read_version": stored.version},
        ) from exc
    except OpenBaoPermissionDenied as exc:
        raise OperationError(
            f"Failed to write secret '{spec.label}': {exc.message or 'permission denied'}; the token's "
            f"policies must allow 'create' and 'update' on {spec.mount}/data/{spec.path}",
            failure_reason=SECRET_WRITE_FAILED,
            details={"status": exc.status, "cause": ACCESS_DENIED},
        ) from exc
    except OperationError as exc:
        if exc.failure_reason == OUTCOME_UNKNOWN:
            return _learn_outcome(client, spec, stored, desired, exc)
        with api_context("write", "secret", spec.label, failure_reason=SECRET_WRITE_FAILED):
            raise


def _learn_outcome(
    client: OpenBaoClient, spec: KvSpec, stored: Stored, desired: t.Mapping[str, t.Any], exc: OperationError
) -> int:
    """The write got no answer: read again to learn whether it landed."""
    again = read(client, spec.mount, spec.path)
    if again.data is not None and again.data == dict(desired) and again.version > stored.version:
        return again.version
    if again.version == stored.version:
        raise OperationError(
            f"Failed to write secret '{spec.label}': {exc.detail}. Read again: the secret is still at "
            f"version {stored.version}, so the write did not land; running again is safe",
            failure_reason=SECRET_WRITE_FAILED,
            details={**exc.details, "cause": OUTCOME_UNKNOWN},
        ) from exc
    raise OperationError(
        f"Failed to write secret '{spec.label}': {exc.detail}. Read again: the secret is now at version "
        f"{again.version} with other data, written by someone else",
        failure_reason=CAS_MISMATCH,
        details={**exc.details, "cause": OUTCOME_UNKNOWN, "read_version": stored.version},
    ) from exc


def _undo_write(client: OpenBaoClient, spec: KvSpec, stored: Stored, version: int) -> Undo:
    """How to take back a write: write the previous data back as a new version (check-and-set on
    the version this run wrote), or, when there was none, soft-delete that version (the secret
    then reads as absent again)."""
    resource = {"resource": "openbao_secret", "mount": spec.mount, "path": spec.path, "version": version}
    previous = dict(stored.data) if stored.data is not None else None

    def run() -> None:
        with api_context("restore", "secret", spec.label, failure_reason=SECRET_WRITE_FAILED):
            if previous is not None:
                client.kv_write(spec.mount, spec.path, previous, cas=version)
            else:
                client.kv_delete(spec.mount, spec.path, versions=[version])

    if previous is not None:
        return Undo(
            f"write version {stored.version} of secret '{spec.label}' back as its latest version "
            f"(bao kv rollback -mount={spec.mount} -version={stored.version} {spec.path})",
            run,
            resource,
            done=f"secret '{spec.label}' was restored to the data of version {stored.version}",
        )
    return Undo(
        f"delete version {version} of secret '{spec.label}' (bao kv delete -mount={spec.mount} "
        f"-versions={version} {spec.path})",
        run,
        resource,
        done=f"version {version} of secret '{spec.label}' written by this run was deleted again",
    )


def _absent(client: OpenBaoClient, spec: KvSpec, stored: Stored, *, dry_run: bool) -> Outcome:
    result = {"mount": spec.mount, "path": spec.path, "version": stored.version}
    if stored.data is None:
        return Outcome.unchanged(ABSENT, **result)
    if not dry_run:
        with api_context("delete", "secret", spec.label, failure_reason=SECRET_DELETE_FAILED):
            client.kv_delete(spec.mount, spec.path)
    return Outcome(before=view(stored), after=ABSENT, result=result)


# --------------------------------------------------------------------------- read values (lookup)


def read_values(client: OpenBaoClient, mount: str, path: str, fields: t.Sequence[str] = ()) -> Stored:
    """The stored secret; raises ``not_found`` when it is absent and ``fields_missing`` when a
    requested field is absent or empty."""
    stored = read(client, mount, path)
    if stored.data is None:
        raise OperationError(f"Secret '{mount}/{path}' does not exist (or its latest version is deleted)",
                             failure_reason=NOT_FOUND)  # fmt: skip
    missing = [f for f in fields if stored.data.get(f) in (None, "")]
    if missing:
        raise OperationError(
            f"Secret '{mount}/{path}' has no field {', '.join(repr(f) for f in missing)} "
            f"(fields: {', '.join(sorted(stored.data)) or 'none'})",
            failure_reason="fields_missing",
        )
    return stored


# --------------------------------------------------------------------------- check


@dataclasses.dataclass(frozen=True)
class Required:
    mount: str
    path: str
    fields: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.mount}/{self.path}"


def required_from_params(items: t.Sequence[t.Mapping[str, t.Any]]) -> list[Required]:
    if not items:
        raise InputError("secrets must list at least one secret")
    out: list[Required] = []
    for index, item in enumerate(items):
        try:
            mount = _clean_segment("mount", item.get("mount") or "secret")
            path = _clean_segment("path", item.get("path"))
        except InputError as exc:
            raise InputError(f"secrets[{index}]: {exc.message}") from None
        fields = tuple(str(f) for f in item.get("fields") or ())
        if any(not f.strip() for f in fields):
            raise InputError(f"secrets[{index}]: field names must not be empty")
        out.append(Required(mount, path, fields))
    return out


def check(client: OpenBaoClient, required: t.Sequence[Required], *, on_secret: OnSecret = _ignore) -> dict[str, t.Any]:
    """Read every required secret; one failure listing every missing (or unreadable) secret and
    field, or ``{"secrets": [{mount, path, version, fields}]}``. Values are never returned."""
    found: list[dict[str, t.Any]] = []
    problems: list[dict[str, t.Any]] = []
    for item in required:
        base = {"mount": item.mount, "path": item.path}
        try:
            stored = read(client, item.mount, item.path)
        except OperationError as exc:
            if exc.details.get("cause") != ACCESS_DENIED:
                raise
            problems.append({**base, "problem": "unreadable", "missing_fields": list(item.fields),
                             "error": exc.message})  # fmt: skip
            continue
        _register(on_secret, stored.data or {})
        if stored.data is None:
            problems.append({**base, "problem": "absent", "missing_fields": list(item.fields)})
            continue
        missing = [f for f in item.fields if stored.data.get(f) in (None, "")]
        if missing:
            problems.append({**base, "problem": "fields_missing", "missing_fields": missing,
                             "version": stored.version})  # fmt: skip
        found.append({**base, "version": stored.version, "fields": sorted(stored.data)})
    if problems:
        lines = []
        for p in problems:
            what = {"absent": "absent", "unreadable": "not readable with this token",
                    "fields_missing": "missing fields"}[p["problem"]]  # fmt: skip
            fields = f" ({', '.join(p['missing_fields'])})" if p["missing_fields"] else ""
            lines.append(f"{p['mount']}/{p['path']}: {what}{fields}")
        any_missing = any(p["problem"] != "unreadable" for p in problems)
        raise OperationError(
            f"{len(problems)} of {len(required)} required secrets are not complete: " + "; ".join(lines),
            failure_reason=SECRETS_MISSING if any_missing else SECRETS_UNREADABLE,
            details={"missing": problems, "secrets": found},
        )
    return {"secrets": found}


__all__ = [
    "MASK",
    "MASK_CHANGED",
    "KvSpec",
    "Plan",
    "Required",
    "Stored",
    "check",
    "ensure",
    "generate_value",
    "parse_generator",
    "plan_present",
    "read",
    "read_values",
    "required_from_params",
    "spec_from_params",
    "view",
]
