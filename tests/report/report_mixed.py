"""A small database of every kind of finding the morning report must name, at a fixed clock.

Two targets. ``shop`` (a checkout with CODEOWNERS): a committed AWS key (critical, breached), a
dependency advisory with installed and fixed versions (high), zizmor and bandit findings, a
configured SARIF tool (trivy) whose rules' tags name their areas, one (gitleaks) filed by
``[report] areas``, one (customlint) with neither, 150 bandit lows, a triaged high, accepted
risks ending in 3 and 20 days, and a suppression of one rule over three files. ``legacy``: one
medium, last scanned completely 30 hours before ``NOW`` (a partial run came after).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.app import tracking
from secscan.config.policy import load_sla_policy
from secscan.core.areas import Area
from secscan.core.model import (
    Finding,
    Location,
    Package,
    Rule,
    RunId,
    ScannerResult,
    ScannerStatus,
    ScanRun,
    Severity,
    ToolName,
)
from secscan.core.ports.store import Suppression
from secscan.store import Store, TriageStatus

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=7)
POLICY = load_sla_policy()  # the bundled policy: critical 2 h, high 24 h, medium 7 d, low 30 d
AREAS = {"gitleaks": Area.SECRETS}
AWS_NAME = "AWS Access Key in the source tree"


@dataclass(frozen=True)
class Planted:
    """A finding and its rule, as a scanner reports them."""

    finding: Finding
    rule: Rule


def _fp(tag: str) -> str:
    return tag.encode().hex().ljust(64, "0")[:64]


def plant(
    tool: str,
    rule: str,
    name: str,
    sev: Severity,
    path: str,
    line: int,
    *,
    tags: Sequence[str] = ("security",),
    package: Package | None = None,
    tag: str | None = None,
) -> Planted:
    finding = Finding(
        tool=ToolName(tool),
        rule_id=rule,
        message=f"{name} at {path}",
        location=Location(path, line),
        severity=sev,
        fingerprint=_fp(tag or f"{tool}{rule}{path}{line}"),
        package=package,
    )
    return Planted(finding, Rule(rule, rule, name, f"{name} (full)", "help", tags=tuple(tags)))


JINJA = Package("PyPI", "jinja2", "2.10", ("2.10.1", "2.11.3"))
SHOP: tuple[Planted, ...] = (
    plant("detect-secrets", "AWS Access Key", AWS_NAME, Severity.CRITICAL, "app/settings.py", 6),
    plant(
        "pip-audit",
        "PYSEC-2019-217",
        "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.",
        Severity.HIGH,
        "requirements.txt",
        2,
        tags=("security", "dependency"),
        package=JINJA,
    ),
    plant("bandit", "B602", "Subprocess popen with shell equals true", Severity.HIGH, "app/run.py", 3),
    plant("bandit", "B324", "Hashlib", Severity.HIGH, "app/run.py", 9, tag="triaged-high"),
    plant(
        "zizmor",
        "template-injection",
        "Code injection via template expansion",
        Severity.HIGH,
        ".github/workflows/ci.yml",
        7,
    ),
    plant(
        "trivy",
        "CVE-2024-0001",
        "openssl: a flaw",
        Severity.MEDIUM,
        "Dockerfile",
        1,
        tags=("vulnerability", "security"),
    ),
    plant(
        "trivy",
        "DS002",
        "Image user should not be root",
        Severity.MEDIUM,
        "Dockerfile",
        2,
        tags=("misconfiguration", "dockerfile"),
    ),
    plant("gitleaks", "generic-api-key", "Generic API key", Severity.HIGH, "app/keys.txt", 1),
    plant("customlint", "C1", "Custom check", Severity.LOW, "app/run.py", 12),
    *(plant("bandit", "B101", "Assert used", Severity.LOW, f"tests/t{i}.py", 3) for i in range(150)),
    *(
        plant("bandit", "B105", "Hardcoded password string", Severity.LOW, f"conf/c{i}.py", 1)
        for i in range(3)
    ),
)
LEGACY: tuple[Planted, ...] = (plant("bandit", "B307", "Use of eval", Severity.MEDIUM, "old.py", 4),)


def _run(target: str, root: str, planted: Sequence[Planted], at: datetime, *, fail: str = "") -> ScanRun:
    results = []
    for tool in sorted({p.finding.tool for p in planted} | ({fail} if fail else set())):
        mine = [p for p in planted if p.finding.tool == tool]
        failed = tool == fail
        results.append(
            ScannerResult(
                ToolName(tool),
                "1.0",
                ScannerStatus.FAILED if failed else ScannerStatus.OK,
                1.0,
                2 if failed else 1,
                () if failed else tuple(p.finding for p in mine),
                rules=() if failed else tuple({p.rule.id: p.rule for p in mine}.values()),
                scope=frozenset() if failed else frozenset({"."}),
                reason="exit 2" if failed else None,
            )
        )
    run_id = RunId(f"{at:%Y%m%dT%H%M%SZ}-{target[:4]}")
    return ScanRun(run_id, root, target, at, at + timedelta(minutes=2), tuple(results))


def checkout(root: Path) -> Path:
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "CODEOWNERS").write_text("* @acme/security\napp/ @acme/backend\n")
    return root


def build(store: Store, shop_root: str) -> None:
    """Record the runs, triage and suppressions of the module doc."""
    tracking.record_run(
        store,
        _run("legacy", "/nonexistent/legacy", LEGACY, NOW - timedelta(hours=30)),
        NOW - timedelta(hours=30),
        POLICY,
        (),
    )
    partial = _run("legacy", "/nonexistent/legacy", LEGACY, NOW - timedelta(hours=3), fail="semgrep")
    tracking.record_run(store, partial, NOW - timedelta(hours=3), POLICY, ())
    suppression = Suppression(
        reason="reviewed test fixtures", rule="B105", path="conf/*", expires=NOW + timedelta(days=5)
    )
    tracking.record_run(
        store, _run("shop", shop_root, SHOP, T0), T0 + timedelta(minutes=2), POLICY, (suppression,)
    )
    high = next(p.finding for p in SHOP if p.finding.rule_id == "B324")
    tracking.triage(
        store,
        high.fingerprint,
        TriageStatus.ACCEPTED_RISK,
        "fix in the next sprint",
        NOW + timedelta(days=3),
        "alice",
        T0 + timedelta(hours=1),
        target="shop",
    )
    low = next(p.finding for p in SHOP if p.finding.rule_id == "C1")
    tracking.triage(
        store,
        low.fingerprint,
        TriageStatus.ACCEPTED_RISK,
        "not exploitable",
        NOW + timedelta(days=20),
        "bob",
        T0 + timedelta(hours=1),
        target="shop",
    )
    fp = next(p.finding for p in SHOP if p.finding.location.path == "tests/t0.py")
    tracking.triage(
        store,
        fp.fingerprint,
        TriageStatus.FALSE_POSITIVE,
        "a test",
        None,
        "carol",
        T0 + timedelta(hours=1),
        target="shop",
    )
