"""detect-secrets: committed credentials, read from the baseline JSON that ``scan`` prints.

It runs (through :mod:`secscan.scanners._detect_secrets_main`) with the target as working
directory and an explicit, repo-relative file list (it silently finds nothing for a target
outside its working directory, and for a directory argument it only looks at git-tracked files),
with network verification off (``-n``) and ``-c N`` worker processes.

The baseline never holds a secret, only ``sha1(secret)``. Each finding carries it as
``Finding.identity = "sha1:<40 hex digits>"``: the identity survives moves, and the pipeline
can recognise the same value quoted by another scanner (hash candidate literals, compare)
and redact it there.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from secscan.core.errors import ScannerError
from secscan.core.model import Finding, Location, Rule, ToolName
from secscan.scanners._output import load_json_object
from secscan.scanners._secret_duplicates import without_entropy_duplicates
from secscan.scanners._sharding import balanced_chunks
from secscan.scanners._versions import installed_version
from secscan.scanners.interface import (
    Command,
    CommandResult,
    FileOutput,
    FileOutputs,
    Plan,
    ScanJob,
    Scanner,
    ScanOutput,
)
from secscan.scanners.per_file import group_by_path, merge

NAME = ToolName("detect-secrets")
IDENTITY_PREFIX = "sha1:"

DETECT_SECRETS_MAIN = "secscan.scanners._detect_secrets_main"
"""detect-secrets' CLI with equivalent fixes for its per-call dispatch and a quadratic filter
(see that module): a third less CPU, identical baselines."""

_SHA1 = re.compile(r"[0-9a-f]{40}")

_ROTATE = (
    "Treat the value as leaked: revoke or rotate it where it was issued, then remove it from the "
    "file (and from the git history if it was pushed, e.g. with git filter-repo) and load it from "
    "the environment or a secret manager instead. A reviewed false positive can be marked with "
    "`pragma: allowlist secret` in a comment on the line."
)

KNOWN_TYPES: Mapping[str, tuple[str, str]] = {
    "AWS Access Key": ("AWSKeyDetector", "Deactivate the access key in IAM and create a new one."),
    "Artifactory Credentials": ("ArtifactoryDetector", "Revoke the Artifactory API key or token."),
    "Azure Storage Account access key": (
        "AzureStorageKeyDetector",
        "Regenerate the storage account key in the Azure portal.",
    ),
    "Base64 High Entropy String": ("Base64HighEntropyString", "Check whether the string is a credential."),
    "Basic Auth Credentials": ("BasicAuthDetector", "Change the password embedded in the URL."),
    "Cloudant Credentials": ("CloudantDetector", "Rotate the Cloudant API key or password."),
    "Discord Bot Token": ("DiscordBotTokenDetector", "Reset the bot token in the Discord developer portal."),
    "GitHub Token": ("GitHubTokenDetector", "Revoke the token in GitHub's developer settings."),
    "GitLab Token": ("GitLabTokenDetector", "Revoke the token in GitLab's access token settings."),
    "Hex High Entropy String": ("HexHighEntropyString", "Check whether the string is a credential."),
    "IBM COS HMAC Credentials": ("IbmCosHmacDetector", "Delete and recreate the HMAC service credential."),
    "IBM Cloud IAM Key": ("IbmCloudIamDetector", "Delete the API key in IBM Cloud IAM and create a new one."),
    "JSON Web Token": ("JwtTokenDetector", "Revoke the token or rotate its signing key."),
    "Mailchimp Access Key": ("MailchimpDetector", "Disable the API key in the Mailchimp account."),
    "NPM tokens": ("NpmDetector", "Revoke the token with `npm token revoke`."),
    "OpenAI Token": ("OpenAIDetector", "Revoke the API key in the OpenAI dashboard."),
    "Private Key": ("PrivateKeyDetector", "Replace the key pair and revoke any certificate issued for it."),
    "Public IP (ipv4)": ("IPPublicDetector", "Check whether the address should be published."),
    "PyPI Token": ("PypiTokenDetector", "Remove the API token in the PyPI account settings."),
    "Secret Keyword": ("KeywordDetector", "Change the password or secret assigned here."),
    "SendGrid API Key": ("SendGridDetector", "Delete the API key in SendGrid and create a new one."),
    "Slack Token": ("SlackDetector", "Revoke the token in the Slack app settings."),
    "SoftLayer Credentials": ("SoftlayerDetector", "Regenerate the SoftLayer API key."),
    "Square OAuth Secret": ("SquareOAuthDetector", "Replace the application secret in the Square dashboard."),
    "Stripe Access Key": ("StripeDetector", "Roll the key in the Stripe dashboard."),
    "Telegram Bot Token": ("TelegramBotTokenDetector", "Revoke the token with BotFather (/revoke)."),
    "Twilio API Key": ("TwilioKeyDetector", "Delete the API key in the Twilio console."),
}
"""Secret type (detect-secrets 1.5's ``secret_type``) -> (detector class, how to rotate)."""


def _processes(requested: object, commands: int) -> int:
    if isinstance(requested, int) and not isinstance(requested, bool) and requested >= 1:
        total = requested
    else:
        total = os.cpu_count() or 1
    return max(1, total // max(1, commands))


def _malformed(where: str, what: str) -> ScannerError:
    return ScannerError(
        f"detect-secrets baseline {where} is malformed: {what}; "
        "secscan reads detect-secrets 1.x baselines, check the detect-secrets version"
    )


def _load(path: Path) -> dict[str, Any]:
    return load_json_object(path, "detect-secrets", "baseline", "run detect-secrets scan by hand to see why")


def _rule(secret_type: str) -> Rule:
    detector, rotate = KNOWN_TYPES.get(secret_type, ("", ""))
    name = detector or re.sub(r"[^0-9A-Za-z]+", "", secret_type.title()) or "Secret"
    advice = f"{rotate} {_ROTATE}" if rotate else _ROTATE
    return Rule(
        id=secret_type,
        name=name,
        short_description=f"{secret_type} in the source tree",
        full_description=(
            f"detect-secrets ({detector or 'a plugin'}) found a value that looks like a credential "
            f"of type {secret_type!r} in a file of the repository: anyone who can read it can use it."
        ),
        help_text=advice,
        help_uri="https://github.com/Yelp/detect-secrets#viewing-results",
        tags=("security", "secret", "external/cwe/cwe-798"),
    )


def _finding(job: ScanJob, path: str, secret: Mapping[str, Any], where: str) -> Finding:
    secret_type = secret.get("type")
    hashed = secret.get("hashed_secret")
    verified = secret.get("is_verified", False)
    line = secret.get("line_number", 1)
    if not isinstance(secret_type, str) or not secret_type:
        raise _malformed(where, "'type' is missing or not a string")
    if not isinstance(hashed, str) or not _SHA1.fullmatch(hashed):
        raise _malformed(where, "'hashed_secret' is missing or not 40 hex digits")
    if not isinstance(verified, bool):
        raise _malformed(where, "'is_verified' is not a boolean")
    if not isinstance(line, int) or isinstance(line, bool) or line < 0:
        raise _malformed(where, "'line_number' is not a line number")
    return Finding(
        tool=NAME,
        rule_id=secret_type,
        message=f"{secret_type} committed in {path}",
        location=Location(path=path, start_line=max(1, line)),
        severity=job.policy.secret(secret_type, verified),
        tool_severity=secret_type,
        identity=f"{IDENTITY_PREFIX}{hashed}",
    )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class DetectSecretsScanner(Scanner):
    """Adapter for ``detect-secrets scan`` (baseline JSON on stdout)."""

    name = NAME
    file_local = True

    def version(self) -> str:
        return installed_version("detect-secrets")

    def plan(self, job: ScanJob) -> Plan:
        files = job.files
        if not files:
            return Plan(skip_reason="no files to scan", nothing_to_scan=True)
        if importlib.util.find_spec("detect_secrets") is None:
            raise ScannerError(
                f"detect-secrets is not installed for {sys.executable}; "
                "run: pip install 'detect-secrets>=1.5,<2'"
            )
        # Chunks (a big tree exceeds one command line) are balanced by bytes, and each lists its
        # files largest first: detect-secrets' worker pool takes them in order, so every process
        # ends on small files instead of one finishing a big file while the other core idles.
        chunks = balanced_chunks([(f, _size(job.root / f)) for f in files])
        processes = _processes(job.options.get("processes"), len(chunks))
        workdir = job.workdir.absolute()
        commands = []
        for index, chunk in enumerate(chunks):
            argv = (sys.executable, "-P", "-m", DETECT_SECRETS_MAIN, "-c", str(processes), "scan", "-n")
            commands.append(
                Command(
                    argv=(*argv, *job.args, "--", *chunk),
                    cwd=job.root,
                    stdout_path=workdir / f"detect-secrets-{index}.json",
                )
            )
        return Plan(commands=tuple(commands))

    def exit_ok(self, exit_code: int) -> bool:
        return exit_code == 0

    def exit_code_for(self, job: ScanJob, findings: int) -> int | None:
        return 0

    def parse(self, job: ScanJob, results: Sequence[CommandResult]) -> ScanOutput:
        return merge(self.parse_files(job, results))

    def parse_files(self, job: ScanJob, results: Sequence[CommandResult]) -> FileOutputs:
        """Results per file. The path stays in the cache key (``path_profile`` is ``None``): the
        plugins and filters of detect-secrets look at file names and extensions."""
        findings: list[Finding] = []
        for result in results:
            where = str(result.command.stdout_path)
            baseline = _load(result.command.stdout_path)
            secrets = baseline.get("results")
            if not isinstance(secrets, dict):
                raise _malformed(where, "'results' is missing or not an object")
            for raw_path, items in secrets.items():
                if not isinstance(items, list):
                    raise _malformed(where, f"results[{raw_path!r}] is not a list")
                path = Path(raw_path).as_posix().removeprefix("./")
                for index, secret in enumerate(items):
                    at = f"{where} results[{raw_path!r}][{index}]"
                    if not isinstance(secret, dict):
                        raise _malformed(at, "not an object")
                    findings.append(_finding(job, path, secret, at))
        findings = without_entropy_duplicates(findings)  # one credential, one finding
        findings.sort(key=lambda f: (f.location.path, f.location.start_line, f.rule_id, f.identity or ""))
        by_path = group_by_path(findings)
        files = {
            path: FileOutput(
                findings=tuple(found),
                rules=tuple(_rule(t) for t in sorted({f.rule_id for f in found})),
                covered=path in job.files,
            )
            for path, found in by_path.items()
        }
        files.update((path, FileOutput()) for path in job.files if path not in files)
        return FileOutputs(files)
