"""Read an untrusted SARIF log as a stream of runs, with memory bounded by a per-run result cap.

A SARIF log from a third-party tool or from ``secscan ingest`` is untrusted input, and may be
large (a 158 MB log of a million results took 3 GB as one ``json.loads``). It is read chunk by
chunk and never held whole:

* the bytes are decoded as UTF-8 incrementally and their nesting depth is checked as they arrive
  (:class:`~secscan.scanners._sarif_window.DepthGuard`, at C speed, before ``json`` recurses
  into them);
* the top-level object, the ``runs`` array, each run object and its ``results`` array are walked
  by :class:`~secscan.scanners._sarif_window.Window`; every other value (a result, a run's
  ``tool``, ...) is decoded whole by the standard library's C decoder (``raw_decode``) from a
  window of the text;
* of each run's ``results``, the first ``max_results`` are kept and the rest are counted
  (:attr:`StreamedRun.total_results`), so a reader can tell a truncated run from a complete one.

A run is yielded when its object ends, whatever the order of its keys (``results`` may come
before ``tool``). The log's own checks (``version`` is ``2.1.0``, a ``runs`` list, at most
:data:`MAX_RUNS` runs) can only be complete at the end, so a caller must consume the whole stream
before it acts on what it read. Every problem is one :class:`~secscan.core.errors.InputError`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from secscan.core.errors import InputError
from secscan.scanners._sarif_window import CHUNK_BYTES, Window

MAX_SARIF_BYTES = 256 * 1024 * 1024
MAX_RUNS = 100

OnResult = Callable[[Any], None]


@dataclass(frozen=True)
class StreamedRun:
    """One run object. ``run["results"]`` (when the run has a results array) holds its first
    results only; ``total_results`` counts them all."""

    run: Any
    total_results: int = 0

    @property
    def kept_results(self) -> int:
        results = self.run.get("results") if isinstance(self.run, dict) else None
        return len(results) if isinstance(results, list) else 0

    @property
    def truncated(self) -> bool:
        """Whether results were left out (the run is then not a whole analysis)."""
        return self.total_results > self.kept_results


def _run(window: Window, max_results: int, on_result: OnResult | None) -> StreamedRun:
    if window.peek() != "{":
        return StreamedRun(window.value())  # not an object: the reader says so
    run: dict[str, Any] = {}
    total = 0
    for key in window.members():
        if key != "results" or window.peek() != "[":
            run[key] = window.value()
            continue
        kept: list[Any] = []
        total = 0
        for result in window.values():
            total += 1
            if on_result is not None:
                on_result(result)
            if total <= max_results:
                kept.append(result)
        run[key] = kept
    return StreamedRun(run, total)


def stream_runs(
    chunks: Iterable[bytes], *, max_results: int, on_result: OnResult | None = None
) -> Iterator[StreamedRun]:
    """The runs of a SARIF log given as byte chunks, each with at most ``max_results`` results.

    ``on_result`` sees every result, the ones beyond the cap too. Raises InputError (possibly
    after the last run: consume the whole stream before acting on it).
    """
    window = Window(chunks)
    if window.peek() != "{":
        if window.peek() == "":
            raise InputError("SARIF log is empty; is it a SARIF 2.1.0 file?")
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    version: object = None
    runs_seen = False
    for key in window.members():
        if key == "runs" and window.peek() == "[" and not runs_seen:
            runs_seen = True
            for index in window.items():
                if index >= MAX_RUNS:
                    raise InputError(f"SARIF log has more than {MAX_RUNS} runs; split it")
                yield _run(window, max_results, on_result)
        elif key == "runs":
            raise InputError("SARIF log has no 'runs' list (or more than one); is it a SARIF 2.1.0 file?")
        elif key == "version":
            version = window.value()
        else:
            window.value()
    window.finish()
    if not runs_seen:
        raise InputError("SARIF log has no 'runs' list; is it a SARIF 2.1.0 file?")
    if version != "2.1.0":
        raise InputError(f"SARIF version {version!r} is not supported; produce SARIF 2.1.0")


def chunked(data: bytes, size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """``data`` in chunks of ``size`` bytes (a log already in memory, for :func:`stream_runs`)."""
    if len(data) > MAX_SARIF_BYTES:
        raise InputError(f"SARIF log is larger than {MAX_SARIF_BYTES} bytes; split it or filter its results")
    for start in range(0, len(data), size):
        yield data[start : start + size]


__all__ = ["MAX_RUNS", "MAX_SARIF_BYTES", "StreamedRun", "chunked", "stream_runs"]
