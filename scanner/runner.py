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
from functools import lru_cache
from typing import TYPE_CHECKING, Callable, Iterable, Optional

from .facts import CI_MODEL, HISTORY, PATH_LIST, PYTHON_INDEX, Facts
from .globs import PathMatcher
from .models import Evidence, ScanProblem
from .probe import Probe, ProbeContext, recite
from .snapshot import Snapshot

if TYPE_CHECKING:
    from .services import ServiceSession
    from .store import RunStore


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
    reused: list[str] = field(default_factory=list)  # not run: another run's evidence, re-cited
    matched: dict[str, list[str]] = field(default_factory=dict)  # each probe's files, of ``listing``
    listing: list[str] = field(default_factory=list)
    recalled: list[str] = field(default_factory=list)  # of those, the ones found in the result store


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
    shared: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for probe in probes:
        matcher = _matcher(probe.patterns)
        found: list[str] = []
        for folder, names in by_folder.items():
            found += matcher.matching(folder, names, shared)
        found.sort()
        matched[probe.id] = found
    return matched


@lru_cache(maxsize=256)
def _matcher(patterns: tuple[str, ...]) -> PathMatcher:
    """Compiled once per process: a batch scanning many repositories reuses the regexes."""
    return PathMatcher(patterns)


def evidence_sort_key(item: Evidence) -> tuple:
    cit = item.citation
    return (item.kind, (cit.path or "") if cit else "", (cit.start_line or 0) if cit else 0, item.subject, item.id)


class _Inventory:
    """What an input digest needs of the shared indexes, hashed once per snapshot (not once per
    probe): a probe that used the Python index depends on all of it."""

    def __init__(self, snapshot: Snapshot, facts: Optional[Facts] = None):
        self.snapshot = snapshot
        self.facts = facts
        self._digests: dict[str, str] = {}
        self.ci_paths: Optional[list[str]] = None  # known already (the result store keeps them)

    def _hashed(self, key: str, lines: "Callable[[], Iterable[str]]") -> str:
        if key not in self._digests:
            self._digests[key] = hashlib.sha256("".join(lines()).encode()).hexdigest()
        return self._digests[key]

    @property
    def python(self) -> str:
        """What the Python index shows a probe: the names of all modules and notebooks, and the
        content (blob) of the files it parsed. A change to a file nobody parses changes nothing."""
        def lines() -> Iterable[str]:
            blob = self.snapshot.blob_id
            if self.facts is not None:
                index = self.facts.python
                yield from (f"name\0{p}\n" for p in index.modules + index.notebooks)
                yield from (f"file\0{p}\0{blob(p) or '-'}\n" for p in sorted(index.files))
            else:
                yield from (f"file\0{p}\0{blob(p) or '-'}\n" for p in self.snapshot.paths()
                            if p.endswith((".py", ".ipynb")))
        return self._hashed("python", lines)

    @property
    def ci(self) -> str:
        """Every CI file and its blob: the model covers CI files added since, too."""
        def lines() -> Iterable[str]:
            blob = self.snapshot.blob_id
            yield from (f"{p}\0{blob(p) or '-'}\n" for p in self.ci_files())
        return self._hashed("ci", lines)

    def ci_files(self) -> list[str]:
        if self.ci_paths is None:
            if self.facts is not None:  # the CI model, built anyway, walked the paths already
                self.ci_paths = self.facts.ci.paths
            else:
                from .facts.ci import is_ci_path

                self.ci_paths = [p for p in self.snapshot.paths() if is_ci_path(p)]
        return self.ci_paths

    @property
    def paths(self) -> str:
        return self._hashed("paths", lambda: ("\0".join(self.snapshot.paths()),))


def input_digest(snapshot: Snapshot, matched: Iterable[str], reads: Iterable[str],
                 inventory: Optional[_Inventory] = None) -> str:
    """A fingerprint of everything a probe saw, by blob id: equal digests mean equal inputs."""
    reads = set(reads)
    inventory = inventory or _Inventory(snapshot)
    blob = snapshot.blob_id
    files = sorted(set(matched) | {r for r in reads if not r.startswith("<")})
    parts = ["".join(f"{path}\0{blob(path) or '-'}\n" for path in files)]
    if PYTHON_INDEX in reads:
        parts.append(f"py\0{inventory.python}\n")
    if CI_MODEL in reads:
        parts.append(f"ci\0{inventory.ci}\n")
    if HISTORY in reads:
        parts.append(f"history\0{snapshot.commit}\n")
    if PATH_LIST in reads:
        parts.append(f"paths\0{inventory.paths}\n")
    return hashlib.sha256("".join(parts).encode()).hexdigest()


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
    reused: bool = False  # the evidence of another snapshot's run, whose inputs hash the same
    recalled: bool = False  # that run came from the result store (an earlier process)


