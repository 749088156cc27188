"""deliver_due: verdicts become outbox state; backoff honours Retry-After; handler bugs lose nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.core.errors import ConfigError, MissingSecretError
from secscan.delivery.loop import BASE_BACKOFF_S, MAX_BACKOFF_S, DeliveryReport, backoff_s, deliver_due, settle
from secscan.delivery.verdicts import MISSING_SECRET_GRACE, Dead, Delivered, Retry, config_fault
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


# -- settle: a one-shot command's bounded wait (issue 13) -----------------------------------------


class _Time:
    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


def test_settle_retries_as_the_backoff_allows_until_everything_is_delivered(tmp_path: Path) -> None:
    answers = [Retry("HTTP 502"), Retry("HTTP 503", after_s=40.0), Delivered()]
    time = _Time()
    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("uploads")
        box.enqueue("h", "k", {}, T0)
        settled = settle(
            lambda _: deliver_due(box, {"h": lambda item: answers.pop(0)}, time.clock, rng=random.Random(3)),
            lambda: box.items(OutboxStatus.PENDING),
            120, time.clock, time.sleep,
        )  # fmt: skip
        assert settled.complete and settled.report.delivered == 1 and settled.report.retried == 2
        assert BASE_BACKOFF_S / 2 <= time.slept[0] <= BASE_BACKOFF_S + 1 and time.slept[1] >= 40
        assert box.items()[0].status is OutboxStatus.DELIVERED


def test_settle_stops_at_its_bound_or_when_nothing_can_happen(tmp_path: Path) -> None:
    time = _Time()
    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("uploads")
        box.enqueue_many([("h", "k", {}), ("off", "o", {})], T0)
        failing = {"h": lambda item: Retry("HTTP 502")}
        settled = settle(lambda _: deliver_due(box, failing, time.clock), lambda: box.items(OutboxStatus.PENDING),
                         120, time.clock, time.sleep)  # fmt: skip
        assert {i.key for i in settled.pending} == {"k", "o"} and sum(time.slept) <= 120
        assert time.now - T0 <= timedelta(seconds=120)
        once = _Time()
        settled = settle(lambda _: deliver_due(box, {}, once.clock), lambda: box.items(OutboxStatus.PENDING),
                         120, once.clock, once.sleep)  # fmt: skip
        assert once.slept == [] and {i.key for i in settled.pending} == {"k", "o"}  # no handler: stuck


def test_a_config_fault_is_dead_unless_a_secret_file_may_still_appear() -> None:
    item = OutboxItem(1, "pager", "k", {}, OutboxStatus.PENDING, 0, T0, T0)
    assert isinstance(config_fault(ConfigError("routing key must be 32 characters"), item, T0), Dead)
    assert isinstance(config_fault(MissingSecretError("export X", may_appear=False), item, T0), Dead)
    waiting = config_fault(MissingSecretError("no file", may_appear=True), item, T0 + timedelta(hours=23))
    assert isinstance(waiting, Retry) and waiting.after_s == 300
    late = T0 + MISSING_SECRET_GRACE + timedelta(seconds=1)
    assert isinstance(config_fault(MissingSecretError("no file", may_appear=True), item, late), Dead)


def test_an_absurd_retry_after_is_believed_only_up_to_the_backoff_cap(tmp_path: Path) -> None:
    """A peer asking for years, or for more seconds than a date holds (a 400-digit Retry-After
    is float infinity), neither parks the alert for ever nor breaks the pass for the others."""
    from secscan.delivery.http import HttpResponse, verdict_for

    asked = [verdict_for(HttpResponse(429, {"retry-after": ra})) for ra in ("99999999999", "9" * 400)]
    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("alerts")
        box.enqueue_many([("h", "years", {}), ("h", "infinite", {}), ("ok", "after", {})], T0)
        verdicts = iter(asked)
        report = deliver_due(box, {"h": lambda item: next(verdicts), "ok": lambda item: Delivered()},
                             lambda: T0)  # fmt: skip
        assert (report.retried, report.delivered) == (2, 1)
        for item in box.items(OutboxStatus.PENDING):
            assert item.next_attempt_at == T0 + timedelta(seconds=MAX_BACKOFF_S)


def test_a_pass_slowed_by_its_peers_starts_no_item_whose_lease_may_have_run_out(tmp_path: Path) -> None:
    """Each attempt here takes 4 minutes (a peer trickling its answers): a pass that went on
    through its 100 items would send the last ones long after their 10-minute lease, when another
    deliverer may have claimed and sent them too (a second Slack message or email)."""
    from secscan.delivery.loop import LEASE

    now = [T0]
    sent: list[str] = []

    def slow(item: OutboxItem) -> Delivered:
        sent.append(item.key)
        now[0] += timedelta(minutes=4)
        return Delivered()

    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("alerts")
        box.enqueue_many([("h", f"k{n}", {}) for n in range(5)], T0)
        report = deliver_due(box, {"h": slow}, lambda: now[0])
        assert sent == ["k0", "k1"] and report.delivered == 2
        assert not box.due(now[0], 10)  # the rest are still leased: nobody else sends them now
        deliver_due(box, {"h": slow}, lambda: T0 + LEASE)  # when the lease ends, they go out
        assert sent[:4] == ["k0", "k1", "k2", "k3"]


def test_a_pass_with_a_deadline_starts_nothing_after_it_and_leaves_the_rest_due(tmp_path: Path) -> None:
    """A one-shot command's wait: a slow peer (4 minutes an item) must not carry the pass past
    the deadline, and the items not started are not leased (the next command sends them)."""
    now = [T0]
    sent: list[str] = []
    step = [timedelta(minutes=4)]

    def slow(item: OutboxItem) -> Delivered:
        sent.append(item.key)
        now[0] += step[0]
        return Delivered()

    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("alerts")
        box.enqueue_many([("h", f"k{n}", {}) for n in range(5)], T0)
        report = deliver_due(box, {"h": slow}, lambda: now[0], deadline=T0 + timedelta(minutes=6))
        assert sent == ["k0", "k1"] and report.delivered == 2
        assert [i.key for i in box.due(now[0], 10)] == ["k2", "k3", "k4"]
        # a deadline already passed when the pass starts (--upload-wait 0): one attempt each
        step[0] = timedelta(seconds=1)
        report = deliver_due(box, {"h": slow}, lambda: now[0], deadline=now[0])
        assert sent == ["k0", "k1", "k2", "k3", "k4"]


def test_settle_starts_no_pass_after_its_deadline(tmp_path: Path) -> None:
    time = _Time()
    passes: list[datetime] = []

    def slow_pass(deadline: datetime) -> DeliveryReport:
        passes.append(deadline)
        time.now += timedelta(seconds=90)  # a pass that overran (a request in flight at the deadline)
        return DeliveryReport(retried=1)

    with open_store(tmp_path / "s.db") as store:
        box = store.outbox("uploads")
        box.enqueue("h", "k", {}, T0)
        settled = settle(slow_pass, lambda: box.items(OutboxStatus.PENDING), 60, time.clock, time.sleep)
        assert passes == [T0 + timedelta(seconds=60)] and [i.key for i in settled.pending] == ["k"]
