"""Property-based tests of the whole OpenAPI document (schemathesis): for generated valid
and invalid requests to every operation, no 5xx and every response matches its schema."""

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.routing import Mount

from services.access import api_tokens
from services.api.app import create_api
from tests.factories import make_admin
from tests.unit.api.conftest import upload_csv

EXAMPLES = int(os.environ.get("RESEARCH_DESK_SCHEMATHESIS_EXAMPLES", "4"))  # per operation
APP = Starlette(routes=[Mount("/api", app=create_api())])
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)
# Invalid requests are generated too (negative mode); the API may coerce 0 to false as
# pydantic does, so "every invalid request refused" is not among the checks.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def token(tmp_path: Path) -> str:
    admin = make_admin()
    upload_csv(admin, tmp_path)  # dataset 1 exists, so some ids are found
    return api_tokens.create_token(admin, "schemathesis").secret


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_promises(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
