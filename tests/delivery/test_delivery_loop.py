"""deliver_due: verdicts become outbox state; backoff honours Retry-After; handler bugs lose nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.delivery import BASE_BACKOFF_S, MAX_BACKOFF_S, Dead, Delivered, Retry, backoff_s, deliver_due
from secscan.store import OutboxItem, OutboxStatus, open_store

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def test_backoff_grows_is_capped_and_never_beats_retry_after() -> None:
    rng = random.Random(7)
    firsts = [backoff_s(1, None, rng) for _ in range(50)]
    assert all(BASE_BACKOFF_S / 2 <= w <= BASE_BACKOFF_S for w in firsts)
    assert len(set(firsts)) > 1  # jittered
    assert all(BASE_BACKOFF_S * 4 <= backoff_s(4, None, rng) <= BASE_BACKOFF_S * 8 for _ in range(20))
    assert all(backoff_s(40, None, rng) <= MAX_BACKOFF_S for _ in range(20))
    assert backoff_s(1, 120.0, rng) == 120.0


def test_verdicts_are_recorded(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(item: OutboxItem) -> Delivered | Retry | Dead:
        calls.append(item.key)
        return {"ok": Delivered(), "later": Retry("HTTP 429", after_s=600), "never": Dead("HTTP 400")}[
            item.key
        ]

    def broken(item: OutboxItem) -> Delivered:
        raise RuntimeError("bug")

    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("alerts")
        box.enqueue_many(
            [("h", "ok", {}), ("h", "later", {}), ("h", "never", {}), ("bug", "b", {}), ("nohandler", "n", {})],
            T0,
        )
        report = deliver_due(box, {"h": handler, "bug": broken}, lambda: T0, rng=random.Random(1))
        assert sorted(calls) == ["later", "never", "ok"]
        assert (report.delivered, report.retried, [d.key for d in report.dead]) == (1, 2, ["never"])
        state = {i.key: i for i in box.items()}
        assert state["ok"].status is OutboxStatus.DELIVERED
        assert state["never"].status is OutboxStatus.DEAD and state["never"].last_error == "HTTP 400"
        assert state["later"].next_attempt_at >= T0 + timedelta(seconds=600)
        assert state["b"].status is OutboxStatus.PENDING and state["b"].attempts == 1
        assert state["b"].last_error == "internal error: RuntimeError"
        assert state["n"].attempts == 0  # no handler: untouched, waits for its feature
        # nothing is due again before its time; the item without a handler is never handed out
        calls.clear()
        deliver_due(box, {"h": handler}, lambda: T0 + timedelta(seconds=10))
        assert calls == []
