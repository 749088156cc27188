"""Two-way dismissal sync against the fake GitHub: pull, push, reopen on either side, matching."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from github_fakes import BANDIT, SECRETS, Clock, FakeGithub, finding, scan, scanner

from secscan.app.deliver import deliver_uploads
from secscan.app.github_sync import sync_dismissals
from secscan.app.tracking import record_run, sla_sweep, triage
from secscan.config.policy import load_policy, load_sla_policy
from secscan.config.settings import Settings
from secscan.core.model import Finding, Severity
from secscan.core.ports.store import TrackedFinding
from secscan.delivery.github import outbox as github_outbox
from secscan.report.sarif import build_sarif
from secscan.store import Store, TriageStatus

FINDINGS = [
    finding(BANDIT, "B602", "src/app.py", 2, Severity.HIGH, 1),
    finding(BANDIT, "B404", "src/app.py", 1, Severity.LOW, 2),
    finding(BANDIT, "B105", "src/conf.py", 7, Severity.MEDIUM, 3),
    finding(SECRETS, "AWS Access Key", "src/conf.py", 9, Severity.CRITICAL, 4),
]


@pytest.fixture
def uploaded(
    store: Store, git_repo: tuple[Path, str], fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> dict[str, int]:  # fmt: skip
    """A recorded, uploaded run; fingerprint -> the number of its alert on the fake."""
    bandit = [f for f in FINDINGS if f.tool == BANDIT]
    run = scan(git_repo[0], (scanner(BANDIT, bandit), scanner(SECRETS, FINDINGS[3:])),
               "20260105T020000Z-00000001", clock())  # fmt: skip
    recorded = record_run(store, run, clock(), load_sla_policy())
    settings = make_settings()
    github_outbox.enqueue_run(
        store, run, build_sarif(run, load_policy(), recorded.baseline), settings, clock()
    )
    assert deliver_uploads(store, settings, clock=clock, sleep=lambda s: None, env=env).delivered == 2
    numbers = {}
    for number, alert in fake_github.alerts.items():
        text = alert["most_recent_instance"]["message"]["text"]
        (fp,) = [f.fingerprint for f in FINDINGS if text.endswith(f"(secscan id {f.id})")]
        numbers[fp] = number
    assert len(numbers) == len(FINDINGS)
    clock.advance(60)
    return numbers


def _local(store: Store, f: Finding) -> TrackedFinding:
    return store.get_finding(f.fingerprint, "demo")


def test_github_dismissals_become_local_triage_decisions(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    fake_github.dismiss(uploaded[FINDINGS[0].fingerprint], "false positive", "input is a constant")
    fake_github.dismiss(uploaded[FINDINGS[1].fingerprint], "won't fix", login="hubot")
    fake_github.dismiss(uploaded[FINDINGS[2].fingerprint], "used in tests")
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert (report.alerts, report.matched, report.pulled, report.pushed) == (4, 4, 3, 0)
    fp_, wontfix, tests = (_local(store, f).triage for f in FINDINGS[:3])
    assert fp_ is not None and fp_.status is TriageStatus.FALSE_POSITIVE
    assert fp_.actor == "github:octocat" and "input is a constant" in fp_.reason
    assert (
        wontfix is not None
        and wontfix.status is TriageStatus.ACCEPTED_RISK
        and wontfix.actor == "github:hubot"
    )
    assert (
        tests is not None and tests.status is TriageStatus.ACCEPTED_RISK and "used in tests" in tests.reason
    )
    assert _local(store, FINDINGS[3]).triage is None
    clock.advance(60)
    again = sync_dismissals(store, make_settings(), clock(), env=env)
    assert (again.pulled, again.pushed, again.lifted, again.reopened) == (0, 0, 0, 0)
    assert fake_github.calls("PATCH") == []


def test_a_credential_quoted_in_a_dismissal_comment_is_not_stored(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    """A pulled comment becomes the triage reason (stored, shown by `secscan show` and the report):
    a token someone pasted into it on GitHub is redacted as a run's texts are."""
    token = "ghp_" + "Zq8xW7vU6tS5rQ4pO3nM2lK1jI0hG9fE8dC7"
    fake_github.dismiss(uploaded[FINDINGS[0].fingerprint], "false positive", f"rotated {token} already")
    assert sync_dismissals(store, make_settings(), clock(), env=env).pulled == 1
    decision = _local(store, FINDINGS[0]).triage
    assert decision is not None and "rotated" in decision.reason and "already" in decision.reason
    assert token[4:] not in decision.reason and token[:12] not in decision.reason


