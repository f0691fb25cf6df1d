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

if TYPE_CHECKING:
    from .facts import Facts
    from .probe import Probe
    from .runner import Outcome

# Set in the parent just before the workers fork; read in the workers.
_STATE: Optional[tuple[Callable[["Probe"], "Outcome"], "Facts", dict[str, "Probe"]]] = None
_INHERITED: list[Any] = []  # the parent's git handles, kept alive in a worker and never closed


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def run_in_workers(probes: list["Probe"], run_here: Callable[["Probe"], "Outcome"], facts: "Facts",
                   jobs: int) -> dict[str, "Outcome"]:
    """Outcomes of ``probes``, run by ``jobs`` forked workers (service probes in this process)."""
    global _STATE
    local = [p for p in probes if p.services]
    remote = [p for p in probes if not p.services]
    outcomes: dict[str, Optional["Outcome"]] = {}
    if can_fork() and len(remote) > 1:
        _prebuild(facts, remote)
        _STATE = (run_here, facts, {p.id: p for p in remote})
        try:
            with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("fork"),
                                     initializer=_worker_start) as pool:
                futures = [(p.id, pool.submit(_run_in_worker, p.id)) for p in remote]
                for probe in local:  # meanwhile, here
                    outcomes[probe.id] = run_here(probe)
                for probe_id, future in futures:
                    try:
                        outcomes[probe_id] = future.result()
                    except Exception:  # the worker died (killed, out of memory): run it here below
                        outcomes[probe_id] = None
        except OSError:  # could not fork at all
            pass
        finally:
            _STATE = None
    for probe in probes:
        if outcomes.get(probe.id) is None:
            outcomes[probe.id] = run_here(probe)
    return outcomes  # type: ignore[return-value]


def _prebuild(facts: "Facts", probes: list["Probe"]) -> None:
    """Build the shared indexes once, here, rather than once per worker."""
    if any(p.python_tokens for p in probes):
        facts.python  # noqa: B018 - built for its side effect
    facts.ci  # noqa: B018
    if sum(1 for p in probes if p.needs_history) > 1:
        facts.history  # noqa: B018


def _worker_start() -> None:
    assert _STATE is not None
    snapshot = _STATE[1].snapshot
    if snapshot.repo is not None:
        from .snapshot import reopen_repo

        _INHERITED.append(snapshot.repo)
        snapshot.repo = reopen_repo(snapshot)


def _run_in_worker(probe_id: str) -> "Outcome":
    assert _STATE is not None
    run_here, facts, by_id = _STATE
    problems_before = dict(facts.problems)
    read_before, asked_before = set(facts._read), set(facts.paths_read())
    outcome = run_here(by_id[probe_id])
    outcome.problems = {p: m for p, m in facts.problems.items() if p not in problems_before}
    outcome.read = facts._read - read_before
    outcome.asked = set(facts.paths_read()) - asked_before
    return outcome
