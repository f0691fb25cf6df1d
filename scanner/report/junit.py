"""JUnit XML: one test suite per dimension, one test case per criterion.

Why JUnit: GitLab (``artifacts:reports:junit``), Jenkins, Azure Pipelines and most CI dashboards
render it without a plugin, so the criteria that block a target level show up as failed tests in
the merge request widget.

Mapping (targets default to each dimension's next level, like ``mlscan explain``):

- a criterion that blocks its dimension's target (status ``fail``) -> ``<failure>``;
- ``unknown`` -> ``<skipped message="not verifiable: ...">`` (never counted as failed);
- ``waived`` / ``not_applicable`` -> ``<skipped message="waived: ...">`` (self-declared);
- ``fail`` above the target -> ``<skipped>`` saying it is not required yet;
- ``pass`` / ``unverified`` -> passed; ``unverified`` says in ``<system-out>`` what would prove it.

Built with ElementTree, so attribute and text escaping is the library's; characters XML 1.0
cannot carry at all (control characters from a hostile file name) are dropped first. No times:
the same scorecard gives byte-identical XML.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Optional

from ..gaps import blocking_criteria, target_levels
from ..models import DIMENSIONS, CriterionResult, Evidence, Scorecard

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_CITES = 5


def render_junit(card: Scorecard, targets: Optional[dict[str, int]] = None) -> str:
    targets = dict(targets or {})
    goal = target_levels(card, targets)
    blocking = {c.id for c in blocking_criteria(card, targets)}
    evidence = {e.id: e for e in card.evidence}
    prefix = (card.header.target.subpath or "").strip("/")
    root = ET.Element("testsuites", {"name": _clean(f"mlscan {card.header.target.name}")})
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    for dim in sorted(card.dimensions, key=lambda d: order.get(d.id, len(order))):
        criteria = sorted((c for c in card.criteria if c.dimension == dim.id), key=lambda c: (c.level, c.id))
        suite = ET.SubElement(root, "testsuite", {"name": dim.id})
        props = ET.SubElement(suite, "properties")
        for name, value in (("title", dim.title), ("level", dim.level), ("verified_level", dim.verified_level),
                            ("target", goal[dim.id]), ("coverage", f"{dim.coverage:.2f}")):
            ET.SubElement(props, "property", {"name": name, "value": _clean(str(value))})
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for criterion in criteria:
            outcome = _testcase(suite, criterion, criterion.id in blocking, goal[dim.id], evidence, prefix)
            counts["tests"] += 1
            if outcome:
                counts[outcome] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _testcase(suite: ET.Element, criterion: CriterionResult, blocks: bool, target: int,
              evidence: dict[str, Evidence], prefix: str) -> Optional[str]:
    """Append one test case; returns "failures", "skipped" or None (passed)."""
    case = ET.SubElement(suite, "testcase", {
        "classname": criterion.dimension,
        "name": _clean(f"{criterion.id} {criterion.title}"),
    })
    cited = _citations(criterion, evidence)
    cites = [label for _, label in cited]
    if cited:
        case.set("file", _clean(f"{prefix}/{cited[0][0]}" if prefix else cited[0][0]))  # repo-root relative
    status, reason = criterion.status, criterion.reason or ""
    if status == "fail" and blocks:
        failure = ET.SubElement(case, "failure", {
            "message": _clean(f"blocks level {target}: {reason or 'no evidence'}"), "type": "fail",
        })
        lines = [f"{criterion.id} (level {criterion.level}) is not met: {reason or 'no evidence'}",
                 f"Remediation: {criterion.remediation}"]
        lines += [f"Cited: {c}" for c in cites]
        failure.text = _clean("\n".join(lines))
        return "failures"
    if status == "unknown":
        ET.SubElement(case, "skipped", {"message": _clean(f"not verifiable: {reason or 'no reason given'}")})
        return "skipped"
    if status in ("waived", "not_applicable"):
        label = "waived" if status == "waived" else "not applicable"
        ET.SubElement(case, "skipped", {"message": _clean(f"{label}: {reason} (self-reported in .mlscan.yaml)")})
        return "skipped"
    if status == "fail":
        ET.SubElement(case, "skipped", {
            "message": _clean(f"not required yet: level {criterion.level} is above the target {target} ({reason or 'no evidence'})"),
        })
        return "skipped"
    if status == "unverified":
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join([f"unverified: {reason}", *[f"Cited: {c}" for c in cites]]))
    elif cites:
        out = ET.SubElement(case, "system-out")
        out.text = _clean("\n".join(f"Cited: {c}" for c in cites))
    return None


def _citations(criterion: CriterionResult, evidence: dict[str, Evidence]) -> list[tuple[str, str]]:
    """(path, ``path:start-end``) of the repository files the criterion's evidence cites."""
    out: list[tuple[str, str]] = []
    for eid in criterion.evidence:
        item = evidence.get(eid)
        cit = item.citation if item else None
        if cit is None or cit.source != "repo" or not cit.path:
            continue
        where = cit.path
        if cit.start_line:
            where += f":{cit.start_line}" + (f"-{cit.end_line}" if cit.end_line and cit.end_line != cit.start_line else "")
        if (cit.path, where) not in out:
            out.append((cit.path, where))
        if len(out) >= MAX_CITES:
            break
    return out


def _clean(text: str) -> str:
    """Drop characters XML 1.0 cannot represent even escaped (NUL, ESC, lone surrogates...)."""
    return _NOT_XML.sub("", text)
