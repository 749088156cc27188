"""The child process of replay_floor.py: only what a replay of an unchanged run would still do.

It parses ``secscan run``'s arguments, loads the settings (through the memo, as the CLI does),
the policies and the suppressions, re-checks the tree (the inventory, one ``lstat`` per file)
and the OSV dataset's signature, opens the result cache, reads the previous scan outcome
(a pickle that replay_floor.py wrote from ``run_scan``: the cheapest possible decoding, so the
figure is a floor), rebuilds the redactor from the flagged lines, reconciles the run with the
lifecycle store, and writes the SARIF log and the JSON document. It loads no scanner module
and runs no scanner: it stands for the best a replay could do, and must not be used for
anything else (it skips every check a real replay would need).

Usage (by replay_floor.py): python _replay_floor_child.py OUTCOME_PICKLE CACHE_DB secscan-run-arguments...
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle  # noqa: S403 - a file this benchmark wrote a moment ago, in its own temporary folder
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from secscan.cli.parser import build_parser


def main() -> None:
    outcome_file, cache_db, *words = sys.argv[1:]
    args = build_parser("run").parse_args(words)
    from secscan.app import tracking
    from secscan.app.document import json_document, scrub
    from secscan.config.memo import load_settings_memo
    from secscan.config.policy import load_policy, load_sla_policy
    from secscan.config.suppressions import read_suppressions
    from secscan.core.model import FindingState
    from secscan.core.ports.store import OPEN_STATES, FindingQuery
    from secscan.core.redact import Redactor
    from secscan.fs.exclusions import build_skips
    from secscan.fs.inventory import build_inventory
    from secscan.report.sarif import build_sarif
    from secscan.report.sinks.file import FileSink
    from secscan.scanners.osv.signature import dataset_signature
    from secscan.scanners.recover import secret_values
    from secscan.store import open_store

    root = Path(args.target).resolve()
    settings = load_settings_memo(args.config, root, [("scan.fail_on", args.fail_on)])
    policy, sla = load_policy(settings.policy.severity), load_sla_policy(settings.policy.sla)
    suppressions = read_suppressions(root)
    skips, _ = build_skips(root, [Path(args.db), Path(args.sarif)], include_ignored=settings.scan.include_ignored)
    inventory = build_inventory(root, settings.scan.excludes, settings.scan.max_file_size, skips)
    stamps = [os.lstat(os.path.join(root, f)) for f in inventory.files]
    assert len(stamps) == len(inventory.files)
    dataset_signature(Path(args.osv_db))
    with sqlite3.connect(cache_db) as cache:
        cache.execute("SELECT count(*) FROM sqlite_master").fetchall()
    with open(outcome_file, "rb") as handle:
        run = pickle.load(handle)  # noqa: S301 - see the import
    redactor = Redactor(secret_values(root, run.findings))
    now = datetime.now(UTC)
    run = dataclasses.replace(run, run_id=f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(4).hex()}", started_at=now,
                              finished_at=now)
    with open_store(args.db) as store:
        closable = FindingQuery(target=run.target_name, states=OPEN_STATES | {FindingState.TRIAGED})
        {t.path for t in store.list_findings(closable)}  # noqa: B018 - what the run reads before scanning
        recorded = tracking.record_run(store, run, datetime.now(UTC), sla, suppressions)
        sarif = scrub(build_sarif(run, policy, recorded.baseline, []), redactor)
        FileSink(Path(args.sarif)).deliver(run, sarif)
    document = scrub(json_document(run, Path(args.sarif)), redactor)
    sys.stdout.write(json.dumps(document))


if __name__ == "__main__":
    main()