def run_probes(snapshot: Snapshot, probes: list[Probe], facts: Optional[Facts] = None,
               prior: Optional[RunResult] = None, services: Optional["ServiceSession"] = None,
               record_inputs: bool = False, jobs: Optional[int] = None,
               store: Optional["RunStore"] = None) -> RunResult:
    """Run every probe. ``record_inputs`` fingerprints each probe's inputs so a later run
    (``prior``) can reuse unchanged results; a plain scan skips that work. ``store`` keeps runs
    between processes (see :mod:`scanner.store`). ``jobs`` worker processes share the probes
    (None: one per core on a large tree, else one); the result is the same either way."""
    if facts is None:
        facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens])
    portable = _Inventory(snapshot)
    if store is None or not store.has_matches(portable.paths):
        facts.prefetch_python()  # git searches the Python files while the paths are matched
    side = _Side(snapshot, facts, probes, services, record_inputs, store=store, portable=portable,
                 matched=prior.matched if prior is not None and prior.listing == snapshot.paths() else None)
    outcomes: dict[str, Outcome] = {}
    fresh: list[Probe] = []
    for probe in probes:
        before = prior.probe_runs.get(probe.id) if prior else None
        reused = side.reuse(probe, before) if before is not None else None
        if reused is None:
            reused = side.recall(probe)
        if reused is not None:
            outcomes[probe.id] = reused
        else:
            fresh.append(probe)
    if jobs is None:
        jobs = default_jobs(len(snapshot.paths()))
    if jobs > 1 and len(fresh) > 1:
        from .workers import run_in_workers

        outcomes.update({k: v[0] for k, v in run_in_workers(fresh, lambda p: (side.run(p),), [facts], jobs).items()})
    else:
        for probe in fresh:
            outcomes[probe.id] = side.run(probe)
    side.remember(probes, outcomes)
    result = merge_outcomes(probes, outcomes, facts)
    result.matched, result.listing = side.matched, snapshot.paths()
    return result


def run_probe_pairs(base: Snapshot, base_facts: Facts, head: Snapshot, head_facts: Facts, probes: list[Probe],
                    services: Optional["ServiceSession"], jobs: int,
                    store: Optional["RunStore"] = None) -> tuple[RunResult, RunResult]:
    """Both sides of a diff, probe by probe: each probe runs on the base, then on the head unless
    its inputs are unchanged (then the base's evidence is re-cited). Workers take whole pairs,
    so the head run finds the base run's parsed files still in the worker's blob cache. With a
    ``store``, a side whose run is recorded there is not run at all."""
    portable = _Inventory(base)
    if store is None or not store.has_matches(portable.paths):
        base_facts.prefetch_python()
    base_side = _Side(base, base_facts, probes, services, True, store=store, portable=portable)
    # the head's own input digests would serve no one: only the base's are compared
    head_side = _Side(head, head_facts, probes, services, False, like=base_side, store=store)
    base_recalled = {p.id: o for p in probes if (o := base_side.recall(p)) is not None}
    head_recalled = {p.id: o for p in probes if (o := head_side.recall(p)) is not None}

    def pair(probe: Probe) -> tuple[Outcome, Outcome]:
        first = base_recalled.get(probe.id) or base_side.run(probe)
        second = head_recalled.get(probe.id)
        if second is None and first.run is not None:
            second = head_side.reuse(probe, first.run)
        return first, second if second is not None else head_side.run(probe)

    todo = [p for p in probes if not (p.id in base_recalled and p.id in head_recalled)]
    pairs = {p.id: (base_recalled[p.id], head_recalled[p.id]) for p in probes if p not in todo}
    if jobs > 1 and len(todo) > 1:
        from .workers import run_in_workers

        needed = [facts for facts, recalled in ((base_facts, base_recalled), (head_facts, head_recalled))
                  if any(p.id not in recalled for p in todo if not p.services)]
        pairs.update(run_in_workers(todo, pair, [base_facts, head_facts], jobs, prebuild=needed))
    else:
        pairs.update({probe.id: pair(probe) for probe in todo})
    base_outcomes = {k: v[0] for k, v in pairs.items()}
    head_outcomes = {k: v[1] for k, v in pairs.items()}
    base_side.remember(probes, base_outcomes)
    head_side.remember(probes, head_outcomes)
    return (merge_outcomes(probes, base_outcomes, base_facts),
            merge_outcomes(probes, head_outcomes, head_facts))


CI_FILES = "<ci files>"  # beside the matched paths in the store: which paths CI systems read


