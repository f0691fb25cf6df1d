"""``mlscan diff``: score two commits, compare them, and decide whether maturity regressed.

Both sides are read from git objects (the head may be the work tree); nothing is checked out.
The base is the merge-base of base and head unless told otherwise, so a pull request is judged
on its own changes. The head scan shares a blob cache with the base scan and reuses the
evidence of every probe whose inputs did not change, so a diff costs little more than one scan.
Evidence is matched by fingerprint id, which leaves out line numbers: moving or reformatting a
block is not a change.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterable, Optional

from .facts import BlobCache
from .gcpolicy import fewer_collections
from .models import (
    DEFAULT_FAIL_ON,
    MET_FOR_LEVEL,
    CriterionChange,
    DiffResult,
    DimensionDelta,
    EvidenceChange,
    Outcome,
    Regression,
    Scorecard,
)
from .probe import Probe
from .rulepack import RulePack
from .runner import default_jobs
from .scan import ScanOptions, load_config, open_services, scan_pair, scan_snapshot, scan_time
from .snapshot import GitTree, Snapshot, SnapshotError, WorkTree, resolve_commit

POLICIES = ("level-drop", "criterion-regression", "evidence-lost")


@dataclass
class DiffOptions:
    base: str
    head: Optional[str] = None  # None: the work tree
    merge_base: bool = True
    fail_on: tuple[str, ...] = DEFAULT_FAIL_ON
    scan: Optional[ScanOptions] = None


def parse_fail_on(value: str) -> tuple[str, ...]:
    """``level-drop,criterion-regression`` -> a policy; ``none`` turns the gate off."""
    parts = tuple(p.strip() for p in value.split(",") if p.strip())
    unknown = [p for p in parts if p not in (*POLICIES, "none")]
    if unknown or not parts:
        raise ValueError(f"--fail-on takes a comma list of {', '.join(POLICIES)} or none; got {value!r}")
    return () if "none" in parts else parts


def diff(path: str | os.PathLike[str], options: DiffOptions, probes: list[Probe], pack: RulePack) -> DiffResult:
    with fewer_collections():
        return _diff(path, options, probes, pack)


def _diff(path: str | os.PathLike[str], options: DiffOptions, probes: list[Probe], pack: RulePack) -> DiffResult:
    scan_options = options.scan or ScanOptions()
    say = scan_options.progress or (lambda message: None)
    head: Snapshot = GitTree(path, options.head) if options.head else WorkTree(path)
    try:
        if head.repo is None:
            raise SnapshotError(f"{path}: not a git repository; diff needs one")
        base_commit = resolve_commit(head.repo, options.base)
        head_commit = head.commit if options.head or head.commit else None
        if options.merge_base and head_commit:
            try:
                base_commit = head.repo.git.merge_base(base_commit, head_commit).strip()
            except Exception as exc:
                raise SnapshotError(f"no merge-base between {options.base} and the head "
                                    "(shallow clone? fetch more history, or use --no-merge-base)") from exc
        cache = BlobCache()
        # Services are asked once: both sides share the session and its answers.
        services = open_services(load_config(head, scan_options.config_file), head.remote, scan_options, scan_time())
        base_options, head_options = replace(scan_options, rev=base_commit), replace(scan_options, rev=options.head)
        jobs = scan_options.jobs or default_jobs(len(head.paths()))
        head_label = head.commit[:12] if options.head and head.commit else "work tree"
        with GitTree(path, base_commit) as base:
            if jobs > 1:  # workers take each probe's base and head runs together
                say(f"base {base_commit[:12]} and head {head_label}, {jobs} workers")
                base_card, base_run, head_card, head_run = scan_pair(
                    base, head, probes, pack, base_options, head_options, services, jobs)
            else:
                say(f"base {base_commit[:12]}")
                base_card, base_run = scan_snapshot(base, probes, pack, base_options, cache=cache, services=services)
        if jobs <= 1:
            say(f"head {head_label}")
            head_card, head_run = scan_snapshot(head, probes, pack, head_options, cache=cache, prior=base_run,
                                                services=services)
        services.close()
    finally:
        head.close()
    result = compare(base_card, head_card, options.fail_on, merge_base_used=options.merge_base)
    return result.model_copy(update={"reused_probes": sorted(head_run.reused)})


def compare(base: Scorecard, head: Scorecard, fail_on: Iterable[str] = DEFAULT_FAIL_ON,
            merge_base_used: bool = True) -> DiffResult:
    fail_on = tuple(fail_on)
    dims = []
    regressions: list[Regression] = []
    head_evidence = {e.id: e for e in head.evidence}
    base_evidence = {e.id: e for e in base.evidence}
    for before, after in zip(base.dimensions, head.dimensions):
        dims.append(DimensionDelta(
            id=after.id, title=after.title, before=before.level, after=after.level,
            before_verified=before.verified_level, after_verified=after.verified_level,
            delta=after.level - before.level,
        ))
        if after.level < before.level:
            regressions.append(Regression(
                type="level-drop", dimension=after.id,
                message=f"{after.title} dropped from level {before.level} to {after.level}",
            ))
    base_criteria = {c.id: c for c in base.criteria}
    changes = []
    for crit in head.criteria:
        old = base_criteria.get(crit.id)
        if old is None or old.status == crit.status:
            continue
        regressed = old.status in MET_FOR_LEVEL and crit.status in ("fail", "unknown")
        changes.append(CriterionChange(
            id=crit.id, dimension=crit.dimension, level=crit.level, title=crit.title,
            before=old.status, after=crit.status, regression=regressed, reason=crit.reason,
            remediation=crit.remediation,
        ))
        if regressed:
            lost = [base_evidence[e] for e in old.evidence if e in base_evidence and e not in head_evidence]
            cited = next((e.citation for e in lost if e.citation), None)
            regressions.append(Regression(
                type="criterion-regression", dimension=crit.dimension, criterion=crit.id,
                message=f"{crit.id} {crit.title}: {old.status} -> {crit.status} ({crit.reason})",
                evidence=[e.id for e in lost], citation=cited,
            ))
    evidence_changes = []
    present_base = {i: e for i, e in base_evidence.items() if e.outcome == Outcome.present}
    present_head = {i: e for i, e in head_evidence.items() if e.outcome == Outcome.present}
    for ident in sorted(set(present_base) - set(present_head)):
        item = present_base[ident]
        evidence_changes.append(EvidenceChange(id=ident, kind=item.kind, change="lost", strength=item.strength,
                                               downgrades=item.downgrades, citation=item.citation))
        regressions.append(Regression(
            type="evidence-lost", evidence=[ident], citation=item.citation,
            message=f"{item.kind} no longer found" + (f" (was {item.citation.path})" if item.citation and item.citation.path else ""),
        ))
    for ident in sorted(set(present_head) - set(present_base)):
        item = present_head[ident]
        evidence_changes.append(EvidenceChange(id=ident, kind=item.kind, change="gained", strength=item.strength,
                                               downgrades=item.downgrades, citation=item.citation))
    old_waivers = {(w.criterion, w.justification) for w in base.waivers}
    for waiver in head.waivers:
        if (waiver.criterion, waiver.justification) not in old_waivers and not waiver.justification.strip():
            regressions.append(Regression(
                type="unjustified-waiver", criterion=waiver.criterion,
                message=f"a waiver of {waiver.criterion} was added without a justification",
            ))
    # The policy decides here, once: an unjustified new waiver counts under any policy but none.
    regressions = [r.model_copy(update={"blocking": r.type in fail_on or (r.type == "unjustified-waiver" and bool(fail_on))})
                   for r in regressions]
    failed = any(r.blocking for r in regressions)
    return DiffResult(
        base=base.header.target, head=head.header.target, merge_base_used=merge_base_used,
        fail_on=list(fail_on) or ["none"], failed=failed, dimensions=dims, criteria=changes,
        evidence=evidence_changes, regressions=regressions, head_card=head,
    )
