"""The API describes itself: a valid OpenAPI 3.1 document, and docs that load without internet."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from jsonschema import Draft202012Validator

ENDPOINTS = {
    "/api/v1/auth/token": {"post", "delete"},
    "/api/v1/auth/me": {"get"},
    "/api/v1/regions": {"get"},
    "/api/v1/regions/{code}": {"get"},
    "/api/v1/regions/{code}/children": {"get"},
    "/api/v1/grids": {"get"},
    "/api/v1/grids/{code}": {"get"},
    "/api/v1/grids/{code}/staff": {"get"},
    "/api/v1/grids/lookup": {"get", "post"},
    "/api/v1/grids/export": {"get"},
    "/api/v1/grids/import": {"post"},
    "/api/v1/staff": {"get"},
    "/api/v1/public/grids/lookup": {"get"},
    "/api/v1/public/grids/search": {"get"},
}


@pytest.fixture
def spec(db) -> dict:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_openapi_document_is_3_1_and_lists_the_endpoints(spec):
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "格治 Gezhi API"
    for path, methods in ENDPOINTS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), path


def test_openapi_document_is_valid(spec):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_openapi_schemas_are_valid_json_schema_and_refs_resolve(spec):
    # OpenAPI 3.1 schemas are JSON Schema 2020-12.
    components = spec["components"]["schemas"]
    for schema in components.values():
        Draft202012Validator.check_schema(schema)  # raises SchemaError when invalid
    refs = set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"',
                          Client().get("/api/v1/openapi.json").content.decode()))
    assert refs and refs <= set(components)


def test_openapi_declares_who_may_call_what(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert schemes["SessionUser"]["in"] == "cookie"
    assert spec["paths"]["/api/v1/grids"]["get"]["security"]
    assert "security" not in spec["paths"]["/api/v1/public/grids/lookup"]["get"]
    assert "security" not in spec["paths"]["/api/v1/auth/token"]["post"]
    errors = spec["paths"]["/api/v1/grids/{code}"]["get"]["responses"]
    assert errors["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


def test_docs_page_loads_offline_from_our_static_files(db):
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    # Government intranets have no internet: nothing may come from another host.
    assert not [a for a in assets if "//" in a]
    assert "cdn" not in html.lower()
    for asset in assets:
        assert finders.find(asset.removeprefix("/static/")), asset
    assert '"url": "/api/v1/openapi.json"' in html