class _Side:
    """One snapshot's half of a run: its matched paths, its inventory, and how to run or reuse."""

    def __init__(self, snapshot: Snapshot, facts: Facts, probes: list[Probe],
                 services: Optional["ServiceSession"], record_inputs: bool, like: Optional["_Side"] = None,
                 store: Optional["RunStore"] = None, portable: Optional[_Inventory] = None,
                 matched: Optional[dict[str, list[str]]] = None):
        self.snapshot, self.facts, self.services, self.store = snapshot, facts, services, store
        # What a stored run is checked against: blob ids only, no parsing, so a hit costs no parse.
        self.portable = portable or _Inventory(snapshot)
        # a diff's head usually lists the same paths as its base: then it matches the same
        same = like is not None and like.snapshot.paths() == snapshot.paths()
        if same and like is not None:
            self.matched = like.matched
            self.portable.ci_paths = like.portable.ci_paths
        elif matched is not None and all(p.id in matched for p in probes):
            self.matched = matched  # the prior run's, over the same path list
        else:
            self.matched = self._match(probes)
        self.inventory = _Inventory(snapshot, facts)
        self.record_inputs = record_inputs
        self._keys: dict[str, str] = {}

    def _match(self, probes: list[Probe]) -> dict[str, list[str]]:
        if self.store is None:
            return match_paths(self.snapshot.paths(), probes)
        known = self.store.matches(self.portable.paths)
        if known is not None and CI_FILES in known and all(p.id in known for p in probes):
            self.portable.ci_paths = known[CI_FILES]
            return known
        matched = match_paths(self.snapshot.paths(), probes)
        self.store.save_matches(self.portable.paths, {**matched, CI_FILES: self.portable.ci_files()})
        return matched

    def run(self, probe: Probe) -> Outcome:
        return run_one(probe, self.snapshot, self.facts, self.matched[probe.id], self.services,
                       self.inventory if self.record_inputs else None)

    def reuse(self, probe: Probe, before: ProbeRun) -> Optional[Outcome]:
        """The other snapshot's outcome, re-cited here, when this probe's inputs hash the same."""
        started = time.perf_counter()
        if not before.digest or input_digest(self.snapshot, self.matched[probe.id], before.reads,
                                              self.inventory) != before.digest:
            return None
        items = [recite(item, self.snapshot) for item in before.evidence]
        return Outcome(probe.id, items, before, None, time.perf_counter() - started, reused=True)

    # -- the result store --------------------------------------------------------------

    def _where(self) -> list[Optional[str]]:
        snap = self.snapshot
        return [snap.commit, snap.remote, snap.subpath or ""]

    def _key(self, probe: Probe) -> str:
        """Where a probe's runs are filed: its matched files and their blobs (its reads vary)."""
        if probe.id in self._keys:
            return self._keys[probe.id]
        blob = self.snapshot.blob_id
        text = "".join(f"{path}\0{blob(path) or '-'}\n" for path in self.matched[probe.id])
        cap = self.snapshot.max_file_bytes  # a larger cap would read files this run skipped
        self._keys[probe.id] = hashlib.sha256(f"{probe.id}\0{cap}\n{text}".encode()).hexdigest()[:40]
        return self._keys[probe.id]

    def recall(self, probe: Probe) -> Optional[Outcome]:
        """A run recorded by an earlier scan whose inputs hash the same here, re-cited here."""
        if self.store is None or probe.services:
            return None
        started = time.perf_counter()
        matched = self.matched[probe.id]
        for stored in self.store.candidates(probe.id, self._key(probe)):
            if input_digest(self.snapshot, matched, stored.reads, self.portable) != stored.digest:
                continue
            try:
                items = self.store.decode(stored.evidence)
            except ValueError:  # written by a scanner whose models differ: a miss
                continue
            if stored.where != self._where():
                items = [recite(item, self.snapshot) for item in items]
            self.store.used(probe.id, self._key(probe))
            run = ProbeRun(evidence=items, matched=tuple(matched), reads=frozenset(stored.reads), digest="",
                           problems=dict(stored.problems))
            return Outcome(probe.id, items, run, None, time.perf_counter() - started, reused=True, recalled=True)
        return None

    def remember(self, probes: list[Probe], outcomes: dict[str, Outcome]) -> None:
        """File each run not taken from the store (nor failed, nor of a service probe) in the store.

        A run reused from the other side of a diff is filed too, with this side's citations."""
        if self.store is None:
            return
        from .store import StoredRun

        for probe in probes:
            outcome = outcomes.get(probe.id)
            if outcome is None or outcome.recalled or outcome.run is None or probe.services:
                continue
            run = outcome.run
            digest = input_digest(self.snapshot, self.matched[probe.id], run.reads, self.portable)
            self.store.save(probe.id, self._key(probe), StoredRun(
                reads=sorted(run.reads), digest=digest, problems=dict(sorted(run.problems.items())),
                evidence=self.store.encode(outcome.items), where=self._where()))


def merge_outcomes(probes: list[Probe], outcomes: dict[str, Outcome], facts: Facts) -> RunResult:
    """One run's result from its probes' outcomes, in probe order, whichever process ran what."""
    result = RunResult(evidence=[])
    reused_problems: dict[str, str] = {}
    seen: set[str] = set()
    for probe in probes:
        outcome = outcomes[probe.id]
        facts.absorb(outcome.problems, outcome.read, outcome.asked)
        if outcome.reused:
            result.reused.append(probe.id)
            if outcome.recalled:
                result.recalled.append(probe.id)
            if outcome.run is not None:
                reused_problems.update(outcome.run.problems)
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
