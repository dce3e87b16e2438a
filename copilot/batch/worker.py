"""The per-log job every batch engine runs: hash the log, skip it if stored, else analyze it.

`analyze_log` is the one function shared by the local worker processes and the
Spark engine's partitions. It never raises: a log that cannot be read or analyzed
comes back as a failed outcome carrying a one-line reason, so one bad log never
stops a batch.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Collection
from contextlib import ExitStack

from copilot.batch.identity import identity_of
from copilot.batch.remote import download_folder, load_from_copy, local_copy
from copilot.store.records import LogIdentity, LogOutcome
from tools.errors import CopilotError
from tools.eventlog import LogRef



class RejectedRef(LogRef):
    """A log discovery rejected: the batch hashes it and records it as failed with `reason`.

    A file named like a log whose first bytes are not one; or, without parts, a History Server
    application whose log could not be downloaded (reported, not stored: it has no content hash).
    """

    reason: str


_skip_hashes: frozenset[str] = frozenset()
_settings = None
_full_report = False


def init_worker(skip_hashes: Collection[str], settings, full_report: bool = False) -> None:
    """Process-pool initializer: the hashes to skip, the settings and the analysis depth, sent once per worker."""
    global _skip_hashes, _settings, _full_report
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool cleanly
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per worker: the runtime model must not oversubscribe
    _skip_hashes = frozenset(skip_hashes)
    _settings = settings
    _full_report = full_report


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split()) or type(exc).__name__
    if isinstance(exc, CopilotError):
        return text[:500]
    return f"{type(exc).__name__}: {text}"[:500]


def analyze_log(
    log: LogRef | str, skip_hashes: Collection[str] | None = None, settings=None, full_report: bool | None = None
) -> LogOutcome:
    """Hash, then (unless its hash is in `skip_hashes`) analyze one log into a stored-ready outcome.

    Arguments left as None come from `init_worker` (process pools send them once per worker).
    """
    skip = _skip_hashes if skip_hashes is None else skip_hashes
    settings = settings if settings is not None else _settings
    full_report = _full_report if full_report is None else full_report
    started = time.perf_counter()
    path = log.path if isinstance(log, LogRef) else str(log)
    if isinstance(log, RejectedRef) and not log.parts:  # nothing on storage to hash (a download that failed)
        return LogOutcome(status="failed", log=LogIdentity(log_path=path), reason=log.reason)
    with ExitStack() as downloaded:
        try:
            ref = log if isinstance(log, LogRef) else _resolve(path)
            local = downloaded.enter_context(local_copy(ref, download_folder(settings)))
            identity = identity_of(ref, local)
        except Exception as exc:  # unreadable file: recorded, never raised
            return LogOutcome(status="failed", log=LogIdentity(log_path=path), reason=f"cannot read: {one_line(exc)}")
        if identity.log_hash in skip:
            return LogOutcome(status="skipped", log=identity)
        if isinstance(ref, RejectedRef):
            return LogOutcome(status="failed", log=identity, reason=ref.reason,
                              elapsed_ms=(time.perf_counter() - started) * 1e3)
        return _analyzed(identity, ref, local, settings, full_report, started)


def _analyzed(identity: LogIdentity, ref: LogRef, local: LogRef, settings, full_report: bool,
              started: float) -> LogOutcome:
    from copilot.batch.analysis import analyze_to_record

    try:
        profile = load_from_copy(ref, local, workers=1)  # the batch already runs one log per core
        record = analyze_to_record(identity, profile, settings, full_report)
    except Exception as exc:
        return LogOutcome(
            status="failed", log=identity, reason=one_line(exc), elapsed_ms=(time.perf_counter() - started) * 1e3
        )
    elapsed_ms = (time.perf_counter() - started) * 1e3
    record.analysis_ms = elapsed_ms
    return LogOutcome(status="analyzed", log=identity, record=record, elapsed_ms=elapsed_ms)


def _resolve(path: str) -> LogRef:
    from tools.eventlog import discover_applications

    refs = discover_applications(path, include_incomplete=True)
    if len(refs) != 1:
        raise CopilotError(f"{path} holds {len(refs)} applications, not one")
    return refs[0]
