"""The outbox seam over every store backend: idempotent enqueue, due ordering, verdicts, durability."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secscan.core.errors import StoreError
from secscan.store import OutboxStatus, open_store

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


def test_enqueue_is_idempotent_per_key_and_survives_reopen(store_url: str) -> None:
    db = store_url
    with open_store(db) as store:
        box = store.outbox("alerts")
        assert box.enqueue("pagerduty", "k1", {"a": 1}, T0) is True
        assert box.enqueue("pagerduty", "k1", {"a": 2}, T0) is False
        assert box.enqueue_many([("slack", "k2", {}), ("slack", "k1", {}), ("slack", "k3", {"x": "é"})], T0) == 2
    with open_store(db) as store:
        items = store.outbox("alerts").items()
        assert [i.key for i in items] == ["k3", "k2", "k1"]
        assert items[-1].payload == {"a": 1}
        assert items[0].payload == {"x": "é"}
        assert store.outbox("uploads").items() == ()  # the two outboxes are separate


def test_due_orders_by_next_attempt_and_filters_kinds(store_url: str) -> None:
    with open_store(store_url) as store:
        box = store.outbox("uploads")
        box.enqueue_many([("a", "1", {}), ("b", "2", {}), ("a", "3", {})], T0)
        first = box.items()[-1]
        box.retry(first.id, T0, "HTTP 502", T0 + timedelta(minutes=5))
        assert [i.key for i in box.due(T0)] == ["2", "3"]
        assert [i.key for i in box.due(T0, kinds=("a",))] == ["3"]
        assert box.due(T0, kinds=()) == ()
        assert [i.key for i in box.due(T0 + timedelta(minutes=5))] == ["2", "3", "1"]
        assert [i.key for i in box.due(T0 + timedelta(minutes=5), limit=1)] == ["2"]
        retried = box.get(first.id)
        assert retried is not None and retried.attempts == 1 and retried.last_error == "HTTP 502"


def test_delivered_dead_requeue_depth_and_prune(store_url: str) -> None:
    with open_store(store_url) as store:
        box = store.outbox("alerts")
        box.enqueue_many([("a", str(n), {}) for n in range(3)], T0)
        one, two, three = sorted(box.items(), key=lambda i: i.id)
        box.delivered(one.id, T0)
        box.dead(two.id, T0, "HTTP 400: bad routing key " + "x" * 5000)
        assert box.depth() == {OutboxStatus.PENDING: 1, OutboxStatus.DELIVERED: 1, OutboxStatus.DEAD: 1}
        dead = box.items(OutboxStatus.DEAD)
        assert [d.id for d in dead] == [two.id] and len(dead[0].last_error or "") == 2000
        assert [i.id for i in box.due(T0 + timedelta(days=1))] == [three.id]  # dead items are not due
        again = box.requeue(two.id, T0 + timedelta(hours=1))
        assert again.status is OutboxStatus.PENDING
        assert {i.id for i in box.due(T0 + timedelta(hours=1))} == {two.id, three.id}
        delivered = box.get(one.id)
        assert delivered is not None and delivered.delivered_at == T0
        assert box.prune(T0) == 0 and box.prune(T0 + timedelta(seconds=1)) == 1
        assert box.get(one.id) is None
        with pytest.raises(StoreError, match="outbox item 999 does not exist"):
            box.requeue(999, T0)
