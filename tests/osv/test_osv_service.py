"""The loopback OSV service binds and serves only once asked for its URL (issue 18)."""

from __future__ import annotations

import json
import urllib.request

from secscan.scanners.osv import OsvDatabase
from secscan.scanners.osv.service import OsvService


class _Source:
    def __init__(self, db: OsvDatabase) -> None:
        self.db = db
        self.starts = 0

    def start(self) -> OsvDatabase:
        self.starts += 1
        return self.db


def test_nothing_starts_until_the_url_is_asked_for(fixture_db: OsvDatabase) -> None:
    source = _Source(fixture_db)
    service = OsvService(source)
    assert not service.started and service.starts == 0 and source.starts == 0
    service.close()  # closing a service that never started is fine
    assert service.starts == 0 and source.starts == 0


def test_the_first_url_starts_one_server_that_answers(fixture_db: OsvDatabase) -> None:
    source = _Source(fixture_db)
    service = OsvService(source)
    try:
        url = service.url()
        assert service.url() == url and service.starts == 1 and source.starts == 1
        body = json.dumps({"package": {"name": "nothing-here", "ecosystem": "PyPI"}, "version": "1"}).encode()
        with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=10) as rsp:
            assert rsp.status == 200 and json.loads(rsp.read()) == {}
    finally:
        service.close()
    assert not service.started
