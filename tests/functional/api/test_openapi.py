"""The OpenAPI document against real responses, and a schemathesis fuzz run.

The conformance test validates every response body (success and error) of
a tour of the API against the document's schemas with a small validator
for the subset of OpenAPI 3.0 the document uses. The fuzz run (needs the
`schemathesis` package) generates a few hundred requests per operation and
fails on any 5xx, any undocumented status code or content type, and any
body that breaks its schema.
"""

import os
import re

import pytest

from radar.api import app as api_app
from radar.api import openapi
from tests.conftest import BACKENDS
from tests.functional.api.conftest import SINCE, UNTIL, basic_scenario

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def validate(value, schema, doc, where="$"):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return validate(value, doc["components"]["schemas"][name], doc, where)
    if value is None:
        assert schema.get("nullable"), "%s: null not allowed" % where
        return
    kind = schema.get("type")
    checks = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
              "array": list, "object": dict}
    if kind:
        assert isinstance(value, checks[kind]), "%s: %r is not %s" % (where, value, kind)
        if kind in ("integer", "number"):
            assert not isinstance(value, bool), where
    if "enum" in schema:
        assert value in schema["enum"], where
    if schema.get("format") == "date-time":
        assert DATE_TIME.match(value), "%s: %r is not date-time" % (where, value)
    if kind == "array":
        for i, item in enumerate(value):
            validate(item, schema["items"], doc, "%s[%d]" % (where, i))
    if kind == "object":
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            assert key in value, "%s: %s missing" % (where, key)
        for key, item in value.items():
            if key in props:
                validate(item, props[key], doc, "%s.%s" % (where, key))
            else:
                extra = schema.get("additionalProperties", True)
                assert extra is not False, "%s: unexpected %s" % (where, key)
                if isinstance(extra, dict):
                    validate(item, extra, doc, "%s.%s" % (where, key))


def check(resp, doc, path, method="get"):
    op = doc["paths"][path][method]
    code = str(resp.status_int)
    assert code in op["responses"], "%s %s: %s undocumented" % (method, path, code)
    spec = op["responses"][code]
    if not spec.get("content"):
        assert resp.body == b""
        return
    ctype = resp.content_type
    assert ctype in spec["content"], "%s %s: %s undocumented" % (method, path, ctype)
    if ctype == "application/json":
        validate(resp.json, spec["content"][ctype]["schema"], doc, "%s %s" % (method, path))


W = {"since": SINCE, "until": UNTIL}


def test_real_responses_match_the_document(app, api_conf, engine, make_token):
    basic_scenario(api_conf, engine)
    doc = app.get("/v1/openapi.json").json
    h = {"Authorization": "Bearer %s" % make_token("admin")}
    tour = [
        ("/", "/", {}), ("/v1", "/v1", {}),
        ("/v1/systems", "/v1/systems", W),
        ("/v1/systems", "/v1/systems", dict(W, format="csv")),
        ("/v1/systems/{id}", "/v1/systems/zuul", W),
        ("/v1/systems/{id}", "/v1/systems/nope", {}),
        ("/v1/systems/{id}/series", "/v1/systems/zuul/series", W),
        ("/v1/systems/{id}/missed", "/v1/systems/acme ci/missed", W),
        ("/v1/systems/{id}/jobs", "/v1/systems/zuul/jobs", W),
        ("/v1/systems/{id}/reports", "/v1/systems/zuul/reports", W),
        ("/v1/systems/{id}/badge.svg", "/v1/systems/zuul/badge.svg", W),
        ("/v1/reports", "/v1/reports", W),
        ("/v1/reports", "/v1/reports", {"limit": "0"}),
        ("/v1/compare", "/v1/compare", dict(W, systems="zuul,acme ci")),
        ("/v1/projects", "/v1/projects", W),
        ("/v1/projects/{name}", "/v1/projects/openstack/nova", W),
        ("/v1/changes/{number}", "/v1/changes/1001", {}),
        ("/v1/changes/{number}", "/v1/changes/7", {}),
        ("/v1/operators", "/v1/operators", {}),
        ("/v1/collector", "/v1/collector", {}),
        ("/metrics", "/metrics", {}),
    ]
    for template, path, params in tour:
        check(app.get(path, params=params, expect_errors=True), doc, template)
    resp = app.post_json("/v1/operators", {"name": "O", "systems": ["zuul"]}, headers=h)
    check(resp, doc, "/v1/operators", "post")
    check(app.post_json("/v1/operators", {"name": "O"}, headers=h, expect_errors=True), doc,
          "/v1/operators", "post")
    check(app.post_json("/v1/operators", {"name": "P"}, expect_errors=True), doc,
          "/v1/operators", "post")
    oid = resp.json["id"]
    check(app.get("/v1/operators/%d" % oid), doc, "/v1/operators/{id}")
    check(app.put_json("/v1/operators/%d" % oid, {"email": "o@x"}, headers=h), doc,
          "/v1/operators/{id}", "put")
    check(app.put_json("/v1/systems/zuul", {"display_name": "Zuul"}, headers=h), doc,
          "/v1/systems/{id}", "put")
    check(app.delete("/v1/operators/%d" % oid, headers=h), doc, "/v1/operators/{id}",
          "delete")


# --- fuzzing -----------------------------------------------------------------------

import schemathesis  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402

# Per operation and mode: positive + negative make a few hundred cases each.
FUZZ_EXAMPLES = int(os.environ.get("RADAR_FUZZ_EXAMPLES", "150"))
LABELS = [r.ok().label for r in
          schemathesis.openapi.from_dict(openapi.document()).get_all_operations()]

def _has_inputs(label):
    method, path = label.split(" ", 1)
    spec = openapi.document()["paths"][path][method.lower()]
    return bool(spec["parameters"]) or "requestBody" in spec


# Negative mode needs a parameter or a body to make invalid.
CASES = [(label, mode) for label in LABELS for mode in ("positive", "negative")
         if mode == "positive" or _has_inputs(label)]
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def fuzz_target(make_conf, fresh_db_url):
    from radar.api import auth
    from radar.db import api as db_api
    from radar.db import engine as db_engine

    conf = make_conf(**{"database.connection": fresh_db_url,
                        "ci.accounts": ["Zuul=zuul", "Acme CI=acme-ci"],
                        "ci.reference_systems": ["Zuul"], "api.access_log": False})
    engine = db_engine.create_engine(url=fresh_db_url)
    basic_scenario(conf, engine)
    token = auth.generate()
    with db_engine.make_sessionmaker(engine)() as session:
        db_api.token_create(session, "fuzz", auth.hash_token(token), ["admin"])
        session.commit()
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json",
                                            api_app.setup_app(conf, engine=engine))
    yield schema, {"Authorization": "Bearer " + token}
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("fresh_db_url", [b for b in BACKENDS if b], indirect=True)
@pytest.mark.parametrize("label,mode", CASES)
def test_fuzz(fuzz_target, label, mode, fresh_db_url):
    schema, headers = fuzz_target
    operation = schema.find_operation_by_label(label)
    strategy = operation.as_strategy(schemathesis.GenerationMode(mode))

    # The full run on SQLite; a shorter one on MariaDB for what differs there.
    examples = FUZZ_EXAMPLES if fresh_db_url.startswith("sqlite") else max(FUZZ_EXAMPLES // 4, 10)

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
