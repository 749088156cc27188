"""The semgrep rule packs' memo (issue 18): a run reads no YAML for them, and the memo never
answers for rules other than the ones it was made from."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.config.policy import rules_dir
from secscan.core.errors import ScannerError
from secscan.scanners import _semgrep_memo
from secscan.scanners._semgrep_memo import PREFIX, SUFFIX, memoised_pack
from secscan.scanners._semgrep_rules import RulePack, load_pack

PACKS = rules_dir() / "semgrep"

_RULE = """\
rules:
  - id: js.demo
    languages: [javascript]
    severity: HIGH
    message: A demo.
    metadata: {title: Demo, description: A demo., remediation: Fix it., cwe: CWE-78, confidence: HIGH}
    pattern: eval($X)
"""
_GENERIC = """\
rules:
  - id: conf.keys
    languages: [generic]
    severity: LOW
    message: A key.
    metadata: {title: Key, description: A key., remediation: Drop it., cwe: CWE-798, confidence: LOW,
               file-kind: INI}
    pattern-regex: secret
    paths: {include: ['*.ini']}
"""


def _packs(tmp_path: Path) -> Path:
    root = tmp_path / "packs"
    for folder, name, text in (("js", "demo", _RULE), ("conf", "keys", _GENERIC)):
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / f"{name}.yml").write_text(text, encoding="utf-8")
    return root


def _memos(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX}"))


def _no_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(folders: object) -> RulePack:
        raise AssertionError("parsed although the memo holds these rules")

    monkeypatch.setattr(_semgrep_memo, "load_pack", refuse)


def test_the_bundled_packs_come_back_from_their_memo_as_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = load_pack([PACKS])
    assert memoised_pack([PACKS], tmp_path / "memo") == parsed
    assert len(_memos(tmp_path / "memo")) == 1
    _no_parse(monkeypatch)
    again = memoised_pack([PACKS], tmp_path / "memo")
    assert again == parsed and again.kind_labels() == parsed.kind_labels()
    files = ["a.js", "b.py", "c.d.ts", "x.ts", "y.pine", "z.sh"]
    assert again.scannable(files) == parsed.scannable(files)


@pytest.mark.parametrize("change", ["edit", "add", "remove", "rename"])
def test_a_changed_rule_file_is_parsed_again(tmp_path: Path, change: str) -> None:
    root, memo = _packs(tmp_path), tmp_path / "memo"
    before = memoised_pack([root], memo)
    demo = root / "js" / "demo.yml"
    if change == "edit":
        demo.write_text(_RULE.replace("A demo.", "Another demo."), encoding="utf-8")
    elif change == "add":
        (root / "js" / "more.yml").write_text(_RULE.replace("js.demo", "js.more"), encoding="utf-8")
    elif change == "remove":
        (root / "conf" / "keys.yml").unlink()
    else:
        demo.rename(root / "js" / "renamed.yml")
        (root / "js" / "renamed.yml").write_text(_RULE.replace("js.demo", "js.renamed"), encoding="utf-8")
    after = memoised_pack([root], memo)
    assert after == load_pack([root]) and after != before
    assert len(_memos(memo)) == 1  # the memo of the old rules is gone


def test_a_memo_serves_only_its_own_folders(tmp_path: Path) -> None:
    one, memo = _packs(tmp_path / "one"), tmp_path / "memo"
    other = tmp_path / "other" / "packs"
    shutil.copytree(one, other)
    (other / "conf" / "keys.yml").unlink()
    memoised_pack([one], memo)
    assert memoised_pack([other], memo) == load_pack([other])


@pytest.mark.parametrize(
    "damage", [b"", b"{not json", b'{"rules": [], "config": "{}", "digest": "0"}', b"[1]", b"\xff"]
)
def test_a_damaged_memo_is_ignored_and_rewritten(tmp_path: Path, damage: bytes) -> None:
    root, memo = _packs(tmp_path), tmp_path / "memo"
    good = memoised_pack([root], memo)
    (path,) = _memos(memo)
    path.write_bytes(damage)
    assert memoised_pack([root], memo) == good
    assert path.read_bytes() != damage


def test_invalid_rules_are_refused_every_time_and_never_memoised(tmp_path: Path) -> None:
    root, memo = _packs(tmp_path), tmp_path / "memo"
    (root / "js" / "demo.yml").write_text(_RULE.replace("cwe: CWE-78", "cwe: injection"), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ScannerError, match=r"metadata\.cwe must look like"):
            memoised_pack([root], memo)
    assert _memos(memo) == []


def test_a_memo_that_cannot_be_written_leaves_the_parse(tmp_path: Path) -> None:
    root = _packs(tmp_path)
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the memo folder would be", encoding="utf-8")
    assert memoised_pack([root], blocked) == load_pack([root])
    assert memoised_pack([root], None) == load_pack([root])


def test_a_memo_hit_loads_no_yaml(tmp_path: Path) -> None:
    memoised_pack([PACKS], tmp_path)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from secscan.scanners._semgrep_memo import memoised_pack\n"
        f"pack = memoised_pack([Path({str(PACKS)!r})], Path({str(tmp_path)!r}))\n"
        "assert pack.rules and 'yaml' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
