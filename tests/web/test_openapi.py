"""The REST API keeps its OpenAPI schema: schemathesis calls every operation of the live site's
`/api/v1/openapi.json` as the administrator (an API key) and checks that no call fails with a
5xx and that every answer is documented: its status code, content type and body schema.

The run is bounded and reproducible: a fixed number of examples per operation, valid and
invalid ones mixed, derandomized, no example database. DELETE operations are left out, so the
data the other calls need stays. (Each operation is a hypothesis test run here rather than
through `schemathesis.pytest.from_fixture`, whose node renaming does not work with pytest 9.)
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from callarchive.web import security
from tests.web.site import Site

MAX_EXAMPLES = 25


def key_accepted(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool:
    """Every call is made with a valid key: a 401 means an operation revoked it and the rest
    of the run would test nothing but the refusal."""
    del ctx, case
    assert response.status_code != 401, "the administrator's API key was refused"
    return True


CHECKS = [
    key_accepted,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # each example is an HTTP call to a live site (slow by nature), and invalid values are
    # drawn by filtering: neither says anything about the API
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
)


@pytest.fixture
async def api_key(site: Site) -> str:
    """A new API key of the administrator."""
    key, prefix = security.new_api_key()
    archive = site.archive()
    try:
        await archive.accounts.add_api_key(
            "admin",
            name="schemathesis",
            key_sha256=security.digest(key),
            prefix=prefix,
            actor="test",
        )
    finally:
        await archive.close()
    return key


def live_schema(site: Site, api_key: str) -> schemathesis.BaseSchema:
    """The live site's schema, called as the administrator, without its DELETE operations."""
    config = schemathesis.Config.from_dict(
        {"base-url": site.url, "headers": {"Authorization": f"Bearer {api_key}"}}
    )
    # 60 s, not requests' 10: under parallel load the first build of the schema took longer.
    schema = schemathesis.openapi.from_url(
        f"{site.url}/api/v1/openapi.json", config=config, timeout=60
    )
    return schema.exclude(method="DELETE")


def check(operation: schemathesis.APIOperation) -> None:
    """Call `operation` with valid and invalid examples and validate every answer."""
    examples = strategies.one_of(
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    )

    @SETTINGS
    @hypothesis.given(case=examples)
    def call(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=CHECKS)

    call()


def test_every_operation_answers_as_documented(
    site: Site, api_key: str, subtests: pytest.Subtests
) -> None:
    operations = [result.ok() for result in live_schema(site, api_key).get_all_operations()]
    assert operations
    for operation in operations:
        with subtests.test(operation.label):
            check(operation)
