"""The OSV v1 API's request and response bodies, answered from an :class:`OsvDatabase`. Pure.

Supported: ``/v1/query`` (package by name+ecosystem or purl, with a version, without one =
every record naming the package, or a commit), ``/v1/querybatch`` (ids and ``modified`` only, in
query order) and ``/v1/vulns/{id}``. Everything is answered in one page, so ``page_token`` is
accepted and ignored and ``next_page_token`` is never sent. Commit queries are answered with no
vulnerabilities: GIT ranges are not evaluated. ``pkg:pypi`` and ``pkg:npm`` purls are understood
(``pkg:npm/%40scope/name`` is ``@scope/name``); other purl types match nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secscan.core.errors import InputError
from secscan.core.purl import from_purl

if TYPE_CHECKING:
    from secscan.scanners.osv.deferred import RecordSource

MAX_BATCH_QUERIES = 1000


class QueryError(InputError):
    """A request body is not a valid OSV query (answered with HTTP 400)."""


@dataclass(frozen=True)
class Query:
    """One validated OSV query. ``ecosystem`` None: a package this server knows nothing of."""

    ecosystem: str | None = None
    name: str | None = None
    version: str | None = None
    commit: str | None = None


def _string(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise QueryError(f"{where}: {key!r} must be a string")
    return value


def _from_purl(purl: str, version: str | None, where: str) -> Query:
    try:
        parsed = from_purl(purl)  # packageurl loads with the first query, not when the server binds
    except ValueError as exc:
        raise QueryError(f"{where}: invalid purl {purl!r} ({exc})") from None
    if parsed.version is not None and version is not None:
        raise QueryError(f"{where}: give the version either in 'version' or in the purl, not both")
    name = parsed.name if parsed.ecosystem is not None else None
    return Query(ecosystem=parsed.ecosystem, name=name, version=version or parsed.version)


def parse_query(raw: object, where: str = "query") -> Query:
    """Validate one query object. Raises QueryError naming the problem."""
    if not isinstance(raw, Mapping):
        raise QueryError(f"{where} must be a JSON object")
    version = _string(raw, "version", where)
    commit = _string(raw, "commit", where)
    _string(raw, "page_token", where)
    if version is not None and commit is not None:
        raise QueryError(f"{where}: 'version' and 'commit' are mutually exclusive")
    package = raw.get("package")
    if package is None:
        if commit is None:
            raise QueryError(f"{where}: give a 'package' (name and ecosystem, or purl) or a 'commit'")
        return Query(commit=commit)
    if not isinstance(package, Mapping):
        raise QueryError(f"{where}: 'package' must be a JSON object")
    where_package = f"{where}.package"
    purl = _string(package, "purl", where_package)
    if purl is not None:
        return _from_purl(purl, version, where_package)
    name = _string(package, "name", where_package)
    ecosystem = _string(package, "ecosystem", where_package)
    if name is None or ecosystem is None:
        raise QueryError(f"{where_package}: give both 'name' and 'ecosystem', or a 'purl'")
    return Query(ecosystem=ecosystem, name=name, version=version, commit=commit)


def parse_batch(raw: object, max_queries: int = MAX_BATCH_QUERIES) -> tuple[Query, ...]:
    """Validate a ``querybatch`` body. Raises QueryError."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("queries"), list):
        raise QueryError("querybatch body must be a JSON object with a 'queries' list")
    queries = raw["queries"]
    if len(queries) > max_queries:
        raise QueryError(f"querybatch holds {len(queries)} queries; send at most {max_queries} per request")
    return tuple(parse_query(item, f"queries[{index}]") for index, item in enumerate(queries))


def matching_records(database: RecordSource, query: Query) -> list[Mapping[str, Any]]:
    """The records that answer ``query``."""
    if query.commit is not None or query.ecosystem is None or query.name is None:
        return []
    return database.query(query.name, query.version, query.ecosystem)


def query_response(database: RecordSource, query: Query) -> dict[str, Any]:
    """The ``/v1/query`` response body: ``{}`` when nothing matches (protobuf JSON omits empties)."""
    records = matching_records(database, query)
    return {"vulns": records} if records else {}


def batch_response(database: RecordSource, queries: tuple[Query, ...]) -> dict[str, Any]:
    """The ``/v1/querybatch`` response body: ids and ``modified`` only, one result per query."""
    results: list[dict[str, Any]] = []
    for query in queries:
        records = matching_records(database, query)
        vulns = [{"id": record["id"], "modified": record["modified"]} for record in records]
        results.append({"vulns": vulns} if vulns else {})
    return {"results": results}
