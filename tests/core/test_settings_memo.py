"""Remembered settings (secscan.config.memo): the same answer as a full load, never a stale one.

Each part of the key is changed alone and must make the memo validate again (each test fails if
that part is left out of the key); damaged, torn, foreign or concurrently written entries are never
used; an invalid configuration is never remembered.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secscan.config import memo, memo_file
from secscan.config.settings import load_settings
from secscan.config.values import Settings
from secscan.core.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


class Loads:
    """Counts the full loads (validations) behind :func:`memo.load_settings_memo`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = memo.load_settings

        def counted(*args: Any, **kwargs: Any) -> Settings:
            self.count += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(memo, "load_settings", counted)


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Loads:
    return Loads(monkeypatch)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "memo"


def _write_keeping_stat(path: Path, text: str) -> None:
    """New bytes of the same length, the same inode and mtime: only the content tells."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_an_unchanged_configuration_is_validated_once(tmp_path: Path, folder: Path, loads: Loads) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[scan]\nfail_on = "none"\n')
    first = memo.load_settings_memo(config, folder=folder)
    second = memo.load_settings_memo(config, folder=folder)
    assert loads.count == 1
    assert first == second == load_settings(config)
    assert second.scan.fail_on == "none"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://scan:{secret}@db.example:5432/secscan",
        "postgresql://scan@db.example:5432/secscan?sslmode=require&password={secret}",  # libpq's parameter
    ],
)
def test_settings_that_carry_a_credential_are_never_written(
    tmp_path: Path, folder: Path, loads: Loads, url: str
) -> None:
    secret = "Hunter2Secret99"
    config = tmp_path / "c.toml"
    config.write_text(f'[daemon]\ndb = "{url.format(secret=secret)}"\n')
    first = memo.load_settings_memo(config, folder=folder)
    second = memo.load_settings_memo(config, folder=folder)
    assert first == second == load_settings(config)
    assert secret in str(second.daemon.db)
    assert loads.count == 2  # validated each time: nothing was remembered
    written = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    assert not any(secret.encode() in p.read_bytes() for p in written)
    assert not written


def test_the_config_files_bytes_are_in_the_key(tmp_path: Path, folder: Path, loads: Loads) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[scan]\nfail_on = "high"\n')
    assert memo.load_settings_memo(config, folder=folder).scan.fail_on == "high"
    _write_keeping_stat(config, '[scan]\nfail_on = "none"\n')
    assert memo.load_settings_memo(config, folder=folder).scan.fail_on == "none"
    assert loads.count == 2


def test_the_targets_file_is_in_the_key(tmp_path: Path, folder: Path, loads: Loads) -> None:
    target = tmp_path / "repo"
    target.mkdir()
    (target / "secscan.toml").write_text('[scan]\nfail_on = "high"\n')
    assert memo.load_settings_memo(None, target, folder=folder).scan.fail_on == "high"
    _write_keeping_stat(target / "secscan.toml", '[scan]\nfail_on = "none"\n')
    assert memo.load_settings_memo(None, target, folder=folder).scan.fail_on == "none"
    (target / "secscan.toml").unlink()
    assert memo.load_settings_memo(None, target, folder=folder).scan.fail_on == "high"  # the default
    assert loads.count == 3


def test_the_overrides_are_in_the_key(folder: Path, loads: Loads) -> None:
    assert memo.load_settings_memo(None, None, [("scan.fail_on", "low")], folder=folder).scan.fail_on == "low"
    assert (
        memo.load_settings_memo(None, None, [("scan.fail_on", "none")], folder=folder).scan.fail_on == "none"
    )
    assert memo.load_settings_memo(None, None, (), folder=folder).scan.fail_on == "high"
    assert loads.count == 3


def test_where_a_relative_config_path_leads_is_in_the_key(
    tmp_path: Path, folder: Path, loads: Loads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes in another folder name other files: the working folder decides."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "c.toml").write_text('[scanners.pip-audit]\nosv_db = "osv"\n')
    answers = []
    for name in ("a", "b"):
        monkeypatch.chdir(tmp_path / name)
        answers.append(memo.load_settings_memo(Path("c.toml"), folder=folder).osv_db("pip-audit"))
    assert answers == [tmp_path / "a" / "osv", tmp_path / "b" / "osv"]
    assert loads.count == 2


def test_a_symbolic_link_swapped_under_the_target_is_in_the_key(
    tmp_path: Path, folder: Path, loads: Loads
) -> None:
    """The same bytes in another folder name that folder's files."""
    for name in ("one", "two"):
        (tmp_path / name / "osv").mkdir(parents=True)
        (tmp_path / name / "secscan.toml").write_text('[scanners.pip-audit]\nosv_db = "osv"\n')
    link = tmp_path / "repo"
    link.symlink_to(tmp_path / "one")
    assert memo.load_settings_memo(None, link, folder=folder).osv_db("pip-audit") == tmp_path / "one" / "osv"
    link.unlink()
    link.symlink_to(tmp_path / "two")
    assert memo.load_settings_memo(None, link, folder=folder).osv_db("pip-audit") == tmp_path / "two" / "osv"
    assert loads.count == 2


