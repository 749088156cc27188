"""The four areas the security policy counts findings in: secrets, dependencies, code, infrastructure.

Pure data and one function, no I/O. A finding's area comes from its tool:

* a ``[report] areas`` entry (``gitleaks = "secrets"``) wins for the tool it names;
* else the built-in tools' areas (:data:`BUILTIN`): detect-secrets and git-history are secrets,
  pip-audit and lockfile-audit dependencies, bandit and semgrep code, zizmor and posture
  infrastructure;
* else, for any other (configured SARIF) tool, the tags its SARIF rule carries
  (:func:`area_of_tags`: ``secret``, ``vulnerability``, ``iac``, ...);
* else code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum


class Area(StrEnum):
    """Where a finding is, as the security policy counts it."""

    SECRETS = "secrets"
    DEPENDENCIES = "dependencies"
    CODE = "code"
    INFRASTRUCTURE = "infrastructure"


BUILTIN: Mapping[str, Area] = {
    "detect-secrets": Area.SECRETS,
    "git-history": Area.SECRETS,
    "pip-audit": Area.DEPENDENCIES,
    "lockfile-audit": Area.DEPENDENCIES,
    "bandit": Area.CODE,
    "semgrep": Area.CODE,
    "zizmor": Area.INFRASTRUCTURE,
    "posture": Area.INFRASTRUCTURE,
}
"""The built-in tools' areas (tool names are API)."""

TAG_WORDS: tuple[tuple[Area, frozenset[str]], ...] = (
    (Area.SECRETS, frozenset({"secret", "secrets", "credential", "credentials", "password"})),
    (
        Area.DEPENDENCIES,
        frozenset(
            {
                "dependency",
                "dependencies",
                "vulnerability",
                "vulnerabilities",
                "sca",
                "supply-chain",
                "cve",
                "package",
            }
        ),
    ),
    (
        Area.INFRASTRUCTURE,
        frozenset(
            {
                "iac",
                "infrastructure",
                "misconfiguration",
                "config",
                "configuration",
                "terraform",
                "kubernetes",
                "k8s",
                "docker",
                "dockerfile",
                "helm",
                "cloudformation",
                "cloud",
                "github-actions",
                "ci",
                "workflow",
                "container",
            }
        ),
    ),
)
"""Rule tags (lower case, whole tag or a ``/``- or ``:``-separated part of it) and the area they
mean, first match first: a rule tagged both ``secret`` and ``docker`` is a secret."""


def _words(tags: Iterable[str]) -> set[str]:
    words: set[str] = set()
    for tag in tags:
        low = tag.strip().lower()
        words.add(low)
        words.update(part for part in low.replace(":", "/").split("/") if part)
    return words


def area_of_tags(tags: Iterable[str]) -> Area | None:
    """The area a rule's SARIF tags name, if any."""
    words = _words(tags)
    return next((area for area, known in TAG_WORDS if words & known), None)


def area_of(tool: str, tags: Iterable[str] = (), configured: Mapping[str, Area] | None = None) -> Area:
    """The area of a finding of ``tool`` whose rule has ``tags`` (see the module doc)."""
    if configured and tool in configured:
        return configured[tool]
    if tool in BUILTIN:
        return BUILTIN[tool]
    return area_of_tags(tags) or Area.CODE
