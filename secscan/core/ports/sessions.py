"""The Store seam's write sessions: the store loads what the pure core needs and writes what it decides.

A session is one write transaction, opened by a :class:`~secscan.core.ports.store.Store` method as a
context manager: committed when the ``with`` block ends, rolled back when it raises. The
application layer (:mod:`secscan.app.tracking`) drives it: load, compute with the pure core
(:mod:`secscan.core.reconcile`, :mod:`secscan.core.sla_upkeep`), apply. A session decides nothing about
findings: it reads rows into the values of :mod:`secscan.core.changeset` and writes changesets back.

**Consistency.** What a session loaded is still true when it applies, because a session holds its
scope for its whole life: a recording or an edit holds its target (another writer of that target
waits), SLA upkeep the whole store. SQLite has one writer at a time and takes the lock at
``BEGIN IMMEDIATE``. A PostgreSQL store takes ``pg_advisory_xact_lock`` on the target (runs of
other targets go on concurrently), and SLA upkeep a store-wide advisory lock that the target
sessions take shared, so neither sees the other half-way (``docs/design.md``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from secscan.core.changeset import (
        FindingChange,
        Repricing,
        RunChangeset,
        SlaDecision,
        SlaInput,
        Snapshot,
        Stored,
    )
    from secscan.core.records import RunSummary, SlaChange
    from secscan.core.sla import SlaPolicy


class RunRecording(ABC):
    """Recording one run of a target (:meth:`Store.recording`): :meth:`snapshot`, then :meth:`apply`."""

    @abstractmethod
    def snapshot(self) -> Snapshot:
        """The target's tracked findings as stored (none for a target never recorded)."""

    @abstractmethod
    def apply(self, changes: RunChangeset) -> RunSummary:
        """Write the run (target, run row, scanners, counts) and the changeset; the run as stored.

        The changeset names findings by fingerprint among those of :meth:`snapshot`, which must
        have been called first.
        """


class FindingEdit(ABC):
    """A change to one tracked finding (:meth:`Store.edit_finding`): :attr:`stored`, then :meth:`apply`."""

    @property
    @abstractmethod
    def stored(self) -> Stored:
        """The finding as stored, with the SLA status last reported."""

    @property
    @abstractmethod
    def policy(self) -> SlaPolicy | None:
        """The SLA policy the stored due times were computed with (None before the first run)."""

    @abstractmethod
    def apply(self, change: FindingChange) -> None:
        """Write the finding, its SLA columns, its history entries and its decision (if any)."""


class SlaUpkeep(ABC):
    """SLA upkeep over the whole store at one instant (:meth:`Store.sla_upkeep`).

    Reads return groups or findings; each apply writes what the core decided for the ones its
    read returned: :meth:`groups` then :meth:`reprice`, :meth:`expiring` then
    :meth:`apply_changes`, :meth:`due` then :meth:`apply_sweep`.
    """

    @property
    @abstractmethod
    def policy(self) -> SlaPolicy | None:
        """The SLA policy the stored due times were computed with (None before the first run)."""

    @abstractmethod
    def groups(self) -> Collection[SlaInput]:
        """Every tracked finding, grouped by what its SLA columns depend on."""

    @abstractmethod
    def reprice(self, repricing: Repricing) -> None:
        """Store each group's new columns (the groups of :meth:`groups`) and the new policy."""

    @abstractmethod
    def expiring(self) -> Sequence[Stored]:
        """The findings whose triage decision ends (``until``) at or before the instant."""

    @abstractmethod
    def apply_changes(self, changes: Sequence[FindingChange]) -> None:
        """Write findings rewritten whole (of :meth:`expiring`), with their history entries."""

    @abstractmethod
    def due(self) -> Collection[SlaInput]:
        """The groups of the findings whose reported SLA status is due to change by the instant
        (their ``sla_next_at`` is at or before it)."""

    @abstractmethod
    def apply_sweep(self, plan: Mapping[SlaInput, SlaDecision]) -> tuple[SlaChange, ...]:
        """Write each due group's decision (columns, history entries at the instant) and return
        the status changes, one per finding, with what alerting needs."""
