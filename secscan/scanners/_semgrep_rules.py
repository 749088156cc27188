"""secscan's semgrep rule packs: loaded, validated and merged into one semgrep config.

The packs are data in ``rules/semgrep/<pack>/<name>.yml``, one rule per file, id ``<pack>.<name>``
(see ``rules/semgrep/README.md``). Validation is stricter than semgrep's own so that the adapter
can rely on every rule: it has a title, a description, a remediation, a CWE and a confidence;
its message interpolates nothing (``$X`` would copy scanned source, secrets included, into the
finding); and which files it applies to can be decided from a file's name alone, exactly as
semgrep decides it (language by extension; ``generic``/``regex`` rules by ``paths.include``
base-name globs), so :meth:`RulePack.scannable` is precise and no file is claimed as covered that
semgrep never looked at.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.core.errors import ScannerError

LANGUAGES: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "javascript": ("JavaScript", (".js", ".jsx", ".mjs", ".cjs"), (".min.js",)),
    "typescript": ("TypeScript", (".ts", ".tsx"), (".d.ts",)),
}
"""semgrep language -> (file kind, the extensions semgrep gives it, the ones it never scans).

As in semgrep's ``lang.json`` (``exts``, ``excluded_exts``): minified bundles and TypeScript
declaration files are not scanned, so they are not claimed as covered either."""


def _is(name: str, language: str) -> bool:
    _, extensions, excluded = LANGUAGES[language]
    return name.endswith(extensions) and not name.endswith(excluded)


_ALIASES = {"js": "javascript", "ts": "typescript", "generic": "generic", "regex": "regex"}
_TEXT_LANGUAGES = ("generic", "regex")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
CONFIDENCES = ("HIGH", "MEDIUM", "LOW")
_REQUIRED_METADATA = ("title", "description", "remediation", "cwe", "confidence")
_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_CWE = re.compile(r"CWE-[1-9][0-9]{0,4}")
_GLOB = re.compile(r"[A-Za-z0-9_.*?\[\]-]+")


@dataclass(frozen=True)
class SemgrepRule:
    """One validated rule of a pack."""

    id: str
    languages: tuple[str, ...]
    severity: str
    confidence: str
    message: str
    title: str
    description: str
    remediation: str
    cwe: str
    includes: tuple[str, ...] = ()
    """Base-name globs of a generic/regex rule (``paths.include``); empty for language rules."""
    file_kind: str = ""
    """What a generic/regex rule's files are called in messages (``Pine Script``)."""

    def applies_to(self, path: str) -> bool:
        """Whether semgrep runs this rule on ``path`` (a repo-relative POSIX path)."""
        name = posixpath.basename(path)
        if self.includes:
            return any(fnmatch.fnmatchcase(name, glob) for glob in self.includes)
        return any(_is(name, lang) for lang in self.languages)


@dataclass(frozen=True)
class RulePack:
    """Every rule of the packs, and the merged semgrep config that runs them."""

    rules: tuple[SemgrepRule, ...]
    config: str
    """The semgrep config (JSON, which semgrep reads as YAML), canonical: sorted keys, rules by id."""
    digest: str
    """SHA-256 of ``config``: a rule change changes the result cache's key."""

    @functools.cached_property
    def by_id(self) -> Mapping[str, SemgrepRule]:
        return {rule.id: rule for rule in self.rules}

    @functools.cached_property
    def _kinds(self) -> tuple[tuple[str, ...], tuple[tuple[re.Pattern[str], str], ...]]:
        """The languages some rule uses, and each generic rule's include globs as one regex."""
        used = {lang for rule in self.rules for lang in rule.languages}
        languages = tuple(lang for lang in LANGUAGES if lang in used)
        globs = tuple(
            (re.compile("|".join(fnmatch.translate(g) for g in rule.includes)), rule.file_kind)
            for rule in self.rules
            if rule.includes
        )
        return languages, globs

    def kind(self, path: str) -> str | None:
        """The kind of file ``path`` is for this pack (``JavaScript``, ``Pine Script``), if any rule
        applies to it (what :meth:`SemgrepRule.applies_to` says, compiled once per pack)."""
        name = posixpath.basename(path)
        languages, globs = self._kinds
        for language in languages:
            if _is(name, language):
                return LANGUAGES[language][0]
        for pattern, file_kind in globs:
            if pattern.match(name):
                return file_kind
        return None

    def kind_labels(self) -> list[str]:
        """Every kind of file some rule applies to (``JavaScript``, ``TypeScript``, ``Pine Script``)."""
        used = {lang for rule in self.rules for lang in rule.languages}
        labels = [label for lang, (label, _, _) in LANGUAGES.items() if lang in used]
        return list(dict.fromkeys([*labels, *(r.file_kind for r in self.rules if r.file_kind)]))

    def scannable(self, files: Iterable[str]) -> tuple[str, ...]:
        """The files at least one rule applies to, in order."""
        return tuple(f for f in files if self.kind(f) is not None)

    def kinds(self, files: Iterable[str]) -> dict[str, int]:
        """How many of ``files`` are of each kind (in the order of :meth:`kind_labels`)."""
        counts = dict.fromkeys(self.kind_labels(), 0)
        for path in files:
            kind = self.kind(path)
            if kind is not None:
                counts[kind] += 1
        return {kind: count for kind, count in counts.items() if count}


def _invalid(where: Path, what: str) -> ScannerError:
    return ScannerError(f"semgrep rule file {where} is invalid: {what}; see rules/semgrep/README.md")


def _text(table: Mapping[str, Any], key: str, where: Path) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(where, f"'{key}' is missing or not a text")
    return " ".join(value.split())