def test_local_decisions_are_pushed_as_dismissals_with_the_reason(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    triage(store, FINDINGS[3].fingerprint, TriageStatus.ACCEPTED_RISK, "rotated, test account", None, "alice",
                  clock(), "demo")  # fmt: skip
    fp0 = FINDINGS[0].fingerprint
    triage(store, fp0, TriageStatus.FALSE_POSITIVE, "shell=True on a constant", None, "bob", clock(), "demo")
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert (report.pushed, report.pulled, report.errors) == (2, 0, ())
    bodies = {int(c.path.rsplit("/", 1)[1]): c.body for c in fake_github.calls("PATCH")}
    assert bodies[uploaded[FINDINGS[3].fingerprint]] == {
        "state": "dismissed",
        "dismissed_reason": "won't fix",
        "dismissed_comment": "alice: rotated, test account",
    }
    assert bodies[uploaded[FINDINGS[0].fingerprint]]["dismissed_reason"] == "false positive"
    assert fake_github.alerts[uploaded[FINDINGS[3].fingerprint]]["state"] == "dismissed"
    clock.advance(60)
    again = sync_dismissals(store, make_settings(), clock(), env=env)
    assert (again.pushed, again.pulled, again.lifted, again.reopened) == (0, 0, 0, 0)
    assert len(fake_github.calls("PATCH")) == 2
    local = _local(store, FINDINGS[3]).triage
    assert local is not None and local.actor == "alice"  # the echo of our own push is not pulled back


def test_reopening_on_github_lifts_the_pulled_decision(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    number = uploaded[FINDINGS[2].fingerprint]
    fake_github.dismiss(number, "false positive")
    sync_dismissals(store, make_settings(), clock(), env=env)
    assert _local(store, FINDINGS[2]).triage is not None
    clock.advance(60)
    fake_github.reopen(number)
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert report.lifted == 1 and report.pushed == 0
    assert _local(store, FINDINGS[2]).triage is None and _local(store, FINDINGS[2]).is_open


def test_lifting_a_pushed_decision_locally_reopens_the_alert(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    fp = FINDINGS[1].fingerprint
    triage(
        store, fp, TriageStatus.ACCEPTED_RISK, "legacy", clock() + timedelta(days=1), "carol", clock(), "demo"
    )
    sync_dismissals(store, make_settings(), clock(), env=env)
    assert fake_github.alerts[uploaded[fp]]["state"] == "dismissed"
    clock.advance(2 * 86_400)  # the accepted risk expired: the finding is open again locally
    sla_sweep(store, clock(), load_sla_policy())
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert report.reopened == 1 and report.pulled == 0
    assert fake_github.alerts[uploaded[fp]]["state"] == "open"
    assert fake_github.calls("PATCH")[-1].body == {"state": "open"}


def test_matching_uses_the_uploaded_id_even_when_the_line_moved(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    moved = uploaded[FINDINGS[0].fingerprint]
    fake_github.alerts[moved]["most_recent_instance"]["location"]["start_line"] = 999
    plain = uploaded[FINDINGS[2].fingerprint]  # an alert without the id: matched by its place
    instance = fake_github.alerts[plain]["most_recent_instance"]
    instance["message"]["text"] = "Possible hardcoded password."
    fake_github.dismiss(moved, "won't fix")
    fake_github.dismiss(plain, "false positive")
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert report.matched == 4 and report.pulled == 2
    assert _local(store, FINDINGS[0]).triage is not None and _local(store, FINDINGS[2]).triage is not None


def test_alerts_of_other_tools_and_categories_are_left_alone(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    codeql = dict(fake_github.alerts[1], number=99, tool={"name": "CodeQL"})
    codeql["most_recent_instance"] = dict(codeql["most_recent_instance"], category="/language:python")
    fake_github.alerts[99] = codeql
    fake_github.dismiss(99, "false positive")
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert report.alerts == 4 and report.pulled == 0


def test_each_direction_can_be_switched_off(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str],
) -> None:  # fmt: skip
    fake_github.dismiss(uploaded[FINDINGS[0].fingerprint], "false positive")
    fp3 = FINDINGS[3].fingerprint
    triage(store, fp3, TriageStatus.FALSE_POSITIVE, "example key", None, "dan", clock(), "demo")
    report = sync_dismissals(
        store, make_settings(pull_dismissals=False, push_dismissals=False), clock(), env=env
    )
    assert (report.pulled, report.pushed) == (0, 0)
    assert _local(store, FINDINGS[0]).triage is None and fake_github.calls("PATCH") == []


@pytest.mark.parametrize("broken", [
    {"most_recent_instance": "src/app.py:2"},
    {"most_recent_instance": {"category": "secscan/bandit", "location": ["src/app.py"], "message": "x"}},
    {"most_recent_instance": {"category": "secscan/bandit", "location": {"start_line": "two"}}},
    {"tool": "bandit", "rule": ["B602"], "dismissed_by": "octocat", "state": "dismissed"},
])  # fmt: skip
def test_an_alert_of_the_wrong_shape_is_passed_over_not_an_internal_error(
    uploaded: dict[str, int], store: Store, fake_github: FakeGithub, make_settings: Callable[..., Settings],
    clock: Clock, env: dict[str, str], broken: dict[str, object],
) -> None:  # fmt: skip
    """GitHub's answer is the peer's word: a field of the wrong JSON type in one alert must not
    end the sync (and `secscan github sync`) with an internal error for every other alert."""
    fake_github.alerts[99] = dict(fake_github.alerts[1], number=99, **broken)
    report = sync_dismissals(store, make_settings(), clock(), env=env)
    assert report.matched >= 4
