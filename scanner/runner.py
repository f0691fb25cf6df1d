"""Runs probes over one snapshot: one pass over the path list, shared facts, isolated failures.

Every probe's inputs are recorded (the files it matched and every file and shared index it
touched) and fingerprinted by blob id. Given the run of another commit (``prior``, as in a diff),
a probe whose inputs hash the same is not run again: its evidence is reused, re-cited at this
commit.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional

from .facts import CI_MODEL, HISTORY, PATH_LIST, PYTHON_INDEX, Facts
from .globs import PathMatcher
from .models import Evidence, ScanProblem
from .probe import Probe, ProbeContext
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .services import ServiceSession


@dataclass
class ProbeRun:
    evidence: list[Evidence]
    matched: tuple[str, ...]
    reads: frozenset[str]  # paths, plus the facts markers for shared indexes
    digest: str
    problems: dict[str, str]  # file problems met on those reads


@dataclass
class RunResult:
    evidence: list[Evidence]
    problems: list[ScanProblem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    files_read: int = 0
    probe_runs: dict[str, ProbeRun] = field(default_factory=dict)
    reused: list[str] = field(default_factory=list)


def match_paths(paths: Iterable[str], probes: list[Probe]) -> dict[str, list[str]]:
    """Each probe's files, from a single walk over the path list."""
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        cut = path.rfind("/") + 1
        folder = path[:cut]
        names = by_folder.get(folder)
        if names is None:
            names = by_folder[folder] = []
        names.append(path[cut:])
    matched: dict[str, list[str]] = {}
    for probe in probes:
        matcher = PathMatcher(probe.patterns)
        found: list[str] = []
        for folder, names in by_folder.items():
            found += matcher.matching(folder, names)
        found.sort()
        matched[probe.id] = found
    return matched


def evidence_sort_key(item: Evidence) -> tuple:
    cit = item.citation
    return (item.kind, (cit.path or "") if cit else "", (cit.start_line or 0) if cit else 0, item.subject, item.id)


class _Inventory:
    """Path lists an input digest needs, computed once per snapshot (not once per probe)."""

    def __init__(self, snapshot: Snapshot, facts: Optional[Facts] = None):
        self.snapshot = snapshot
        self.facts = facts
        self._python: Optional[list[str]] = None
        self._ci: Optional[list[str]] = None

    @property
    def python(self) -> list[str]:
        """What the Python index shows a probe: the names of all modules and notebooks, and the
        content (blob) of the files it parsed. A change to a file nobody parses changes nothing."""
        if self._python is None:
            if self.facts is not None:
                index = self.facts.python
                names = [f"name\0{p}" for p in index.modules + index.notebooks]
                self._python = names + [f"file\0{p}\0{self.snapshot.blob_id(p) or '-'}" for p in sorted(index.files)]
            else:
                self._python = [f"file\0{p}\0{self.snapshot.blob_id(p) or '-'}" for p in self.snapshot.paths()
                                if p.endswith((".py", ".ipynb"))]
        return self._python

    @property
    def ci(self) -> list[str]:
        if self._ci is None:
            from .facts.ci import is_ci_path

            self._ci = [p for p in self.snapshot.paths() if is_ci_path(p)]
        return self._ci


def input_digest(snapshot: Snapshot, matched: Iterable[str], reads: Iterable[str],
                 inventory: Optional[_Inventory] = None) -> str:
    """A fingerprint of everything a probe saw, by blob id: equal digests mean equal inputs."""
    reads = set(reads)
    inventory = inventory or _Inventory(snapshot)
    digest = hashlib.sha256()
    for path in sorted(set(matched) | {r for r in reads if not r.startswith("<")}):
        digest.update(f"{path}\0{snapshot.blob_id(path) or '-'}\n".encode())
    if PYTHON_INDEX in reads:
        for item in inventory.python:
            digest.update(f"py\0{item}\n".encode())
    if CI_MODEL in reads:  # the model covers every CI file, including ones added since
        for path in inventory.ci:
            digest.update(f"ci\0{path}\0{snapshot.blob_id(path) or '-'}\n".encode())
    if HISTORY in reads:
        digest.update(f"history\0{snapshot.commit}\n".encode())
    if PATH_LIST in reads:
        digest.update("paths\0".encode() + "\0".join(snapshot.paths()).encode())
    return digest.hexdigest()


def recite(item: Evidence, snapshot: Snapshot) -> Evidence:
    """The same evidence, cited at this snapshot's commit (its blob, and so its lines, are equal)."""
    cit = item.citation
    if cit is None or cit.source != "repo" or cit.path is None:
        return item
    moved = cit.model_copy(update={
        "commit": snapshot.commit, "url": snapshot.permalink(cit.path, cit.start_line, cit.end_line),
    })
    return item.model_copy(update={"citation": moved})


