"""Probes spread over worker processes, for large trees.

The parent builds what many probes share (the Python index, the CI model, git history) once, then
forks workers that inherit it. Each worker runs whole probes and sends back their
:class:`~scanner.runner.Outcome`: the evidence, the probe's input record, and the file problems,
reads and requests it met. The runner merges outcomes in probe order, so the scorecard is the same
as a one-process run. Probes that talk to services run in the parent, which owns the request
budget and the response cache.

Only our own code runs in a worker; the scanned repository is read, never executed, as anywhere
else. A worker inherits the parent's git objects but must not share its ``cat-file`` pipes, so it
opens the repository afresh and keeps the inherited handle alive (never finalised: its processes
belong to the parent). If a worker dies, the probes it had are run again in the parent.
"""

from __future__ import annotations

import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Optional

from .gcpolicy import frozen_for_fork

if TYPE_CHECKING:
    from .facts import Facts
    from .probe import Probe
    from .runner import Outcome

# Set in the parent just before the workers fork; read in the workers.
_STATE: Optional[tuple[Callable[["Probe"], tuple["Outcome", ...]], list["Facts"], dict[str, "Probe"]]] = None
_INHERITED: list[Any] = []  # the parent's git handles, kept alive in a worker and never closed


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def run_in_workers(probes: list["Probe"], task: Callable[["Probe"], tuple["Outcome", ...]],
                   facts: list["Facts"], jobs: int,
                   prebuild: Optional[list["Facts"]] = None) -> dict[str, tuple["Outcome", ...]]:
    """``task(probe)`` for every probe, in ``jobs`` forked workers (service probes here).

    ``task`` returns one outcome per entry of ``facts`` (one snapshot for a scan, base and head for
    a diff); each outcome comes back with what its probe met in that snapshot's facts. The shared
    indexes of ``prebuild`` (default: all of ``facts``) are built before forking; a side whose
    runs all come from the result store needs none."""
    global _STATE
    local = [p for p in probes if p.services]
    remote = sorted((p for p in probes if not p.services), key=lambda p: -p.weight)  # stable: ties keep order
    results: dict[str, Optional[tuple["Outcome", ...]]] = {}
    if can_fork() and len(remote) > 1:
        _prebuild(facts if prebuild is None else prebuild, remote)
        _STATE = (task, facts, {p.id: p for p in remote})
        try:
            with frozen_for_fork(), ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork"),
                                     initializer=_worker_start) as pool:
                futures = [(p.id, pool.submit(_run_in_worker, p.id)) for p in remote]
                for probe in local:  # meanwhile, here
                    results[probe.id] = task(probe)
                for probe_id, future in futures:
                    try:
                        results[probe_id] = future.result()
                    except Exception:  # the worker died (killed, out of memory): run it here below
                        results[probe_id] = None
        except OSError:  # could not fork at all
            pass
        finally:
            _STATE = None
    for probe in probes:
        if results.get(probe.id) is None:
            results[probe.id] = task(probe)
    return results  # type: ignore[return-value]


def _prebuild(all_facts: list["Facts"], probes: list["Probe"]) -> None:
    """Build the shared indexes once, here, rather than once per worker. While the first
    snapshot's Python files parse in worker processes, the CI models are built here; a diff's
    head index starts after the base's, whose parsed files it takes from the blob cache."""
    python = any(p.python_tokens for p in probes)
    if python and all_facts:
        all_facts[0].start_python()
    for facts in all_facts:
        facts.ci  # noqa: B018 - built for its side effect
    if python:
        for facts in all_facts:
            facts.python  # noqa: B018
    if sum(1 for p in probes if p.needs_history) > 1:
        for facts in all_facts:
            facts.history  # noqa: B018


def _worker_start() -> None:
    assert _STATE is not None
    from .snapshot import reopen_repo

    reopened: dict[int, Any] = {}
    for facts in _STATE[1]:
        snapshot = facts.snapshot
        if snapshot.repo is not None:
            _INHERITED.append(snapshot.repo)
            snapshot.repo = reopened.setdefault(id(snapshot.repo), reopen_repo(snapshot))


def _run_in_worker(probe_id: str) -> tuple["Outcome", ...]:
    assert _STATE is not None
    task, all_facts, by_id = _STATE
    before = [facts.journal() for facts in all_facts]
    outcomes = task(by_id[probe_id])
    for outcome, facts, mark in zip(outcomes, all_facts, before):
        outcome.problems, outcome.read, outcome.asked = facts.since(mark)
    return outcomes
