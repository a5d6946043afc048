"""Open311 fixtures: API keys, a form-posting helper, and validators for the published
GeoReport v2 JSON schemas (copied into tests/schemas/)."""

import json
from pathlib import Path
from urllib.parse import urlparse

import jsonschema
import pytest
from django.test import Client
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from gezhi.events.models import Source
from gezhi.events.tests.conftest import IN_A1, category, report  # noqa: F401
from gezhi.open311.services import apikey_create

# The published schemas, copied from the open311/schema-validation repository (see README.md).
SCHEMAS = Path(__file__).resolve().parent / "schemas"

# date-time (RFC 3339, needs rfc3339-validator) from jsonschema, uri checked here.
FORMATS = jsonschema.FormatChecker(formats=["date-time"])


@FORMATS.checks("uri")
def _is_uri(value) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return bool(parts.scheme in ("http", "https") and parts.netloc)


def _registry() -> Registry:
    resources = [(f.name, Resource.from_contents(json.loads(f.read_text()),
                                                 default_specification=DRAFT7))
                 for f in SCHEMAS.glob("*.json")]
    return Registry().with_resources(resources)


@pytest.fixture(scope="session")
def conform():
    """conform(name, data): validate data against a published schema (e.g. "requests.json"),
    resolving their relative $refs against the schema folder; formats are checked."""
    registry = _registry()

    def check(name: str, data) -> None:
        validator = jsonschema.Draft7Validator({"$ref": name}, registry=registry,
                                               format_checker=FORMATS)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
        assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]

    return check


@pytest.fixture
def hotline_key(world):
    """(ApiKey, secret) of the 12345 hotline's work order system."""
    return apikey_create(name="12345 政务服务热线", source=Source.HOTLINE,
                         actor=world.user("admin"))


@pytest.fixture
def post():
    """post(fmt, **fields): POST requests.{fmt} form-encoded, as GeoReport clients do, with
    CSRF checks on (the endpoint must not need a CSRF token)."""
    client = Client(enforce_csrf_checks=True)

    def send(fmt: str = "json", **fields):
        return client.post(f"/open311/v2/requests.{fmt}", fields)

    return send


def work_order(key: str, **fields) -> dict:
    """A 12345 hotline work order as its system posts it."""
    data = {"api_key": key, "service_code": "0102", "lat": IN_A1[0], "long": IN_A1[1],
            "address_string": "文化路 36 号东侧", "description": "路边垃圾堆积,气味很大",
            "first_name": "女士", "last_name": "李", "phone": "13806329876",
            "external_id": "GD20261127000123"}
    data.update(fields)
    return data
