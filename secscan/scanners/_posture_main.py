"""``python -m secscan.scanners._posture_main SPEC``: evaluate the posture rules over a file list.

The posture adapter writes ``SPEC`` (root, files, whether the root is a repository's top,
settings, disabled rules) and reads the JSON object printed here: ``hits`` as
``[rule id, path, line, message]`` and ``notes`` as ``[path, message]``. It runs as a process of
its own, under the runner's deadline, because it parses files of the repository (workflow YAML,
CODEOWNERS, JSON): a hostile file can cost time or memory, never the run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m secscan.scanners._posture_main SPEC.json\n")
        return 2
    from secscan.scanners._posture_checks import Hit, Tree, evaluate, render
    from secscan.scanners._posture_rules import bundled_rules

    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    disabled = set(spec.get("disable", ()))
    rules = [r for r in bundled_rules() if r.id not in disabled]
    tree = Tree(Path(spec["root"]), spec["files"], spec.get("settings", {}))
    hits, notes = [], []
    for rule, item in evaluate(rules, tree, bool(spec.get("repository"))):
        if isinstance(item, Hit):
            hits.append([rule.id, item.path, item.line, render(rule, item)])
        else:
            notes.append([item.path, item.message])
    json.dump({"hits": hits, "notes": notes}, sys.stdout, ensure_ascii=False)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