def _languages(raw: Mapping[str, Any], where: Path) -> tuple[str, ...]:
    languages = raw.get("languages")
    if not isinstance(languages, list) or not languages:
        raise _invalid(where, "'languages' is missing or empty")
    names = tuple(_ALIASES.get(str(lang), str(lang)) for lang in languages)
    unknown = [n for n in names if n not in LANGUAGES and n not in _TEXT_LANGUAGES]
    if unknown:
        supported = ", ".join([*LANGUAGES, *_TEXT_LANGUAGES])
        raise _invalid(where, f"language {unknown[0]!r} is not supported (use {supported})")
    if any(n in _TEXT_LANGUAGES for n in names) and len(names) > 1:
        raise _invalid(where, "a generic or regex rule has exactly one language")
    return names


def _includes(raw: Mapping[str, Any], text: bool, where: Path) -> tuple[str, ...]:
    paths = raw.get("paths")
    if not text:
        if paths is not None:
            raise _invalid(where, "'paths' is only allowed on generic and regex rules")
        return ()
    if not isinstance(paths, dict) or set(paths) != {"include"} or not isinstance(paths["include"], list):
        raise _invalid(where, "a generic or regex rule needs 'paths: include:' (and nothing else in 'paths')")
    include = paths["include"]
    if not include:
        raise _invalid(where, "a generic or regex rule needs 'paths: include:' (and nothing else in 'paths')")
    globs = tuple(str(g) for g in include)
    bad = [g for g in globs if not _GLOB.fullmatch(g)]
    if bad:
        raise _invalid(where, f"paths.include {bad[0]!r} is not a base-name glob (no '/' or '**')")
    return globs


def _rule(raw: object, where: Path) -> tuple[SemgrepRule, dict[str, Any]]:
    if not isinstance(raw, dict):
        raise _invalid(where, "the rule is not a mapping")
    rule_id = raw.get("id")
    expected = f"{where.parent.name}.{where.stem}"
    if rule_id != expected:
        raise _invalid(where, f"its id must be {expected!r} (folder.file), not {rule_id!r}")
    languages = _languages(raw, where)
    severity = str(raw.get("severity", "")).upper()
    if severity not in SEVERITIES:
        raise _invalid(where, f"'severity' must be one of {', '.join(SEVERITIES)}")
    message = _text(raw, "message", where)
    if "$" in message:
        raise _invalid(where, "the message may not interpolate metavariables ('$')")
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        raise _invalid(where, "'metadata' is missing")
    missing = [key for key in _REQUIRED_METADATA if key not in metadata]
    if missing:
        raise _invalid(where, f"metadata.{missing[0]} is missing")
    cwe = _text(metadata, "cwe", where)
    if not _CWE.fullmatch(cwe):
        raise _invalid(where, f"metadata.cwe must look like 'CWE-78', not {cwe!r}")
    confidence = _text(metadata, "confidence", where).upper()
    if confidence not in CONFIDENCES:
        raise _invalid(where, f"metadata.confidence must be one of {', '.join(CONFIDENCES)}")
    text = languages[0] in _TEXT_LANGUAGES
    includes = _includes(raw, text, where)
    if text and "file-kind" not in metadata:
        raise _invalid(where, "metadata.file-kind is missing (what a generic rule's files are called)")
    file_kind = _text(metadata, "file-kind", where) if text else ""
    rule = SemgrepRule(
        id=expected,
        languages=languages,
        severity=severity,
        confidence=confidence,
        message=message,
        title=_text(metadata, "title", where),
        description=_text(metadata, "description", where),
        remediation=_text(metadata, "remediation", where),
        cwe=cwe,
        includes=includes,
        file_kind=file_kind,
    )
    return rule, raw


def rule_files(folder: Path) -> list[Path]:
    """The rule files of the packs in ``folder`` (``<pack>/<name>.yml``), sorted."""
    return sorted(
        path
        for pack in folder.iterdir()
        if pack.is_dir() and _NAME.fullmatch(pack.name)
        for path in pack.glob("*.y*ml")
    )


def _read(path: Path) -> tuple[SemgrepRule, dict[str, Any]]:
    if not _NAME.fullmatch(path.stem) or path.suffix not in (".yml", ".yaml"):
        raise _invalid(path, "rule files are named <lower-case-words>.yml")
    import yaml  # on first use: commands that run no scan never pay for it

    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _invalid(path, f"cannot be read as YAML ({type(exc).__name__})") from None
    rules = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(rules, list) or len(rules) != 1 or set(document) != {"rules"}:
        raise _invalid(path, "a rule file holds exactly one rule under 'rules:'")
    return _rule(rules[0], path)


def load_pack(folders: Sequence[Path]) -> RulePack:
    """Every rule under ``folders`` (each holding ``<pack>/<name>.yml`` files). Raises ScannerError."""
    rules: dict[str, SemgrepRule] = {}
    raws: dict[str, dict[str, Any]] = {}
    for folder in folders:
        if not folder.is_dir():
            raise ScannerError(f"semgrep rule folder {folder} does not exist; check the path")
        for path in rule_files(folder):
            rule, raw = _read(path)
            if rule.id in rules:
                raise _invalid(path, f"the id {rule.id!r} is used twice")
            rules[rule.id], raws[rule.id] = rule, raw
    if not rules:
        raise ScannerError(f"no semgrep rules in {', '.join(map(str, folders))}; reinstall secscan")
    config = json.dumps({"rules": [raws[key] for key in sorted(raws)]}, sort_keys=True, ensure_ascii=False)
    return RulePack(
        rules=tuple(rules[key] for key in sorted(rules)),
        config=config,
        digest=hashlib.sha256(config.encode("utf-8")).hexdigest(),
    )
