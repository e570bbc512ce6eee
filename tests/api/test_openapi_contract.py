"""Property-based test of the whole API from its own OpenAPI document (schemathesis 4): every operation (public,
admin, gateway), every phase (examples, coverage, fuzzing, stateful), positive and negative data, every check (no
server error, only documented statuses, bodies and headers as documented, bad input rejected, valid input accepted,
authentication enforced, 405 for unsupported methods).

Runs against the WSGI application in-process, on the small registry, with the response cache on (real Redis) and
the throttles raised out of the way (they have their own tests). Admin operations are called with a valid admin key
and gateway operations with a valid gateway key; schemathesis' auth check then repeats them without a key and with
a wrong one and expects 401.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core.parameters import ParameterLocation

from modelgraph.models import ApiKey
from modelgraph.wsgi import application

ADMIN_KEY = "mg_contract-test-admin-key-0123456789abcdef"
GATEWAY_KEY = "mggw_contract-test-gateway-key-0123456789"
EXAMPLES = 100
# The in-process WSGI transport sends requests' `Accept-Encoding: gzip` but never decompresses: ask for the identity
# body (the gzip downloads, /api/catalog.json and the CSV exports, have their own tests).
IDENTITY = {"Accept-Encoding": "identity"}

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples every run: a failure here is a real regression, never noise
    database=None,
    phases=[Phase.explicit, Phase.generate, Phase.target],  # explicit carries the examples and coverage phases
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def in_process_app(catalogue, settings):
    """The WSGI app on this test's database connection: like Django's test client, requests must not close it."""
    settings.API_ADMIN_KEY_FAILURE_RATE = "100000/min"  # the auth check sends wrong keys on purpose
    settings.ROUTING_GATEWAY_KEYS = [GATEWAY_KEY]
    ApiKey.objects.create(name="contract", prefix=ADMIN_KEY[:10], key_hash=ApiKey.hash(ADMIN_KEY))
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def credentials(case) -> dict[str, str]:
    """A valid key for operations that document one (the admin key, or the gateway's), unless the case carries a
    generated (wrong) one of its own, which must be refused."""
    if "authorization" in {name.lower() for name in case.headers or {}}:
        return {}
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return {}  # the case may leave the key out on purpose
    schemes = {name for requirement in case.operation.definition.raw.get("security", []) for name in requirement}
    if "gatewayKey" in schemes:
        return {"Authorization": f"Bearer {GATEWAY_KEY}"}
    if "adminKey" in schemes:
        return {"Authorization": f"Bearer {ADMIN_KEY}"}
    return {}


# Loaded at collection (the schema view touches no database); schemathesis' lazy `from_fixture` loader does not
# run on pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema", application)


@pytest.mark.django_db
@schema.parametrize()
@SETTINGS
def test_api_conforms_to_its_openapi_document(case, in_process_app):
    case.call_and_validate(headers={**IDENTITY, **credentials(case)})


class APIStateMachine(schema.as_state_machine()):
    def get_call_kwargs(self, case) -> dict:
        return {"headers": {**IDENTITY, **credentials(case)}}


@pytest.mark.django_db
def test_api_conforms_statefully(in_process_app):
    """Sequences of calls linked through their responses (ids from a list fed to its detail operations)."""
    APIStateMachine.run(settings=settings(SETTINGS, max_examples=EXAMPLES, stateful_step_count=5))


def test_every_operation_is_in_the_run():
    operations = {f"{op.method.upper()} {op.path}" for op in (result.ok() for result in schema.get_all_operations())}
    assert {"GET /api/models", "POST /api/v1/admin/ingest/{source}", "GET /api/routing/stats"} <= operations
    assert {"POST /v1/chat/completions", "GET /v1/models", "GET /v1/models/{id}"} <= operations
