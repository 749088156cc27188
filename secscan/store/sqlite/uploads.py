"""Upload receipts and GitHub alert links of the SQLite store (helpers on an open transaction)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from secscan.core.errors import StoreError
from secscan.core.model import RunId
from secscan.core.ports.uploads import AlertLink, LinkState, UploadReceipt, UploadStatus
from secscan.store.sqlite.db import Connection, scalar
from secscan.store.sqlite.rows import opt_dt

_RECEIPT = (
    "SELECT u.key, r.run_id, t.name, u.repository, u.category, u.commit_sha, u.ref, u.status, "
    "u.results, u.dropped_results, u.dropped_locations, u.sarif_id, u.analyses_url, u.errors, "
    "u.updated_at FROM upload_receipts u JOIN runs r ON r.id = u.run_id JOIN targets t ON t.id = r.target_id"
)
MAX_ERRORS = 20  # processing errors kept per receipt
MAX_ERROR_CHARS = 1000


def _receipt(row: Any) -> UploadReceipt:
    return UploadReceipt(
        key=row[0],
        run_id=RunId(row[1]),
        target=row[2],
        repository=row[3],
        category=row[4],
        commit_sha=row[5],
        ref=row[6],
        status=UploadStatus(row[7]),
        results=row[8],
        dropped_results=row[9],
        dropped_locations=row[10],
        sarif_id=row[11],
        analyses_url=row[12],
        errors=tuple(json.loads(row[13])) if row[13] else (),
        updated_at=opt_dt(row[14]),
    )


def _errors(errors: Iterable[str]) -> str:
    return json.dumps([e[:MAX_ERROR_CHARS] for e in list(errors)[:MAX_ERRORS]])


def save_receipt(conn: Connection, receipt: UploadReceipt, now: int) -> bool:
    run_pk = scalar(conn, "SELECT id FROM runs WHERE run_id = ?", (receipt.run_id,))
    if run_pk is None:
        raise StoreError(f"run {receipt.run_id} is not in the database; list runs with `secscan runs`")
    sql = (
        "INSERT INTO upload_receipts (key, run_id, repository, category, commit_sha, ref, status, "
        "results, dropped_results, dropped_locations, sarif_id, analyses_url, errors, created_at, "
        "updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(key) DO NOTHING"
    )
    r = receipt
    result = conn.execute(sql, (
        r.key, run_pk, r.repository, r.category, r.commit_sha, r.ref, r.status.value, r.results,
        r.dropped_results, r.dropped_locations, r.sarif_id, r.analyses_url, _errors(r.errors), now, now,
    ))  # fmt: skip
    return bool(result.rowcount == 1)


def update_receipt(
    conn: Connection,
    key: str,
    now: int,
    status: UploadStatus,
    sarif_id: str | None,
    analyses_url: str | None,
    errors: Iterable[str] | None,
) -> None:
    sets, params = ["status = ?", "updated_at = ?"], [status.value, now]
    if sarif_id is not None:
        sets.append("sarif_id = ?")
        params.append(sarif_id)
    if analyses_url is not None:
        sets.append("analyses_url = ?")
        params.append(analyses_url)
    if errors is not None:
        sets.append("errors = ?")
        params.append(_errors(errors))
    sql = f"UPDATE upload_receipts SET {', '.join(sets)} WHERE key = ?"  # noqa: S608 - fixed names
    if conn.execute(sql, (*params, key)).rowcount != 1:
        raise StoreError(f"no upload receipt with key {key!r}; see `secscan github status`")


def load_receipts(
    conn: Connection, run_id: str | None, target: str | None, key: str | None, limit: int
) -> tuple[UploadReceipt, ...]:
    where, params = ["1 = 1"], []
    for column, value in (("r.run_id", run_id), ("t.name", target), ("u.key", key)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"{_RECEIPT} WHERE {' AND '.join(where)} ORDER BY u.updated_at DESC, u.id DESC LIMIT ?"
    return tuple(_receipt(row) for row in conn.execute(sql, (*params, limit)))


def load_links(conn: Connection, repository: str) -> tuple[AlertLink, ...]:
    sql = (
        "SELECT a.repository, a.number, t.name, a.fingerprint, a.state, a.marker FROM github_alerts a "
        "JOIN targets t ON t.id = a.target_id WHERE a.repository = ? ORDER BY a.number"
    )
    return tuple(
        AlertLink(row[0], row[1], row[2], row[3], LinkState(row[4]), row[5])
        for row in conn.execute(sql, (repository,))
    )


def save_links(conn: Connection, links: Iterable[AlertLink], now: int) -> int:
    targets: dict[str, int] = {}
    rows = []
    for link in links:
        if link.target not in targets:
            tid = scalar(conn, "SELECT id FROM targets WHERE name = ?", (link.target,))
            if tid is None:
                raise StoreError(f"target {link.target!r} is not in the database; run a scan of it first")
            targets[link.target] = int(tid)
        rows.append((link.repository, link.number, targets[link.target], link.fingerprint,
                     link.state.value, link.marker, now))  # fmt: skip
    if rows:
        conn.executemany(
            "INSERT INTO github_alerts (repository, number, target_id, fingerprint, state, marker, "
            "updated_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT(repository, number) DO UPDATE SET "
            "target_id = excluded.target_id, fingerprint = excluded.fingerprint, state = excluded.state, "
            "marker = excluded.marker, updated_at = excluded.updated_at",
            rows,
        )
    return len(rows)