# Below this many files a scan runs its probes in one process: forking workers costs more than
# it saves. Above it, probes spread over the cores (see scanner.workers).
PARALLEL_MIN_FILES = 3000


@dataclass
class Outcome:
    """What running one probe produced; it crosses back from a worker process whole."""

    probe_id: str
    items: list[Evidence]
    run: Optional[ProbeRun]  # None when the probe failed (a failed run is never reused)
    failure: Optional[ScanProblem]
    seconds: float
    problems: dict[str, str] = field(default_factory=dict)  # file problems met (worker runs only)
    read: set[str] = field(default_factory=set)  # paths whose bytes were read (worker runs only)
    asked: set[str] = field(default_factory=set)  # paths asked for (worker runs only)


def run_probes(snapshot: Snapshot, probes: list[Probe], facts: Optional[Facts] = None,
               prior: Optional[RunResult] = None, services: Optional["ServiceSession"] = None,
               record_inputs: bool = False, jobs: Optional[int] = None) -> RunResult:
    """Run every probe. ``record_inputs`` fingerprints each probe's inputs so a later run
    (``prior``) can reuse unchanged results; a plain scan skips that work. ``jobs`` worker
    processes share the probes (None: one per core on a large tree, else one); the result is the
    same either way."""
    if facts is None:
        facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens])
    matched = match_paths(snapshot.paths(), probes)
    result = RunResult(evidence=[])
    reused_problems: dict[str, str] = {}
    inventory = _Inventory(snapshot, facts)
    outcomes: dict[str, Outcome] = {}
    fresh: list[Probe] = []
    for probe in probes:
        started = time.perf_counter()
        before = prior.probe_runs.get(probe.id) if prior else None
        if before is not None and before.digest and input_digest(snapshot, matched[probe.id], before.reads, inventory) == before.digest:
            items = [recite(item, snapshot) for item in before.evidence]
            outcomes[probe.id] = Outcome(probe.id, items, before, None, time.perf_counter() - started)
            result.reused.append(probe.id)
            reused_problems.update(before.problems)
        else:
            fresh.append(probe)

    def run_here(probe: Probe) -> Outcome:
        return run_one(probe, snapshot, facts, matched[probe.id], services, inventory if record_inputs else None)

    if jobs is None:
        jobs = default_jobs(len(snapshot.paths()))
    if jobs > 1 and len(fresh) > 1:
        from .workers import run_in_workers

        outcomes.update(run_in_workers(fresh, run_here, facts, jobs))
    else:
        for probe in fresh:
            outcomes[probe.id] = run_here(probe)
    seen: set[str] = set()
    for probe in probes:  # merged in probe order, whichever process ran what
        outcome = outcomes[probe.id]
        facts.absorb(outcome.problems, outcome.read, outcome.asked)
        if outcome.failure is not None:
            result.problems.append(outcome.failure)
        if outcome.run is not None:
            result.probe_runs[probe.id] = outcome.run
        result.timings[probe.id] = outcome.seconds
        for item in outcome.items:
            if item.id not in seen:
                seen.add(item.id)
                result.evidence.append(item)
    result.evidence.sort(key=evidence_sort_key)
    for path, message in reused_problems.items():
        facts.problems.setdefault(path, message)
    result.problems += facts.problem_records()
    result.files_read = facts.files_read
    return result


def default_jobs(files: int) -> int:
    """One worker per core (at most 4) on a tree large enough to repay forking; else none."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(cores, 4) if files >= PARALLEL_MIN_FILES else 1


def run_one(probe: Probe, snapshot: Snapshot, facts: Facts, paths: list[str],
            services: Optional["ServiceSession"], inventory: Optional[_Inventory]) -> Outcome:
    """Run one probe; an exception becomes ``unknown`` evidence and a reported problem."""
    started = time.perf_counter()
    ctx = ProbeContext(probe, snapshot, facts, paths, services if probe.services else None)
    facts.begin()
    try:
        items = list(probe.collect(ctx))
        declared = {k.name for k in probe.kinds}
        for item in items:
            if item.kind not in declared:
                raise TypeError(f"emitted kind {item.kind!r}, which it does not declare")
    except Exception as exc:  # one broken probe must not stop the scan
        message = f"{type(exc).__name__}: {exc}"
        items = [ctx.unknown(kind.name, f"probe {probe.id} failed: {message}") for kind in probe.kinds]
        facts.end()
        return Outcome(probe.id, items, None, ScanProblem(scope="probe", subject=probe.id, message=message),
                       time.perf_counter() - started)
    reads = frozenset(facts.end())
    run = ProbeRun(
        evidence=items, matched=tuple(paths), reads=reads,
        digest=input_digest(snapshot, paths, reads, inventory) if inventory is not None else "",
        problems={p: facts.problems[p] for p in reads | set(paths) if p in facts.problems},
    )
    return Outcome(probe.id, items, run, None, time.perf_counter() - started)
