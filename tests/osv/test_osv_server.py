"""The local OSV server over real loopback HTTP."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from secscan.scanners.osv import OsvDatabase, OsvServer
from secscan.scanners.osv._http import _HttpServer
from tests.conftest import schema_errors


@pytest.fixture(scope="module")
def server(fixture_db: OsvDatabase) -> Iterator[OsvServer]:
    with OsvServer(fixture_db) as running:
        yield running


def request(url: str, body: bytes | None = None, method: str = "POST") -> tuple[int, Any]:
    """Send like pip-audit does: no Content-Type header."""
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            assert error.headers["Content-Type"] == "application/json"
            return error.code, json.loads(error.read())


def post(server: OsvServer, path: str, payload: object) -> tuple[int, Any]:
    return request(server.url + path, json.dumps(payload).encode())


def test_query_url(server: OsvServer) -> None:
    assert server.query_url.startswith("http://127.0.0.1:")
    assert server.query_url.endswith("/v1/query")
    assert server.query_url != "http://127.0.0.1:0/v1/query"


def test_query_as_pip_audit_sends_it(server: OsvServer, osv_validator: Any) -> None:
    body = json.dumps({"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": "1.0.0"}).encode()
    status, answer = request(server.query_url, body)
    assert status == 200
    assert [v["id"] for v in answer["vulns"]] == ["PYSEC-2024-999"]
    assert answer["vulns"][0]["affected"][0]["versions"] == ["1.0.0", "1.2.0", "2.10", "3.1"]
    for record in answer["vulns"]:
        assert schema_errors(osv_validator, record) == []


def test_query_without_hits_is_empty_object(server: OsvServer) -> None:
    assert post(
        server, "/v1/query", {"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": "1.2.1"}
    ) == (
        200,
        {},
    )
    assert post(server, "/v1/query", {"commit": "6879efc2c1596d11a6a6ad296f80063b558d5e0f"}) == (200, {})


def test_query_by_purl_and_without_version(server: OsvServer) -> None:
    status, answer = post(server, "/v1/query", {"package": {"purl": "pkg:pypi/jinja2@2.10"}})
    assert status == 200 and [v["id"] for v in answer["vulns"]] == ["PYSEC-2019-217"]
    status, answer = post(server, "/v1/query", {"package": {"name": "Other.Pkg", "ecosystem": "PyPI"}})
    assert status == 200 and [v["id"] for v in answer["vulns"]] == ["GHSA-aaaa-bbbb-cccc"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b'{"package": {"name": "a"}}',
        b'{"package": {"name": "a", "ecosystem": "PyPI"}, "version": "1", "commit": "ab"}',
        b'{"package": {"purl": "pkg:pypi/a@1"}, "version": "1"}',
        b"\xff\xfe",
    ],
)
def test_malformed_query_is_400_with_json_error(server: OsvServer, body: bytes) -> None:
    status, answer = request(server.query_url, body)
    assert status == 400
    assert answer["code"] == 3
    assert isinstance(answer["message"], str) and answer["message"]


def test_oversized_body_is_413(fixture_db: OsvDatabase) -> None:
    with OsvServer(fixture_db, max_body_bytes=100) as small:
        status, answer = request(small.query_url, b"{" + b" " * 200 + b"}")
    assert status == 413
    assert "exceeds 100 bytes" in answer["message"]


def test_querybatch(server: OsvServer, osv_validator: Any) -> None:
    queries = [
        {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.10"},
        {"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "3.1.4"},
        {"package": {"name": "demo_pkg", "ecosystem": "PyPI"}, "version": "2.10.0"},
    ]
    status, answer = post(server, "/v1/querybatch", {"queries": queries})
    assert status == 200
    assert answer == {
        "results": [
            {"vulns": [{"id": "PYSEC-2019-217", "modified": "2021-11-22T04:57:52.862665Z"}]},
            {},
            {"vulns": [{"id": "PYSEC-2024-999", "modified": "2024-05-01T00:00:00Z"}]},
        ]
    }
    assert post(server, "/v1/querybatch", {"queries": [{}]})[0] == 400


def test_get_vuln_by_id_and_alias(server: OsvServer, osv_validator: Any) -> None:
    for key in ("GHSA-aaaa-bbbb-cccc", "CVE-2024-0002"):
        status, record = request(f"{server.url}/v1/vulns/{key}", method="GET")
        assert status == 200 and record["id"] == "GHSA-aaaa-bbbb-cccc"
        assert schema_errors(osv_validator, record) == []
    assert request(f"{server.url}/v1/vulns/PYSEC-2024-998", method="GET") == (
        404,
        {"code": 5, "message": "vulnerability PYSEC-2024-998 not found"},
    )


def test_unknown_endpoints_are_404(server: OsvServer) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/v1/nothing", body=b'{"unread": "body"}')
        response = connection.getresponse()
        assert response.status == 404
        assert response.getheader("Connection") == "close"  # the unread body is not parsed as a request
        assert json.loads(response.read())["code"] == 5
    finally:
        connection.close()
    assert request(f"{server.url}/v1/vulns/", method="GET")[0] == 404
    assert request(server.query_url, method="GET")[0] == 404


def test_keep_alive_and_no_stderr(server: OsvServer, capfd: pytest.CaptureFixture[str]) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for version in ("1.0.0", "9.9"):
            body = json.dumps({"package": {"name": "demo-pkg", "ecosystem": "PyPI"}, "version": version})
            connection.request("POST", "/v1/query", body=body)
            response = connection.getresponse()
            assert response.status == 200
            json.loads(response.read())
    finally:
        connection.close()
    assert capfd.readouterr().err == ""


def test_accepted_sockets_have_tcp_nodelay(fixture_db: OsvDatabase) -> None:
    http_server = _HttpServer(("127.0.0.1", 0), fixture_db, 1024)
    client = socket.create_connection(("127.0.0.1", http_server.server_address[1]))
    try:
        accepted, _ = http_server.get_request()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        client.close()
        http_server.server_close()


def test_close_releases_the_port_and_open_connections(fixture_db: OsvDatabase) -> None:
    server = OsvServer(fixture_db)
    with server:
        url = server.query_url
        host, port = server.url.removeprefix("http://").split(":")
        idle = http.client.HTTPConnection(host, int(port), timeout=10)
        idle.request("POST", "/v1/query", body=b'{"commit": "ab"}')
        assert idle.getresponse().read() == b"{}"  # the connection stays open (keep-alive)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, data=b"{}", timeout=5)
    idle.close()


def test_a_server_that_only_binds_loads_no_http_server() -> None:
    # issue 18: a run whose audits all come from the result cache binds the port and never serves
    code = (
        "import socket, sys\n"
        "from secscan.scanners.osv.server import OsvServer\n"
        "server = OsvServer(object())\n"
        "server.bind()\n"
        "port = int(server.url.rsplit(':', 1)[1])\n"
        "socket.create_connection(('127.0.0.1', port)).close()  # waits in the backlog\n"
        "server.close()\n"
        "assert 'http.server' not in sys.modules and 'ssl' not in sys.modules, sorted(sys.modules)\n"
        "try:\n"
        "    socket.create_connection(('127.0.0.1', port)).close()\n"
        "except ConnectionRefusedError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('the port is still open')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
