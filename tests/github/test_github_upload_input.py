"""``secscan upload --sarif FILE`` with a file whose JSON has the wrong shape deep inside:
one line naming the JSON path, exit 2, nothing queued; and no mutation of a real log crashes."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from github_fakes import CANARY, FakeGithub

from secscan.cli import main as cli
from secscan.delivery.github.prepare import prepare
from secscan.delivery.github.sarif_check import SarifShapeError, check
from secscan.store import open_store

_VALUES: list[Any] = [None, 0, -1, 10**30, 2**63, 1.5, "", "x", "\ud800", [], {}, [1], {"a": 1}, True]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A database with one bandit run and the SARIF log that run wrote."""
    base = tmp_path_factory.mktemp("scanned")
    root = base / "demo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("import subprocess\nsubprocess.call('ls', shell=True)\n")
    db, sarif = base / "secscan.db", base / "out.sarif"
    code = cli.main(["run", str(root), "--db", str(db), "--scanner", "bandit", "--sarif", str(sarif),
                     "--format", "json", "--fail-on", "none"])  # fmt: skip
    assert code == 0
    return db, json.loads(sarif.read_text())


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        yield from _paths(value, (*prefix, key))


def _mutate(document: Any, paths: list[tuple[Any, ...]], rng: random.Random) -> Any:
    path = rng.choice(paths)
    if not path:
        return copy.deepcopy(rng.choice(_VALUES))
    node = document
    try:
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, dict) and rng.random() < 0.2:
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(rng.choice(_VALUES))
    except (KeyError, IndexError, TypeError):
        pass  # an earlier mutation removed the path
    return document


def test_no_mutation_of_a_real_log_makes_preparing_fail_other_than_by_a_checked_error(
    scanned: tuple[Path, dict[str, Any]],
) -> None:
    _, log = scanned
    check(log)  # secscan's own log passes
    paths = list(_paths(log))
    rng = random.Random(20261208)
    refused = 0
    for _ in range(1500):
        document = copy.deepcopy(log)
        for _ in range(rng.randint(1, 3)):
            document = _mutate(document, paths, rng)
        if not isinstance(document, dict) or not isinstance(document.get("runs"), list):
            continue  # refused before the check (tests/github/test_github_cli.py)
        if not all(isinstance(run, dict) for run in document["runs"]):
            continue
        try:
            check(document)
        except SarifShapeError as exc:
            refused += 1
            assert "\n" not in str(exc)
            continue
        prepare(document, {"bandit"}, subdir="sub dir", root_uri="file:///x/")  # must not raise
    assert 100 < refused < 1500  # the corpus holds both kinds


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split("/")]
    node: Any = document
    for key in keys[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value


_DELETE = object()
_R = "runs/0/results/0"
_L = f"{_R}/locations/0/physicalLocation"


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (f"{_R}/locations", {"a": 1}, "runs[0].results[0].locations must be a list"),
        (f"{_L}/region/startLine", "3", "runs[0].results[0].locations[0].physicalLocation.region.startLine"),
        (f"{_L}/region/startLine", 10**30, "region.startLine must be between"),
        (f"{_L}/artifactLocation", None, "physicalLocation.artifactLocation is missing or null"),
        (f"{_R}/partialFingerprints", ["x"], "runs[0].results[0].partialFingerprints must be an object"),
        (f"{_R}/message", _DELETE, "runs[0].results[0].message is missing"),
        (f"{_R}/ruleIndex", 10_000, "runs[0].results[0].ruleIndex must be between 0 and"),
        (f"{_R}/ruleIndex", 2**64, "ruleIndex must be between"),
        (_R, None, "runs[0].results[0] is missing or null"),
        ("runs/0/tool", None, "runs[0].tool is missing or null"),
        ("runs/0/tool/driver/rules/0/id", None, "runs[0].tool.driver.rules[0].id must be a string"),
        ("runs/0/results", None, "runs[0].results is missing or null"),
        ("version", "2.0.0", "version must be"),
        ("runs/0/automationDetails/id", "secscan/b\ud800/x", "runs[0].automationDetails.id holds the character U+D800"),
        ("runs/0/automationDetails/id", "secscan/b\n/x", "automationDetails.id holds the character U+000A"),
        ("runs/0/automationDetails/id", "x" * 5000, "automationDetails.id is longer than 1000"),
        ("runs/0/tool/driver/name", "", "runs[0].tool.driver.name must not be empty"),
    ],
)
def test_a_wrong_type_deep_inside_is_one_line_naming_its_json_path_exit_2_and_nothing_queued(
    scanned: tuple[Path, dict[str, Any]], fake_github: FakeGithub, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], path: str, value: Any, named: str,
) -> None:  # fmt: skip
    db, log = scanned
    document = copy.deepcopy(log)
    _set(document, path, value)
    sarif = tmp_path / "bad.sarif"
    sarif.write_text(json.dumps(document))
    _upload_refused(db, sarif, fake_github, tmp_path, monkeypatch, capsys, named)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_that_are_not_json_are_refused(
    scanned: tuple[Path, dict[str, Any]], fake_github: FakeGithub, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], number: str,
) -> None:  # fmt: skip
    db, log = scanned
    document = copy.deepcopy(log)
    document["runs"][0]["properties"] = {"score": "NUMBER"}
    sarif = tmp_path / "bad.sarif"
    sarif.write_text(json.dumps(document).replace('"NUMBER"', number))
    _upload_refused(db, sarif, fake_github, tmp_path, monkeypatch, capsys, "is not JSON")


def _upload_refused(
    db: Path, sarif: Path, fake_github: FakeGithub, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], named: str,
) -> None:  # fmt: skip
    monkeypatch.setenv("GITHUB_TOKEN", CANARY)
    config = tmp_path / "trusted.toml"
    config.write_text(f'[github]\nrepository = "octo/hello"\napi_url = "{fake_github.url}"\n')
    with open_store(db) as store:
        before = store.outbox("uploads").depth()
    code = cli.main(["upload", "--config", str(config), "--db", str(db), "--sarif", str(sarif)])
    _, err = capsys.readouterr()
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "bad.sarif" in err and named in err, err
    assert "Traceback" not in err
    with open_store(db) as store:
        assert store.outbox("uploads").depth() == before
    assert fake_github.requests == []
