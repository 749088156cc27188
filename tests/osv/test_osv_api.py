"""OSV v1 request validation and response bodies (pure, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from secscan.scanners.osv import OsvDatabase
from secscan.scanners.osv.api import (
    Query,
    QueryError,
    batch_response,
    parse_batch,
    parse_query,
    query_response,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": "1.0.0"},
            Query("PyPI", "demo-pkg", "1.0.0"),
        ),
        ({"package": {"name": "demo-pkg", "ecosystem": "PyPI"}}, Query("PyPI", "demo-pkg", None)),
        ({"package": {"purl": "pkg:pypi/Demo_Pkg@1.0.0"}}, Query("PyPI", "demo-pkg", "1.0.0")),
        ({"package": {"purl": "pkg:pypi/demo-pkg"}, "version": "1.0.0"}, Query("PyPI", "demo-pkg", "1.0.0")),
        ({"package": {"purl": "pkg:npm/left-pad@1.0.0"}}, Query("npm", "left-pad", "1.0.0")),
        ({"package": {"purl": "pkg:npm/%40scope/name@1.2.3"}}, Query("npm", "@scope/name", "1.2.3")),
        ({"package": {"purl": "pkg:cargo/serde@1.0.0"}}, Query(None, None, "1.0.0")),
        (
            {"commit": "6879efc2c1596d11a6a6ad296f80063b558d5e0f"},
            Query(commit="6879efc2c1596d11a6a6ad296f80063b558d5e0f"),
        ),
        (
            {"package": {"name": "a", "ecosystem": "PyPI"}, "version": "1", "page_token": "abc", "extra": 1},
            Query("PyPI", "a", "1"),
        ),
    ],
)
def test_valid_queries(body: dict[str, Any], expected: Query) -> None:
    assert parse_query(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "must be a JSON object"),
        ({}, "give a 'package'"),
        ({"package": "demo-pkg"}, "'package' must be a JSON object"),
        ({"package": {"name": "demo-pkg"}}, "give both 'name' and 'ecosystem'"),
        ({"package": {"name": 3, "ecosystem": "PyPI"}}, "'name' must be a string"),
        ({"package": {"name": "a", "ecosystem": "PyPI"}, "version": 1.0}, "'version' must be a string"),
        (
            {"package": {"name": "a", "ecosystem": "PyPI"}, "version": "1", "commit": "ab"},
            "mutually exclusive",
        ),
        ({"package": {"purl": "pkg:pypi/a@1"}, "version": "1"}, "either in 'version' or in the purl"),
        ({"package": {"purl": "pypi/a"}}, "invalid purl"),
    ],
)
def test_invalid_queries(body: object, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(body)


def test_batch_validation() -> None:
    assert parse_batch({"queries": []}) == ()
    with pytest.raises(QueryError, match="'queries' list"):
        parse_batch({"query": []})
    with pytest.raises(QueryError, match=r"queries\[1\]: give a 'package'"):
        parse_batch({"queries": [{"commit": "ab"}, {}]})
    with pytest.raises(QueryError, match="at most 2 per request"):
        parse_batch({"queries": [{"commit": "a"}] * 3}, max_queries=2)


def test_query_response(fixture_db: OsvDatabase) -> None:
    hit = query_response(fixture_db, Query("PyPI", "demo-pkg", "1.0.0"))
    assert [r["id"] for r in hit["vulns"]] == ["PYSEC-2024-999"]
    assert hit["vulns"][0] is fixture_db.get("PYSEC-2024-999")  # the full record
    assert query_response(fixture_db, Query("PyPI", "demo-pkg", "1.2.1")) == {}
    assert query_response(fixture_db, Query(commit="ab")) == {}
    assert query_response(fixture_db, Query(None, None, "1.0.0")) == {}


def test_batch_response_keeps_order_and_only_ids(fixture_db: OsvDatabase) -> None:
    queries = (
        Query("PyPI", "jinja2", "2.10"),
        Query("PyPI", "nothing", "1"),
        Query("PyPI", "demo-pkg", "1.0.0"),
    )
    assert batch_response(fixture_db, queries) == {
        "results": [
            {"vulns": [{"id": "PYSEC-2019-217", "modified": "2021-11-22T04:57:52.862665Z"}]},
            {},
            {"vulns": [{"id": "PYSEC-2024-999", "modified": "2024-05-01T00:00:00Z"}]},
        ]
    }
