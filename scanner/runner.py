"""Runs probes over one snapshot: one pass over the path list, shared facts, isolated failures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .facts import Facts
from .globs import PathMatcher
from .models import Evidence, ScanProblem
from .probe import Probe, ProbeContext
from .snapshot import Snapshot


@dataclass
class RunResult:
    evidence: list[Evidence]
    problems: list[ScanProblem] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    files_read: int = 0


def match_paths(paths: Iterable[str], probes: list[Probe]) -> dict[str, list[str]]:
    """Each probe's files, from a single walk over the path list."""
    matchers = [(probe.id, PathMatcher(probe.patterns)) for probe in probes]
    matched: dict[str, list[str]] = {probe.id: [] for probe in probes}
    for path in paths:
        cut = path.rfind("/") + 1
        folder, name = path[:cut], path[cut:]
        for probe_id, matcher in matchers:
            if matcher.match(path, folder, name):
                matched[probe_id].append(path)
    return matched


def evidence_sort_key(item: Evidence) -> tuple:
    cit = item.citation
    return (item.kind, (cit.path or "") if cit else "", (cit.start_line or 0) if cit else 0, item.subject, item.id)


def run_probes(snapshot: Snapshot, probes: list[Probe], facts: Optional[Facts] = None) -> RunResult:
    if facts is None:
        facts = Facts(snapshot, python_tokens=[t for p in probes for t in p.python_tokens])
    matched = match_paths(snapshot.paths(), probes)
    result = RunResult(evidence=[])
    seen: set[str] = set()
    for probe in probes:
        ctx = ProbeContext(probe, snapshot, facts, matched[probe.id])
        started = time.perf_counter()
        try:
            items = list(probe.collect(ctx))
            declared = {k.name for k in probe.kinds}
            for item in items:
                if item.kind not in declared:
                    raise TypeError(f"emitted kind {item.kind!r}, which it does not declare")
        except Exception as exc:  # one broken probe must not stop the scan
            message = f"{type(exc).__name__}: {exc}"
            result.problems.append(ScanProblem(scope="probe", subject=probe.id, message=message))
            items = [ctx.unknown(kind.name, f"probe {probe.id} failed: {message}") for kind in probe.kinds]
        result.timings[probe.id] = time.perf_counter() - started
        for item in items:
            if item.id not in seen:
                seen.add(item.id)
                result.evidence.append(item)
    result.evidence.sort(key=evidence_sort_key)
    result.problems += facts.problem_records()
    result.files_read = facts.files_read
    return result
