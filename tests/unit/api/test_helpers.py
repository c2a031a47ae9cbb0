"""Pure helpers of the API: routing table, route labels, badge, CSV cells, tokens."""

import xml.etree.ElementTree as ET

import pytest

from radar.api import auth, badge, metrics
from radar.api.v1 import base, types


@pytest.mark.parametrize("path,route", [
    ("/", "/"), ("", "/"), ("/v1", "/v1"), ("/v1/", "/v1"),
    ("/v1/systems", "/v1/systems"), ("/v1/systems/zuul", "/v1/systems/{id}"),
    ("/v1/systems/12/series", "/v1/systems/{id}/series"),
    ("/v1/systems/12/badge.svg", "/v1/systems/{id}/badge.svg"),
    ("/v1/projects/openstack/nova", "/v1/projects/{name}"),
    ("/v1/changes/1234", "/v1/changes/{number}"),
    ("/v1/operators/3", "/v1/operators/{id}"),
    ("/v1/openapi.json", "/v1/openapi.json"), ("/metrics", "/metrics"),
    ("/v1/systems/1/secret/x", "other"), ("/wp-admin.php", "other"),
])
def test_route_labels_are_bounded(path, route):
    assert metrics.route_of(path) == route


@pytest.mark.parametrize("pattern,parts,expected", [
    ((), [], []),
    (("*",), ["zuul"], ["zuul"]),
    (("*",), [], None),
    (("*", "series"), ["zuul", "series"], ["zuul"]),
    (("*", "series"), ["zuul", "jobs"], None),
    (("**",), ["openstack", "nova"], ["openstack/nova"]),
    (("**",), [], None),
    (("*",), ["a", "b"], None),
])
def test_route_matching(pattern, parts, expected):
    assert base._match(pattern, parts) == expected


def test_badge_is_valid_svg_and_escapes():
    svg = badge.render('<script>"x"</script>', "GREEN", 0.975)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "<script>" not in svg
    assert "GREEN 98%" in svg
    assert "UNKNOWN" in badge.render("x", "bogus", None)


def test_tokens():
    token = auth.generate()
    assert token.startswith("radar_") and len(token) > 40
    assert auth.generate() != token
    assert auth.hash_token(token) == auth.hash_token(token)
    assert len(auth.hash_token(token)) == 64


def test_sort_items_puts_missing_values_last():
    items = [{"id": 1, "v": None}, {"id": 2, "v": 3}, {"id": 3, "v": 1}]
    assert [i["id"] for i in base.sort_items(items, "v", False)] == [3, 2, 1]
    assert [i["id"] for i in base.sort_items(items, "v", True)] == [2, 3, 1]


def test_types_from_dict_coerce():
    s = types.SystemSummary.from_dict({"id": "3", "name": "zuul", "reports": 2.0,
                                       "success_rate": 1, "last_seen":
                                       "2026-03-01T00:00:00Z", "unknown": "ignored"})
    assert s.id == 3 and s.reports == 2 and isinstance(s.success_rate, float)
    assert s.last_seen.utcoffset().total_seconds() == 0


def test_openapi_schemas_cover_every_type():
    from radar.api import openapi

    doc = openapi.document()
    for cls in types.RESPONSE_TYPES:
        schema = doc["components"]["schemas"][cls.__name__]
        assert set(schema["properties"]) == set(cls.fields())
