"""Turns evidence into criterion results and two cumulative levels per dimension.

The states (DESIGN.md "Scoring"):
- ``pass``: evidence of the needed strength;
- ``unverified``: only weaker, undowngraded evidence, and a service that could prove more is not
  linked or not reachable;
- ``fail``: no evidence, only downgraded evidence, or a linked service that disproved it;
- ``unknown``: the scanner could not look (probe error, unreadable file, no probe yet);
- ``waived`` / ``not_applicable``: self-declared, always shown as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from .models import (
    MET_FOR_LEVEL,
    MET_FOR_VERIFIED,
    CriterionResult,
    DimensionScore,
    Evidence,
    Gap,
    Outcome,
    Strength,
    Waiver,
)
from .rulepack import Criterion, Leaf, Matcher, RulePack

_EFFORT_ORDER = {"low": 0, "medium": 1, "high": 2}


@dataclass
class Match:
    """What a matcher found: pass (strong enough), weak, none, or unknown."""

    state: str  # "pass" | "weak" | "none" | "unknown"
    evidence: list[Evidence] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    unobserved: set[str] = field(default_factory=set)  # services that could not answer for these kinds


# all: the worst child decides; any: the best one does
_STATE_ORDER = {"none": 0, "unknown": 1, "weak": 2, "pass": 3}


class Evaluator:
    def __init__(self, evidence: Iterable[Evidence]):
        self.present: dict[str, list[Evidence]] = {}
        self.unknown: dict[str, list[Evidence]] = {}
        for item in evidence:
            bucket = self.present if item.outcome == Outcome.present else self.unknown
            bucket.setdefault(item.kind, []).append(item)

    def match(self, matcher: Matcher, min_strength: Strength) -> Match:
        if isinstance(matcher, Leaf):
            return self._leaf(matcher, matcher.min_strength or min_strength)
        results = [self.match(child, min_strength) for child in matcher.children]
        if matcher.op == "not":
            inner = results[0]
            if inner.state == "unknown":
                return inner
            if inner.state in ("pass", "weak"):
                return Match("none", inner.evidence, [f"found {_describe(inner.evidence)}"])
            return Match("pass")
        pick = min if matcher.op == "all" else max
        state = pick((r.state for r in results), key=_STATE_ORDER.__getitem__)
        chosen = [r for r in results if r.state == state] if matcher.op == "any" else results
        cited = [e for r in chosen for e in r.evidence]
        reasons = [reason for r in results if r.state == state for reason in r.reasons]
        return Match(state, _unique(cited), reasons, {s for r in results for s in r.unobserved})

    def _leaf(self, leaf: Leaf, min_strength: Strength) -> Match:
        unobserved = {e.citation.source for e in self.unknown.get(leaf.kind, [])
                      if e.citation is not None and e.citation.source != "repo"}
        candidates = [e for e in self.present.get(leaf.kind, []) if _where(e.attributes, leaf.where)]
        strong = [e for e in candidates if e.strength.rank >= min_strength.rank]
        if len(strong) >= leaf.count:
            return Match("pass", strong)
        if candidates and len(candidates) >= leaf.count:
            return Match("weak", candidates, [_weak_reason(candidates, min_strength)], unobserved)
        unknown = self.unknown.get(leaf.kind, [])
        if unknown:
            return Match("unknown", [], sorted({e.reason or "could not be observed" for e in unknown}), unobserved)
        if candidates:
            return Match("none", candidates, [f"found {len(candidates)} {leaf.kind}, needs {leaf.count}"])
        return Match("none", [], [f"no {leaf.kind}" + (" matching the conditions" if leaf.where else "")])


def _describe(items: list[Evidence]) -> str:
    parts = []
    for item in items[:3]:
        cit = item.citation
        if cit is not None and cit.path:
            parts.append(f"{item.kind} at {cit.path}")
        elif cit is not None and cit.source and cit.source != "repo":  # a linked service's answer
            parts.append(f"{item.kind} from {cit.source}" + (f" ({item.subject})" if item.subject else ""))
        else:
            parts.append(item.kind + (f" ({item.subject})" if item.subject else ""))
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    return ", ".join(parts) + more


def _weak_reason(items: list[Evidence], needed: Strength) -> str:
    best = max(items, key=lambda e: e.strength.rank)
    downgrades = sorted({d for e in items for d in e.downgrades})
    reason = f"only {best.strength.value} evidence ({_describe(items)}), needs {needed.value}"
    if downgrades:
        reason += "; downgraded: " + "; ".join(downgrades)
    return reason


def _unique(items: list[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            out.append(item)
    return out


def _where(attributes: dict[str, Any], conditions: tuple[tuple[str, str, Any], ...]) -> bool:
    return all(_check(attributes.get(attr), op, operand, attr in attributes) for attr, op, operand in conditions)


def _check(value: Any, op: str, operand: Any, exists: bool) -> bool:
    if op == "exists":
        return exists == bool(operand)
    if op == "eq":
        return value == operand
    if op == "ne":
        return value != operand
    if op == "in":
        return value in operand
    if op == "contains":
        return isinstance(value, (list, tuple, str)) and operand in value
    if op == "matches":
        return isinstance(value, str) and re.search(str(operand), value) is not None
    if value is None or isinstance(value, (list, dict, str)) and not isinstance(operand, str):
        return False
    try:
        return {"gt": value > operand, "gte": value >= operand, "lt": value < operand, "lte": value <= operand}[op]
    except TypeError:
        return False


# -- criteria ---------------------------------------------------------------------------


@dataclass
class EngineInput:
    evidence: list[Evidence]
    context: dict[str, Any] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)
    services: dict[str, str] = field(default_factory=dict)  # name -> "linked" | reason it is not


def applies(criterion: Criterion, context: dict[str, Any]) -> Optional[str]:
    """None when the criterion applies; otherwise why it does not (self-declared context)."""
    for key, wanted in criterion.applies_when.items():
        if key not in context:
            continue  # undeclared context: the criterion applies (the strict default)
        have = context[key]
        if key == "team_size" and isinstance(wanted, dict):
            ok = all(_check(have, op, operand, True) for op, operand in wanted.items())
        elif isinstance(wanted, list):
            ok = have in wanted
        else:
            ok = have == wanted
        if not ok:
            return f"not applicable: declared {key}={have} (self-reported in .mlscan.yaml)"
    return None


def evaluate_criterion(criterion: Criterion, evaluator: Evaluator, data: EngineInput) -> CriterionResult:
    def result(status: str, reason: str, evidence: Iterable[Evidence] = (), self_reported: bool = False) -> CriterionResult:
        return CriterionResult(
            id=criterion.id, dimension=criterion.dimension, level=criterion.level, title=criterion.title,
            status=status, reason=reason, remediation=criterion.remediation,
            evidence=sorted({e.id for e in evidence}), self_reported=self_reported,
            effort=criterion.effort if criterion.effort in _EFFORT_ORDER else "medium",
        )

    not_applicable = applies(criterion, data.context)
    if not_applicable:
        return result("not_applicable", not_applicable, self_reported=True)
    waiver = next((w for w in data.waivers if w.criterion == criterion.id and w.active), None)
    if waiver is not None:
        return result("waived", f"waived ({waiver.reason}) by {waiver.owner or 'unknown owner'}: {waiver.justification}",
                      self_reported=True)
    if criterion.unobservable:
        return result("unknown", criterion.unobservable)
    assert criterion.match is not None
    found = evaluator.match(criterion.match, criterion.min_strength)
    if found.state == "pass":
        return result("pass", f"{criterion.min_strength.value} evidence: {_describe(found.evidence)}", found.evidence)
    if found.state == "unknown":
        return result("unknown", "; ".join(found.reasons))
    if found.state == "weak":
        provable = [e for e in found.evidence if e.strength.rank >= Strength.configured.rank and not e.downgrades]
        # A service is missing when it is not linked, not reachable, or could not answer for the
        # kinds this criterion needs (a 403, rate-limited): then weaker evidence is unverified.
        missing = [s for s in criterion.verify_with
                   if data.services.get(s, "not linked") != "linked" or s in found.unobserved]
        if provable and missing:
            why = "; ".join(f"{s} {data.services.get(s, 'not linked')}" if s not in found.unobserved
                            else f"{s} could not answer" for s in missing)
            return result("unverified", f"configured in the repository; proving it needs {why}", provable)
        return result("fail", "; ".join(found.reasons), found.evidence)
    return result("fail", "; ".join(found.reasons) or "no evidence", found.evidence)


def score(pack: RulePack, data: EngineInput) -> tuple[list[DimensionScore], list[CriterionResult]]:
    evaluator = Evaluator(data.evidence)
    results = {c.id: evaluate_criterion(c, evaluator, data) for c in pack.criteria()}
    dims = _levels(pack, results)
    # Cross-dimension prerequisites (RUBRIC §3.8): a met criterion whose prerequisite dimension is
    # below the required level does not count. One correction pass; prerequisites do not chain.
    levels = {d.id: d.level for d in dims}
    changed = False
    for criterion in pack.criteria():
        unmet = [f"{dim}>={lvl}" for dim, lvl in criterion.requires if levels.get(dim, 0) < lvl]
        current = results[criterion.id]
        if unmet and current.status in ("pass", "unverified"):
            results[criterion.id] = current.model_copy(update={
                "status": "fail", "reason": f"prerequisite not met: {', '.join(unmet)} ({current.reason})",
            })
            changed = True
    if changed:
        dims = _levels(pack, results)
    ordered = [results[c.id] for d in pack.dimensions for c in d.criteria]
    return dims, ordered


def _levels(pack: RulePack, results: dict[str, CriterionResult]) -> list[DimensionScore]:
    scores = []
    for dim in pack.dimensions:
        by_level: dict[int, list[CriterionResult]] = {lvl: [] for lvl in range(1, 5)}
        for criterion in dim.criteria:
            by_level[criterion.level].append(results[criterion.id])

        def cumulative(met: frozenset[str]) -> int:
            level = 0
            for lvl in range(1, 5):
                if by_level[lvl] and all(r.status in met for r in by_level[lvl]):
                    level = lvl
                else:
                    break
            return level

        level = cumulative(MET_FOR_LEVEL)
        verified = cumulative(MET_FOR_VERIFIED)
        band = max((lvl for lvl in range(1, 5) if by_level[lvl] and all(r.status in MET_FOR_LEVEL for r in by_level[lvl])), default=0)
        every = [r for lvl in range(1, 5) for r in by_level[lvl]]
        decidable = [r for r in every if r.status != "unknown"]
        nxt = by_level.get(level + 1, [])
        effort = {c.id: _EFFORT_ORDER.get(c.effort, 1) for c in dim.criteria}
        gaps = sorted((r for r in nxt if r.status not in MET_FOR_LEVEL and r.status != "unknown"),
                      key=lambda r: (effort[r.id], r.id))
        scores.append(DimensionScore(
            id=dim.id,
            title=dim.title,
            level=level,
            verified_level=verified,
            highest_band=band,
            coverage=round(len(decidable) / len(every), 4) if every else 0.0,
            decided_by=[r.id for lvl in range(1, level + 1) for r in by_level[lvl]],
            not_verifiable=[_gap(r) for r in nxt if r.status == "unknown"],
            next_level=[_gap(r) for r in gaps],
        ))
    return scores


def _gap(result: CriterionResult) -> Gap:
    return Gap(criterion=result.id, title=result.title, status=result.status, reason=result.reason,
               remediation=result.remediation)