def test_the_paths_as_given_are_in_the_key(
    tmp_path: Path, folder: Path, loads: Loads, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file named two ways: the settings name their source as it was given."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "secscan.toml").write_text("[scan]\n")
    for given in (Path("secscan.toml"), Path("sub/../secscan.toml")):
        assert memo.load_settings_memo(given, folder=folder).source == given
    for target in (Path("."), Path("sub/..")):
        assert memo.load_settings_memo(None, target, folder=folder).source == target / "secscan.toml"
    assert loads.count == 4


def test_whether_config_and_target_file_are_one_file_is_in_the_key(
    tmp_path: Path, folder: Path, loads: Loads
) -> None:
    """The target's own file given with --config is trusted; a copy of it is not."""
    target = tmp_path / "repo"
    target.mkdir()
    (target / "secscan.toml").write_text("[report]\nsince_days = 7\n")
    config = tmp_path / "c.toml"
    os.link(target / "secscan.toml", config)
    assert memo.load_settings_memo(config, target, folder=folder).report.since_days == 7
    before = config.stat()
    config.unlink()
    config.write_bytes((target / "secscan.toml").read_bytes())  # a copy: the same bytes, size and times
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    with pytest.raises(ConfigError, match=r"\[report\] comes from the scanned repository"):
        memo.load_settings_memo(config, target, folder=folder)
    assert loads.count == 2


def test_a_named_file_that_changes_is_checked_again(tmp_path: Path, folder: Path, loads: Loads) -> None:
    """zizmor's config must exist: the memo must not vouch for a file that was removed since."""
    config = tmp_path / "c.toml"
    (tmp_path / "zizmor.yml").write_text("rules: {}\n")
    config.write_text('[scanners.zizmor]\nconfig = "zizmor.yml"\n')
    memo.load_settings_memo(config, folder=folder)
    (tmp_path / "zizmor.yml").unlink()
    with pytest.raises(ConfigError, match=r"zizmor config file .* does not exist"):
        memo.load_settings_memo(config, folder=folder)
    assert loads.count == 2


def test_a_named_path_resolving_elsewhere_is_checked_again(
    tmp_path: Path, folder: Path, loads: Loads
) -> None:
    """A repository's file may name only its own files, through symbolic links too."""
    target = tmp_path / "repo"
    target.mkdir()
    (target / "osv-real").mkdir()
    (target / "osv").symlink_to(target / "osv-real")
    (target / "secscan.toml").write_text('[scanners.pip-audit]\nosv_db = "osv"\n')
    assert memo.load_settings_memo(None, target, folder=folder).osv_db("pip-audit") == target / "osv-real"
    (target / "osv").unlink()
    (target / "osv").symlink_to(tmp_path)
    with pytest.raises(ConfigError, match="points outside the scanned repository"):
        memo.load_settings_memo(None, target, folder=folder)
    assert loads.count == 2


def test_the_cpu_count_is_in_the_key(folder: Path, loads: Loads, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scanner may start four processes per CPU: the same file is invalid on a smaller machine."""
    overrides = [("scanners.bandit.shards", 8)]
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert memo.load_settings_memo(None, None, overrides, folder=folder).scanner("bandit").shards == 8  # type: ignore[attr-defined]
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    with pytest.raises(ConfigError, match="must be at most 4"):
        memo.load_settings_memo(None, None, overrides, folder=folder)
    assert loads.count == 2


Change = Callable[[pytest.MonkeyPatch, Path], None]


def _new_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(memo, "__version__", "0.0.0+other")


def _new_source(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "config").mkdir(parents=True)
    (source / "core").mkdir()
    (source / "config" / "values.py").write_text("x = 1\n")
    (source / "core" / "areas.py").write_text("")
    monkeypatch.setattr(memo, "__file__", str(source / "config" / "memo.py"))


def _new_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "version", sys.version + " (another build)")


def _new_library(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "site" / "validating_lib" / "new_module.py").write_text("")  # an upgrade adds a file


def _new_posture_rule(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "rules" / "posture" / "new.toml").write_text("")


@pytest.fixture
def stand_ins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A validating library and the bundled rules folder the tests may change."""
    (tmp_path / "site" / "validating_lib").mkdir(parents=True)
    (tmp_path / "site" / "validating_lib" / "__init__.py").write_text("")
    (tmp_path / "rules" / "posture").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(memo, "VALIDATORS", (*memo.VALIDATORS, "validating_lib"))
    monkeypatch.setattr(memo, "rules_dir", lambda: tmp_path / "rules")
    yield


@pytest.mark.usefixtures("stand_ins")
@pytest.mark.parametrize("change", [_new_version, _new_source, _new_python, _new_library, _new_posture_rule])
def test_each_part_of_the_installation_is_in_the_key(
    change: Change, tmp_path: Path, folder: Path, loads: Loads, monkeypatch: pytest.MonkeyPatch
) -> None:
    memo.load_settings_memo(None, folder=folder)
    memo.load_settings_memo(None, folder=folder)
    assert loads.count == 1
    change(monkeypatch, tmp_path)
    memo.load_settings_memo(None, folder=folder)
    assert loads.count == 2


def _entry(folder: Path) -> Path:
    (entry,) = folder.glob(f"*{memo_file.SUFFIX}")
    return entry


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",
        lambda data: data[: len(data) // 2],  # torn
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit
        lambda data: b"garbage\n" + data,
    ],
)
def test_a_damaged_entry_is_not_used_and_is_written_again(
    damage: Callable[[bytes], bytes], tmp_path: Path, folder: Path, loads: Loads
) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[scan]\nfail_on = "low"\n')
    expected = memo.load_settings_memo(config, folder=folder)
    entry = _entry(folder)
    entry.write_bytes(damage(entry.read_bytes()))
    assert memo.load_settings_memo(config, folder=folder) == expected
    assert loads.count == 2
    key = entry.name.removesuffix(memo_file.SUFFIX)
    assert memo_file.read(folder, key) is not None  # rewritten whole


def test_an_entry_others_may_write_is_not_used(tmp_path: Path, folder: Path, loads: Loads) -> None:
    memo.load_settings_memo(None, folder=folder)
    _entry(folder).chmod(0o666)
    memo.load_settings_memo(None, folder=folder)
    assert loads.count == 2


def test_a_well_formed_entry_of_another_type_is_not_used(folder: Path, loads: Loads) -> None:
    memo.load_settings_memo(None, folder=folder)
    key = _entry(folder).name.removesuffix(memo_file.SUFFIX)
    memo_file.write(folder, key, [], "not settings", keep=8)  # type: ignore[arg-type]
    assert memo_file.read(folder, key) is None
    assert memo.load_settings_memo(None, folder=folder) == load_settings(None)


def test_a_reader_never_sees_half_an_entry_while_another_process_writes(folder: Path) -> None:
    settings = load_settings(None, None, [("scan.fail_on", "none")])
    key = "0" * 64
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            from pathlib import Path
            from secscan.config import memo_file
            from secscan.config.settings import load_settings
            settings = load_settings(None, None, [("scan.fail_on", "none")])
            for _ in range(400):
                memo_file.write(Path({str(folder)!r}), {key!r}, [("/x", "/x", False)] * 200, settings, keep=8)
        """),
        ],
        cwd=REPO,
    )
    seen = 0
    try:
        while writer.poll() is None:
            read = memo_file.read(folder, key)
            if read is not None:
                seen += 1
                assert read == ([("/x", "/x", False)] * 200, settings)
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0
    assert memo_file.read(folder, key) == ([("/x", "/x", False)] * 200, settings)
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind


def test_old_entries_are_removed_beyond_the_limit(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "KEEP", 3)
    for level in ("critical", "high", "medium", "low", "none"):
        memo.load_settings_memo(None, None, [("scan.fail_on", level)], folder=folder)
    assert len(list(folder.glob(f"*{memo_file.SUFFIX}"))) == 3


def test_switched_off_by_the_environment(tmp_path: Path, loads: Loads) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path), memo.SWITCH: "0"}
    memo.load_settings_memo(None, env=env)
    memo.load_settings_memo(None, env=env)
    assert loads.count == 2
    assert not (tmp_path / "secscan").exists()
    assert memo.memo_folder({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "secscan" / "settings"


def _toml_blocks() -> list[tuple[str, str]]:
    """Every ``toml`` block of the README and the design notes, and the bundled example's file."""
    blocks = [
        ("examples/vulnerable-app/secscan.toml", (REPO / "examples/vulnerable-app/secscan.toml").read_text())
    ]
    for doc in ("README.md", "docs/design.md", "SECURITY.md"):
        text = (REPO / doc).read_text()
        found = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
        blocks += [(f"{doc} block {n}", block) for n, block in enumerate(found)]
    return blocks


INLINE = [
    '[scan]\nextend_exclude = ["vendor"]\nmax_file_size = 1000\ninclude_ignored = true\n',
    "[scanners.semgrep]\njobs = 2\nrule_timeout = 0\n\n[scanners.git-history]\nsince = 2024-01-02\n",
    '[scanners.gitleaks]\ncommand = ["gitleaks", "{target}"]\nok_exit_codes = [0, 2]\n',
    '[github]\nrepository = "o/r"\napi_url = "https://ghe.example.com/api/v3/"\n',
    '[notify.mail]\ntype = "email"\nsmtp_host = "m"\nfrom = "a@b.c"\nto = ["x@y.z"]\n'
    '[notify.pager]\ntype = "pagerduty"\nfallback = "mail"\n',
    '[daemon]\ntimezone = "Europe/Berlin"\n'
    '[[daemon.targets]]\npath = "/srv/a"\nremote = "origin"\nbranch = "main"\n',
    '[report]\nrepositories = { a = "https://github.com/o/a/" }\nareas = { gitleaks = "secrets" }\n'
    '[fleet]\nqueues = ["a"]\n',
    '[scan]\nfail_on = "sometimes"\n',
    "[scanners.bandit]\ntimeout = inf\n",
    "[notify.x]\nurl = 1\n",
    "not toml = \n",
]


@pytest.mark.parametrize(
    ("name", "text"), [*_toml_blocks(), *((f"inline {n}", t) for n, t in enumerate(INLINE))]
)
def test_the_memo_answers_as_the_full_load_does(name: str, text: str, tmp_path: Path, folder: Path) -> None:
    """The same settings, or the same one-line error and nothing remembered; twice."""
    config = tmp_path / "c.toml"
    config.write_text(text)
    try:
        expected: Settings | str = load_settings(config)
    except ConfigError as exc:
        expected = str(exc)
    for _ in range(2):
        try:
            got: Settings | str = memo.load_settings_memo(config, folder=folder)
        except ConfigError as exc:
            got = str(exc)
        assert got == expected
    assert isinstance(expected, Settings) or not list(folder.glob(f"*{memo_file.SUFFIX}"))


@pytest.mark.parametrize(
    "text", ['[scan]\nfail_on = "sometimes"\n', "[scan\n", "[scanners.bandit]\nshards = 0\n"]
)
def test_an_invalid_config_is_one_line_exit_2_and_never_remembered(text: str, tmp_path: Path) -> None:
    from tests.cli.cli_helpers import secscan

    config = tmp_path / "c.toml"
    config.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    memos = tmp_path / "cache" / "secscan" / memo.FOLDER
    for _ in range(2):
        proc = secscan("run", repo, "--config", config, "--scanner", "posture", cwd=tmp_path, env=env)
        assert (proc.returncode, proc.stdout) == (2, "")
        assert proc.stderr == f"secscan: error: {raised.value}\n"
    assert not list(memos.glob(f"*{memo_file.SUFFIX}"))
    config.write_text("[scan]\n")  # fixed: remembered from now on
    assert (
        secscan("run", repo, "--config", config, "--scanner", "posture", cwd=tmp_path, env=env).returncode
        == 0
    )
    assert len(list(memos.glob(f"*{memo_file.SUFFIX}"))) == 1
