"""GeoReport v2 answers in JSON and XML, with the element names the specification uses.

JSON is a list (or an object for discovery and a service definition); XML wraps the same
records in a root element, one child element per record, lists as repeated child elements
(`<attributes><attribute>…`, `<formats><format>…`). None is an empty element.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from django.http import HttpResponse

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# The element each item of a list field is wrapped in.
ITEM_TAGS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint",
             "formats": "format"}
# Characters XML 1.0 cannot carry at all (control characters other than tab, CR, LF).
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("", str(value))


def _fill(element: ET.Element, record: dict) -> None:
    for name, value in record.items():
        child = ET.SubElement(element, name)
        if isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, list):
            tag = ITEM_TAGS.get(name, "item")
            for item in value:
                sub = ET.SubElement(child, tag)
                if isinstance(item, dict):
                    _fill(sub, item)
                else:
                    sub.text = _text(item)
        else:
            child.text = _text(value)


def xml_bytes(root: str, item: str | None, data) -> bytes:
    element = ET.Element(root)
    if item is None:
        _fill(element, data)
    else:
        for record in data:
            _fill(ET.SubElement(element, item), record)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8",
                                                                      xml_declaration=False)


def render(fmt: str, data, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    """`data` is a list of records (item names each one's element) or one record (item None)."""
    if fmt == "xml":
        return HttpResponse(xml_bytes(root, item, data), status=status, content_type=XML_TYPE)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body.encode(), status=status, content_type=JSON_TYPE)


def render_error(fmt: str, status: int, description: str) -> HttpResponse:
    """Errors as the specification writes them: a list of {code, description}."""
    return render(fmt, [{"code": status, "description": description}], root="errors",
                  item="error", status=status)
