"""XML documents of the S3 API: a tiny builder and namespace-agnostic parsing.

Parsing uses ``xml.etree.ElementTree`` (expat; no external entities are
resolved). Every parse error becomes :class:`XmlError`, which the front end
maps to 400 ``MalformedXML``. Standard library only.
"""

from __future__ import annotations

import datetime as _dt
import typing as t
import xml.etree.ElementTree as ET
from email.utils import formatdate
from xml.sax.saxutils import escape

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_DEPTH = 32


class XmlError(Exception):
    pass


Node = tuple[str, t.Any]  # (tag, text | list[Node] | None)


def render(root: str, children: list[Node] | str | None, *, ns: bool = True) -> bytes:
    """Serialise ``(tag, content)`` trees; lists become child elements."""
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']
    attr = f' xmlns="{S3_NS}"' if ns else ""
    _emit(out, root, children, attr)
    return "".join(out).encode()


def _emit(out: list[str], tag: str, content: t.Any, attr: str = "") -> None:
    if content is None:
        out.append(f"<{tag}{attr}/>")
    elif isinstance(content, list):
        out.append(f"<{tag}{attr}>")
        for child_tag, child in content:
            _emit(out, child_tag, child)
        out.append(f"</{tag}>")
    else:
        if isinstance(content, bool):
            content = "true" if content else "false"
        out.append(f"<{tag}{attr}>{escape(str(content))}</{tag}>")


def error_xml(code: str, message: str, resource: str, region: str) -> bytes:
    return render(
        "Error",
        [("Code", code), ("Message", message), ("Resource", resource), ("Region", region)],
        ns=False,
    )


def iso8601(epoch: float) -> str:
    d = _dt.datetime.fromtimestamp(epoch, tz=_dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond // 1000:03d}Z"


def http_date(epoch: float) -> str:
    return formatdate(epoch, usegmt=True)


# -------------------------------------------------------------------- parsing


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(body: bytes) -> ET.Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise XmlError("DTDs are not allowed")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise XmlError(str(e)) from None
    _check_depth(root, 0)
    return root


def _check_depth(el: ET.Element, depth: int) -> None:
    if depth > MAX_XML_DEPTH:
        raise XmlError("document too deep")
    for c in el:
        _check_depth(c, depth + 1)


def children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if local(c.tag) == name]


def child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def text(el: ET.Element, name: str, default: str | None = None) -> str | None:
    c = child(el, name)
    if c is None:
        return default
    return c.text or ""


def expect_root(el: ET.Element, name: str) -> None:
    if local(el.tag) != name:
        raise XmlError(f"expected <{name}>, got <{local(el.tag)}>")
